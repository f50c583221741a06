//! Sockets and servers as seen by a service: the state behind `io.socket`
//! and `io.server` objects and the local tasks that do their I/O.
//!
//! Everything here lives on the owning service's worker (rule 1), so the
//! state is shared with its tasks through `Rc`/`RefCell`. Tasks never call
//! Lua: they hand each result to the service with `service::run_on`, which
//! runs in the service's turn and either ends a parked wait
//! (`Service::complete`) or starts a callback found in one of the
//! per-state registry tables below (Lua functions never leave their state).
//!
//! Writes go through one writer task per connection, in order. A byte
//! budget (a semaphore) bounds what is queued: `write` waits for its bytes
//! to be written, `send` returns at once while the budget lasts and waits
//! for room otherwise, so a slow peer slows its writers instead of growing
//! memory. `receive` hands chunks to Lua with a bounded number in flight.

use super::stream::{self, ClientSetup, Kind, Opened, Reader, Writer};
use super::ws::Headers;
use crate::runtime::{self, message::{ServiceId, Session}};
use crate::service::Service;
use mlua::{IntoLuaMulti, Lua, MultiValue, Table, Value};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;
use std::time::Duration;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tokio_rustls::rustls::{ClientConfig, ServerConfig};

/// Registry tables of each state: `id -> {func, object}` (the object is kept
/// alive while the callback may still run).
pub const RECEIVERS: &str = "skynet.io.receivers";
pub const CALLBACKS: &str = "skynet.io.callbacks";
pub const LISTENERS: &str = "skynet.io.listeners";

/// Bytes that may wait in one socket's write queue.
pub const WRITE_BUDGET: usize = 1 << 20;
/// Chunks that `receive` may have handed to Lua and not yet seen started.
const RECEIVE_CREDITS: usize = 16;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A process-unique id for sockets, servers and callback tokens.
pub fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Phase {
    Idle,
    Connecting,
    Open,
    Closed,
}

/// How an operation ended, turned into Lua values on the owner's thread.
pub enum Outcome {
    Ok,
    Size(usize),
    Data(Vec<u8>),
    Fail(String),
}

pub type Convert = fn(&Lua, Outcome) -> mlua::Result<MultiValue>;

/// Who learns that an operation ended.
pub enum Done {
    Nobody,
    /// A parked coroutine (or the blocked main thread).
    Session(Session, Convert),
    /// A callback kept in [`CALLBACKS`] under this token.
    Callback(u64, Convert),
}

/// `true` / `false, msg`.
pub fn to_status(lua: &Lua, o: Outcome) -> mlua::Result<MultiValue> {
    match o {
        Outcome::Fail(m) => (false, m).into_lua_multi(lua),
        _ => true.into_lua_multi(lua),
    }
}

/// `data` / `nil, msg`.
pub fn to_data(lua: &Lua, o: Outcome) -> mlua::Result<MultiValue> {
    match o {
        Outcome::Data(d) => lua.create_string(d)?.into_lua_multi(lua),
        Outcome::Fail(m) => (Value::Nil, m).into_lua_multi(lua),
        _ => Value::Nil.into_lua_multi(lua),
    }
}

/// `size` / `nil, msg`.
pub fn to_size(lua: &Lua, o: Outcome) -> mlua::Result<MultiValue> {
    match o {
        Outcome::Size(n) => n.into_lua_multi(lua),
        Outcome::Fail(m) => (Value::Nil, m).into_lua_multi(lua),
        _ => Value::Nil.into_lua_multi(lua),
    }
}

/// The arguments of a connect callback: `nil` / `msg`.
pub fn to_connect_callback(lua: &Lua, o: Outcome) -> mlua::Result<MultiValue> {
    match o {
        Outcome::Fail(m) => m.into_lua_multi(lua),
        _ => Value::Nil.into_lua_multi(lua),
    }
}

/// The arguments of a send callback: `size, nil` / `0, msg`.
pub fn to_send_callback(lua: &Lua, o: Outcome) -> mlua::Result<MultiValue> {
    match o {
        Outcome::Size(n) => (n, Value::Nil).into_lua_multi(lua),
        Outcome::Fail(m) => (0, m).into_lua_multi(lua),
        _ => (0, Value::Nil).into_lua_multi(lua),
    }
}

/// Hands `outcome` to whoever waits for it, on the owner's turn.
fn finish(owner: ServiceId, done: Done, outcome: Outcome) {
    match done {
        Done::Nobody => {}
        Done::Session(session, convert) => {
            crate::service::run_on(owner, move |svc| svc.complete(session, move |lua| convert(lua, outcome)))
        }
        Done::Callback(token, convert) => crate::service::run_on(owner, move |svc| {
            let run = || -> mlua::Result<()> {
                let Some(func) = take_entry(&svc.lua, CALLBACKS, token)? else { return Ok(()) };
                let args = convert(&svc.lua, outcome)?;
                svc.start_event(func, args);
                Ok(())
            };
            if let Err(e) = run() {
                runtime::log(&format!("[{}] socket callback: {e}", svc.label()));
            }
        }),
    }
}

/// The function of entry `key` of registry table `table`, removing the entry.
fn take_entry(lua: &Lua, table: &str, key: u64) -> mlua::Result<Option<mlua::Function>> {
    let t: Table = lua.named_registry_value(table)?;
    let Some(entry) = t.raw_get::<Option<Table>>(key)? else { return Ok(None) };
    t.raw_set(key, Value::Nil)?;
    Ok(Some(entry.raw_get(1)?))
}

fn get_entry(lua: &Lua, table: &str, key: u64) -> mlua::Result<Option<mlua::Function>> {
    let t: Table = lua.named_registry_value(table)?;
    match t.raw_get::<Option<Table>>(key)? {
        Some(entry) => Ok(Some(entry.raw_get(1)?)),
        None => Ok(None),
    }
}

struct WriteReq {
    data: Vec<u8>,
    done: Done,
    _permit: OwnedSemaphorePermit,
}

/// A socket: one connection (or none yet) and what Lua set on it.
pub struct Shared {
    pub id: u64,
    pub kind: Kind,
    pub owner: ServiceId,
    phase: Cell<Phase>,
    /// `None` while a `read` or `receive` holds it.
    reader: RefCell<Option<Reader>>,
    receiving: Cell<bool>,
    /// Why reading ended (`"eof"`, an error, `"closed"`).
    read_end: RefCell<Option<String>>,
    queue: RefCell<Option<mpsc::UnboundedSender<WriteReq>>>,
    budget: Arc<Semaphore>,
    /// Writes waiting for budget: later ones queue behind them (order).
    waiting_writes: Cell<usize>,
    credits: Arc<Semaphore>,
    closed: watch::Sender<bool>,
    pub local: Cell<Option<SocketAddr>>,
    pub remote: Cell<Option<SocketAddr>>,
    pub uri: RefCell<String>,
    /// Client: headers for the handshake; accepted ws peer: the client's.
    pub request_headers: RefCell<Headers>,
    /// Client: the server's handshake answer.
    pub response_headers: RefCell<Headers>,
    tls: Option<Arc<ClientConfig>>,
}

/// The Lua object's hold on a socket: dropping it (GC) closes the socket.
pub struct Handle(pub Rc<Shared>);

impl Drop for Handle {
    fn drop(&mut self) {
        self.0.close();
    }
}

async fn signalled(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|c| *c).await;
}

impl Shared {
    pub fn new(kind: Kind, owner: ServiceId, tls: Option<Arc<ClientConfig>>) -> Rc<Shared> {
        Rc::new(Shared {
            id: next_id(),
            kind,
            owner,
            phase: Cell::new(Phase::Idle),
            reader: RefCell::new(None),
            receiving: Cell::new(false),
            read_end: RefCell::new(None),
            queue: RefCell::new(None),
            budget: Arc::new(Semaphore::new(WRITE_BUDGET)),
            waiting_writes: Cell::new(0),
            credits: Arc::new(Semaphore::new(RECEIVE_CREDITS)),
            closed: watch::channel(false).0,
            local: Cell::new(None),
            remote: Cell::new(None),
            uri: RefCell::new("/".to_owned()),
            request_headers: RefCell::new(Vec::new()),
            response_headers: RefCell::new(Vec::new()),
            tls,
        })
    }

    pub fn phase(&self) -> Phase {
        self.phase.get()
    }

    /// Installs an open connection and starts its writer task.
    fn open(self: &Rc<Self>, svc: &Service, opened: Opened) {
        if self.phase.get() == Phase::Closed {
            return;
        }
        self.local.set(opened.local);
        self.remote.set(opened.remote);
        match opened.uri {
            Some(uri) => {
                *self.uri.borrow_mut() = uri;
                *self.request_headers.borrow_mut() = opened.headers;
            }
            None => *self.response_headers.borrow_mut() = opened.headers,
        }
        *self.reader.borrow_mut() = Some(opened.reader);
        let (tx, rx) = mpsc::unbounded_channel();
        *self.queue.borrow_mut() = Some(tx);
        svc.spawn_task(writer_task(self.owner, opened.writer, rx, self.closed.subscribe()));
        self.phase.set(Phase::Open);
    }

    /// Closes (idempotent): every pending operation ends with `"closed"`.
    pub fn close(&self) {
        if self.phase.replace(Phase::Closed) == Phase::Closed {
            return;
        }
        self.closed.send_replace(true);
        self.queue.borrow_mut().take();
        self.reader.borrow_mut().take();
        self.read_end.borrow_mut().get_or_insert_with(|| "closed".to_owned());
    }

    fn not_open(&self) -> Option<String> {
        match self.phase.get() {
            Phase::Open => None,
            Phase::Closed => Some("closed".into()),
            _ => Some("not connected".into()),
        }
    }

    /// Starts connecting; `done` learns the outcome.
    pub fn connect(self: &Rc<Self>, svc: &Rc<Service>, host: String, port: u16, done: Done) -> Result<(), String> {
        match self.phase.get() {
            Phase::Idle => {}
            Phase::Connecting => return Err("busy".into()),
            Phase::Open => return Err("already connected".into()),
            Phase::Closed => return Err("closed".into()),
        }
        self.phase.set(Phase::Connecting);
        let setup = ClientSetup {
            kind: self.kind,
            tls: self.tls.clone(),
            uri: self.uri.borrow().clone(),
            headers: self.request_headers.borrow().clone(),
        };
        let me = self.clone();
        let weak = Rc::downgrade(svc);
        svc.spawn_task(async move {
            let mut closed = me.closed.subscribe();
            let result = tokio::select! {
                biased;
                _ = signalled(&mut closed) => Err("closed".to_owned()),
                r = stream::connect(&host, port, setup) => r,
            };
            let outcome = match result {
                Ok(opened) => match weak.upgrade() {
                    Some(svc) if me.phase.get() == Phase::Connecting => {
                        me.open(&svc, opened);
                        Outcome::Ok
                    }
                    _ => Outcome::Fail("closed".into()),
                },
                Err(e) => {
                    if me.phase.get() == Phase::Connecting {
                        me.phase.set(Phase::Idle);
                    }
                    Outcome::Fail(e)
                }
            };
            finish(me.owner, done, outcome);
        });
        Ok(())
    }

    fn check_readable(&self) -> Result<Reader, String> {
        if let Some(e) = self.not_open() {
            return Err(self.read_end.borrow().clone().filter(|_| e == "closed").unwrap_or(e));
        }
        if self.receiving.get() {
            return Err("busy".into());
        }
        if let Some(e) = self.read_end.borrow().clone() {
            return Err(e);
        }
        self.reader.borrow_mut().take().ok_or_else(|| "busy".to_owned())
    }

    /// One chunk or message for the waiter of `session`.
    pub fn read(self: &Rc<Self>, svc: &Rc<Service>, session: Session) -> Result<(), String> {
        let mut reader = self.check_readable()?;
        let me = self.clone();
        svc.spawn_task(async move {
            let mut closed = me.closed.subscribe();
            let result = tokio::select! {
                biased;
                _ = signalled(&mut closed) => Err("closed".to_owned()),
                r = reader.next() => r,
            };
            let outcome = match result {
                Ok(Some(data)) => {
                    if me.phase.get() == Phase::Open {
                        *me.reader.borrow_mut() = Some(reader);
                    }
                    Outcome::Data(data)
                }
                Ok(None) => Outcome::Fail(me.end_reading("eof".into())),
                Err(e) => Outcome::Fail(me.end_reading(e)),
            };
            finish(me.owner, Done::Session(session, to_data), outcome);
        });
        Ok(())
    }

    /// Records why reading ended; a local close wins.
    fn end_reading(&self, why: String) -> String {
        self.read_end.borrow_mut().get_or_insert(why).clone()
    }

    /// Starts the continuous read of `receive`; the handler is in [`RECEIVERS`].
    pub fn receive(self: &Rc<Self>, svc: &Rc<Service>) -> Result<(), String> {
        if self.receiving.get() && self.phase.get() == Phase::Open {
            return Ok(());
        }
        let mut reader = self.check_readable()?;
        self.receiving.set(true);
        let me = self.clone();
        svc.spawn_task(async move {
            let mut closed = me.closed.subscribe();
            let why = loop {
                let permit = tokio::select! {
                    biased;
                    _ = signalled(&mut closed) => break "closed".to_owned(),
                    p = me.credits.clone().acquire_owned() => p.ok(),
                };
                let result = tokio::select! {
                    biased;
                    _ = signalled(&mut closed) => Err("closed".to_owned()),
                    r = reader.next() => r,
                };
                match result {
                    Ok(Some(data)) => deliver_chunk(me.owner, me.id, Ok(data), permit),
                    Ok(None) => break "eof".to_owned(),
                    Err(e) => break e,
                }
            };
            drop(reader);
            let why = me.end_reading(why);
            me.receiving.set(false);
            deliver_chunk(me.owner, me.id, Err(why), None);
        });
        Ok(())
    }

    /// Queues `data` for the writer. `Ok(true)`: queued now; `Ok(false)`:
    /// waiting for budget, `room` (if any) learns when it is queued.
    pub fn enqueue(
        self: &Rc<Self>,
        svc: &Rc<Service>,
        data: Vec<u8>,
        done: Done,
        room: Option<Session>,
    ) -> Result<bool, String> {
        if let Some(e) = self.not_open() {
            return Err(e);
        }
        let Some(tx) = self.queue.borrow().clone() else { return Err("closed".into()) };
        let cost = data.len().min(WRITE_BUDGET) as u32;
        if self.waiting_writes.get() == 0
            && let Ok(permit) = self.budget.clone().try_acquire_many_owned(cost)
        {
            return match tx.send(WriteReq { data, done, _permit: permit }) {
                Ok(()) => Ok(true),
                Err(_) => Err("closed".into()),
            };
        }
        self.waiting_writes.set(self.waiting_writes.get() + 1);
        let me = self.clone();
        svc.spawn_task(async move {
            let mut closed = me.closed.subscribe();
            let permit = tokio::select! {
                biased;
                _ = signalled(&mut closed) => None,
                p = me.budget.clone().acquire_many_owned(cost) => p.ok(),
            };
            me.waiting_writes.set(me.waiting_writes.get() - 1);
            let queued = match permit {
                Some(permit) => match tx.send(WriteReq { data, done, _permit: permit }) {
                    Ok(()) => true,
                    Err(e) => {
                        finish(me.owner, e.0.done, Outcome::Fail("closed".into()));
                        false
                    }
                },
                None => {
                    finish(me.owner, done, Outcome::Fail("closed".into()));
                    false
                }
            };
            if let Some(room) = room {
                let outcome = if queued { Outcome::Ok } else { Outcome::Fail("closed".into()) };
                finish(me.owner, Done::Session(room, to_status), outcome);
            }
        });
        Ok(false)
    }
}

/// Hands one received chunk (or the end, once) to the `receive` handler.
fn deliver_chunk(owner: ServiceId, id: u64, chunk: Result<Vec<u8>, String>, permit: Option<OwnedSemaphorePermit>) {
    crate::service::run_on(owner, move |svc| {
        let lua = &svc.lua;
        let run = || -> mlua::Result<()> {
            let (func, args) = match chunk {
                Ok(data) => (get_entry(lua, RECEIVERS, id)?, (lua.create_string(data)?, Value::Nil).into_lua_multi(lua)?),
                Err(why) => (take_entry(lua, RECEIVERS, id)?, (Value::Nil, why).into_lua_multi(lua)?),
            };
            if let Some(func) = func {
                svc.start_event(func, args);
            }
            Ok(())
        };
        if let Err(e) = run() {
            runtime::log(&format!("[{}] receive: {e}", svc.label()));
        }
        drop(permit);
    });
}

/// Writes the queued requests in order; on close fails the rest with `"closed"`.
async fn writer_task(
    owner: ServiceId,
    mut writer: Writer,
    mut rx: mpsc::UnboundedReceiver<WriteReq>,
    mut closed: watch::Receiver<bool>,
) {
    let mut failure: Option<String> = None;
    loop {
        let req = tokio::select! {
            biased;
            _ = signalled(&mut closed) => break,
            r = rx.recv() => match r { Some(r) => r, None => break },
        };
        let WriteReq { data, done, _permit } = req;
        let size = data.len();
        let result = match &failure {
            Some(e) => Err(e.clone()),
            None => tokio::select! {
                biased;
                _ = signalled(&mut closed) => {
                    finish(owner, done, Outcome::Fail("closed".into()));
                    break;
                }
                r = writer.write(data) => r,
            },
        };
        match result {
            Ok(()) => finish(owner, done, Outcome::Size(size)),
            Err(e) => {
                failure.get_or_insert(e.clone());
                finish(owner, done, Outcome::Fail(e));
            }
        }
    }
    rx.close();
    while let Ok(req) = rx.try_recv() {
        finish(owner, req.done, Outcome::Fail(failure.clone().unwrap_or_else(|| "closed".into())));
    }
    if failure.is_none() {
        writer.close().await;
    }
}

// ---- servers -----------------------------------------------------------------

thread_local! {
    /// Accepted peers on their way to the accept callback (the closure that
    /// carries them to the service must be `Send`, an `Rc` is not).
    static PEERS: RefCell<HashMap<u64, Rc<Shared>>> = RefCell::new(HashMap::new());
}

/// Forgets a peer whose delivery was dropped (its service ended).
struct PeerTicket(u64);

impl PeerTicket {
    fn take(&self) -> Option<Rc<Shared>> {
        PEERS.with(|p| p.borrow_mut().remove(&self.0))
    }
}

impl Drop for PeerTicket {
    fn drop(&mut self) {
        let _ = PEERS.try_with(|p| p.borrow_mut().remove(&self.0));
    }
}

pub struct Server {
    pub id: u64,
    pub kind: Kind,
    pub owner: ServiceId,
    tls: Option<Arc<ServerConfig>>,
    /// Taken by `close` so the port is released at once.
    listener: RefCell<Option<TcpListener>>,
    pub local: Cell<Option<SocketAddr>>,
    closed: watch::Sender<bool>,
    is_closed: Cell<bool>,
}

/// The Lua object's hold on a server. A listening server is kept alive by
/// its entry in [`LISTENERS`]; an idle unreachable one just goes away.
pub struct ServerHandle(pub Rc<Server>);

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.0.close();
    }
}

impl Server {
    pub fn new(kind: Kind, owner: ServiceId, tls: Option<Arc<ServerConfig>>) -> Rc<Server> {
        Rc::new(Server {
            id: next_id(),
            kind,
            owner,
            tls,
            listener: RefCell::new(None),
            local: Cell::new(None),
            closed: watch::channel(false).0,
            is_closed: Cell::new(false),
        })
    }

    /// Binds `host:port` and starts accepting; each peer goes to the
    /// callback registered in [`LISTENERS`] under our id.
    pub fn listen(self: &Rc<Self>, svc: &Rc<Service>, host: &str, port: u16) -> Result<(), String> {
        if self.is_closed.get() {
            return Err("closed".into());
        }
        if self.listener.borrow().is_some() {
            return Err("already listening".into());
        }
        let addr = std::net::ToSocketAddrs::to_socket_addrs(&(host, port))
            .map_err(|e| format!("{host}: {e}"))?
            .next()
            .ok_or_else(|| format!("{host}: no address"))?;
        let listener = crate::runtime::main_loop::in_runtime(|| -> std::io::Result<TcpListener> {
            let socket = if addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
            socket.set_reuseaddr(true)?;
            socket.bind(addr)?;
            socket.listen(1024)
        })
        .map_err(|e| e.to_string())?;
        self.local.set(listener.local_addr().ok());
        *self.listener.borrow_mut() = Some(listener);
        let me = self.clone();
        let weak = Rc::downgrade(svc);
        svc.spawn_task(async move { me.accept_loop(weak).await });
        Ok(())
    }

    async fn accept_loop(self: Rc<Self>, weak: Weak<Service>) {
        let mut closed = self.closed.subscribe();
        loop {
            let next = std::future::poll_fn(|cx| match &*self.listener.borrow() {
                Some(l) => l.poll_accept(cx).map(Some),
                None => Poll::Ready(None),
            });
            let accepted = tokio::select! {
                biased;
                _ = signalled(&mut closed) => None,
                r = next => r,
            };
            let Some(accepted) = accepted else { break };
            let Some(svc) = weak.upgrade() else { break };
            match accepted {
                Err(e) => {
                    runtime::debug(|| format!("[{}] accept: {e}", svc.label()));
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Ok((tcp, addr)) => {
                    let (kind, tls, owner, server) = (self.kind, self.tls.clone(), self.owner, self.id);
                    let weak = weak.clone();
                    svc.spawn_task(async move {
                        match stream::accept(kind, tcp, tls).await {
                            Ok(opened) => {
                                let Some(svc) = weak.upgrade() else { return };
                                let peer = Shared::new(kind, owner, None);
                                peer.open(&svc, opened);
                                let ticket = PeerTicket(peer.id);
                                PEERS.with(|p| p.borrow_mut().insert(peer.id, peer));
                                crate::service::run_on(owner, move |svc| {
                                    if let Some(peer) = ticket.take() {
                                        deliver_peer(svc, server, peer);
                                    }
                                });
                            }
                            Err(e) => runtime::debug(|| format!("[{owner}] {} peer {addr} dropped: {e}", kind.name())),
                        }
                    });
                }
            }
        }
    }

    /// Stops accepting and releases the port (accepted peers live on).
    pub fn close(&self) {
        if self.is_closed.replace(true) {
            return;
        }
        self.listener.borrow_mut().take();
        self.closed.send_replace(true);
    }

    pub fn listening(&self) -> bool {
        self.listener.borrow().is_some()
    }
}

/// Wraps a new peer in a Lua object and starts the accept callback with it.
fn deliver_peer(svc: &Rc<Service>, server: u64, peer: Rc<Shared>) {
    let lua = &svc.lua;
    let run = || -> mlua::Result<()> {
        let func = get_entry(lua, LISTENERS, server)?;
        let object = lua.create_userdata(Handle(peer))?;
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
    fn ids_are_unique_and_positive() {
        let a = next_id();
        let b = next_id();
        assert!(a > 0 && b > a);
    }

    #[test]
    fn a_new_socket_is_idle_and_refuses_io() {
        let s = Shared::new(Kind::Tcp, 1, None);
        assert_eq!(s.phase(), Phase::Idle);
        assert_eq!(s.check_readable().err().unwrap(), "not connected");
        s.close();
        s.close();
        assert_eq!(s.phase(), Phase::Closed);
        assert_eq!(s.check_readable().err().unwrap(), "closed");
    }

    #[test]
    fn outcomes_convert_to_the_documented_values() {
        let lua = Lua::new();
        let v = to_send_callback(&lua, Outcome::Fail("eof".into())).unwrap();
        assert_eq!(v.len(), 2);
        assert!(matches!(v[0], Value::Integer(0)));
        let v = to_data(&lua, Outcome::Fail("closed".into())).unwrap();
        assert!(v[0].is_nil());
        let v = to_connect_callback(&lua, Outcome::Ok).unwrap();
        assert!(v[0].is_nil());
        let v = to_status(&lua, Outcome::Ok).unwrap();
        assert!(matches!(v[0], Value::Boolean(true)));
    }
}
