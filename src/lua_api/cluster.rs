//! `require "skynet.cluster"`: the internal functions `cluster.adapter` and
//! `cluster.master` build on (docs/API.md §18 calls them internal, like the
//! original's `rpc.lookout`). Not for users: the table may change with them.
//!
//! It is a second entry point of `skynet.so` (`luaopen_skynet_cluster`,
//! found by Lua's all-in-one C loader), so no other service pays for these
//! functions. They start the Rust link machinery (`cluster::transport`) as
//! tasks of the calling service, and give the Lua side of the master
//! connection the key handshake (`cluster::handshake`) without ever
//! handing the key to Lua:
//!
//! * `configure([key])` -> `keyed, tls` | `nil, msg`: reads the process's
//!   trust settings (`key` wins over `SKYNET_CLUSTER_KEY`; TLS files from
//!   the environment).
//! * `context()` -> an `io.context` for mutual TLS, or nil without TLS.
//! * `nonce()`, `prove(role, acceptor_nonce, connector_nonce)`,
//!   `check(role, acceptor_nonce, connector_nonce, proof)`: the handshake
//!   with the configured key (`role`: `"acceptor"` or `"connector"`).
//! * `loopback(host)` -> whether `host` is (resolves to) a loopback address.
//! * `listen(master_host, master_port)` -> `ip, port` | `nil, msg`: listens
//!   for links on an ephemeral port of the local address that reaches the
//!   master (loopback only without a key).
//! * `identify(node, addr)`: this node's member id and link address.
//! * `connect(host, port)` -> `true` | `false, msg` (blocking): opens a link
//!   to a member and returns once both sides know each other's public names.
//! * `join(members)` -> `{true | msg, ...}` (blocking): `connect` to every
//!   `{ip, port}` of `members` at once; returns when all are done (3 s each).
//! * `leave()` (blocking, 1 s at most): closes every link with `leave`.
//! * `links()` -> the number of open links of this process.
//! * `nats(url, options)` -> `true` | `false, msg` (blocking): makes this
//!   process a NATS node (`cluster.nats`); returns once it is connected and
//!   its public names are subscribed, the node living as long as the caller.

use crate::cluster::handshake::{self, Role};
use crate::cluster::links::Peer;
use crate::cluster::trust::{self, Trust};
use crate::cluster::{self, nats, transport};
use crate::error::Error;
use crate::lua_api::args::{Args, bad_argument};
use crate::lua_api::io::ContextHandle;
use crate::service::{self, Service, WaitKind};
use mlua::{Function, IntoLuaMulti, Lua, MultiValue, Result, Table, Value};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

#[cfg_attr(feature = "module", mlua::lua_module(name = "skynet_cluster"))]
pub fn create(lua: &Lua) -> Result<Table> {
    let t = lua.create_table()?;
    macro_rules! function {
        ($name:literal, $f:expr) => {
            lua.create_function(|lua, args: MultiValue| $f(lua, Args::with_lua(lua, $name, args)))?
        };
    }
    t.set("configure", function!("configure", configure))?;
    t.set("context", lua.create_function(|lua, ()| context(lua))?)?;
    t.set("nonce", lua.create_function(|_, ()| Ok(handshake::nonce()))?)?;
    t.set("prove", function!("prove", prove))?;
    t.set("check", function!("check", check))?;
    t.set("loopback", function!("loopback", loopback))?;
    t.set("listen", function!("listen", listen))?;
    t.set("identify", function!("identify", identify))?;
    t.set("links", lua.create_function(|_, ()| Ok(cluster::cluster().link_count()))?)?;
    // The blocking ones: their Lua half yields the session the Rust half returns.
    let suspend: Function = service::of(lua)?.prelude_table()?.get("suspend")?;
    let blocking = lua
        .load("local suspend, f = ...\nreturn function(...) return suspend(f(...)) end")
        .set_name("=skynet.cluster")
        .into_function()?;
    for (name, raw) in [
        ("connect", function!("connect", connect)),
        ("join", function!("join", join)),
        ("leave", lua.create_function(|lua, ()| leave(lua))?),
        ("nats", function!("nats", nats)),
    ] {
        t.set(name, blocking.call::<Function>((suspend.clone(), raw))?)?;
    }
    Ok(t)
}

fn port_arg(a: &Args, n: usize, fname: &'static str) -> Result<u16> {
    let p = a.integer(n)?;
    u16::try_from(p).ok().filter(|&p| p != 0).ok_or_else(|| bad_argument(n, fname, "invalid port"))
}

fn configure(lua: &Lua, a: Args) -> Result<MultiValue> {
    let key = a.opt_string(1)?.map(|k| k.as_bytes().to_vec());
    match Trust::from_env(key.as_deref()) {
        Ok(t) => {
            let shape = (t.key.is_some(), t.tls.is_some());
            cluster::cluster().set_trust(t);
            shape.into_lua_multi(lua)
        }
        Err(e) => (Value::Nil, e).into_lua_multi(lua),
    }
}

fn context(lua: &Lua) -> Result<Value> {
    match &cluster::cluster().trust().tls {
        Some(tls) => Ok(Value::UserData(lua.create_userdata(ContextHandle::new(tls.context.clone()))?)),
        None => Ok(Value::Nil),
    }
}

fn role_arg(a: &Args, fname: &'static str) -> Result<Role> {
    let s = a.string(1)?;
    Role::parse(&s.to_str()?).ok_or_else(|| bad_argument(1, fname, "'acceptor' or 'connector' expected"))
}

fn key(fname: &str) -> Result<handshake::Key> {
    cluster::cluster().trust().key.clone().ok_or_else(|| mlua::Error::runtime(format!("{fname}: no cluster key")))
}

fn prove(_: &Lua, a: Args) -> Result<String> {
    let role = role_arg(&a, "prove")?;
    let (acceptor, connector) = (a.string(2)?, a.string(3)?);
    Ok(handshake::prove(&key("prove")?, role, &acceptor.to_str()?, &connector.to_str()?))
}

fn check(_: &Lua, a: Args) -> Result<bool> {
    let role = role_arg(&a, "check")?;
    let (acceptor, connector, proof) = (a.string(2)?, a.string(3)?, a.string(4)?);
    let text = |s: &mlua::LuaString| s.to_str().map(|s| s.to_owned()).unwrap_or_default();
    Ok(handshake::check(&key("check")?, role, &text(&acceptor), &text(&connector), &text(&proof)))
}

fn loopback(_: &Lua, a: Args) -> Result<bool> {
    let host = a.string(1)?.to_str()?.to_owned();
    let resolved = std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), 0));
    Ok(resolved.is_ok_and(|mut addrs| addrs.all(|addr| trust::is_loopback(addr.ip()))))
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

fn identify(_: &Lua, a: Args) -> Result<()> {
    let node = u32::try_from(a.integer(1)?).ok().filter(|&n| n != 0).ok_or_else(|| bad_argument(1, "identify", "invalid node id"))?;
    let addr = a.string(2)?.to_str()?.to_owned();
    cluster::cluster().set_me(Peer { node, addr });
    Ok(())
}

/// Starts links to `targets`; `done` gets each result, in the order given,
/// once all are known.
fn contact_all(svc: &Rc<Service>, targets: Vec<(String, u16)>, done: impl FnOnce(Vec<std::result::Result<(), String>>) + 'static) {
    let n = targets.len();
    let results = Rc::new(RefCell::new((vec![Ok(()); n], n, Some(done))));
    if n == 0 {
        if let Some(done) = results.borrow_mut().2.take() {
            done(Vec::new());
        }
        return;
    }
    for (i, (host, port)) in targets.into_iter().enumerate() {
        let results = results.clone();
        transport::connect(
            svc,
            host,
            port,
            Box::new(move |r| {
                let mut all = results.borrow_mut();
                all.0[i] = r;
                all.1 -= 1;
                if all.1 == 0 {
                    let outcome = std::mem::take(&mut all.0);
                    if let Some(done) = all.2.take() {
                        drop(all);
                        done(outcome);
                    }
                }
            }),
        );
    }
}

/// Suspends the caller until `complete` is called with the values to return.
fn wait_for<T: Send + 'static>(
    lua: &Lua,
    start: impl FnOnce(&Rc<Service>, Box<dyn FnOnce(T)>),
    results: impl FnOnce(&Lua, T) -> Result<MultiValue> + Send + 'static,
) -> Result<MultiValue> {
    let svc = service::of(lua)?;
    let session = svc.new_session();
    let owner = svc.id;
    start(
        &svc,
        Box::new(move |value| service::run_on(owner, move |svc| svc.complete(session, move |lua| results(lua, value)))),
    );
    svc.suspend(session, WaitKind::Op, None)
}

fn connect(lua: &Lua, a: Args) -> Result<MultiValue> {
    let host = a.string(1)?.to_str()?.to_owned();
    let port = port_arg(&a, 2, "connect")?;
    wait_for(
        lua,
        |svc, done| contact_all(svc, vec![(host, port)], move |mut r| done(r.pop().unwrap_or(Err("no result".into())))),
        |lua, r: std::result::Result<(), String>| match r {
            Ok(()) => true.into_lua_multi(lua),
            Err(e) => (false, e).into_lua_multi(lua),
        },
    )
}

fn join(lua: &Lua, a: Args) -> Result<MultiValue> {
    let list = a.table(1)?;
    let mut targets = Vec::new();
    for member in list.sequence_values::<Table>() {
        let member = member.map_err(|_| bad_argument(1, "join", "a list of {ip, port} expected"))?;
        let ip: String = member.get(1).map_err(|_| bad_argument(1, "join", "member without an ip"))?;
        let port = member.get::<i64>(2).ok().and_then(|p| u16::try_from(p).ok()).filter(|&p| p != 0);
        targets.push((ip, port.ok_or_else(|| bad_argument(1, "join", "member with an invalid port"))?));
    }
    wait_for(lua, |svc, done| contact_all(svc, targets, done), |lua, results: Vec<std::result::Result<(), String>>| {
        let t = lua.create_table()?;
        for (i, r) in results.into_iter().enumerate() {
            match r {
                Ok(()) => t.raw_set(i + 1, true)?,
                Err(e) => t.raw_set(i + 1, e)?,
            }
        }
        t.into_lua_multi(lua)
    })
}

/// How long `leave` waits for the peers to close their ends.
const LEAVE_WAIT: Duration = Duration::from_secs(1);

fn leave(lua: &Lua) -> Result<MultiValue> {
    wait_for(
        lua,
        |svc, done: Box<dyn FnOnce(())>| {
            cluster::cluster().leave();
            svc.spawn_task(async move {
                let deadline = tokio::time::Instant::now() + LEAVE_WAIT;
                while cluster::cluster().link_count() > 0 && tokio::time::Instant::now() < deadline {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                done(());
            });
        },
        |lua, ()| ().into_lua_multi(lua),
    )
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
    wait_for(lua, |svc, done| nats::client::start(svc, options, done), |lua, r: std::result::Result<(), Error>| match r {
        Ok(()) => true.into_lua_multi(lua),
        Err(e) => (false, e.to_string()).into_lua_multi(lua),
    })
}
