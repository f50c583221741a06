//! `json.decode`: serde_json's parser building Lua values on the raw stack.
//!
//! serde_json does the lexing (UTF-8 checks, escapes and surrogate pairs,
//! correctly rounded floats with `float_roundtrip`, line/column in errors);
//! our [`Builder`] is its visitor and pushes each value straight onto the Lua
//! stack of the running `json.decode` C closure (upvalues 1 and 2: the array
//! and object marker metatables), so no intermediate tree is built.
//!
//! Tables are built with their final size: the elements (or key/value pairs)
//! of a container are first pushed on the Lua stack, then moved into a table
//! created with `lua_createtable(n)`. That saves the rehash-on-growth steps
//! that dominate decoding time otherwise; past [`PENDING_MAX`] elements the
//! table is created (sized for what came so far) and filled directly, so the
//! Lua stack never holds more than that many values per open container.
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

/// The marker metatables: upvalues of the `json.decode` C closure.
const ARRAY_MT: c_int = ffi::lua_upvalueindex(1);
const OBJECT_MT: c_int = ffi::lua_upvalueindex(2);

/// Pushes each visited JSON value onto the Lua stack.
pub struct Builder {
    state: *mut ffi::lua_State,
    depth: usize,
}

impl Builder {
    /// # Safety
    /// `state` must be the state of a running `json.decode` closure (module docs).
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
        let base = unsafe { ffi::lua_gettop(l) };
        let mut n: ffi::lua_Integer = 0;
        let mut table_made = false;
        while let Some(()) = seq.next_element_seed(&mut *self)? {
            n += 1;
            unsafe {
                if table_made {
                    ffi::lua_rawseti(l, -2, n);
                } else if n as usize == PENDING_MAX {
                    make_table(l, base, n as c_int, 0, PENDING_MAX as c_int * 4, 0);
                    table_made = true;
                } else if ffi::lua_checkstack(l, 2) == 0 {
                    return Err(de::Error::custom("out of Lua stack"));
                }
            }
        }
        unsafe {
            if !table_made {
                make_table(l, base, n as c_int, 0, n as c_int, 0);
            }
            ffi::lua_pushvalue(l, ARRAY_MT);
            ffi::lua_setmetatable(l, -2);
        }
        self.depth -= 1;
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.enter()?;
        let l = self.state;
        let base = unsafe { ffi::lua_gettop(l) };
        let mut n: usize = 0;
        let mut table_made = false;
        while let Some(()) = map.next_key_seed(KeySeed(&mut *self))? {
            map.next_value_seed(&mut *self)?;
            n += 1;
            unsafe {
                if table_made {
                    ffi::lua_rawset(l, -3);
                } else if n == PENDING_MAX {
                    make_table(l, base, 0, n as c_int, 0, PENDING_MAX as c_int * 4);
                    table_made = true;
                } else if ffi::lua_checkstack(l, 3) == 0 {
                    return Err(de::Error::custom("out of Lua stack"));
                }
            }
        }
        unsafe {
            if !table_made {
                make_table(l, base, 0, n as c_int, 0, n as c_int);
            }
            ffi::lua_pushvalue(l, OBJECT_MT);
            ffi::lua_setmetatable(l, -2);
        }
        self.depth -= 1;
        Ok(())
    }
}

/// Most values of one container kept on the Lua stack before its table is made.
const PENDING_MAX: usize = 128;

/// Creates a table sized `narr`/`nrec` and moves into it what was pushed
/// above `base`: `items` array elements (indices 1..items) or `pairs`
/// key/value pairs. Leaves the table at `base + 1`, the new top.
unsafe fn make_table(l: *mut ffi::lua_State, base: c_int, items: c_int, pairs: c_int, narr: c_int, nrec: c_int) {
    unsafe {
        ffi::lua_createtable(l, narr, nrec);
        ffi::lua_rotate(l, base + 1, 1);
        let t = base + 1;
        for i in (1..=items).rev() {
            ffi::lua_rawseti(l, t, i as ffi::lua_Integer);
        }
        // Pairs go in source order so that a duplicate key keeps its last
        // value, as when the table is filled directly.
        for j in 0..pairs {
            ffi::lua_pushvalue(l, t + 1 + 2 * j);
            ffi::lua_pushvalue(l, t + 2 + 2 * j);
            ffi::lua_rawset(l, t);
        }
        if pairs > 0 {
            ffi::lua_settop(l, t);
        }
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
