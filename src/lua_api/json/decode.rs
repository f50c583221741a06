//! `json.decode`: serde_json's parser building Lua values on the raw stack.
//!
//! serde_json does the lexing (UTF-8 checks, escapes and surrogate pairs,
//! correctly rounded floats with `float_roundtrip`, line/column in errors);
//! our [`Builder`] is its visitor and pushes each value straight onto the Lua
//! stack of the running `json.decode` C closure (through [`raw::Stack`];
//! upvalues 1 and 2: the array and object marker metatables), so no
//! intermediate tree is built.
//!
//! Tables are built with their final size: the elements (or key/value pairs)
//! of a container are first pushed on the Lua stack, then moved into a table
//! created with `lua_createtable(n)`. That saves the rehash-on-growth steps
//! that dominate decoding time otherwise; past [`PENDING_MAX`] elements the
//! table is created (sized for what came so far) and filled directly, so the
//! Lua stack never holds more than that many values per open container.
//!
//! Stack room: [`decode`] reserves a slot for the top-level value; each
//! container reserves three on entry (its table, a key and a value) and
//! tops the reserve up after every element it keeps on the stack, so every
//! push below has room. A [`Guard`] per container takes back what a failed
//! parse left on the stack.
//!
//! Depth: serde_json's own limit (128) is switched off (`unbounded_depth`)
//! and [`Builder`] counts levels itself, refusing more than
//! [`MAX_DEPTH`] so that the Rust recursion stays bounded (about 0.3 KiB of
//! stack per level in release builds; see the `deep_nesting` test).

use std::ffi::c_int;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use crate::codec::json::MAX_DEPTH;
use crate::lua_api::raw::{self, Guard, Stack};

/// The marker metatables: upvalues of the `json.decode` C closure.
const ARRAY_MT: c_int = raw::upvalue(1);
const OBJECT_MT: c_int = raw::upvalue(2);

/// Pushes each visited JSON value onto the Lua stack. Made by [`decode`]
/// only, so every push has room (module docs).
struct Builder<'a> {
    stack: Stack<'a>,
    depth: usize,
}

impl Builder<'_> {
    fn enter<E: de::Error>(&mut self) -> Result<(), E> {
        self.depth += 1;
        // 3 slots: the new table, a key and a value.
        if self.depth > MAX_DEPTH || !self.stack.reserve(3) {
            return Err(E::custom(format_args!("nesting deeper than {MAX_DEPTH}")));
        }
        Ok(())
    }

    /// Makes room for `n` more values while a container is filled.
    fn reserve<E: de::Error>(&self, n: c_int) -> Result<(), E> {
        if self.stack.reserve(n) { Ok(()) } else { Err(E::custom("out of Lua stack")) }
    }

    fn push_str(&mut self, s: &str) {
        // SAFETY: there is room (module docs).
        unsafe { self.stack.push_bytes(s.as_bytes()) }
    }
}

impl<'de> DeserializeSeed<'de> for &mut Builder<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for &mut Builder<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        // `null` is json.null, the NULL light userdata (as lua-cjson's cjson.null).
        // SAFETY: there is room (module docs).
        unsafe { self.stack.push_null() };
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        // SAFETY: there is room (module docs).
        unsafe { self.stack.push_boolean(v) };
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        // SAFETY: there is room (module docs).
        unsafe { self.stack.push_integer(v) };
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        // Above i64::MAX a JSON integer no longer fits a Lua integer: nearest float.
        // SAFETY: there is room (module docs).
        unsafe {
            match i64::try_from(v) {
                Ok(i) => self.stack.push_integer(i),
                Err(_) => self.stack.push_float(v as f64),
            }
        }
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        // SAFETY: there is room (module docs).
        unsafe { self.stack.push_float(v) };
        Ok(())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.push_str(v);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.enter()?;
        let s = self.stack;
        let guard = Guard::new(s);
        let mut n: i64 = 0;
        let mut table_made = false;
        while let Some(()) = seq.next_element_seed(&mut *self)? {
            n += 1;
            if table_made {
                // SAFETY: the table is below the element just pushed.
                unsafe { s.raw_set_index(-2, n) };
            } else if n as usize == PENDING_MAX {
                // SAFETY: the `n` elements are the values above the base.
                unsafe { make_table(s, guard.base(), n as c_int, 0, PENDING_MAX as c_int * 4, 0) }?;
                table_made = true;
            } else {
                self.reserve(2)?;
            }
        }
        if !table_made {
            // SAFETY: the `n` elements are the values above the base.
            unsafe { make_table(s, guard.base(), n as c_int, 0, n as c_int, 0) }?;
        }
        // SAFETY: the new table is on top; a slot of the reserve is free for its metatable.
        unsafe {
            s.push_copy(ARRAY_MT);
            s.set_metatable(-2);
        }
        guard.leave(1);
        self.depth -= 1;
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.enter()?;
        let s = self.stack;
        let guard = Guard::new(s);
        let mut n: usize = 0;
        let mut table_made = false;
        while let Some(()) = map.next_key_seed(KeySeed(&mut *self))? {
            map.next_value_seed(&mut *self)?;
            n += 1;
            if table_made {
                // SAFETY: the table is below the key and value just pushed.
                unsafe { s.raw_set(-3) };
            } else if n == PENDING_MAX {
                // SAFETY: the `n` pairs are the values above the base.
                unsafe { make_table(s, guard.base(), 0, n as c_int, 0, PENDING_MAX as c_int * 4) }?;
                table_made = true;
            } else {
                self.reserve(3)?;
            }
        }
        if !table_made {
            // SAFETY: the `n` pairs are the values above the base.
            unsafe { make_table(s, guard.base(), 0, n as c_int, 0, n as c_int) }?;
        }
        // SAFETY: the new table is on top; a slot of the reserve is free for its metatable.
        unsafe {
            s.push_copy(OBJECT_MT);
            s.set_metatable(-2);
        }
        guard.leave(1);
        self.depth -= 1;
        Ok(())
    }
}

/// Most values of one container kept on the Lua stack before its table is made.
const PENDING_MAX: usize = 128;

/// Creates a table sized `narr`/`nrec` and moves into it what was pushed
/// above `base`: `items` array elements (indices 1..items) or `pairs`
/// key/value pairs. Leaves the table at `base + 1`, the new top.
///
/// # Safety
/// Exactly `items` values or `pairs` key/value pairs are above `base`.
unsafe fn make_table<E: de::Error>(s: Stack<'_>, base: c_int, items: c_int, pairs: c_int, narr: c_int, nrec: c_int) -> Result<(), E> {
    // The table, then a key and a value copied above the pairs.
    if !s.reserve(3) {
        return Err(E::custom("out of Lua stack"));
    }
    let t = base + 1;
    // SAFETY: three slots are reserved; the caller's contract says what lies
    // above `base`, so `t` and every slot read below are live.
    unsafe {
        s.push_table(narr, nrec);
        s.insert(t);
        for i in (1..=items).rev() {
            s.raw_set_index(t, i64::from(i));
        }
        // Pairs go in source order so that a duplicate key keeps its last
        // value, as when the table is filled directly.
        for j in 0..pairs {
            s.push_copy(t + 1 + 2 * j);
            s.push_copy(t + 2 + 2 * j);
            s.raw_set(t);
        }
        if pairs > 0 {
            s.truncate(t);
        }
    }
    Ok(())
}

/// Object keys: always strings in JSON; pushed as Lua strings.
struct KeySeed<'b, 'a>(&'b mut Builder<'a>);

impl<'de> DeserializeSeed<'de> for KeySeed<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_, '_> {
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
/// error (the stack then is as it was).
pub fn decode(stack: Stack<'_>, text: &[u8]) -> Result<(), serde_json::Error> {
    if !stack.reserve(1) {
        return Err(de::Error::custom("out of Lua stack"));
    }
    let guard = Guard::new(stack);
    let mut de = serde_json::Deserializer::from_slice(text);
    de.disable_recursion_limit();
    let mut builder = Builder { stack, depth: 0 };
    (&mut builder).deserialize(&mut de)?;
    de.end()?;
    guard.leave(1);
    Ok(())
}
