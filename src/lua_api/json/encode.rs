//! `json.encode`: walks a Lua value on the raw Lua stack and writes JSON.
//!
//! Why raw: going through mlua's safe `Table`/`Value` API costs a registry
//! reference per nested table and string, several times the cost of the
//! write itself; walking with `lua_next`/`lua_rawgeti` is what lua-cjson does
//! and keeps us ahead of it. All raw access happens inside `Lua::exec_raw`
//! (a protected call) on a stack laid out as
//! `1 = value, 2 = array marker metatable, 3 = object marker metatable`.
//!
//! Rules kept here:
//! * every stack slot we push is popped before the function that pushed it
//!   returns, on success and on error (nested walks rely on it);
//! * no Lua function or metamethod is ever called (raw access only), so the
//!   only Lua error possible inside is out-of-memory;
//! * number keys are read with `lua_tointegerx`/`lua_tonumberx`, never
//!   `lua_tolstring`, which would change the key in place and break `lua_next`.

use std::ffi::c_int;
use std::ptr;

use mlua::ffi;

use crate::codec::json::{self as codec, EncodeError, MAX_DEPTH, NumberKey};

/// Where the marker metatables are: upvalues of the `json.encode` C closure.
const ARRAY_MT: c_int = ffi::lua_upvalueindex(1);
const OBJECT_MT: c_int = ffi::lua_upvalueindex(2);

/// `json.encode` options.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub pretty: bool,
    pub sort_keys: bool,
    pub empty_table_as_array: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Marker {
    Array,
    Object,
}

/// A table key copied out of Lua for `sort_keys`.
enum OwnedKey {
    Str(Vec<u8>),
    Number(NumberKey, Vec<u8>),
}

impl OwnedKey {
    /// The key as JSON will spell it (sort order: its UTF-8 bytes, as Python's `sort_keys`).
    fn text(&self) -> &[u8] {
        match self {
            OwnedKey::Str(s) => s,
            OwnedKey::Number(_, s) => s,
        }
    }
}

pub struct Encoder {
    state: *mut ffi::lua_State,
    opts: Options,
    pub out: Vec<u8>,
}

impl Encoder {
    /// # Safety
    /// `state` must be the state of a running `json.encode` closure (module docs).
    pub unsafe fn new(state: *mut ffi::lua_State, opts: Options) -> Self {
        Encoder { state, opts, out: Vec::with_capacity(256) }
    }

    /// Encodes the value at absolute stack index `idx`.
    ///
    /// # Safety
    /// As [`Encoder::new`]; `idx` must be a valid absolute index.
    pub unsafe fn value(&mut self, idx: c_int, depth: usize) -> Result<(), EncodeError> {
        let l = self.state;
        unsafe {
            match ffi::lua_type(l, idx) {
                ffi::LUA_TNIL => self.out.extend_from_slice(b"null"),
                ffi::LUA_TBOOLEAN => {
                    let b: &[u8] = if ffi::lua_toboolean(l, idx) != 0 { b"true" } else { b"false" };
                    self.out.extend_from_slice(b);
                }
                ffi::LUA_TNUMBER => {
                    if ffi::lua_isinteger(l, idx) != 0 {
                        codec::write_integer(&mut self.out, ffi::lua_tointegerx(l, idx, ptr::null_mut()));
                    } else {
                        codec::write_float(&mut self.out, ffi::lua_tonumberx(l, idx, ptr::null_mut()))?;
                    }
                }
                ffi::LUA_TSTRING => codec::write_str(&mut self.out, string_at(l, idx))?,
                ffi::LUA_TLIGHTUSERDATA if ffi::lua_touserdata(l, idx).is_null() => {
                    self.out.extend_from_slice(b"null")
                }
                ffi::LUA_TTABLE => self.table(idx, depth + 1)?,
                t => return Err(EncodeError::Unsupported(type_name(t))),
            }
        }
        Ok(())
    }

    /// Encodes the table at absolute index `idx`, which sits at nesting level `depth`.
    unsafe fn table(&mut self, idx: c_int, depth: usize) -> Result<(), EncodeError> {
        let l = self.state;
        // 3 slots: metatable + field, or key + value (+ one for a nested table's own walk).
        if depth > MAX_DEPTH || unsafe { ffi::lua_checkstack(l, 3) } == 0 {
            return Err(EncodeError::TooDeep);
        }
        let marker = unsafe { self.marker(idx) };
        if marker == Some(Marker::Object) {
            return unsafe { self.object(idx, depth) };
        }
        // Classify by keys: an array has exactly the integer keys 1..n.
        let mut count: usize = 0;
        let mut max: i64 = 0;
        let mut sequence = true;
        unsafe {
            ffi::lua_pushnil(l);
            while ffi::lua_next(l, idx) != 0 {
                count += 1;
                let mut isnum = 0;
                let k = if ffi::lua_isinteger(l, -2) != 0 { ffi::lua_tointegerx(l, -2, &mut isnum) } else { 0 };
                if k < 1 {
                    sequence = false;
                    ffi::lua_pop(l, 2);
                    break;
                }
                max = max.max(k);
                ffi::lua_pop(l, 1);
            }
        }
        if count == 0 {
            let as_array = marker == Some(Marker::Array) || self.opts.empty_table_as_array;
            self.out.extend_from_slice(if as_array { b"[]" } else { b"{}" });
            return Ok(());
        }
        if sequence && max as usize == count {
            unsafe { self.array(idx, count, depth) }
        } else {
            unsafe { self.object(idx, depth) }
        }
    }

    /// The JSON kind the table at `idx` is marked with, if any: our own marker
    /// metatables, or any metatable with a `__jsontype` field of `"array"` or
    /// `"object"` (the lua-rapidjson convention).
    unsafe fn marker(&mut self, idx: c_int) -> Option<Marker> {
        let l = self.state;
        unsafe {
            if ffi::lua_getmetatable(l, idx) == 0 {
                return None;
            }
            let found = if ffi::lua_rawequal(l, -1, ARRAY_MT) != 0 {
                Some(Marker::Array)
            } else if ffi::lua_rawequal(l, -1, OBJECT_MT) != 0 {
                Some(Marker::Object)
            } else {
                const FIELD: &[u8] = b"__jsontype";
                ffi::lua_pushlstring(l, FIELD.as_ptr().cast(), FIELD.len());
                ffi::lua_rawget(l, -2);
                let kind = if ffi::lua_type(l, -1) == ffi::LUA_TSTRING {
                    match string_at(l, -1) {
                        b"array" => Some(Marker::Array),
                        b"object" => Some(Marker::Object),
                        _ => None,
                    }
                } else {
                    None
                };
                ffi::lua_pop(l, 1);
                kind
            };
            ffi::lua_pop(l, 1);
            found
        }
    }

    unsafe fn array(&mut self, idx: c_int, n: usize, depth: usize) -> Result<(), EncodeError> {
        let l = self.state;
        self.out.push(b'[');
        for i in 1..=n {
            if i > 1 {
                self.out.push(b',');
            }
            if self.opts.pretty {
                codec::write_newline_indent(&mut self.out, depth);
            }
            unsafe {
                ffi::lua_rawgeti(l, idx, i as ffi::lua_Integer);
                let r = self.value(ffi::lua_gettop(l), depth);
                ffi::lua_pop(l, 1);
                r?;
            }
        }
        self.close(b']', depth);
        Ok(())
    }

    unsafe fn object(&mut self, idx: c_int, depth: usize) -> Result<(), EncodeError> {
        if self.opts.sort_keys {
            return unsafe { self.sorted_object(idx, depth) };
        }
        let l = self.state;
        self.out.push(b'{');
        let mut first = true;
        unsafe {
            ffi::lua_pushnil(l);
            while ffi::lua_next(l, idx) != 0 {
                let r = self.member(-2, first, depth);
                first = false;
                if let Err(e) = r {
                    ffi::lua_pop(l, 2);
                    return Err(e);
                }
                ffi::lua_pop(l, 1);
            }
        }
        if first {
            // Only an empty table marked as object gets here.
            self.out.push(b'}');
        } else {
            self.close(b'}', depth);
        }
        Ok(())
    }

    /// Writes one `key: value` pair; the key is at `key_idx` (relative, -2)
    /// and the value on top of the stack.
    unsafe fn member(&mut self, key_idx: c_int, first: bool, depth: usize) -> Result<(), EncodeError> {
        let l = self.state;
        self.separator(first, depth);
        unsafe {
            match ffi::lua_type(l, key_idx) {
                ffi::LUA_TSTRING => codec::write_str(&mut self.out, string_at(l, key_idx))?,
                ffi::LUA_TNUMBER => codec::number_key(&mut self.out, number_key(l, key_idx))?,
                t => return Err(EncodeError::BadKey(type_name(t))),
            }
            self.colon();
            self.value(ffi::lua_gettop(l), depth)
        }
    }

    unsafe fn sorted_object(&mut self, idx: c_int, depth: usize) -> Result<(), EncodeError> {
        let l = self.state;
        let mut keys: Vec<OwnedKey> = Vec::new();
        unsafe {
            ffi::lua_pushnil(l);
            while ffi::lua_next(l, idx) != 0 {
                let key = match ffi::lua_type(l, -2) {
                    ffi::LUA_TSTRING => OwnedKey::Str(string_at(l, -2).to_vec()),
                    ffi::LUA_TNUMBER => {
                        let k = number_key(l, -2);
                        let mut text = Vec::new();
                        match k {
                            NumberKey::Integer(n) => codec::write_integer(&mut text, n),
                            NumberKey::Float(x) => codec::write_float(&mut text, x).inspect_err(|_| ffi::lua_pop(l, 2))?,
                        }
                        OwnedKey::Number(k, text)
                    }
                    t => {
                        ffi::lua_pop(l, 2);
                        return Err(EncodeError::BadKey(type_name(t)));
                    }
                };
                keys.push(key);
                ffi::lua_pop(l, 1);
            }
        }
        keys.sort_unstable_by(|a, b| a.text().cmp(b.text()));
        self.out.push(b'{');
        for (i, key) in keys.iter().enumerate() {
            self.separator(i == 0, depth);
            codec::write_str(&mut self.out, key.text())?;
            self.colon();
            unsafe {
                match key {
                    OwnedKey::Str(s) => {
                        ffi::lua_pushlstring(l, s.as_ptr().cast(), s.len());
                    }
                    OwnedKey::Number(NumberKey::Integer(n), _) => ffi::lua_pushinteger(l, *n),
                    OwnedKey::Number(NumberKey::Float(x), _) => ffi::lua_pushnumber(l, *x),
                }
                ffi::lua_rawget(l, idx);
                let r = self.value(ffi::lua_gettop(l), depth);
                ffi::lua_pop(l, 1);
                r?;
            }
        }
        if keys.is_empty() {
            self.out.push(b'}');
        } else {
            self.close(b'}', depth);
        }
        Ok(())
    }

    fn separator(&mut self, first: bool, depth: usize) {
        if !first {
            self.out.push(b',');
        }
        if self.opts.pretty {
            codec::write_newline_indent(&mut self.out, depth);
        }
    }

    fn colon(&mut self) {
        if self.opts.pretty {
            self.out.extend_from_slice(b": ");
        } else {
            self.out.push(b':');
        }
    }

    /// Closes a non-empty container opened at level `depth`.
    fn close(&mut self, bracket: u8, depth: usize) {
        if self.opts.pretty {
            codec::write_newline_indent(&mut self.out, depth - 1);
        }
        self.out.push(bracket);
    }
}

/// The bytes of the string at `idx`.
///
/// # Safety
/// The value at `idx` must be a string (not a number: `lua_tolstring` would
/// convert it in place). The slice lives as long as the string stays on the stack.
unsafe fn string_at<'a>(l: *mut ffi::lua_State, idx: c_int) -> &'a [u8] {
    let mut len = 0usize;
    unsafe {
        let p = ffi::lua_tolstring(l, idx, &mut len);
        if p.is_null() { &[] } else { std::slice::from_raw_parts(p.cast::<u8>(), len) }
    }
}

unsafe fn number_key(l: *mut ffi::lua_State, idx: c_int) -> NumberKey {
    unsafe {
        if ffi::lua_isinteger(l, idx) != 0 {
            NumberKey::Integer(ffi::lua_tointegerx(l, idx, ptr::null_mut()))
        } else {
            NumberKey::Float(ffi::lua_tonumberx(l, idx, ptr::null_mut()))
        }
    }
}

fn type_name(t: c_int) -> &'static str {
    match t {
        ffi::LUA_TNIL => "nil",
        ffi::LUA_TBOOLEAN => "boolean",
        ffi::LUA_TTABLE => "table",
        ffi::LUA_TFUNCTION => "function",
        ffi::LUA_TTHREAD => "thread",
        ffi::LUA_TUSERDATA | ffi::LUA_TLIGHTUSERDATA => "userdata",
        _ => "value of unknown type",
    }
}
