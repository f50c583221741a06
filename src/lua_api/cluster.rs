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
//! * `nats(url, options)` -> `true` | `false, msg` (blocking): makes this
//!   process a NATS node (`cluster.nats`); returns once it is connected and
//!   its public names are subscribed, the node living as long as the caller.

use crate::cluster::{self, nats, transport};
use crate::lua_api::args::{Args, bad_argument};
use crate::runtime::message::{ServiceId, Session};
use crate::service::{self, WaitKind};
use mlua::{Function, IntoLuaMulti, Lua, MultiValue, Result, Table, Value};

#[cfg_attr(feature = "module", mlua::lua_module(name = "skynet_cluster"))]
pub fn create(lua: &Lua) -> Result<Table> {
    let t = lua.create_table()?;
    t.set("listen", lua.create_function(|lua, args: MultiValue| listen(lua, Args::with_lua(lua, "listen", args)))?)?;
    let raw_connect = lua.create_function(|lua, args: MultiValue| connect(lua, Args::with_lua(lua, "connect", args)))?;
    t.set("connect", blocking(lua, raw_connect)?)?;
    let raw_nats = lua.create_function(|lua, args: MultiValue| nats(lua, Args::with_lua(lua, "nats", args)))?;
    t.set("nats", blocking(lua, raw_nats)?)?;
    t.set("links", lua.create_function(|_, ()| Ok(cluster::cluster().link_count()))?)?;
    Ok(t)
}

/// The blocking form of `f`: its Lua half yields the session the Rust half returns.
fn blocking(lua: &Lua, f: Function) -> Result<Function> {
    let suspend: Function = service::of(lua)?.prelude_table()?.get("suspend")?;
    let wrapper = lua.load("local suspend, f = ...\nreturn function(...) return suspend(f(...)) end");
    wrapper.set_name("=skynet.cluster").call::<Function>((suspend, f))
}

/// Completes `session` of service `owner` with `true` or `false, msg`.
fn completion(owner: ServiceId, session: Session) -> Box<dyn FnOnce(std::result::Result<(), String>)> {
    Box::new(move |result| {
        service::run_on(owner, move |svc| {
            svc.complete(session, move |lua| match result {
                Ok(()) => true.into_lua_multi(lua),
                Err(e) => (false, e).into_lua_multi(lua),
            })
        })
    })
}

fn port_arg(a: &Args, n: usize, fname: &'static str) -> Result<u16> {
    let p = a.integer(n)?;
    u16::try_from(p).ok().filter(|&p| p != 0).ok_or_else(|| bad_argument(n, fname, "invalid port"))
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
    transport::connect(&svc, host, port, completion(svc.id, session));
    svc.suspend(session, WaitKind::Op, None)
}

/// An optional string field of the options table.
fn field(options: &Option<Table>, key: &str) -> Result<Option<String>> {
    let Some(t) = options else { return Ok(None) };
    match t.get::<Value>(key)? {
        Value::Nil => Ok(None),
        Value::String(s) => Ok(Some(s.to_str()?.to_owned())),
        other => Err(bad_argument(2, "nats", format!("options.{key} must be a string, got {}", other.type_name()))),
    }
}

fn nats(lua: &Lua, a: Args) -> Result<MultiValue> {
    let urls: Vec<String> = a.string(1)?.to_str()?.split(',').map(|u| u.trim().to_owned()).collect();
    if urls.iter().any(|u| u.is_empty()) {
        return Err(bad_argument(1, "nats", "empty url"));
    }
    let options = a.opt_table(2)?;
    let prefix = field(&options, "prefix")?.unwrap_or_else(|| "skynet".into());
    if !nats::subject::valid_prefix(&prefix) {
        return Err(bad_argument(2, "nats", format!("options.prefix is not a subject prefix: {prefix:?}")));
    }
    let options = nats::client::Options {
        urls,
        token: field(&options, "token")?,
        user: field(&options, "user")?,
        password: field(&options, "password")?,
        creds: field(&options, "creds")?,
        ca: field(&options, "ca")?,
        cert: field(&options, "cert")?,
        key: field(&options, "key")?,
        name: field(&options, "name")?,
        prefix,
    };
    let svc = service::of(lua)?;
    let session = svc.new_session();
    nats::client::start(&svc, options, completion(svc.id, session));
    svc.suspend(session, WaitKind::Op, None)
}
