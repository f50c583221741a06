//! `rpc` (docs/API.md §5) and the Rust half of the rpc form of `pcall` (§3.2).
//!
//! A call picks one handler of the name (round robin per caller, through
//! the caller's name cache), wraps the arguments once and sends a `Call`
//! message; a sync call then waits on its session, an async one leaves a
//! callback to run when the reply (or the timeout) comes.

use crate::codec::wrap;
use crate::lua_api::args::Args;
use crate::runtime::message::{Kind, Message};
use crate::runtime::{self};
use crate::service::scheduler::success_payload;
use crate::service::{self, CtxKind, Service, WaitKind, Waiter};
use mlua::{IntoLuaMulti, Lua, MultiValue, Result, Table, Value};

pub fn install(lua: &Lua, core: &Table) -> Result<()> {
    let f = |func: fn(&Lua, Args) -> Result<MultiValue>, name: &'static str| {
        lua.create_function(move |lua, args: MultiValue| func(lua, Args::with_lua(lua, name, args)))
    };
    core.set("rpc_call", f(call, "pcall")?)?;
    let rpc = lua.create_table()?;
    rpc.set("create", f(create, "create")?)?;
    rpc.set("remove", f(remove, "remove")?)?;
    rpc.set("deliver", f(deliver, "deliver")?)?;
    rpc.set("caller", lua.create_function(|lua, ()| Ok(service::of(lua)?.with_ctx(|c| c.caller).unwrap_or(0)))?)?;
    rpc.set("responser", lua.create_function(responser)?)?;
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
    let payload = wrap::encode(a.tail(first_arg))?;
    let picked = svc.names.borrow_mut().pick(&runtime::get().names, &name);
    let Some((target, shared_name)) = picked else {
        return (Value::Nil, false, format!("{name} not found")).into_lua_multi(lua);
    };
    let session = svc.new_session();
    svc.send(Message { to: target, from: svc.id, session, kind: Kind::Call(shared_name), payload });
    let deadline = Some(Service::call_deadline());
    match callback {
        Some(func) => {
            let ctx = crate::service::Ctx::new(CtxKind::Event);
            svc.add_waiter(session, Waiter { co: None, ctx, kind: WaitKind::Callback(func), deadline });
            (Value::Nil, true).into_lua_multi(lua)
        }
        None => svc.suspend(session, WaitKind::Call, deadline),
    }
}

/// `rpc.deliver(name, mask, receiver, ...)`: one-way, to the handlers chosen
/// as docs/API.md §5 says; returns how many it was sent to.
fn deliver(lua: &Lua, a: Args) -> Result<MultiValue> {
    let svc = service::of(lua)?;
    let name = a.string(1)?;
    let name = name.to_str()?;
    let mask = a.integer(2)?;
    let receiver = a.integer(3)?;
    let payload = wrap::encode(a.tail(4))?;
    let group = svc.names.borrow_mut().group(&runtime::get().names, &name);
    let Some(group) = group else { return 0.into_lua_multi(lua) };
    let targets: Vec<u32> = if receiver != 0 {
        group.ids.iter().copied().filter(|&id| id as i64 == receiver).collect()
    } else if mask == 0 {
        group.ids.clone()
    } else {
        vec![group.ids[mask.rem_euclid(group.ids.len() as i64) as usize]]
    };
    for &to in &targets {
        let kind = Kind::Call(group.name.clone());
        svc.send(Message { to, from: svc.id, session: 0, kind, payload: payload.clone() });
    }
    targets.len().into_lua_multi(lua)
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
