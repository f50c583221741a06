//! `require "skynet.cluster"`: the internal functions `cluster.adapter`
//! builds on (docs/API.md §18 calls them internal, like the original's
//! `rpc.lookout`). Not for users: the table may change with the adapter.
//!
//! It is a second entry point of `skynet.so` (`luaopen_skynet_cluster`,
//! found by Lua's all-in-one C loader), so no service but the adapter pays
//! for these functions. They start the Rust link machinery
//! (`cluster::transport`) as tasks of the calling service:
//!
//! * `listen(master_host, master_port)` -> `ip, port` | `nil, msg`: listens
//!   for links on an ephemeral port of the local address that reaches the
//!   master; peers without `xforword-join: skynet-lua` are refused.
//! * `connect(host, port)` -> `true` | `false, msg` (blocking): opens a link
//!   to a member and returns once both sides know each other's public names.
//! * `links()` -> the number of open links of this process.

use crate::cluster::{self, transport};
use crate::lua_api::args::Args;
use crate::service::{self, WaitKind};
use mlua::{Function, IntoLuaMulti, Lua, MultiValue, Result, Table, Value};

#[cfg_attr(feature = "module", mlua::lua_module(name = "skynet_cluster"))]
pub fn create(lua: &Lua) -> Result<Table> {
    let t = lua.create_table()?;
    t.set("listen", lua.create_function(|lua, args: MultiValue| listen(lua, Args::with_lua(lua, "listen", args)))?)?;
    let raw_connect = lua.create_function(|lua, args: MultiValue| connect(lua, Args::with_lua(lua, "connect", args)))?;
    // `connect` blocks: its Lua half yields the session the Rust half returns.
    let suspend: Function = service::of(lua)?.prelude_table()?.get("suspend")?;
    let connect = lua.load("local suspend, connect = ...\nreturn function(host, port) return suspend(connect(host, port)) end");
    t.set("connect", connect.set_name("=skynet.cluster").call::<Function>((suspend, raw_connect))?)?;
    t.set("links", lua.create_function(|_, ()| Ok(cluster::cluster().link_count()))?)?;
    Ok(t)
}

fn port_arg(a: &Args, n: usize, fname: &'static str) -> Result<u16> {
    let p = a.integer(n)?;
    u16::try_from(p)
        .ok()
        .filter(|&p| p != 0)
        .ok_or_else(|| crate::lua_api::args::bad_argument(n, fname, "invalid port"))
}

fn listen(lua: &Lua, a: Args) -> Result<MultiValue> {
    let host = a.string(1)?.to_str()?.to_owned();
    let port = port_arg(&a, 2, "listen")?;
    let svc = service::of(lua)?;
    let bound = transport::local_address_towards(&host, port).and_then(|ip| transport::listen(&svc, ip));
    match bound {
        Ok(addr) => (addr.ip().to_string(), addr.port()).into_lua_multi(lua),
        Err(e) => (Value::Nil, e).into_lua_multi(lua),
    }
}

fn connect(lua: &Lua, a: Args) -> Result<MultiValue> {
    let host = a.string(1)?.to_str()?.to_owned();
    let port = port_arg(&a, 2, "connect")?;
    let svc = service::of(lua)?;
    let session = svc.new_session();
    let owner = svc.id;
    transport::connect(
        &svc,
        host,
        port,
        Box::new(move |result| {
            service::run_on(owner, move |svc| {
                svc.complete(session, move |lua| match result {
                    Ok(()) => true.into_lua_multi(lua),
                    Err(e) => (false, e).into_lua_multi(lua),
                })
            })
        }),
    );
    svc.suspend(session, WaitKind::Op, None)
}
