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
//! tops the reserve up after every entry it keeps on the stack
//! ([`Filling`]), so every push below has room. The [`Guard`] of each
//! container takes back what a failed parse left on the stack.
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
        let mut filling = Filling::new(self.stack, Kind::Array);
        while let Some(()) = seq.next_element_seed(&mut *self)? {
            filling.added()?;
        }
        filling.finish()?;
        self.depth -= 1;
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.enter()?;
        let mut filling = Filling::new(self.stack, Kind::Object);
        while let Some(()) = map.next_key_seed(KeySeed(&mut *self))? {
            map.next_value_seed(&mut *self)?;
            filling.added()?;
        }
        filling.finish()?;
        self.depth -= 1;
        Ok(())
    }
}

/// Most values of one container kept on the Lua stack before its table is made.
const PENDING_MAX: usize = 128;

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Array,
    Object,
}

/// A container being parsed: its entries (elements or key/value pairs)
/// wait on the stack above the base until its table is made.
struct Filling<'a> {
    stack: Stack<'a>,
    guard: Guard<'a>,
    kind: Kind,
    entries: usize,
    table_made: bool,
}

impl<'a> Filling<'a> {
    fn new(stack: Stack<'a>, kind: Kind) -> Self {
        Filling { stack, guard: Guard::new(stack), kind, entries: 0, table_made: false }
    }

    /// Takes in the entry just pushed, keeping room for the next one.
    // Once per entry: inlined into the parse loop, as the code it replaces was.
    #[inline(always)]
    fn added<E: de::Error>(&mut self) -> Result<(), E> {
        self.entries += 1;
        if self.table_made {
            // SAFETY: the table is right below the element or pair just pushed.
            unsafe {
                match self.kind {
                    Kind::Array => self.stack.raw_set_index(-2, self.entries as i64),
                    Kind::Object => self.stack.raw_set(-3),
                }
            }
            Ok(())
        } else if self.entries == PENDING_MAX {
            // The entry just pushed may have taken the last reserved slot.
            if !self.stack.reserve(3) {
                return Err(E::custom("out of Lua stack"));
            }
            self.make_table(PENDING_MAX * 4)?;
            self.table_made = true;
            Ok(())
        } else {
            // Room for the next entry: an element, or a key and a value, and
            // the table that may be made after it.
            let room = if self.kind == Kind::Array { 2 } else { 3 };
            if self.stack.reserve(room) { Ok(()) } else { Err(E::custom("out of Lua stack")) }
        }
    }

    /// Leaves the finished table, marked as array or object, on top.
    fn finish<E: de::Error>(mut self) -> Result<(), E> {
        if !self.table_made {
            self.make_table(self.entries)?;
        }
        let marker = if self.kind == Kind::Array { ARRAY_MT } else { OBJECT_MT };
        // SAFETY: the table is on top, and the reserve it was made with left
        // a slot for the marker.
        unsafe {
            self.stack.push_copy(marker);
            self.stack.set_metatable(-2);
        }
        self.guard.leave(1);
        Ok(())
    }

    /// Creates a table sized for `capacity` entries and moves into it the
    /// entries waiting above the base. Leaves it at `base + 1`, the new top.
    /// Needs room for the table, and for objects a key and a value copied
    /// above the pairs: what [`added`](Self::added) keeps reserved (and
    /// [`Builder::enter`] for a container with no entries).
    fn make_table<E: de::Error>(&mut self, capacity: usize) -> Result<(), E> {
        let s = self.stack;
        let t = self.guard.base() + 1;
        let n = self.entries as c_int;
        // SAFETY: the room is reserved (above); the `n` entries are the values
        // above the base (one slot each for elements, two for pairs), so `t`
        // and every slot read below are live.
        unsafe {
            match self.kind {
                Kind::Array => {
                    s.push_table(capacity as c_int, 0);
                    s.insert(t);
                    for i in (1..=n).rev() {
                        s.raw_set_index(t, i64::from(i));
                    }
                }
                Kind::Object => {
                    s.push_table(0, capacity as c_int);
                    s.insert(t);
                    // Pairs go in source order so that a duplicate key keeps
                    // its last value, as when the table is filled directly.
                    for j in 0..n {
                        s.push_copy(t + 1 + 2 * j);
                        s.push_copy(t + 2 + 2 * j);
                        s.raw_set(t);
                    }
                    s.truncate(t);
                }
            }
        }
        Ok(())
    }
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
