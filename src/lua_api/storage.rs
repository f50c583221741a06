//! The `storage` table (docs/API.md §13): the Lua face of [`crate::shared::storage`].
//!
//! Values are encoded with the `wrap` codec before the store is locked and
//! decoded after it is released, so the lock is held only for map operations
//! (and, in `set_if`, for the decode of the old values and the check itself).
//! Keys are strings; numbers are converted as Lua's `tostring` does (`1` ->
//! `"1"`, `1.0` -> `"1.0"`), so `storage.get(1)` and `storage.get("1")` agree.

use mlua::{Error, Function, Lua, MultiValue, Result, Table, Value};

use super::args::Args;
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
        Ok(storage::global().exists(&a.bytes_with(lua, 1)?))
    })?)?;
    t.set("get", lua.create_function(|lua, mv: MultiValue| {
        let a = Args::new("get", mv);
        values(lua, storage::global().get(&a.bytes_with(lua, 1)?))
    })?)?;
    t.set("set", lua.create_function(|lua, mv: MultiValue| {
        let a = Args::new("set", mv);
        let key = a.bytes_with(lua, 1)?;
        let new = encode(&a, 2)?;
        values(lua, storage::global().set(&key, new)?)
    })?)?;
    t.set("set_if", lua.create_function(set_if)?)?;
    t.set("erase", lua.create_function(|lua, mv: MultiValue| {
        let a = Args::new("erase", mv);
        values(lua, storage::global().erase(&a.bytes_with(lua, 1)?)?)
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
    let key = a.bytes_with(lua, 1)?;
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

/// Encodes the values from argument `n` on; at least one (maybe nil) is required.
fn encode(a: &Args, n: usize) -> Result<Bytes> {
    if a.len() < n {
        return Err(Error::runtime("no value"));
    }
    Ok(Bytes::from(wrap::encode(a.tail(n))?))
}

/// Stored bytes back to Lua values; a missing key is a single `nil`.
fn values(lua: &Lua, bytes: Option<Bytes>) -> Result<MultiValue> {
    match bytes {
        Some(b) => wrap::decode(lua, &b),
        None => Ok(MultiValue::from_vec(vec![Value::Nil])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Several OS threads, each with its own Lua state (as services are),
    /// increment one counter through `storage.set_if` as compare-and-set.
    #[test]
    fn states_on_many_threads_count_exactly() {
        const THREADS: i64 = 4;
        const ROUNDS: i64 = 200;
        let key = "lua_api::storage::tests::counter";
        storage::global().set(key.as_bytes(), Bytes::from(wrap::encode([Value::Integer(0)].iter()).unwrap())).unwrap();
        let workers: Vec<_> = (0..THREADS)
            .map(|_| {
                std::thread::spawn(move || {
                    let lua = Lua::new();
                    lua.globals().set("storage", create(&lua).unwrap()).unwrap();
                    let bump: Function = lua
                        .load(
                            r#"
                            return function(key, rounds)
                              for _ = 1, rounds do
                                repeat
                                  local n = storage.get(key)
                                  local ok = storage.set_if(key, function(new, old) return old == n end, n + 1)
                                until ok
                              end
                            end"#,
                        )
                        .eval()
                        .unwrap();
                    bump.call::<()>((key, ROUNDS)).unwrap();
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        let lua = Lua::new();
        let stored = storage::global().get(key.as_bytes()).unwrap();
        let n = wrap::decode(&lua, &stored).unwrap();
        assert_eq!(n.into_vec(), vec![Value::Integer(THREADS * ROUNDS)]);
    }
}
