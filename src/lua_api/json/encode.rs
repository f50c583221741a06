//! `json.encode`: walks a Lua value on the stack of the `json.encode` C
//! closure and writes JSON.
//!
//! Why raw: going through mlua's safe `Table`/`Value` API costs a registry
//! reference per nested table and string, several times the cost of the
//! write itself; walking with `lua_next`/`lua_rawgeti` (through
//! [`raw::Stack`]) is what lua-cjson does and keeps us ahead of it.
//!
//! The stack: slot 1 holds the value to encode (slot 2 the options, read
//! by the caller); the closure's upvalues 1 and 2 are the array and object
//! marker metatables. A table is walked where it lies, and each level of
//! nesting pushes at most three values above it: its metatable and that
//! metatable's `__jsontype` field, or a key and its value (a nested table
//! is that value, walked in place at the top). [`Encoder::table`] reserves
//! those three slots for each level.
//!
//! Rules kept here:
//! * every function gives back the slots it pushed, on success and on
//!   error: a [`Guard`] per walk truncates the stack on an error return and
//!   checks, in debug builds, that a successful walk left it balanced;
//! * no Lua function or metamethod is ever called (raw access only), so the
//!   only Lua error possible inside is out-of-memory;
//! * number keys are read as numbers, never as strings: converting a key
//!   in place ([`raw::Stack::bytes`]) would break `lua_next`.

use std::ffi::c_int;

use crate::codec::json::{self as codec, EncodeError, MAX_DEPTH, NumberKey};
use crate::lua_api::raw::{self, Guard, Stack, Type};

/// Where the marker metatables are: upvalues of the `json.encode` C closure.
const ARRAY_MT: c_int = raw::upvalue(1);
const OBJECT_MT: c_int = raw::upvalue(2);

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

pub struct Encoder<'a> {
    stack: Stack<'a>,
    opts: Options,
    pub out: Vec<u8>,
}

impl<'a> Encoder<'a> {
    /// An encoder on the stack of a running `json.encode` closure (module docs).
    pub fn new(stack: Stack<'a>, opts: Options) -> Self {
        Encoder { stack, opts, out: Vec::with_capacity(256) }
    }

    /// Encodes the value at absolute stack index `idx`.
    ///
    /// # Safety
    /// `idx` is a live slot of the stack.
    pub unsafe fn value(&mut self, idx: c_int, depth: usize) -> Result<(), EncodeError> {
        let s = self.stack;
        // SAFETY: `idx` is live (the caller's contract); each value is read
        // as the type just found there.
        unsafe {
            match s.type_of(idx) {
                Type::Nil => self.out.extend_from_slice(b"null"),
                Type::Boolean => {
                    let b: &[u8] = if s.to_boolean(idx) { b"true" } else { b"false" };
                    self.out.extend_from_slice(b);
                }
                Type::Number => match s.integer(idx) {
                    Some(n) => codec::write_integer(&mut self.out, n),
                    None => codec::write_float(&mut self.out, s.float(idx))?,
                },
                Type::String => codec::write_str(&mut self.out, s.bytes(idx))?,
                Type::LightUserData if s.userdata(idx).is_null() => self.out.extend_from_slice(b"null"),
                Type::Table => self.table(idx, depth + 1)?,
                t => return Err(EncodeError::Unsupported(t.name())),
            }
        }
        Ok(())
    }

    /// Encodes the table at absolute index `idx`, which sits at nesting level `depth`.
    ///
    /// # Safety
    /// `idx` is a live slot holding a table.
    unsafe fn table(&mut self, idx: c_int, depth: usize) -> Result<(), EncodeError> {
        if depth > MAX_DEPTH || !self.stack.reserve(3) {
            return Err(EncodeError::TooDeep);
        }
        // SAFETY: `idx` holds a table (the caller's contract) and the three
        // slots of this level are reserved: the contracts of the walks below.
        unsafe {
            let marker = self.marker(idx);
            if marker == Some(Marker::Object) {
                return self.object(idx, depth);
            }
            let (count, sequence) = self.sequence_length(idx);
            if count == 0 {
                let as_array = marker == Some(Marker::Array) || self.opts.empty_table_as_array;
                self.out.extend_from_slice(if as_array { b"[]" } else { b"{}" });
                Ok(())
            } else if sequence {
                self.array(idx, count, depth)
            } else {
                self.object(idx, depth)
            }
        }
    }

    /// The number of keys of the table at `idx` (up to the first key that
    /// rules out an array) and whether they are exactly the integers `1..n`.
    ///
    /// # Safety
    /// `idx` is a live slot holding a table; two slots are free.
    unsafe fn sequence_length(&mut self, idx: c_int) -> (usize, bool) {
        let s = self.stack;
        let guard = Guard::new(s);
        let mut count: usize = 0;
        let mut max: i64 = 0;
        let mut sequence = true;
        // SAFETY: the caller's contract; lua_next pops the key it is given
        // and pushes a key and a value, of which we pop the value.
        unsafe {
            s.push_nil();
            while s.next(idx) {
                count += 1;
                let k = s.integer(-2).unwrap_or(0);
                if k < 1 {
                    sequence = false;
                    s.pop(2);
                    break;
                }
                max = max.max(k);
                s.pop(1);
            }
        }
        guard.leave(0);
        (count, sequence && max as usize == count)
    }

    /// The JSON kind the table at `idx` is marked with, if any: our own marker
    /// metatables, or any metatable with a `__jsontype` field of `"array"` or
    /// `"object"` (the lua-rapidjson convention).
    ///
    /// # Safety
    /// `idx` is a live slot; two slots are free.
    unsafe fn marker(&mut self, idx: c_int) -> Option<Marker> {
        let s = self.stack;
        // SAFETY: the caller's contract; the metatable (a table) is at -1
        // once pushed, its field above it; the field's bytes are read while it
        // is on the stack. Both are popped.
        unsafe {
            if !s.push_metatable(idx) {
                return None;
            }
            let found = if s.raw_equal(-1, ARRAY_MT) {
                Some(Marker::Array)
            } else if s.raw_equal(-1, OBJECT_MT) {
                Some(Marker::Object)
            } else {
                let kind = match s.push_raw_field(-1, b"__jsontype") {
                    Type::String => match s.bytes(-1) {
                        b"array" => Some(Marker::Array),
                        b"object" => Some(Marker::Object),
                        _ => None,
                    },
                    _ => None,
                };
                s.pop(1);
                kind
            };
            s.pop(1);
            found
        }
    }

    /// # Safety
    /// `idx` is a live slot holding a table; three slots are free.
    unsafe fn array(&mut self, idx: c_int, n: usize, depth: usize) -> Result<(), EncodeError> {
        let s = self.stack;
        let guard = Guard::new(s);
        let item = guard.base() + 1;
        self.out.push(b'[');
        for i in 1..=n {
            self.separator(i == 1, depth);
            // SAFETY: the caller's contract; `t[i]` goes to slot `item` and is
            // popped after its walk (the guard pops it if the walk fails).
            unsafe {
                s.push_raw_index(idx, i as i64);
                self.value(item, depth)?;
                s.pop(1);
            }
        }
        guard.leave(0);
        self.close(b']', depth);
        Ok(())
    }

    /// # Safety
    /// `idx` is a live slot holding a table; three slots are free.
    unsafe fn object(&mut self, idx: c_int, depth: usize) -> Result<(), EncodeError> {
        if self.opts.sort_keys {
            // SAFETY: the caller's contract.
            return unsafe { self.sorted_object(idx, depth) };
        }
        let s = self.stack;
        let guard = Guard::new(s);
        let (key, value) = (guard.base() + 1, guard.base() + 2);
        self.out.push(b'{');
        let mut first = true;
        // SAFETY: the caller's contract; lua_next leaves the key in slot
        // `key` and its value in slot `value`, which is popped after its walk
        // (the guard pops both if the walk fails).
        unsafe {
            s.push_nil();
            while s.next(idx) {
                self.separator(first, depth);
                first = false;
                match s.type_of(key) {
                    Type::String => codec::write_str(&mut self.out, s.bytes(key))?,
                    Type::Number => codec::number_key(&mut self.out, number_key(s, key))?,
                    t => return Err(EncodeError::BadKey(t.name())),
                }
                self.colon();
                self.value(value, depth)?;
                s.pop(1);
            }
        }
        guard.leave(0);
        if first {
            // Only an empty table marked as object gets here.
            self.out.push(b'}');
        } else {
            self.close(b'}', depth);
        }
        Ok(())
    }

    /// # Safety
    /// `idx` is a live slot holding a table; three slots are free.
    unsafe fn sorted_object(&mut self, idx: c_int, depth: usize) -> Result<(), EncodeError> {
        let s = self.stack;
        let guard = Guard::new(s);
        let key = guard.base() + 1;
        let mut keys: Vec<OwnedKey> = Vec::new();
        // SAFETY: the caller's contract; lua_next leaves a key in slot `key`
        // (copied out) and its value above it, which is popped.
        unsafe {
            s.push_nil();
            while s.next(idx) {
                let owned = match s.type_of(key) {
                    Type::String => OwnedKey::Str(s.bytes(key).to_vec()),
                    Type::Number => {
                        let k = number_key(s, key);
                        let mut text = Vec::new();
                        match k {
                            NumberKey::Integer(n) => codec::write_integer(&mut text, n),
                            NumberKey::Float(x) => codec::write_float(&mut text, x)?,
                        }
                        OwnedKey::Number(k, text)
                    }
                    t => return Err(EncodeError::BadKey(t.name())),
                };
                keys.push(owned);
                s.pop(1);
            }
        }
        keys.sort_unstable_by(|a, b| a.text().cmp(b.text()));
        self.out.push(b'{');
        for (i, k) in keys.iter().enumerate() {
            self.separator(i == 0, depth);
            codec::write_str(&mut self.out, k.text())?;
            self.colon();
            // SAFETY: the caller's contract; the key pushed is replaced by its
            // value in slot `key`, popped after its walk (or by the guard).
            unsafe {
                match k {
                    OwnedKey::Str(text) => s.push_bytes(text),
                    OwnedKey::Number(NumberKey::Integer(n), _) => s.push_integer(*n),
                    OwnedKey::Number(NumberKey::Float(x), _) => s.push_float(*x),
                }
                s.raw_get(idx);
                self.value(key, depth)?;
                s.pop(1);
            }
        }
        guard.leave(0);
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

/// The number key at `idx`, read without converting it.
///
/// # Safety
/// `idx` is a live slot holding a number.
unsafe fn number_key(s: Stack<'_>, idx: c_int) -> NumberKey {
    // SAFETY: the caller's contract.
    unsafe {
        match s.integer(idx) {
            Some(n) => NumberKey::Integer(n),
            None => NumberKey::Float(s.float(idx)),
        }
    }
}
