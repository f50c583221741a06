//! `io.context`, `io.socket` and `io.server` (API.md §9.1-9.3), and the
//! lazy wiring of them and of `io.http` (`lua_api/http.rs`) into `io`.
//!
//! Socket and server objects are userdata holding a [`Handle`]; their
//! methods come from `io.lua` (blocking ones must yield, which only Lua
//! can do), installed as the metatable's `__index` from the registry. The
//! functions here check arguments and hand the work to `net::socket`.
//! Callbacks are kept in per-state registry tables together with their
//! object, which keeps a socket with pending callbacks from being
//! collected; blocking calls keep theirs on the parked coroutine's stack.

use crate::lua_api::args::{Args, bad_argument, type_name};
use crate::net::socket::{
    self, CALLBACKS, Done, Handle, LISTENERS, Phase, RECEIVERS, Server, ServerHandle, Shared, to_connect_callback,
    to_send_callback, to_size, to_status,
};
use crate::net::stream::Kind;
use crate::net::tls::{self, Context};
use crate::net::ws;
use crate::service::{self, WaitKind};
use mlua::{
    AnyUserData, Function, IntoLuaMulti, Lua, MetaMethod, MultiValue, Result, Table, UserData, UserDataFields,
    UserDataMethods, Value,
};
use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;

const SOCKET_METHODS: &str = "skynet.io.socket";
const SERVER_METHODS: &str = "skynet.io.server";

impl UserData for Handle {
    fn add_fields<F: UserDataFields<Self>>(fields: &mut F) {
        fields.add_meta_field_with("__index", |lua| lua.named_registry_value::<Table>(SOCKET_METHODS));
        fields.add_meta_field("__name", "socket");
    }

    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_method(MetaMethod::ToString, |_, h, ()| Ok(format!("socket: {}", h.0.id)));
    }
}

impl UserData for ServerHandle {
    fn add_fields<F: UserDataFields<Self>>(fields: &mut F) {
        fields.add_meta_field_with("__index", |lua| lua.named_registry_value::<Table>(SERVER_METHODS));
        fields.add_meta_field("__name", "server");
    }

    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_method(MetaMethod::ToString, |_, h, ()| Ok(format!("server: {}", h.0.id)));
    }
}

/// `io.context()` objects.
pub struct ContextHandle(RefCell<Context>);

impl ContextHandle {
    /// A context object holding `ctx` (for contexts built in Rust).
    pub fn new(ctx: Context) -> ContextHandle {
        ContextHandle(RefCell::new(ctx))
    }
}

fn status(lua: &Lua, r: std::result::Result<(), String>) -> Result<MultiValue> {
    match r {
        Ok(()) => true.into_lua_multi(lua),
        Err(e) => (false, e).into_lua_multi(lua),
    }
}

impl UserData for ContextHandle {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("certificate", |lua, ctx, args: MultiValue| {
            let text = Args::with_lua(lua, "certificate", args).bytes(1)?;
            status(lua, ctx.0.borrow_mut().set_certificate(&text))
        });
        methods.add_method("key", |lua, ctx, args: MultiValue| {
            let text = Args::with_lua(lua, "key", args).bytes(1)?;
            status(lua, ctx.0.borrow_mut().set_key(&text))
        });
        methods.add_method("password", |lua, ctx, args: MultiValue| {
            let pwd = Args::with_lua(lua, "password", args).bytes(1)?;
            status(lua, ctx.0.borrow_mut().set_password(&pwd))
        });
        methods.add_method("verify", |_, ctx, args: MultiValue| {
            ctx.0.borrow_mut().verify = Args::new("verify", args).flag(1);
            Ok(true)
        });
        methods.add_meta_method(MetaMethod::ToString, |_, _, ()| Ok("context"));
    }
}

/// Splits `self` from the arguments of a method; `Args` then counts from
/// the first argument after `self`, as stock C methods report them.
fn this<T: 'static>(lua: &Lua, fname: &'static str, what: &str, args: MultiValue) -> Result<(AnyUserData, Args)> {
    let mut values = args.into_vec();
    let first = if values.is_empty() { Value::Nil } else { values.remove(0) };
    match &first {
        Value::UserData(ud) if ud.is::<T>() => {
            Ok((ud.clone(), Args::with_lua(lua, fname, MultiValue::from_vec(values))))
        }
        _ => Err(bad_argument(1, fname, format!("{what} expected, got {}", type_name(Some(&first))))),
    }
}

fn sock(lua: &Lua, fname: &'static str, args: MultiValue) -> Result<(AnyUserData, Rc<Shared>, Args)> {
    let (ud, a) = this::<Handle>(lua, fname, "socket", args)?;
    let shared = ud.borrow::<Handle>()?.0.clone();
    Ok((ud, shared, a))
}

fn srv(lua: &Lua, fname: &'static str, args: MultiValue) -> Result<(AnyUserData, Rc<Server>, Args)> {
    let (ud, a) = this::<ServerHandle>(lua, fname, "server", args)?;
    let server = ud.borrow::<ServerHandle>()?.0.clone();
    Ok((ud, server, a))
}

/// An answer given at once to a blocking wrapper: `nil` (no session) then the values.
fn now(lua: &Lua, values: impl IntoLuaMulti) -> Result<MultiValue> {
    let mut v = values.into_lua_multi(lua)?;
    v.push_front(Value::Nil);
    Ok(v)
}

/// Keeps `func` (and `object`, so it is not collected) under `key` in registry table `table`.
fn keep(lua: &Lua, table: &str, key: u64, func: Function, object: &AnyUserData) -> Result<()> {
    let t: Table = lua.named_registry_value(table)?;
    t.raw_set(key, lua.create_sequence_from([Value::Function(func), Value::UserData(object.clone())])?)
}

fn forget(lua: &Lua, table: &str, key: u64) -> Result<()> {
    lua.named_registry_value::<Table>(table)?.raw_set(key, Value::Nil)
}

/// A port argument: 0..=65535 (0 only where `allow_zero`).
fn port(p: i64, allow_zero: bool) -> std::result::Result<u16, String> {
    match u16::try_from(p) {
        Ok(0) if !allow_zero => Err("invalid port".into()),
        Ok(p) => Ok(p),
        Err(_) => Err("invalid port".into()),
    }
}

fn address(lua: &Lua, addr: Option<SocketAddr>, missing: &str) -> Result<MultiValue> {
    match addr {
        Some(a) => {
            let t = lua.create_table()?;
            t.set("address", a.ip().to_string())?;
            t.set("port", a.port())?;
            t.into_lua_multi(lua)
        }
        None => (Value::Nil, missing).into_lua_multi(lua),
    }
}

fn connect(lua: &Lua, args: MultiValue) -> Result<MultiValue> {
    let (ud, s, a) = sock(lua, "connect", args)?;
    let host = a.string(1)?.to_str()?.to_owned();
    let p = a.integer(2)?;
    let func = a.opt_function(3)?;
    let svc = service::of(lua)?;
    let p = match port(p, false) {
        Ok(p) => p,
        Err(e) => return now(lua, (false, e)),
    };
    match func {
        Some(func) => {
            let token = socket::next_id();
            keep(lua, CALLBACKS, token, func, &ud)?;
            match s.connect(&svc, host, p, Done::Callback(token, to_connect_callback)) {
                Ok(()) => now(lua, true),
                Err(e) => {
                    forget(lua, CALLBACKS, token)?;
                    now(lua, (false, e))
                }
            }
        }
        None => {
            let session = svc.new_session();
            match s.connect(&svc, host, p, Done::Session(session, to_status)) {
                Ok(()) => svc.suspend(session, WaitKind::Op, None),
                Err(e) => now(lua, (false, e)),
            }
        }
    }
}

fn read(lua: &Lua, args: MultiValue) -> Result<MultiValue> {
    let (_, s, _) = sock(lua, "read", args)?;
    let svc = service::of(lua)?;
    let session = svc.new_session();
    match s.read(&svc, session) {
        Ok(()) => svc.suspend(session, WaitKind::Op, None),
        Err(e) => now(lua, (Value::Nil, e)),
    }
}

fn write(lua: &Lua, args: MultiValue) -> Result<MultiValue> {
    let (_, s, a) = sock(lua, "write", args)?;
    let data = a.bytes_with(lua, 1)?;
    let svc = service::of(lua)?;
    let session = svc.new_session();
    match s.enqueue(&svc, data, Done::Session(session, to_size), None) {
        Ok(_) => svc.suspend(session, WaitKind::Op, None),
        Err(e) => now(lua, (Value::Nil, e)),
    }
}

fn send(lua: &Lua, args: MultiValue) -> Result<MultiValue> {
    let (ud, s, a) = sock(lua, "send", args)?;
    let data = a.bytes_with(lua, 1)?;
    let func = a.opt_function(2)?;
    let svc = service::of(lua)?;
    let token = func.map(|f| (socket::next_id(), f));
    let done = match &token {
        Some((t, f)) => {
            keep(lua, CALLBACKS, *t, f.clone(), &ud)?;
            Done::Callback(*t, to_send_callback)
        }
        None => Done::Nobody,
    };
    let room = svc.new_session();
    match s.enqueue(&svc, data, done, Some(room)) {
        Ok(true) => now(lua, true),
        Ok(false) => svc.suspend(room, WaitKind::Op, None),
        Err(e) => {
            if let Some((t, _)) = token {
                forget(lua, CALLBACKS, t)?;
            }
            now(lua, (false, e))
        }
    }
}

fn receive(lua: &Lua, args: MultiValue) -> Result<MultiValue> {
    let (ud, s, a) = sock(lua, "receive", args)?;
    let func = a.function(1)?;
    let svc = service::of(lua)?;
    let had = lua.named_registry_value::<Table>(RECEIVERS)?.raw_get::<Option<Table>>(s.id)?;
    keep(lua, RECEIVERS, s.id, func, &ud)?;
    match s.receive(&svc) {
        Ok(()) => true.into_lua_multi(lua),
        Err(e) => {
            if had.is_none() {
                forget(lua, RECEIVERS, s.id)?;
            }
            (Value::Nil, e).into_lua_multi(lua)
        }
    }
}

fn close(lua: &Lua, args: MultiValue) -> Result<()> {
    let (_, s, _) = sock(lua, "close", args)?;
    s.close();
    Ok(())
}

fn id(lua: &Lua, args: MultiValue) -> Result<u64> {
    Ok(sock(lua, "id", args)?.1.id)
}

fn endpoint(lua: &Lua, args: MultiValue) -> Result<MultiValue> {
    let (_, s, a) = sock(lua, "endpoint", args)?;
    let which = a.opt_string(1)?;
    let addr = match which.as_ref().map(|w| w.as_bytes().to_vec()).as_deref() {
        None | Some(b"remote") => s.remote.get(),
        Some(b"local") => s.local.get(),
        Some(_) => return (Value::Nil, "unknown type").into_lua_multi(lua),
    };
    let missing = if s.phase() == Phase::Closed { "closed" } else { "not connected" };
    address(lua, addr, missing)
}

fn seturi(lua: &Lua, args: MultiValue) -> Result<bool> {
    let (_, s, a) = sock(lua, "seturi", args)?;
    *s.uri.borrow_mut() = a.string(1)?.to_str()?.to_owned();
    Ok(true)
}

fn geturi(lua: &Lua, args: MultiValue) -> Result<String> {
    Ok(sock(lua, "geturi", args)?.1.uri.borrow().clone())
}

fn setheader(lua: &Lua, args: MultiValue) -> Result<bool> {
    let (_, s, a) = sock(lua, "setheader", args)?;
    let name = a.string(1)?.to_str()?.to_owned();
    let value: mlua::LuaString = lua.globals().get::<Function>("tostring")?.call(a.value(2))?;
    let value = value.to_str()?.to_owned();
    let mut headers = s.request_headers.borrow_mut();
    headers.retain(|(k, _)| !k.eq_ignore_ascii_case(&name));
    headers.push((name, value));
    Ok(true)
}

fn getheader(lua: &Lua, args: MultiValue) -> Result<Option<String>> {
    let (_, s, a) = sock(lua, "getheader", args)?;
    let name = a.string(1)?.to_str()?.to_owned();
    let what = a.opt_string(2)?;
    let headers = match what.as_ref().map(|w| w.as_bytes().to_vec()).as_deref() {
        None | Some(b"request") => s.request_headers.borrow(),
        Some(b"response") => s.response_headers.borrow(),
        Some(other) => {
            return Err(mlua::Error::runtime(format!("invalid type: {}", String::from_utf8_lossy(other))));
        }
    };
    Ok(ws::find(&headers, &name).map(str::to_owned))
}

fn listen(lua: &Lua, args: MultiValue) -> Result<MultiValue> {
    let (ud, server, a) = srv(lua, "listen", args)?;
    let host = a.string(1)?.to_str()?.to_owned();
    let p = a.integer(2)?;
    let func = a.function(3)?;
    let svc = service::of(lua)?;
    let p = match port(p, true) {
        Ok(p) => p,
        Err(e) => return (false, e).into_lua_multi(lua),
    };
    match server.listen(&svc, &host, p) {
        Ok(()) => {
            keep(lua, LISTENERS, server.id, func, &ud)?;
            true.into_lua_multi(lua)
        }
        Err(e) => (false, e).into_lua_multi(lua),
    }
}

fn server_endpoint(lua: &Lua, args: MultiValue) -> Result<MultiValue> {
    let (_, server, _) = srv(lua, "endpoint", args)?;
    let addr = if server.listening() { server.local.get() } else { None };
    address(lua, addr, "not listening")
}

fn server_id(lua: &Lua, args: MultiValue) -> Result<u64> {
    Ok(srv(lua, "id", args)?.1.id)
}

fn server_close(lua: &Lua, args: MultiValue) -> Result<()> {
    let (_, server, _) = srv(lua, "close", args)?;
    server.close();
    forget(lua, LISTENERS, server.id)
}

/// The kind argument: `Some` or the `nil, "unknown type: <kind>"` answer.
fn kind_of(a: &Args) -> Result<std::result::Result<Kind, String>> {
    let name = a.string(1)?;
    Ok(Kind::parse(&name.as_bytes()).ok_or_else(|| format!("unknown type: {}", name.to_string_lossy())))
}

fn context_arg(a: &Args, fname: &str) -> Result<Option<AnyUserData>> {
    match a.value(2) {
        Value::Nil => Ok(None),
        Value::UserData(ud) if ud.is::<ContextHandle>() => Ok(Some(ud)),
        v => Err(bad_argument(2, fname, format!("context expected, got {}", type_name(Some(&v))))),
    }
}

fn new_socket(lua: &Lua, args: MultiValue) -> Result<MultiValue> {
    let a = Args::with_lua(lua, "socket", args);
    let kind = match kind_of(&a)? {
        Ok(k) => k,
        Err(e) => return (Value::Nil, e).into_lua_multi(lua),
    };
    let ctx = context_arg(&a, "socket")?;
    let svc = service::of(lua)?;
    let config = if kind.secure() {
        let built = match &ctx {
            Some(ud) => ud.borrow::<ContextHandle>()?.0.borrow().client_config(),
            None => tls::default_client_config(),
        };
        Some(built.map_err(mlua::Error::runtime)?)
    } else {
        None
    };
    lua.create_userdata(Handle(Shared::new(kind, svc.id, config)))?.into_lua_multi(lua)
}

fn new_server(lua: &Lua, args: MultiValue) -> Result<MultiValue> {
    let a = Args::with_lua(lua, "server", args);
    let kind = match kind_of(&a)? {
        Ok(k) => k,
        Err(e) => return (Value::Nil, e).into_lua_multi(lua),
    };
    let ctx = context_arg(&a, "server")?;
    let svc = service::of(lua)?;
    let config = if kind.secure() {
        let Some(ud) = ctx else {
            return Err(mlua::Error::runtime(format!("a {} server needs a context with certificate and key", kind.name())));
        };
        let built = ud.borrow::<ContextHandle>()?.0.borrow().server_config();
        Some(built.map_err(mlua::Error::runtime)?)
    } else {
        None
    };
    lua.create_userdata(ServerHandle(Server::new(kind, svc.id, config)))?.into_lua_multi(lua)
}

/// Adds `io.http`, `io.socket`, `io.server` and `io.context` to `io`, each
/// built on first use: most services never open a socket, and the socket
/// API (its Rust functions and `io.lua`) would cost every one of them.
pub fn install(lua: &Lua) -> Result<()> {
    let io: Table = lua.globals().get("io")?;
    let meta = lua.create_table()?;
    let index = lua.create_function(|lua, (io, key): (Table, Value)| {
        let Value::String(key) = key else { return Ok(Value::Nil) };
        match &*key.to_str()? {
            "http" => {
                let http = super::http::create(lua)?;
                io.raw_set("http", &http)?;
                Ok(Value::Table(http))
            }
            name @ ("socket" | "server" | "context") => {
                install_sockets(lua, &io)?;
                io.raw_get(name)
            }
            _ => Ok(Value::Nil),
        }
    })?;
    meta.raw_set("__index", index)?;
    io.set_metatable(Some(meta))?;
    Ok(())
}

/// The socket half of [`install`].
fn install_sockets(lua: &Lua, io: &Table) -> Result<()> {
    let core = lua.create_table()?;
    core.set("connect", lua.create_function(connect)?)?;
    core.set("read", lua.create_function(read)?)?;
    core.set("write", lua.create_function(write)?)?;
    core.set("send", lua.create_function(send)?)?;
    core.set("receive", lua.create_function(receive)?)?;
    core.set("close", lua.create_function(close)?)?;
    core.set("id", lua.create_function(id)?)?;
    core.set("endpoint", lua.create_function(endpoint)?)?;
    core.set("seturi", lua.create_function(seturi)?)?;
    core.set("geturi", lua.create_function(geturi)?)?;
    core.set("setheader", lua.create_function(setheader)?)?;
    core.set("getheader", lua.create_function(getheader)?)?;
    core.set("listen", lua.create_function(listen)?)?;
    core.set("server_endpoint", lua.create_function(server_endpoint)?)?;
    core.set("server_id", lua.create_function(server_id)?)?;
    core.set("server_close", lua.create_function(server_close)?)?;
    core.set("suspend", crate::service::of(lua)?.prelude_table()?.get::<mlua::Function>("suspend")?)?;
    let methods: Table = lua.load(include_str!("io.lua")).set_name("=skynet.io").call(core)?;
    lua.set_named_registry_value(SOCKET_METHODS, methods.get::<Table>("socket")?)?;
    lua.set_named_registry_value(SERVER_METHODS, methods.get::<Table>("server")?)?;
    for name in [RECEIVERS, CALLBACKS, LISTENERS] {
        if lua.named_registry_value::<Option<Table>>(name)?.is_none() {
            lua.set_named_registry_value(name, lua.create_table()?)?;
        }
    }
    io.raw_set("context", lua.create_function(|lua, ()| lua.create_userdata(ContextHandle(RefCell::new(Context::default()))))?)?;
    io.raw_set("socket", lua.create_function(new_socket)?)?;
    io.raw_set("server", lua.create_function(new_server)?)?;
    Ok(())
}
