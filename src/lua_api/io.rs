//! `io.context`, `io.socket` and `io.server` (docs/API.md §9.1-9.3), and the
//! lazy wiring of them and of `io.http` (`lua_api/http.rs`) into `io`.
//!
//! Socket and server objects are userdata holding a [`Handle`]; their
//! methods come from `io.lua` (blocking ones must yield, which only Lua
//! can do, or a C front: `send`'s, in `io/front.rs`), installed as the
//! metatable's `__index` from the registry. The functions here check
//! arguments and hand the work to `net::socket`; `io/events.rs` turns what
//! comes back into Lua values and events. Callbacks are kept in per-state
//! tables together with their object, which keeps a socket with pending
//! callbacks from being collected; blocking calls keep theirs on the
//! parked coroutine's stack.

mod events;
mod front;

use crate::error::Error;
use crate::lua_api::args::{Args, bad_argument, type_name};
use crate::lua_api::returns::at_once;
use crate::net::socket::{self, Phase, Server, Shared};
use crate::net::stream::Kind;
use crate::net::tls::{self, Context};
use crate::net::ws;
use crate::service::{self, WaitKind};
use events::{Kept, forget, keep};
use mlua::{
    AnyUserData, Function, IntoLuaMulti, Lua, MetaMethod, MultiValue, Result, Table, UserData, UserDataFields,
    UserDataMethods, Value,
};
use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;

const SOCKET_METHODS: &str = "skynet.io.socket";
const SERVER_METHODS: &str = "skynet.io.server";

/// A Lua object's hold on a socket or server: the object closes it when
/// collected, takes its methods from registry table `$methods` (filled
/// from `io.lua`) and reads as `"<name>: <id>"`.
macro_rules! hold {
    ($(#[$doc:meta])* $hold:ident($inner:ty), $methods:expr, $name:literal) => {
        $(#[$doc])*
        pub struct $hold(pub Rc<$inner>);

        impl Drop for $hold {
            fn drop(&mut self) {
                self.0.close();
            }
        }

        impl UserData for $hold {
            fn add_fields<F: UserDataFields<Self>>(fields: &mut F) {
                fields.add_meta_field_with("__index", |lua| lua.named_registry_value::<Table>($methods));
                fields.add_meta_field("__name", $name);
            }

            fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
                methods.add_meta_method(MetaMethod::ToString, |_, h, ()| Ok(format!(concat!($name, ": {}"), h.0.id)));
            }
        }
    };
}

hold!(
    /// A socket object: dropping it (GC) closes the socket.
    Handle(Shared), SOCKET_METHODS, "socket"
);
hold!(
    /// A server object. A listening server is kept alive by its entry in
    /// [`Kept::Listeners`]; an idle unreachable one just goes away.
    ServerHandle(Server), SERVER_METHODS, "server"
);

/// `io.context()` objects.
pub struct ContextHandle(RefCell<Context>);

impl ContextHandle {
    /// A context object holding `ctx` (for contexts built in Rust).
    pub fn new(ctx: Context) -> ContextHandle {
        ContextHandle(RefCell::new(ctx))
    }
}

fn status(lua: &Lua, r: std::result::Result<(), Error>) -> Result<MultiValue> {
    match r {
        Ok(()) => true.into_lua_multi(lua),
        Err(e) => (false, e.to_string()).into_lua_multi(lua),
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

/// The `host, port` arguments; the port is `None` when out of range (0 is
/// allowed only where `allow_zero`), which the caller answers with
/// [`INVALID_PORT`].
fn host_port(a: &Args, allow_zero: bool) -> Result<(String, Option<u16>)> {
    let host = a.string(1)?.to_str()?.to_owned();
    let port = u16::try_from(a.integer(2)?).ok().filter(|&p| p != 0 || allow_zero);
    Ok((host, port))
}

const INVALID_PORT: &str = "invalid port";

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
    let (host, p) = host_port(&a, false)?;
    let func = a.opt_function(3)?;
    let svc = service::of(lua)?;
    let Some(p) = p else { return at_once(lua, (false, INVALID_PORT)) };
    match func {
        Some(func) => {
            let token = socket::next_id();
            keep(lua, Kept::Callbacks, token, func, &ud)?;
            match s.connect(&svc, host, p, Some(events::connect_callback(token))) {
                Ok(()) => at_once(lua, true),
                Err(e) => {
                    forget(lua, Kept::Callbacks, token)?;
                    at_once(lua, (false, e.to_string()))
                }
            }
        }
        None => {
            let session = svc.new_session();
            match s.connect(&svc, host, p, Some(events::wake_status(session))) {
                Ok(()) => svc.suspend(session, WaitKind::Op, None),
                Err(e) => at_once(lua, (false, e.to_string())),
            }
        }
    }
}

fn read(lua: &Lua, args: MultiValue) -> Result<MultiValue> {
    let (_, s, _) = sock(lua, "read", args)?;
    let svc = service::of(lua)?;
    let session = svc.new_session();
    match s.read(&svc, events::wake_data(session)) {
        Ok(()) => svc.suspend(session, WaitKind::Op, None),
        Err(e) => at_once(lua, (Value::Nil, e.to_string())),
    }
}

fn write(lua: &Lua, args: MultiValue) -> Result<MultiValue> {
    let (_, s, a) = sock(lua, "write", args)?;
    let data = a.bytes_with(lua, 1)?;
    let svc = service::of(lua)?;
    let session = svc.new_session();
    match s.enqueue(&svc, data, Some(events::wake_size(session)), None) {
        Ok(_) => svc.suspend(session, WaitKind::Op, None),
        Err(e) => at_once(lua, (Value::Nil, e.to_string())),
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
            keep(lua, Kept::Callbacks, *t, f.clone(), &ud)?;
            Some(events::send_callback(*t))
        }
        None => None,
    };
    let room = svc.new_session();
    match s.enqueue(&svc, data, done, Some(events::wake_status(room))) {
        Ok(true) => at_once(lua, true),
        Ok(false) => svc.suspend(room, WaitKind::Op, None),
        Err(e) => {
            if let Some((t, _)) = token {
                forget(lua, Kept::Callbacks, t)?;
            }
            at_once(lua, (false, e.to_string()))
        }
    }
}

fn receive(lua: &Lua, args: MultiValue) -> Result<MultiValue> {
    let (ud, s, a) = sock(lua, "receive", args)?;
    let func = a.function(1)?;
    let svc = service::of(lua)?;
    let had = events::kept(lua, Kept::Receivers, s.id)?;
    keep(lua, Kept::Receivers, s.id, func, &ud)?;
    match s.receive(&svc, events::deliver_chunk) {
        Ok(()) => true.into_lua_multi(lua),
        Err(e) => {
            if !had {
                forget(lua, Kept::Receivers, s.id)?;
            }
            (Value::Nil, e.to_string()).into_lua_multi(lua)
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
    let (host, p) = host_port(&a, true)?;
    let func = a.function(3)?;
    let svc = service::of(lua)?;
    let Some(p) = p else { return (false, INVALID_PORT).into_lua_multi(lua) };
    match server.listen(&svc, &host, p, events::deliver_peer) {
        Ok(()) => {
            keep(lua, Kept::Listeners, server.id, func, &ud)?;
            true.into_lua_multi(lua)
        }
        Err(e) => (false, e.to_string()).into_lua_multi(lua),
    }
}

fn server_endpoint(lua: &Lua, args: MultiValue) -> Result<MultiValue> {
    let (_, server, _) = srv(lua, "endpoint", args)?;
    address(lua, server.local_addr(), "not listening")
}

fn server_id(lua: &Lua, args: MultiValue) -> Result<u64> {
    Ok(srv(lua, "id", args)?.1.id)
}

fn server_close(lua: &Lua, args: MultiValue) -> Result<()> {
    let (_, server, _) = srv(lua, "close", args)?;
    server.close();
    forget(lua, Kept::Listeners, server.id)
}

/// The `kind [, ctx]` arguments of `io.socket` and `io.server`, or (`Err`)
/// the `nil, "unknown type: <kind>"` answer.
fn kind_and_context(lua: &Lua, fname: &'static str, args: MultiValue) -> Result<std::result::Result<(Kind, Option<AnyUserData>), MultiValue>> {
    let a = Args::with_lua(lua, fname, args);
    let name = a.string(1)?;
    let Some(kind) = Kind::parse(&name.as_bytes()) else {
        return Ok(Err((Value::Nil, format!("unknown type: {}", name.to_string_lossy())).into_lua_multi(lua)?));
    };
    let ctx = match a.value(2) {
        Value::Nil => None,
        Value::UserData(ud) if ud.is::<ContextHandle>() => Some(ud),
        v => return Err(bad_argument(2, fname, format!("context expected, got {}", type_name(Some(&v))))),
    };
    Ok(Ok((kind, ctx)))
}

fn new_socket(lua: &Lua, args: MultiValue) -> Result<MultiValue> {
    let (kind, ctx) = match kind_and_context(lua, "socket", args)? {
        Ok(k) => k,
        Err(answer) => return Ok(answer),
    };
    let svc = service::of(lua)?;
    let config = match (kind.secure(), &ctx) {
        (false, _) => None,
        (true, Some(ud)) => Some(ud.borrow::<ContextHandle>()?.0.borrow().client_config()),
        (true, None) => Some(tls::default_client_config()),
    };
    let config = config.transpose().map_err(|e| mlua::Error::runtime(e.to_string()))?;
    front::new_object(lua, Shared::new(kind, svc.id, config))?.into_lua_multi(lua)
}

fn new_server(lua: &Lua, args: MultiValue) -> Result<MultiValue> {
    let (kind, ctx) = match kind_and_context(lua, "server", args)? {
        Ok(k) => k,
        Err(answer) => return Ok(answer),
    };
    let svc = service::of(lua)?;
    let config = match (kind.secure(), ctx) {
        (false, _) => None,
        (true, Some(ud)) => Some(ud.borrow::<ContextHandle>()?.0.borrow().server_config().map_err(|e| mlua::Error::runtime(e.to_string()))?),
        (true, None) => {
            return Err(mlua::Error::runtime(format!("a {} server needs a context with certificate and key", kind.name())));
        }
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
    let (socket_methods, server_methods) = (lua.create_table()?, lua.create_table()?);
    lua.set_named_registry_value(SOCKET_METHODS, &socket_methods)?;
    lua.set_named_registry_value(SERVER_METHODS, &server_methods)?;
    core.set("send", front::send(lua, lua.create_function(send)?)?)?;
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
    lua.load(include_str!("io.lua")).set_name("=skynet.io").call::<()>((core, socket_methods, server_methods))?;
    events::install(lua)?;
    io.raw_set("context", lua.create_function(|lua, ()| lua.create_userdata(ContextHandle(RefCell::new(Context::default()))))?)?;
    io.raw_set("socket", lua.create_function(new_socket)?)?;
    io.raw_set("server", lua.create_function(new_server)?)?;
    Ok(())
}
