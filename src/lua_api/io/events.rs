//! How socket results reach Lua: the converters from an [`Outcome`] to Lua
//! values, the per-state tables that keep callbacks (with their
//! object, so a socket with a pending callback is not collected), and the
//! delivery functions `net::socket` calls in the owner's turn.

use crate::error::Error;
use crate::net::socket::{Done, Outcome, Shared};
use crate::runtime::{self, message::Session};
use crate::service::Service;
use mlua::{AnyUserData, Function, IntoLuaMulti, Lua, MultiValue, Result, Table, Value};
use std::rc::Rc;

/// What a state keeps for its sockets, each by a process-unique key: a
/// function and the object it belongs to.
#[derive(Clone, Copy)]
pub enum Kept {
    /// `receive` handlers, by socket id.
    Receivers = 0,
    /// One-shot callbacks of `connect` and `send`, by token.
    Callbacks = 1,
    /// Accept callbacks, by server id.
    Listeners = 2,
}

/// The tables of each [`Kept`]: `key -> func`, and `key -> object` so
/// that the object is not collected while its function is kept. They are
/// held by the state's app data rather than found by name in the
/// registry: a chunk's delivery looks its function up, and a named
/// registry lookup (a protected call in the main state) cost more than
/// the rest of the delivery.
struct KeptTables {
    functions: [Table; 3],
    objects: [Table; 3],
}

/// Creates the tables (once per state).
pub fn install(lua: &Lua) -> Result<()> {
    if lua.app_data_ref::<KeptTables>().is_none() {
        let three = || -> Result<[Table; 3]> { Ok([lua.create_table()?, lua.create_table()?, lua.create_table()?]) };
        lua.set_app_data(KeptTables { functions: three()?, objects: three()? });
    }
    Ok(())
}

fn kept_tables(lua: &Lua) -> Result<mlua::AppDataRef<'_, KeptTables>> {
    lua.app_data_ref::<KeptTables>().ok_or_else(|| mlua::Error::runtime("io is not installed"))
}

/// `which`'s tables: functions, objects.
fn tables(lua: &Lua, which: Kept) -> Result<(Table, Table)> {
    let kept = kept_tables(lua)?;
    Ok((kept.functions[which as usize].clone(), kept.objects[which as usize].clone()))
}

/// Keeps `func` (and `object`, so it is not collected) under `key` in `which`.
pub fn keep(lua: &Lua, which: Kept, key: u64, func: Function, object: &AnyUserData) -> Result<()> {
    let (functions, objects) = tables(lua, which)?;
    functions.raw_set(key, func)?;
    objects.raw_set(key, object)
}

pub fn forget(lua: &Lua, which: Kept, key: u64) -> Result<()> {
    let (functions, objects) = tables(lua, which)?;
    functions.raw_set(key, Value::Nil)?;
    objects.raw_set(key, Value::Nil)
}

pub fn kept(lua: &Lua, which: Kept, key: u64) -> Result<bool> {
    Ok(tables(lua, which)?.0.raw_get::<Option<Function>>(key)?.is_some())
}

/// The function kept under `key` in `which`; `take` removes it.
fn entry(lua: &Lua, which: Kept, key: u64, take: bool) -> Result<Option<Function>> {
    let func = kept_tables(lua)?.functions[which as usize].raw_get::<Option<Function>>(key)?;
    if take && func.is_some() {
        forget(lua, which, key)?;
    }
    Ok(func)
}

/// The Lua values of an outcome, for one shape of answer.
pub type Convert = fn(&Lua, Outcome) -> Result<MultiValue>;

/// `true` / `false, msg`.
pub fn to_status(lua: &Lua, o: Outcome) -> Result<MultiValue> {
    match o {
        Outcome::Fail(e) => (false, e.to_string()).into_lua_multi(lua),
        _ => true.into_lua_multi(lua),
    }
}

/// `data` / `nil, msg`.
pub fn to_data(lua: &Lua, o: Outcome) -> Result<MultiValue> {
    match o {
        Outcome::Data(d) => lua.create_string(d)?.into_lua_multi(lua),
        Outcome::Fail(e) => (Value::Nil, e.to_string()).into_lua_multi(lua),
        _ => Value::Nil.into_lua_multi(lua),
    }
}

/// `size` / `nil, msg`.
pub fn to_size(lua: &Lua, o: Outcome) -> Result<MultiValue> {
    match o {
        Outcome::Size(n) => n.into_lua_multi(lua),
        Outcome::Fail(e) => (Value::Nil, e.to_string()).into_lua_multi(lua),
        _ => Value::Nil.into_lua_multi(lua),
    }
}

/// The arguments of a connect callback: `nil` / `msg`.
pub fn to_connect_callback(lua: &Lua, o: Outcome) -> Result<MultiValue> {
    match o {
        Outcome::Fail(e) => e.to_string().into_lua_multi(lua),
        _ => Value::Nil.into_lua_multi(lua),
    }
}

/// The arguments of a send callback: `size, nil` / `0, msg`.
pub fn to_send_callback(lua: &Lua, o: Outcome) -> Result<MultiValue> {
    match o {
        Outcome::Size(n) => (n, Value::Nil).into_lua_multi(lua),
        Outcome::Fail(e) => (0, e.to_string()).into_lua_multi(lua),
        _ => (0, Value::Nil).into_lua_multi(lua),
    }
}

/// Wakes the coroutine parked on `session` with the outcome as `convert` shapes it.
fn wake(svc: &Rc<Service>, session: u64, o: Outcome, convert: Convert) {
    svc.complete(session as Session, move |lua| convert(lua, o));
}

pub fn wake_status(session: Session) -> Done {
    Done { deliver: |svc, key, o| wake(svc, key, o, to_status), key: session.into() }
}

pub fn wake_data(session: Session) -> Done {
    Done { deliver: |svc, key, o| wake(svc, key, o, to_data), key: session.into() }
}

pub fn wake_size(session: Session) -> Done {
    Done { deliver: |svc, key, o| wake(svc, key, o, to_size), key: session.into() }
}

/// Starts the callback kept in [`Kept::Callbacks`] under `token` with the outcome as `convert` shapes it.
fn call_back(svc: &Rc<Service>, token: u64, o: Outcome, convert: Convert) {
    let run = || -> Result<()> {
        let Some(func) = entry(&svc.lua, Kept::Callbacks, token, true)? else { return Ok(()) };
        svc.start_event(func, convert(&svc.lua, o)?);
        Ok(())
    };
    if let Err(e) = run() {
        runtime::log(&format!("[{}] socket callback: {e}", svc.label()));
    }
}

pub fn connect_callback(token: u64) -> Done {
    Done { deliver: |svc, key, o| call_back(svc, key, o, to_connect_callback), key: token }
}

pub fn send_callback(token: u64) -> Done {
    Done { deliver: |svc, key, o| call_back(svc, key, o, to_send_callback), key: token }
}

/// The `receive` handler of socket `id` gets `(data, nil)`, or `(nil, why)` once at the end.
pub fn deliver_chunk(svc: &Rc<Service>, id: u64, chunk: std::result::Result<Vec<u8>, Error>) {
    let lua = &svc.lua;
    let run = || -> Result<()> {
        let (func, args) = match chunk {
            // Built whole: a tuple's conversion would grow its buffer once per chunk.
            Ok(data) => (
                entry(lua, Kept::Receivers, id, false)?,
                MultiValue::from_vec(vec![Value::String(lua.create_string(data)?), Value::Nil]),
            ),
            Err(why) => (entry(lua, Kept::Receivers, id, true)?, (Value::Nil, why.to_string()).into_lua_multi(lua)?),
        };
        if let Some(func) = func {
            svc.start_event(func, args);
        }
        Ok(())
    };
    if let Err(e) = run() {
        runtime::log(&format!("[{}] receive: {e}", svc.label()));
    }
}

/// Wraps a new peer of server `server` in a Lua object and starts the accept callback with it.
pub fn deliver_peer(svc: &Rc<Service>, server: u64, peer: Rc<Shared>) {
    let lua = &svc.lua;
    let run = || -> Result<()> {
        let func = entry(lua, Kept::Listeners, server, false)?;
        let object = super::front::new_object(lua, peer)?;
        if let Some(func) = func {
            svc.start_event(func, (object, Value::Nil).into_lua_multi(lua)?);
        }
        Ok(())
    };
    if let Err(e) = run() {
        runtime::log(&format!("[{}] accept: {e}", svc.label()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_convert_to_the_documented_values() {
        let lua = Lua::new();
        let v = to_send_callback(&lua, Outcome::Fail(Error::Eof)).unwrap();
        assert_eq!(v.len(), 2);
        assert!(matches!(v[0], Value::Integer(0)));
        assert_eq!(v[1].as_string().unwrap().to_str().unwrap(), "eof");
        let v = to_data(&lua, Outcome::Fail(Error::Closed)).unwrap();
        assert!(v[0].is_nil());
        assert_eq!(v[1].as_string().unwrap().to_str().unwrap(), "closed");
        let v = to_connect_callback(&lua, Outcome::Ok).unwrap();
        assert!(v[0].is_nil());
        let v = to_status(&lua, Outcome::Ok).unwrap();
        assert!(matches!(v[0], Value::Boolean(true)));
        let v = to_size(&lua, Outcome::Size(3)).unwrap();
        assert!(matches!(v[0], Value::Integer(3)));
    }

    #[test]
    fn kept_callbacks_are_found_once_when_taken() {
        let lua = Lua::new();
        install(&lua).unwrap();
        let func = lua.create_function(|_, ()| Ok(())).unwrap();
        let object = lua.create_any_userdata(()).unwrap();
        keep(&lua, Kept::Callbacks, 7, func, &object).unwrap();
        assert!(kept(&lua, Kept::Callbacks, 7).unwrap());
        assert!(!kept(&lua, Kept::Receivers, 7).unwrap(), "each kind has its own table");
        assert!(entry(&lua, Kept::Callbacks, 7, false).unwrap().is_some());
        assert!(entry(&lua, Kept::Callbacks, 7, true).unwrap().is_some());
        assert!(entry(&lua, Kept::Callbacks, 7, true).unwrap().is_none());
        keep(&lua, Kept::Listeners, 8, lua.create_function(|_, ()| Ok(())).unwrap(), &object).unwrap();
        forget(&lua, Kept::Listeners, 8).unwrap();
        assert!(!kept(&lua, Kept::Listeners, 8).unwrap());
    }
}
