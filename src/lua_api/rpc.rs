//! `rpc` (docs/API.md §5) and the Rust half of the rpc form of `pcall` (§3.2).
//!
//! Argument checks and value conversion only: the call itself (picking a
//! handler, the session, the message) is `service::Core::call`. A sync call
//! then waits on its session, an async one leaves a callback to run when
//! the reply (or the timeout) comes.

use crate::codec::wrap::{self, Scalar};
use crate::lua_api::args::{Args, bad_argument, binding};
use crate::lua_api::{calling_service, lazy, raw};
use crate::service::scheduler::success_payload;
use crate::service::{self, CtxKind, WaitKind};
use mlua::{IntoLuaMulti, Lua, MultiValue, Result, Table, Value};
use std::ffi::c_int;
use std::time::Duration;

pub fn install(lua: &Lua, core: &Table) -> Result<()> {
    core.set("rpc_call", raw::c_closure(lua, call_front, binding(lua, call, "pcall")?)?)?;
    let rpc = lua.create_table()?;
    // `rpc.deliver` waits for room when a receiver is crowded, so it must
    // be able to yield: a C front does that (`deliver_front`), which costs
    // far less per message than a Lua wrapper would.
    let deliver = binding(lua, deliver, "deliver")?;
    let front = raw::c_closure(lua, deliver_front, (deliver, core.get::<Value>("wait_marker")?, core.get::<Value>("block")?))?;
    rpc.raw_set("deliver", front)?;
    // The rest is made on first read (see `os::install`).
    lazy::install(
        lua,
        &rpc,
        &[
            ("create", |lua| binding(lua, create, "create").map(Value::Function)),
            ("remove", |lua| binding(lua, remove, "remove").map(Value::Function)),
            ("timeout", |lua| binding(lua, timeout, "timeout").map(Value::Function)),
            ("caller", |lua| {
                lua.create_function(|lua, ()| Ok(service::of(lua)?.with_ctx(|c| c.caller).unwrap_or(0))).map(Value::Function)
            }),
            ("responser", |lua| lua.create_function(responser).map(Value::Function)),
        ],
    )?;
    lua.globals().set("rpc", rpc)?;
    Ok(())
}

fn name_arg(a: &Args, n: usize) -> Result<String> {
    let name = a.string(n)?;
    let name = name.to_str()?;
    if name.is_empty() {
        return Err(crate::lua_api::args::bad_argument(n, "create", "name must not be empty"));
    }
    Ok(name.to_string())
}

/// `rpc.create(name, func [, public])`.
fn create(lua: &Lua, a: Args) -> Result<MultiValue> {
    let name = name_arg(&a, 1)?;
    let func = a.function(2)?;
    let public = a.flag(3);
    if service::of(lua)?.add_handler(&name, func, public) {
        true.into_lua_multi(lua)
    } else {
        (false, "already registered").into_lua_multi(lua)
    }
}

fn remove(lua: &Lua, a: Args) -> Result<MultiValue> {
    let name = a.string(1)?;
    service::of(lua)?.remove_handler(&name.to_str()?).into_lua_multi(lua)
}

/// `core.rpc_call(name [, callback], ...)`: the rpc form of `pcall`.
fn call(lua: &Lua, a: Args) -> Result<MultiValue> {
    let svc = service::of(lua)?;
    let name = a.string(1)?;
    let name = name.to_str()?;
    let callback = match a.value(2) {
        Value::Function(f) => Some(f),
        _ => None,
    };
    let first_arg = if callback.is_some() { 3 } else { 2 };
    let sent = match svc.call(&name, wrap::encode(a.tail(first_arg))?) {
        Ok(sent) => sent,
        Err(e) => return (Value::Nil, false, e.to_string()).into_lua_multi(lua),
    };
    let deadline = svc.call_deadline();
    let Some(func) = callback else { return svc.suspend(sent.session, WaitKind::Call, Some(deadline)) };
    svc.wait_callback(sent.session, func, deadline)?;
    // An async call returns at once, unless the callee is crowded.
    match svc.room_in(sent.to) {
        Some(room) => svc.suspend(room, WaitKind::Room(Value::Boolean(true)), None),
        None => (Value::Nil, true).into_lua_multi(lua),
    }
}

/// `rpc.deliver(name, mask, receiver, ...)` (behind its C front): one-way, to the handlers
/// chosen as docs/API.md §5 says; gives how many it was sent to, and when
/// one of them is over its high-water mark, the session of a wait for room
/// (which ends with that count).
fn deliver(lua: &Lua, a: Args) -> Result<MultiValue> {
    let svc = service::of(lua)?;
    let name = a.string(1)?;
    let mask = a.integer(2)?;
    let receiver = a.integer(3)?;
    let args = wrap::encode(a.tail(4))?;
    let delivered = svc.deliver(&name.to_str()?, mask, receiver, args);
    let count = Value::Integer(delivered.count as i64);
    match delivered.crowded.and_then(|to| svc.room_in(to)) {
        Some(room) => {
            let room = svc.suspend(room, WaitKind::Room(count.clone()), None)?;
            (count, room).into_lua_multi(lua)
        }
        None => count.into_lua_multi(lua),
    }
}

/// `rpc.deliver`'s C front, with the upvalues of `raw::call_then_wait`.
/// The common case (a string name, an integer mask and receiver, plain
/// values: nil, booleans, numbers, strings) goes straight from the stack to
/// `Service::deliver`, without the call into the binding and the making of
/// an mlua value per argument (6,494 -> 4,529 instructions per message).
/// Anything else goes through the binding, which also makes the errors.
///
/// # Safety
/// Only Lua calls it, as a C closure made by `install`.
unsafe extern "C-unwind" fn deliver_front(l: *mut raw::State) -> c_int {
    // SAFETY: the contract of both calls is ours. `c_function_body` drops
    // every Rust value of the fast path before it returns (or raises), so
    // this frame owns none when the fallback or the wait longjmps.
    unsafe {
        if raw::c_function_body(l, deliver_from_stack) == 0 {
            return raw::call_then_wait(l);
        }
        raw::wait_if_told(l)
    }
}

/// The name at slot 1 and the wrapped plain values from slot `first` on,
/// if that is what the stack holds (a string name in UTF-8; nil, booleans,
/// numbers and strings); `None` sends the case to the binding.
///
/// # Safety
/// `stack` is a running C function's; the name's bytes are used only while
/// slot 1 still holds it.
unsafe fn plain_call_args<'s>(stack: raw::Stack<'_>, first: c_int) -> Option<(&'s str, Vec<u8>)> {
    // SAFETY: every index read is in 1..=top, live slots; type-checked
    // strings are read in place (no conversion to string happens).
    unsafe {
        if stack.type_of(1) != raw::Type::String {
            return None;
        }
        let name = std::str::from_utf8(stack.bytes(1)).ok()?;
        let mut args = Vec::with_capacity(16);
        for i in first..=stack.top() {
            let value = match stack.type_of(i) {
                raw::Type::Nil => Scalar::Nil,
                raw::Type::Boolean => Scalar::Boolean(stack.to_boolean(i)),
                raw::Type::Number => stack.integer(i).map_or_else(|| Scalar::Number(stack.float(i)), Scalar::Integer),
                raw::Type::String => Scalar::String(stack.bytes(i)),
                _ => return None,
            };
            wrap::encode_scalar(&mut args, value).ok()?;
        }
        Some((name, args))
    }
}

/// `core.rpc_call`'s C front (upvalue 1: the binding [`call`]): a sync
/// call with plain arguments goes straight from the stack to
/// `Service::call`, as `rpc.deliver`'s front does; an async one (a
/// callback), or other arguments, goes through the binding.
///
/// # Safety
/// Only Lua calls it, as a C closure made by `install`.
unsafe extern "C-unwind" fn call_front(l: *mut raw::State) -> c_int {
    // SAFETY: as in `deliver_front`.
    unsafe {
        match raw::c_function_body(l, call_from_stack) {
            0 => raw::call_upvalue(l, mlua::ffi::LUA_MULTRET),
            n => n,
        }
    }
}

/// The fast path of [`call_front`]: `Ok(1)` with the session to wait for,
/// or `Ok(3)` with `nil, false, why` (no such name), as the binding
/// answers; `Ok(0)`, the stack untouched, for the binding to judge.
fn call_from_stack(stack: raw::Stack<'_>) -> std::result::Result<c_int, String> {
    // SAFETY: slot 2 is read only if there is one; `name` is used before
    // the truncate; the pushes have room, the stack having been emptied.
    unsafe {
        if stack.top() >= 2 && stack.type_of(2) == raw::Type::Function {
            return Ok(0);
        }
        let Some((name, args)) = plain_call_args(stack, 2) else { return Ok(0) };
        let Some(svc) = calling_service(stack) else { return Ok(0) };
        let sent = svc.call(name, args);
        stack.truncate(0);
        match sent {
            Ok(sent) => {
                svc.park(sent.session, WaitKind::Call, Some(svc.call_deadline()));
                stack.push_integer(i64::from(sent.session));
                Ok(1)
            }
            Err(e) => {
                stack.push_nil();
                stack.push_boolean(false);
                stack.push_bytes(e.to_string().as_bytes());
                Ok(3)
            }
        }
    }
}

/// The fast path of [`deliver_front`]: `Ok(2)` once delivered, with the
/// stack holding `[count, session of the wait for room, or nil]`; `Ok(0)`,
/// the stack untouched, when the arguments are for the binding to judge.
fn deliver_from_stack(stack: raw::Stack<'_>) -> std::result::Result<c_int, String> {
    // SAFETY: slots 2 and 3 are read only if there are three; `name` is
    // used before the truncate; the two pushes have room, the stack having
    // been emptied.
    unsafe {
        if stack.top() < 3 {
            return Ok(0);
        }
        let (Some(mask), Some(receiver)) = (stack.integer(2), stack.integer(3)) else { return Ok(0) };
        let Some((name, args)) = plain_call_args(stack, 4) else { return Ok(0) };
        let Some(svc) = calling_service(stack) else { return Ok(0) };
        let delivered = svc.deliver(name, mask, receiver, args);
        let count = delivered.count as i64;
        let room = delivered.crowded.and_then(|to| svc.room_in(to));
        if let Some(session) = room {
            svc.park(session, WaitKind::Room(Value::Integer(count)), None);
        }
        stack.truncate(0);
        stack.push_integer(count);
        match room {
            Some(session) => stack.push_integer(i64::from(session)),
            None => stack.push_nil(),
        }
        Ok(2)
    }
}

/// `rpc.timeout([ms])`: this service's call timeout; returns the previous one.
fn timeout(lua: &Lua, a: Args) -> Result<MultiValue> {
    let svc = service::of(lua)?;
    let previous = svc.call_timeout().as_millis() as i64;
    if !a.is_none(1) {
        let ms = a.number(1)?;
        if !(ms > 0.0 && ms.is_finite()) {
            return Err(bad_argument(1, "timeout", "positive number expected"));
        }
        svc.set_call_timeout(Duration::from_secs_f64(ms / 1000.0));
    }
    previous.into_lua_multi(lua)
}

/// `rpc.responser()`: switch the running handler to a deferred answer.
fn responser(lua: &Lua, _: ()) -> Result<Value> {
    let svc = service::of(lua)?;
    let taken = svc.with_ctx(|ctx| {
        if matches!(ctx.kind, CtxKind::Handler) && ctx.session != 0 && !ctx.deferred {
            ctx.deferred = true;
            Some((ctx.caller, ctx.session))
        } else {
            None
        }
    });
    let Some(Some((caller, session))) = taken else { return Ok(Value::Nil) };
    let respond = lua.create_function(move |lua, values: MultiValue| {
        let svc = service::of(lua)?;
        Ok(svc.answer(caller, session, success_payload(values.iter())))
    })?;
    Ok(Value::Function(respond))
}
