//! The `json` table (docs/API.md §14): `encode`, `decode`, `null`, `array`, `object`.
//!
//! Arrays and objects are told apart by keys (exactly `1..n` → array), which
//! leaves the empty table ambiguous; marker metatables settle it. Two tables,
//! `{__jsontype = "array"}` and `{__jsontype = "object"}`, are created once
//! per `json` table: `json.decode` puts them on every array/object it
//! builds, `json.array(t)`/`json.object(t)` put them on user tables, and the
//! encoder checks them (and any other metatable's `__jsontype` field, the
//! lua-rapidjson convention). `json.null` is the NULL light userdata, the
//! same value as lua-cjson's `cjson.null`.
//!
//! `encode` and `decode` are C closures (upvalues: the two marker
//! metatables) that walk the Lua stack directly through [`raw::Stack`]: see
//! [`encode`] and [`decode`] for why. That bypasses mlua's argument
//! conversion, so they check their arguments by hand with the same stock
//! messages as [`crate::lua_api::args`]. [`raw::c_function_body`] keeps
//! Rust panics and Lua errors (longjmps) from crossing each other's frames;
//! the walks call no Lua code (raw access only), so the one Lua error that
//! can start inside them is out-of-memory, which would skip Rust frames and
//! leak their buffers (the caveat mlua documents for `exec_raw`).

mod decode;
mod encode;

use std::ffi::c_int;

use mlua::{Function, LightUserData, Lua, MultiValue, Result, Table, Value};

use crate::codec::json::decode_error_message;
use crate::lua_api::args::Args;
use crate::lua_api::raw::{self, Stack, Type};
use encode::{Encoder, Options};

pub fn create(lua: &Lua) -> Result<Table> {
    let array_mt = lua.create_table()?;
    array_mt.raw_set("__jsontype", "array")?;
    let object_mt = lua.create_table()?;
    object_mt.raw_set("__jsontype", "object")?;

    let json = lua.create_table()?;
    json.raw_set("null", Value::LightUserData(LightUserData(std::ptr::null_mut())))?;
    json.raw_set("encode", raw::c_closure(lua, l_encode, (&array_mt, &object_mt))?)?;
    json.raw_set("decode", raw::c_closure(lua, l_decode, (&array_mt, &object_mt))?)?;
    json.raw_set("array", marker_function(lua, "array", array_mt)?)?;
    json.raw_set("object", marker_function(lua, "object", object_mt)?)?;
    Ok(json)
}

/// `json.array(t)` / `json.object(t)`: sets the marker metatable on `t` and
/// returns it; with no argument, a new empty marked table.
fn marker_function(lua: &Lua, fname: &'static str, marker: Table) -> Result<Function> {
    lua.create_function(move |lua, args: MultiValue| {
        let args = Args::new(fname, args);
        let t = if args.is_none(1) { lua.create_table()? } else { args.table(1)? };
        t.set_metatable(Some(marker.clone()))?;
        Ok(t)
    })
}

/// `json.encode(value [, opts])`.
///
/// # Safety
/// Called by Lua only, as the C closure made in [`create`].
unsafe extern "C-unwind" fn l_encode(l: *mut raw::State) -> c_int {
    // SAFETY: Lua called this C function with state `l`.
    unsafe { raw::c_function_body(l, encode) }
}

fn encode(stack: Stack<'_>) -> std::result::Result<c_int, String> {
    if stack.top() == 0 {
        return Err("bad argument #1 to 'encode' (value expected)".to_owned());
    }
    // SAFETY: argument 2 is within the 20 slots of a C function, so it can
    // be read (as none when absent).
    let opts = match unsafe { stack.type_of(2) } {
        Type::None | Type::Nil => Options::default(),
        // SAFETY: slot 2 holds a table; the one slot a flag takes is among
        // the 20 of a C function.
        Type::Table => unsafe {
            Options {
                pretty: raw_flag(stack, 2, b"pretty"),
                sort_keys: raw_flag(stack, 2, b"sort_keys"),
                empty_table_as_array: raw_flag(stack, 2, b"empty_table_as_array"),
            }
        },
        _ => return Err(raw::bad_argument(stack, 2, "encode", "table")),
    };
    let mut enc = Encoder::new(stack, opts);
    // SAFETY: slot 1 holds the value (the top is at least 1).
    unsafe { enc.value(1, 0) }.map_err(|e| e.to_string())?;
    // SAFETY: the walk gave back every slot it took, so the 20 of a C function are free.
    unsafe { stack.push_bytes(&enc.out) };
    Ok(1)
}

/// Whether field `name` of the table at `t` is truthy (raw read: options
/// tables are plain tables).
///
/// # Safety
/// `t` is a live slot holding a table, and one slot is free.
unsafe fn raw_flag(stack: Stack<'_>, t: c_int, name: &[u8]) -> bool {
    // SAFETY: the caller's contract; the field pushed is popped.
    unsafe {
        stack.push_raw_field(t, name);
        let on = stack.to_boolean(-1);
        stack.pop(1);
        on
    }
}

/// `json.decode(text)` → value, or `nil, msg`.
///
/// # Safety
/// Called by Lua only, as the C closure made in [`create`].
unsafe extern "C-unwind" fn l_decode(l: *mut raw::State) -> c_int {
    // SAFETY: Lua called this C function with state `l`.
    unsafe { raw::c_function_body(l, decode) }
}

fn decode(stack: Stack<'_>) -> std::result::Result<c_int, String> {
    // SAFETY: slot 1 is within the 20 slots of a C function. A number there
    // is converted to a string in place, as luaL_checklstring does; the text
    // stays in slot 1, below everything the parse pushes, until we return.
    let text = unsafe {
        if !matches!(stack.type_of(1), Type::String | Type::Number) {
            return Err(raw::bad_argument(stack, 1, "decode", "string"));
        }
        stack.truncate(1);
        stack.bytes(1)
    };
    match decode::decode(stack, text) {
        Ok(()) => Ok(1),
        Err(e) => {
            let msg = decode_error_message(&e);
            // SAFETY: a failed parse leaves the stack as it found it (the
            // text alone), so the 20 slots of a C function are free.
            unsafe {
                stack.push_nil();
                stack.push_bytes(msg.as_bytes());
            }
            Ok(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lua() -> Lua {
        let lua = Lua::new();
        lua.globals().set("json", create(&lua).unwrap()).unwrap();
        lua
    }

    fn eval<T: mlua::FromLuaMulti>(lua: &Lua, code: &str) -> T {
        lua.load(code).eval().unwrap_or_else(|e| panic!("{code}: {e}"))
    }

    #[test]
    fn scalars_and_containers_encode() {
        let lua = lua();
        assert_eq!(eval::<String>(&lua, "return json.encode({1, 2.5, 'x', true, json.null})"), r#"[1,2.5,"x",true,null]"#);
        assert_eq!(eval::<String>(&lua, "return json.encode({a = {b = {}}})"), r#"{"a":{"b":{}}}"#);
        assert_eq!(eval::<String>(&lua, "return json.encode(json.array({}))"), "[]");
        assert_eq!(eval::<String>(&lua, "return json.encode(json.object({1, 2}), {sort_keys = true})"), r#"{"1":1,"2":2}"#);
        assert_eq!(eval::<String>(&lua, "return json.encode({}, {empty_table_as_array = true})"), "[]");
        assert_eq!(eval::<String>(&lua, "return json.encode({[1]=1, [3]=3}, {sort_keys = true})"), r#"{"1":1,"3":3}"#);
        assert_eq!(eval::<String>(&lua, "return json.encode(1.0)"), "1.0");
    }

    #[test]
    fn pretty_layout_matches_python_indent_4() {
        let lua = lua();
        let s: String = eval(&lua, "return json.encode({b = {1, {}}, a = 'x'}, {pretty = true, sort_keys = true})");
        assert_eq!(s, "{\n    \"a\": \"x\",\n    \"b\": [\n        1,\n        {}\n    ]\n}");
    }

    #[test]
    fn encode_errors_raise() {
        let lua = lua();
        for (code, needle) in [
            ("json.encode(0/0)", "nan"),
            ("json.encode({math.huge})", "inf"),
            ("json.encode(print)", "function"),
            ("json.encode({[true] = 1})", "key of type boolean"),
            ("local t = {} t[1] = t json.encode(t)", "nesting"),
            ("json.encode('\\xff')", "UTF-8"),
            ("json.encode()", "bad argument #1 to 'encode'"),
        ] {
            let e = lua.load(code).exec().unwrap_err().to_string();
            assert!(e.contains(needle), "{code}: {e}");
        }
    }

    #[test]
    fn decode_builds_marked_values() {
        let lua = lua();
        assert_eq!(eval::<String>(&lua, "return json.encode(json.decode('{\"a\":[],\"b\":{}}'), {sort_keys=true})"), r#"{"a":[],"b":{}}"#);
        assert!(eval::<bool>(&lua, "return json.decode('null') == json.null"));
        assert!(eval::<bool>(&lua, "return math.type(json.decode('1')) == 'integer' and math.type(json.decode('1.0')) == 'float'"));
        assert!(eval::<bool>(&lua, "return json.decode('18446744073709551615') == 2^64"));
        assert_eq!(eval::<String>(&lua, r#"return json.decode('"\\ud83d\\ude00"')"#), "😀");
    }

    #[test]
    fn decode_failures_return_nil_and_position() {
        let lua = lua();
        let (v, msg): (Value, String) = eval(&lua, "return json.decode('[1,\\n2,]')");
        assert!(v.is_nil());
        assert!(msg.contains("line 2 column 3"), "{msg}");
        let (v, msg): (Value, String) = eval(&lua, "return json.decode('1 2')");
        assert!(v.is_nil() && msg.contains("trailing"), "{msg}");
    }

    #[test]
    fn deep_nesting_is_bounded_and_stack_safe() {
        // Run on a small stack to show the Rust recursion of a depth-1000
        // walk fits: 512 KiB in release builds; debug frames are far bigger.
        let stack = if cfg!(debug_assertions) { 16 << 20 } else { 512 << 10 };
        let h = std::thread::Builder::new()
            .stack_size(stack)
            .spawn(|| {
                let lua = lua();
                let ok: bool = eval(&lua, "local s = string.rep('[', 1000) .. string.rep(']', 1000) return json.decode(s) ~= nil");
                let deep: (Value, String) = eval(&lua, "local s = string.rep('[', 1001) .. string.rep(']', 1001) return json.decode(s)");
                let enc: String = eval(&lua, "local t = {} for i = 1, 999 do t = {t} end return json.encode(t)");
                (ok, deep.0.is_nil(), deep.1, enc.len())
            })
            .unwrap();
        let (ok, nil, msg, len) = h.join().unwrap();
        assert!(ok);
        assert!(nil && msg.contains("nesting deeper than 1000"), "{msg}");
        assert_eq!(len, 2000);
    }

    mod fuzz {
        //! `json.decode` never panics or crashes on any input, and what it
        //! accepts re-encodes to text that decodes to the same encoding.
        //! `PROPTEST_CASES` sets the number of cases (256 by default).
        use super::*;
        use proptest::prelude::*;
        use proptest::test_runner::{Config, TestCaseError, TestRunner};

        fn check(strategy: impl Strategy<Value = Vec<u8>>) {
            let lua = lua();
            let decode: Function = lua.load("return json.decode").eval().unwrap();
            let encode: Function = lua.load("return function(v) return json.encode(v, {sort_keys = true}) end").eval().unwrap();
            let mut runner = TestRunner::new(Config { failure_persistence: None, ..Config::default() });
            let cases = runner.config().cases;
            runner
                .run(&strategy, |text| {
                    let s = lua.create_string(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
                    let (v, msg): (Value, Option<String>) = decode.call(s).map_err(|e| TestCaseError::fail(e.to_string()))?;
                    if v.is_nil() {
                        let msg = msg.unwrap_or_default();
                        prop_assert!(msg.contains("line "), "{}", msg);
                        return Ok(());
                    }
                    let once: mlua::LuaString = encode.call(v).map_err(|e| TestCaseError::fail(e.to_string()))?;
                    let (v2, _): (Value, Option<String>) = decode.call(&once).map_err(|e| TestCaseError::fail(e.to_string()))?;
                    let twice: mlua::LuaString = encode.call(v2).map_err(|e| TestCaseError::fail(e.to_string()))?;
                    prop_assert_eq!(once.as_bytes().to_vec(), twice.as_bytes().to_vec());
                    Ok(())
                })
                .unwrap();
            eprintln!("json fuzz: {cases} cases");
        }

        #[test]
        fn decode_arbitrary_bytes() {
            check(proptest::collection::vec(any::<u8>(), 0..128));
        }

        #[test]
        fn decode_json_token_soup() {
            let token = prop_oneof![
                Just(&b"["[..]), Just(&b"]"[..]), Just(&b"{"[..]), Just(&b"}"[..]), Just(&b","[..]),
                Just(&b":"[..]), Just(&b"\"\""[..]), Just(&b"\"k\""[..]), Just(&b"null"[..]),
                Just(&b"true"[..]), Just(&b"-0"[..]), Just(&b"1.5e3"[..]), Just(&b"123"[..]),
                Just(&b"1e400"[..]), Just(&b"18446744073709551616"[..]), Just(&b"\"\\ud83d\\ude00\""[..]),
                Just(&b"\"\\u00e9\\n\""[..]), Just(&b" "[..]), Just(&b"0.1"[..]), Just(&b"\"\\ud800\""[..]),
            ];
            check(proptest::collection::vec(token, 0..40).prop_map(|parts| parts.concat()));
        }
    }
}
