//! `json.decode`: serde_json's parser building Lua values on the raw stack.
//!
//! serde_json does the lexing (UTF-8 checks, escapes and surrogate pairs,
//! correctly rounded floats with `float_roundtrip`, line/column in errors);
//! our [`Builder`] is its visitor and pushes each value straight onto the Lua
//! stack of the running `exec_raw` call, so no intermediate tree is built.
//! Stack layout while decoding: `1 = text, 2 = array marker metatable,
//! 3 = object marker metatable`, then the values under construction.
//!
//! Depth: serde_json's own limit (128) is switched off (`unbounded_depth`)
//! and [`Builder`] counts levels itself, refusing more than
//! [`MAX_DEPTH`] so that the Rust recursion stays bounded (about 0.3 KiB of
//! stack per level in release builds; see the `deep_nesting` test).

use std::ffi::c_int;
use std::fmt;

use mlua::ffi;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use crate::codec::json::MAX_DEPTH;

const ARRAY_MT: c_int = 2;
const OBJECT_MT: c_int = 3;

/// Pushes each visited JSON value onto the Lua stack.
pub struct Builder {
    state: *mut ffi::lua_State,
    depth: usize,
}

impl Builder {
    /// # Safety
    /// `state` must be the state of a running `exec_raw` call with the stack
    /// layout of the module docs.
    pub unsafe fn new(state: *mut ffi::lua_State) -> Self {
        Builder { state, depth: 0 }
    }

    fn enter<E: de::Error>(&mut self) -> Result<(), E> {
        self.depth += 1;
        // 3 slots: the new table, a key and a value.
        if self.depth > MAX_DEPTH || unsafe { ffi::lua_checkstack(self.state, 3) } == 0 {
            return Err(E::custom(format_args!("nesting deeper than {MAX_DEPTH}")));
        }
        Ok(())
    }

    fn push_str(&mut self, s: &str) {
        unsafe {
            ffi::lua_pushlstring(self.state, s.as_ptr().cast(), s.len());
        }
    }
}

impl<'de> DeserializeSeed<'de> for &mut Builder {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for &mut Builder {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        // `null` is json.null, the NULL light userdata (as lua-cjson's cjson.null).
        unsafe { ffi::lua_pushlightuserdata(self.state, std::ptr::null_mut()) };
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        unsafe { ffi::lua_pushboolean(self.state, v as c_int) };
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        unsafe { ffi::lua_pushinteger(self.state, v) };
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        // Above i64::MAX a JSON integer no longer fits a Lua integer: nearest float.
        match i64::try_from(v) {
            Ok(i) => unsafe { ffi::lua_pushinteger(self.state, i) },
            Err(_) => unsafe { ffi::lua_pushnumber(self.state, v as f64) },
        }
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        unsafe { ffi::lua_pushnumber(self.state, v) };
        Ok(())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.push_str(v);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.enter()?;
        let l = self.state;
        unsafe { ffi::lua_createtable(l, 0, 0) };
        let mut i: ffi::lua_Integer = 0;
        while let Some(()) = seq.next_element_seed(&mut *self)? {
            i += 1;
            unsafe { ffi::lua_rawseti(l, -2, i) };
        }
        unsafe {
            ffi::lua_pushvalue(l, ARRAY_MT);
            ffi::lua_setmetatable(l, -2);
        }
        self.depth -= 1;
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.enter()?;
        let l = self.state;
        unsafe { ffi::lua_createtable(l, 0, 0) };
        while let Some(()) = map.next_key_seed(KeySeed(&mut *self))? {
            map.next_value_seed(&mut *self)?;
            unsafe { ffi::lua_rawset(l, -3) };
        }
        unsafe {
            ffi::lua_pushvalue(l, OBJECT_MT);
            ffi::lua_setmetatable(l, -2);
        }
        self.depth -= 1;
        Ok(())
    }
}

/// Object keys: always strings in JSON; pushed as Lua strings.
struct KeySeed<'b>(&'b mut Builder);

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.0.push_str(v);
        Ok(())
    }
}

/// Parses `text` and leaves its value on top of the stack, or returns the
/// error message (the stack then holds leftovers the caller discards).
///
/// # Safety
/// As [`Builder::new`].
pub unsafe fn decode(state: *mut ffi::lua_State, text: &[u8]) -> Result<(), serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(text);
    de.disable_recursion_limit();
    let mut builder = unsafe { Builder::new(state) };
    (&mut builder).deserialize(&mut de)?;
    de.end()
}
