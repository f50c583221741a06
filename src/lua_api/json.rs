//! The `json` table (API.md §14): `encode`, `decode`, `null`, `array`, `object`.
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
//! The walks themselves are in [`encode`] and [`decode`]; they run on the raw
//! Lua stack inside `Lua::exec_raw` for speed (see their docs). Inside that
//! protected call a Rust panic must not unwind through the C frames of Lua,
//! so each walk runs under `catch_unwind` and a panic becomes a Lua error.
//! A Lua error there (only out-of-memory: the walks never call Lua code)
//! would skip Rust frames and leak their buffers, the same caveat mlua
//! documents for `exec_raw`.

mod decode;
mod encode;

use std::panic::{AssertUnwindSafe, catch_unwind};

use mlua::{Error, LightUserData, Lua, MultiValue, Result, Table, Value};

use crate::codec::json::{EncodeError, decode_error_message};
use crate::lua_api::args::{Args, bad_argument};
use encode::{Encoder, Options};

pub fn create(lua: &Lua) -> Result<Table> {
    let array_mt = lua.create_table()?;
    array_mt.raw_set("__jsontype", "array")?;
    let object_mt = lua.create_table()?;
    object_mt.raw_set("__jsontype", "object")?;

    let json = lua.create_table()?;
    json.raw_set("null", Value::LightUserData(LightUserData(std::ptr::null_mut())))?;

    let (a, o) = (array_mt.clone(), object_mt.clone());
    json.raw_set(
        "encode",
        lua.create_function(move |lua, args: MultiValue| {
            let args = Args::new("encode", args);
            if args.is_empty() {
                return Err(bad_argument(1, "encode", "value expected"));
            }
            let opts = options(&args)?;
            encode_value(lua, args.value(1), opts, &a, &o)
        })?,
    )?;

    let (a, o) = (array_mt.clone(), object_mt.clone());
    json.raw_set(
        "decode",
        lua.create_function(move |lua, args: MultiValue| {
            let args = Args::new("decode", args);
            let text = args.string(1)?;
            decode_text(lua, text, &a, &o)
        })?,
    )?;

    json.raw_set("array", marker_function(lua, "array", array_mt)?)?;
    json.raw_set("object", marker_function(lua, "object", object_mt)?)?;
    Ok(json)
}

/// `json.array(t)` / `json.object(t)`: sets the marker metatable on `t` and
/// returns it; with no argument, a new empty marked table.
fn marker_function(lua: &Lua, fname: &'static str, marker: Table) -> Result<mlua::Function> {
    lua.create_function(move |lua, args: MultiValue| {
        let args = Args::new(fname, args);
        let t = if args.is_none(1) { lua.create_table()? } else { args.table(1)? };
        t.set_metatable(Some(marker.clone()))?;
        Ok(t)
    })
}

fn options(args: &Args) -> Result<Options> {
    let Some(t) = args.opt_table(2)? else { return Ok(Options::default()) };
    let flag = |name: &str| -> Result<bool> { Ok(!matches!(t.get::<Value>(name)?, Value::Nil | Value::Boolean(false))) };
    Ok(Options {
        pretty: flag("pretty")?,
        sort_keys: flag("sort_keys")?,
        empty_table_as_array: flag("empty_table_as_array")?,
    })
}

fn encode_value(lua: &Lua, value: Value, opts: Options, array_mt: &Table, object_mt: &Table) -> Result<mlua::LuaString> {
    let mut outcome: std::result::Result<Vec<u8>, String> = Err(String::new());
    // SAFETY: the stack inside exec_raw is `value, array_mt, object_mt`, the
    // layout `Encoder` expects; the encoder uses raw access only.
    unsafe {
        lua.exec_raw::<()>((value, array_mt, object_mt), |state| {
            outcome = match catch_unwind(AssertUnwindSafe(|| {
                let mut enc = Encoder::new(state, opts);
                enc.value(1, 0).map(|()| enc.out)
            })) {
                Ok(Ok(out)) => Ok(out),
                Ok(Err(e)) => Err(EncodeError::to_string(&e)),
                Err(_) => Err("json.encode: internal error".to_owned()),
            };
            mlua::ffi::lua_settop(state, 0);
        })?;
    }
    match outcome {
        Ok(out) => lua.create_string(out),
        Err(msg) => Err(Error::runtime(msg)),
    }
}

fn decode_text(lua: &Lua, text: mlua::LuaString, array_mt: &Table, object_mt: &Table) -> Result<MultiValue> {
    // SAFETY: the stack inside exec_raw is `text, array_mt, object_mt`, the
    // layout `decode` expects; the bytes of `text` stay valid while it is on
    // the stack, which outlives the call.
    unsafe {
        lua.exec_raw::<MultiValue>((text, array_mt, object_mt), |state| {
            use mlua::ffi;
            let mut len = 0usize;
            let p = ffi::lua_tolstring(state, 1, &mut len);
            let bytes = if p.is_null() { &[][..] } else { std::slice::from_raw_parts(p.cast::<u8>(), len) };
            let result = catch_unwind(AssertUnwindSafe(|| decode::decode(state, bytes)));
            let msg = match result {
                Ok(Ok(())) => {
                    ffi::lua_replace(state, 1);
                    ffi::lua_settop(state, 1);
                    return;
                }
                Ok(Err(e)) => decode_error_message(&e),
                Err(_) => "json.decode: internal error".to_owned(),
            };
            ffi::lua_settop(state, 0);
            ffi::lua_pushnil(state);
            ffi::lua_pushlstring(state, msg.as_ptr().cast(), msg.len());
        })
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

    fn eval<T: mlua::FromLua>(lua: &Lua, code: &str) -> T {
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
        // Run on a small stack to show the Rust recursion of a depth-1000 decode fits.
        let h = std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(|| {
                let lua = lua();
                let ok: bool = eval(&lua, "local s = string.rep('[', 1000) .. string.rep(']', 1000) return json.decode(s) ~= nil");
                let deep: (Value, String) = eval(&lua, "local s = string.rep('[', 1001) .. string.rep(']', 1001) return json.decode(s)");
                let enc: String = eval(&lua, "local t = {} for i = 1, 999 do t = {t} end return json.encode(t)");
                (ok, deep, enc.len())
            })
            .unwrap();
        let (ok, (v, msg), len) = h.join().unwrap();
        assert!(ok);
        assert!(v.is_nil() && msg.contains("nesting deeper than 1000"), "{msg}");
        assert_eq!(len, 2000);
    }
}
