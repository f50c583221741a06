//! The `storage` table (API.md §13): the Lua face of [`crate::shared::storage`].
//!
//! Values are encoded with the `wrap` codec before the store is locked and
//! decoded after it is released, so the lock is held only for map operations
//! (and, in `set_if`, for the decode of the old values and the check itself).
//! Keys are strings; numbers are converted as Lua's `tostring` does (`1` ->
//! `"1"`, `1.0` -> `"1.0"`), so `storage.get(1)` and `storage.get("1")` agree.

use mlua::{Error, Function, Lua, MultiValue, Result, Table, Value};

use super::args::{Args, bad_argument, type_name};
use crate::codec::wrap;
use crate::shared::storage::{self, Busy, Bytes, SetIf};

impl From<Busy> for Error {
    fn from(busy: Busy) -> Error {
        Error::runtime(busy.to_string())
    }
}

pub fn create(lua: &Lua) -> Result<Table> {
    let t = lua.create_table()?;
    t.set("exist", lua.create_function(|lua, mv: MultiValue| {
        let a = Args::new("exist", mv);
        Ok(storage::global().exists(&key(lua, "exist", &a, 1)?))
    })?)?;
    t.set("get", lua.create_function(|lua, mv: MultiValue| {
        let a = Args::new("get", mv);
        values(lua, storage::global().get(&key(lua, "get", &a, 1)?))
    })?)?;
    t.set("set", lua.create_function(|lua, mv: MultiValue| {
        let a = Args::new("set", mv);
        let key = key(lua, "set", &a, 1)?;
        let new = encode(&a, 2)?;
        values(lua, storage::global().set(&key, new)?)
    })?)?;
    t.set("set_if", lua.create_function(set_if)?)?;
    t.set("erase", lua.create_function(|lua, mv: MultiValue| {
        let a = Args::new("erase", mv);
        values(lua, storage::global().erase(&key(lua, "erase", &a, 1)?)?)
    })?)?;
    t.set("empty", lua.create_function(|_, ()| Ok(storage::global().is_empty()))?)?;
    t.set("size", lua.create_function(|_, ()| Ok(storage::global().len()))?)?;
    t.set("clear", lua.create_function(|_, ()| Ok(storage::global().clear()?))?)?;
    Ok(t)
}

/// `set_if(key, check, v1, ...)`: `check(v1, ..., old1, ...)` runs under the
/// store's lock. It is called with `Function::call`, a plain C call, so a
/// `coroutine.yield` inside it fails with Lua's own "attempt to yield" error
/// instead of suspending with the lock held.
fn set_if(lua: &Lua, mv: MultiValue) -> Result<MultiValue> {
    let a = Args::new("set_if", mv);
    let key = key(lua, "set_if", &a, 1)?;
    let check: Function = a.function(2)?;
    let new = encode(&a, 3)?;
    let mut old_values = MultiValue::new();
    let outcome = storage::global().set_if(&key, new, |old| -> Result<bool> {
        if let Some(old) = old {
            old_values = wrap::decode(lua, old)?;
        }
        let mut call_args = a.rest(3);
        call_args.extend(old_values.iter().cloned());
        let verdict: Value = check.call(call_args)?;
        Ok(!matches!(verdict, Value::Nil | Value::Boolean(false)))
    })?;
    let mut out = MultiValue::new();
    match outcome {
        SetIf::Stored(_) => {
            out.push_back(Value::Boolean(true));
            if old_values.is_empty() {
                out.push_back(Value::Nil);
            }
            out.extend(old_values);
        }
        SetIf::Refused => {
            out.push_back(Value::Boolean(false));
            out.push_back(Value::Nil);
        }
    }
    Ok(out)
}

/// Argument `n` as a key: a string, or a number converted like `tostring`.
fn key(lua: &Lua, fname: &str, a: &Args, n: usize) -> Result<Vec<u8>> {
    match a.value(n) {
        Value::String(s) => Ok(s.as_bytes().to_vec()),
        Value::Integer(i) => Ok(i.to_string().into_bytes()),
        v @ Value::Number(_) => match lua.coerce_string(v)? {
            Some(s) => Ok(s.as_bytes().to_vec()),
            None => Err(Error::runtime("cannot convert number to string")),
        },
        v => {
            let got = if n > a.len() { "no value" } else { type_name(Some(&v)) };
            Err(bad_argument(n, fname, format!("string expected, got {got}")))
        }
    }
}

/// Encodes the values from argument `n` on; at least one (maybe nil) is required.
fn encode(a: &Args, n: usize) -> Result<Bytes> {
    if a.len() < n {
        return Err(Error::runtime("no value"));
    }
    Ok(Bytes::from(wrap::encode(a.rest(n).iter())?))
}

/// Stored bytes back to Lua values; a missing key is a single `nil`.
fn values(lua: &Lua, bytes: Option<Bytes>) -> Result<MultiValue> {
    match bytes {
        Some(b) => wrap::decode(lua, &b),
        None => Ok(MultiValue::from_vec(vec![Value::Nil])),
    }
}
