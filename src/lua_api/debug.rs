//! `require "skynet.debug"`: the introspection functions the console and
//! metrics services (`lua/skynet/console.lua`, `lua/skynet/metrics.lua`)
//! build on. Internal, like `skynet.cluster`: a second entry point of
//! `skynet.so` (`luaopen_skynet_debug`), so only those services pay for it.
//!
//! * `services()` -> `{ {id, name, worker, state, memory, queue, messages, cpu}, ... }`
//!   by id; `worker` is `"main"` for the main script's thread, `cpu` in ms.
//! * `process()` -> `{services, workers, messages, sockets, timers, links,
//!   calls = {ok = n, ...}, busy = {seconds per worker}}`
//! * `prometheus()` -> the text of one `/metrics` scrape.
//! * `sockets()` -> `{ {id, kind, owner, peer, bytes_in, bytes_out}, ... }`
//! * `links()` -> `{ {id, peer, state, pending, names}, ... }`; a NATS
//!   server this process is a node of comes last, as id 0.
//! * `kill(id)` -> whether there was such a service.
//! * `gc(id)` -> `true, bytes freed` | `nil, msg` (blocking: runs in that service).
//! * `inject(id, file)` -> `true, results...` (as strings) | `nil, msg`
//!   (blocking: the file runs inside that service).
//! * `trace(on)`: debug output (`os.debugging()`, `trace(...)`) on or off.

use crate::lua_api::args::{Args, binding};
use crate::metrics::{self, prometheus};
use crate::runtime::message::ServiceId;
use crate::runtime::registry::MAX_ID;
use crate::runtime::stats::Outcome;
use crate::runtime;
use crate::service::{self, Service, WaitKind};
use mlua::{Function, IntoLuaMulti, Lua, MultiValue, Result, Table, Value};

#[cfg_attr(feature = "module", mlua::lua_module(name = "skynet_debug"))]
pub fn create(lua: &Lua) -> Result<Table> {
    let t = lua.create_table()?;
    let f = |func, name| binding(lua, func, name);
    t.set("services", lua.create_function(|lua, ()| services(lua))?)?;
    t.set("process", lua.create_function(|lua, ()| process(lua))?)?;
    t.set("prometheus", lua.create_function(|_, ()| Ok(prometheus::render(&metrics::services(), &metrics::process())))?)?;
    t.set("content_type", prometheus::CONTENT_TYPE)?;
    t.set("sockets", lua.create_function(|lua, ()| sockets(lua))?)?;
    t.set("links", lua.create_function(|lua, ()| links(lua))?)?;
    t.set("kill", f(kill, "kill")?)?;
    t.set("trace", f(trace, "trace")?)?;
    // The blocking ones: their Lua half yields the session the Rust half returns.
    let suspend: Function = service::of(lua)?.prelude_table()?.get("suspend")?;
    let blocking: Function = lua
        .load("local suspend = ...\nreturn function(f) return function(...) return suspend(f(...)) end end")
        .set_name("=skynet.debug")
        .call(suspend)?;
    t.set("gc", blocking.call::<Function>(f(gc, "gc")?)?)?;
    t.set("inject", blocking.call::<Function>(f(inject, "inject")?)?)?;
    Ok(t)
}

fn services(lua: &Lua) -> Result<Table> {
    let rows = metrics::services();
    let list = lua.create_table_with_capacity(rows.len(), 0)?;
    for row in rows {
        let t = lua.create_table_with_capacity(0, 8)?;
        t.set("id", row.id)?;
        t.set("name", row.name)?;
        match row.worker {
            Some(w) => t.set("worker", w)?,
            None => t.set("worker", "main")?,
        }
        t.set("state", row.state)?;
        t.set("memory", row.memory)?;
        t.set("queue", row.queue)?;
        t.set("messages", row.messages)?;
        t.set("cpu", row.cpu.as_secs_f64() * 1000.0)?;
        list.push(t)?;
    }
    Ok(list)
}

fn process(lua: &Lua) -> Result<Table> {
    let p = metrics::process();
    let t = lua.create_table()?;
    t.set("services", p.services)?;
    t.set("workers", p.workers)?;
    t.set("messages", p.messages)?;
    t.set("sockets", p.sockets)?;
    t.set("timers", p.timers)?;
    t.set("links", p.links)?;
    let calls = lua.create_table()?;
    for outcome in Outcome::ALL {
        calls.set(outcome.label(), p.calls[outcome as usize])?;
    }
    t.set("calls", calls)?;
    t.set("busy", lua.create_sequence_from(p.busy.iter().map(|d| d.as_secs_f64()))?)?;
    Ok(t)
}

fn sockets(lua: &Lua) -> Result<Table> {
    let list = lua.create_table()?;
    for entry in crate::net::census::list() {
        let t = lua.create_table_with_capacity(0, 6)?;
        t.set("id", entry.id)?;
        t.set("kind", entry.kind.as_str())?;
        t.set("owner", entry.owner)?;
        t.set("peer", entry.peer.as_str())?;
        t.set("bytes_in", entry.bytes_in())?;
        t.set("bytes_out", entry.bytes_out())?;
        list.push(t)?;
    }
    Ok(list)
}

fn links(lua: &Lua) -> Result<Table> {
    let list = lua.create_table()?;
    for link in crate::cluster::cluster().links() {
        let t = lua.create_table_with_capacity(0, 5)?;
        t.set("id", link.id)?;
        t.set("peer", link.peer.as_str())?;
        t.set("state", link.state_name())?;
        t.set("pending", link.pending())?;
        t.set("names", link.remote_names())?;
        list.push(t)?;
    }
    // The NATS server, as link 0 (no mesh link has that id); it brings no names.
    if let Some(node) = crate::cluster::nats::nats().node() {
        let t = lua.create_table_with_capacity(0, 5)?;
        t.set("id", 0)?;
        t.set("peer", format!("nats://{}", node.server()))?;
        t.set("state", if node.connected() { "up" } else { "reconnecting" })?;
        t.set("pending", node.calls.outgoing())?;
        t.set("names", 0)?;
        list.push(t)?;
    }
    Ok(list)
}

/// A local service id argument (0 when it cannot be one: no such service).
fn service_id(a: &Args, n: usize) -> Result<ServiceId> {
    let id = a.integer(n)?;
    Ok(ServiceId::try_from(id).ok().filter(|&id| id <= MAX_ID).unwrap_or(0))
}

fn kill(lua: &Lua, a: Args) -> Result<MultiValue> {
    let id = service_id(&a, 1)?;
    (id != 0 && runtime::get().kill(id)).into_lua_multi(lua)
}

fn trace(lua: &Lua, a: Args) -> Result<MultiValue> {
    runtime::set_debugging(a.flag(1));
    runtime::debugging().into_lua_multi(lua)
}

/// The live service `id`, or the `nil, msg` to return instead.
fn target(lua: &Lua, id: ServiceId) -> Result<std::result::Result<(), MultiValue>> {
    if id != 0 && runtime::get().registry.info(id).is_some() {
        return Ok(Ok(()));
    }
    Ok(Err((Value::Nil, Value::Nil, format!("no service {id}")).into_lua_multi(lua)?))
}

/// Waits for the answer of an operation sent to another service, for at
/// most this service's call timeout.
fn wait_answer(svc: &Service, session: crate::runtime::message::Session) -> Result<MultiValue> {
    svc.suspend(session, WaitKind::Op, Some(svc.call_deadline()))
}

fn gc(lua: &Lua, a: Args) -> Result<MultiValue> {
    let id = service_id(&a, 1)?;
    if let Err(fail) = target(lua, id)? {
        return Ok(fail);
    }
    let svc = service::of(lua)?;
    wait_answer(&svc, svc.request_gc(id))
}

fn inject(lua: &Lua, a: Args) -> Result<MultiValue> {
    let id = service_id(&a, 1)?;
    let file = a.string(2)?.to_str()?.to_owned();
    if let Err(fail) = target(lua, id)? {
        return Ok(fail);
    }
    let svc = service::of(lua)?;
    wait_answer(&svc, svc.request_inject(id, file))
}
