//! Sockets and servers as seen by a service: the state behind `io.socket`
//! and `io.server` objects and the local tasks that do their I/O.
//!
//! Everything here lives on the owning service's worker (rule 1), so the
//! state is shared with its tasks through `Rc`/`RefCell`. Tasks never call
//! Lua and hold no Lua value: each result goes to the service with
//! `service::run_on`, in its turn, to a delivery function the binding
//! (`lua_api/io.rs`) supplies with the operation ([`Done`], and the
//! `on_chunk` / `on_peer` of `receive` and `listen`). That function and
//! `Service::spawn_task` are all this core knows of services.
//!
//! Writes go through one writer task per connection, in order. A byte
//! budget (a semaphore) bounds what is queued: `write` waits for its bytes
//! to be written, `send` returns at once while the budget lasts and waits
//! for room otherwise, so a slow peer slows its writers instead of growing
//! memory. On plain TCP a `send` without a callback, while that queue is
//! empty, joins the thread's batch instead (`write_batch`): the batch goes
//! out in one pass after the thread's turns, without waking the writer.
//! `receive` hands chunks to Lua with a bounded number in flight.
//! The writer task is not aborted with the service (see `runtime::linger`):
//! it ends when the socket closes, after the polite close.

use super::census;
use super::close_signal::CloseSignal;
use super::listener::{self, Listener};
use super::limit;
use super::stream::{self, ClientSetup, Kind, Opened, Reader, Writer};
use super::write_batch::{self, Direct, WriterAlive};
use super::ws::Headers;
use crate::error::{Error, Result};
use crate::runtime::{self, message::ServiceId};
use crate::service::Service;
use std::cell::{Cell, RefCell};
use rustc_hash::FxHashMap;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio_rustls::rustls::{ClientConfig, ServerConfig};

/// Bytes that may wait in one socket's write queue.
pub const WRITE_BUDGET: usize = 1 << 20;
/// Chunks that `receive` may have handed to Lua and not yet seen started.
const RECEIVE_CREDITS: usize = 16;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A process-unique id for sockets, servers and callback tokens.
pub fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

fn busy() -> Error {
    Error::other("busy")
}

fn not_connected() -> Error {
    Error::other("not connected")
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Phase {
    Idle,
    Connecting,
    Open,
    Closed,
}

/// How an operation ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Size(usize),
    Data(Vec<u8>),
    Fail(Error),
}

/// Who learns how an operation ended: `deliver(svc, key, outcome)` runs in
/// the owner's turn; `key` means something to the binding only (a parked
/// session, a callback token).
#[derive(Clone, Copy)]
pub struct Done {
    pub deliver: fn(&Rc<Service>, u64, Outcome),
    pub key: u64,
}

/// What `receive` hands over: a chunk or message, or (once) why reading ended.
pub type OnChunk = fn(&Rc<Service>, socket: u64, Result<Vec<u8>>);
/// What `listen` hands over: each accepted peer, open.
pub type OnPeer = fn(&Rc<Service>, server: u64, Rc<Shared>);

/// Hands `outcome` to whoever waits for it, on the owner's turn.
fn finish(owner: ServiceId, done: Option<Done>, outcome: Outcome) {
    if let Some(Done { deliver, key }) = done {
        crate::service::run_on(owner, move |svc| deliver(svc, key, outcome));
    }
}

struct WriteReq {
    data: Vec<u8>,
    done: Option<Done>,
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
    /// Why reading ended (the peer closed, an error).
    read_end: RefCell<Option<Error>>,
    queue: RefCell<Option<mpsc::UnboundedSender<WriteReq>>>,
    budget: Arc<Semaphore>,
    /// Writes waiting for budget: later ones queue behind them (order).
    waiting_writes: Cell<usize>,
    credits: Arc<Semaphore>,
    closed: Rc<CloseSignal>,
    pub local: Cell<Option<SocketAddr>>,
    pub remote: Cell<Option<SocketAddr>>,
    pub uri: RefCell<String>,
    /// Client: headers for the handshake; accepted ws peer: the client's.
    pub request_headers: RefCell<Headers>,
    /// Client: the server's handshake answer.
    pub response_headers: RefCell<Headers>,
    tls: Option<Arc<ClientConfig>>,
    /// Its share of the connection cap, while connecting or open.
    slot: RefCell<Option<limit::Slot>>,
    /// Its entry among the open sockets, while the connection is open.
    census: RefCell<Option<Arc<census::Entry>>>,
    /// Plain TCP, once open: `send`s batched per thread (`write_batch`).
    direct: RefCell<Option<Direct>>,
}

thread_local! {
    /// This thread's sockets by id (see [`find`]); the ids are ours, so the
    /// fast hash of rustc-hash will do (the default one, made for keys an
    /// attacker picks, cost a third of a `send`'s front).
    static LIVE: RefCell<FxHashMap<u64, Weak<Shared>>> = RefCell::new(FxHashMap::default());
}

/// The socket `id` of this thread, while it lives. A binding that can
/// keep only a number with its Lua object (the C front of `send`, see
/// `lua_api/io/front.rs`) finds the socket by it; a socket lives on its
/// owner's thread, so a thread-local table holds them all.
pub fn find(id: u64) -> Option<Rc<Shared>> {
    LIVE.with(|live| live.borrow().get(&id).and_then(Weak::upgrade))
}

/// The result of `op`, or `"closed"` as soon as the socket is closed.
async fn unless_closed<T>(closed: &Rc<CloseSignal>, op: impl Future<Output = Result<T>>) -> Result<T> {
    tokio::select! {
        biased;
        _ = closed.wait() => Err(Error::Closed),
        r = op => r,
    }
}

impl Shared {
    pub fn new(kind: Kind, owner: ServiceId, tls: Option<Arc<ClientConfig>>) -> Rc<Shared> {
        let shared = Rc::new(Shared {
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
            closed: Rc::default(),
            local: Cell::new(None),
            remote: Cell::new(None),
            uri: RefCell::new("/".to_owned()),
            request_headers: RefCell::new(Vec::new()),
            response_headers: RefCell::new(Vec::new()),
            tls,
            slot: RefCell::new(None),
            census: RefCell::new(None),
            direct: RefCell::new(None),
        });
        LIVE.with(|live| live.borrow_mut().insert(shared.id, Rc::downgrade(&shared)));
        shared
    }

    pub fn phase(&self) -> Phase {
        self.phase.get()
    }

    /// Installs an open connection and starts its writer task.
    fn open(&self, mut opened: Opened) {
        if self.phase.get() == Phase::Closed {
            return;
        }
        if let Some(slot) = opened.slot.take() {
            *self.slot.borrow_mut() = Some(slot);
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
        let peer = opened.remote.map(|a| a.to_string()).unwrap_or_default();
        let entry = census::enter(self.id, self.kind.name().to_owned(), self.owner, peer);
        *self.census.borrow_mut() = Some(entry.clone());
        let (tx, rx) = mpsc::unbounded_channel();
        *self.queue.borrow_mut() = Some(tx);
        let alive = opened.fd.map(|fd| {
            // SAFETY: `fd` is the descriptor of the stream `opened.writer`
            // wraps, and `alive` goes with that writer into its task.
            let (direct, alive) = unsafe { Direct::new(fd) };
            *self.direct.borrow_mut() = Some(direct);
            alive
        });
        runtime::linger::spawn(writer_task(self.owner, opened.writer, rx, self.closed.clone(), entry, alive));
        self.phase.set(Phase::Open);
    }

    /// Counts `n` bytes received (for `netstat`).
    fn received(&self, n: usize) {
        if let Some(entry) = &*self.census.borrow() {
            entry.received(n);
        }
    }

    /// Closes (idempotent): every pending operation ends with `"closed"`,
    /// and so does every later one.
    pub fn close(&self) {
        if self.phase.replace(Phase::Closed) == Phase::Closed {
            return;
        }
        self.closed.close();
        self.queue.borrow_mut().take();
        if let Some(direct) = &*self.direct.borrow() {
            direct.take();
        }
        self.reader.borrow_mut().take();
        self.slot.borrow_mut().take();
        if self.census.borrow_mut().take().is_some() {
            census::leave(self.id);
        }
    }

    fn not_open(&self) -> Option<Error> {
        match self.phase.get() {
            Phase::Open => None,
            Phase::Closed => Some(Error::Closed),
            _ => Some(not_connected()),
        }
    }

    /// Why a write cannot be queued once the writer is gone: our close, or
    /// the peer's end of a WebSocket (which ends our writing too).
    fn writer_gone(&self) -> Error {
        if self.phase.get() == Phase::Closed { Error::Closed } else { Error::Eof }
    }

    /// Starts connecting; `done` learns the outcome.
    pub fn connect(self: &Rc<Self>, svc: &Rc<Service>, host: String, port: u16, done: Option<Done>) -> Result<()> {
        match self.phase.get() {
            Phase::Idle => {}
            Phase::Connecting => return Err(busy()),
            Phase::Open => return Err(Error::other("already connected")),
            Phase::Closed => return Err(Error::Closed),
        }
        let Some(slot) = limit::take() else {
            return Err(Error::other(format!("too many open connections ({})", limit::max())));
        };
        *self.slot.borrow_mut() = Some(slot);
        self.phase.set(Phase::Connecting);
        let setup = ClientSetup {
            kind: self.kind,
            tls: self.tls.clone(),
            uri: self.uri.borrow().clone(),
            headers: self.request_headers.borrow().clone(),
        };
        let me = self.clone();
        svc.spawn_task(async move {
            let result = unless_closed(&me.closed, stream::connect(&host, port, setup)).await;
            let outcome = match result {
                Ok(opened) if me.phase.get() == Phase::Connecting => {
                    me.open(opened);
                    Outcome::Ok
                }
                Ok(_) => Outcome::Fail(Error::Closed),
                Err(e) => {
                    if me.phase.get() == Phase::Connecting {
                        me.phase.set(Phase::Idle);
                        me.slot.borrow_mut().take();
                    }
                    Outcome::Fail(e)
                }
            };
            finish(me.owner, done, outcome);
        });
        Ok(())
    }

    fn check_readable(&self) -> Result<Reader> {
        if let Some(e) = self.not_open() {
            return Err(e);
        }
        if self.receiving.get() {
            return Err(busy());
        }
        if let Some(e) = self.read_end.borrow().clone() {
            return Err(e);
        }
        self.reader.borrow_mut().take().ok_or_else(busy)
    }

    /// One chunk or message for `done`.
    pub fn read(self: &Rc<Self>, svc: &Rc<Service>, done: Done) -> Result<()> {
        let mut reader = self.check_readable()?;
        let me = self.clone();
        svc.spawn_task(async move {
            let result = unless_closed(&me.closed, reader.next()).await;
            let outcome = match result {
                Ok(Some(data)) => {
                    me.received(data.len());
                    if me.phase.get() == Phase::Open {
                        *me.reader.borrow_mut() = Some(reader);
                    }
                    Outcome::Data(data)
                }
                Ok(None) => Outcome::Fail(me.end_reading(Error::Eof)),
                Err(e) => Outcome::Fail(me.end_reading(e)),
            };
            finish(me.owner, Some(done), outcome);
        });
        Ok(())
    }

    /// Records why reading ended; once closed by us, `"closed"` is the answer.
    fn end_reading(&self, why: Error) -> Error {
        if self.phase.get() == Phase::Closed {
            return Error::Closed;
        }
        self.read_end.borrow_mut().get_or_insert(why).clone()
    }

    /// Starts the continuous read of `receive`: each chunk, then (once) why
    /// reading ended, goes to `on_chunk`.
    pub fn receive(self: &Rc<Self>, svc: &Rc<Service>, on_chunk: OnChunk) -> Result<()> {
        if self.receiving.get() && self.phase.get() == Phase::Open {
            return Ok(());
        }
        let mut reader = self.check_readable()?;
        self.receiving.set(true);
        let me = self.clone();
        svc.spawn_task(async move {
            // one wait for the loop's whole life, polled by reference
            let closed = me.closed.wait();
            tokio::pin!(closed);
            let why = loop {
                // A credit is nearly always there: the select (and the
                // future of a wait) only when none is.
                let permit = match me.credits.clone().try_acquire_owned() {
                    Ok(p) => Some(p),
                    Err(_) => tokio::select! {
                        biased;
                        _ = &mut closed => break Error::Closed,
                        p = me.credits.clone().acquire_owned() => p.ok(),
                    },
                };
                // The owner's queue over its high-water mark: stop reading
                // (TCP then pushes back on the peer) until it drains.
                let backlog = &runtime::get().registry.backlog;
                if backlog.over_mark(me.owner) {
                    tokio::select! {
                        biased;
                        _ = &mut closed => break Error::Closed,
                        _ = backlog.room(me.owner) => {}
                    }
                }
                // `unless_closed` inline: going through the async fn (a
                // future of its own per chunk) cost about 120 instructions.
                let next = tokio::select! {
                    biased;
                    _ = &mut closed => Err(Error::Closed),
                    r = reader.next() => r,
                };
                match next {
                    Ok(Some(data)) => {
                        me.received(data.len());
                        deliver_chunk(me.owner, me.id, Ok(data), permit, on_chunk)
                    }
                    Ok(None) => break Error::Eof,
                    Err(e) => break e,
                }
            };
            drop(reader);
            let why = me.end_reading(why);
            me.receiving.set(false);
            deliver_chunk(me.owner, me.id, Err(why), None, on_chunk);
        });
        Ok(())
    }

    /// Queues `data` for writing. `Ok(true)`: queued now; `Ok(false)`:
    /// waiting for budget, `room` (if any) learns when it is queued.
    pub fn enqueue(
        self: &Rc<Self>,
        svc: &Rc<Service>,
        data: Vec<u8>,
        done: Option<Done>,
        room: Option<Done>,
    ) -> Result<bool> {
        if let Some(e) = self.not_open() {
            return Err(e);
        }
        let Some(data) = self.join_batch(data, done.is_none()) else { return Ok(true) };
        let Some(tx) = self.queue.borrow().clone() else { return Err(Error::Closed) };
        let cost = data.len().min(WRITE_BUDGET) as u32;
        if self.waiting_writes.get() == 0
            && let Ok(permit) = self.budget.clone().try_acquire_many_owned(cost)
        {
            return match tx.send(WriteReq { data, done, _permit: permit }) {
                Ok(()) => Ok(true),
                Err(_) => Err(self.writer_gone()),
            };
        }
        self.waiting_writes.set(self.waiting_writes.get() + 1);
        let me = self.clone();
        svc.spawn_task(async move {
            let permit = tokio::select! {
                biased;
                _ = me.closed.wait() => None,
                p = me.budget.clone().acquire_many_owned(cost) => p.ok(),
            };
            me.waiting_writes.set(me.waiting_writes.get() - 1);
            let queued = match permit {
                Some(permit) => tx.send(WriteReq { data, done, _permit: permit }).map_err(|e| e.0.done),
                None => Err(done),
            };
            let outcome = match queued {
                Ok(()) => Outcome::Ok,
                Err(done) => {
                    finish(me.owner, done, Outcome::Fail(me.writer_gone()));
                    Outcome::Fail(me.writer_gone())
                }
            };
            finish(me.owner, room, outcome);
        });
        Ok(false)
    }

    /// A `send` without a callback (`plain`) joins the socket's batch
    /// when it can (`None`: done). Otherwise `data` comes back, and the
    /// batch, if any, has gone to the writer queue ahead of it (order).
    fn join_batch(self: &Rc<Self>, data: Vec<u8>, plain: bool) -> Option<Vec<u8>> {
        let direct = self.direct.borrow();
        let Some(direct) = direct.as_ref() else { return Some(data) };
        let mut data = data;
        // Only while the writer queue is empty: nothing queued or waiting.
        if plain && self.waiting_writes.get() == 0 && self.budget.available_permits() == WRITE_BUDGET {
            match direct.add(data) {
                Ok(first) => {
                    if first {
                        write_batch::schedule(self.clone());
                    }
                    return None;
                }
                Err(back) => data = back,
            }
        }
        self.queue_batch_bytes(direct.take());
        Some(data)
    }

    /// Writes the batched bytes of `send` (`write_batch`'s flush); what the
    /// socket does not take at once goes to the writer queue. (A closed
    /// socket has none: `close` drops them, as it drops queued bytes.)
    pub(super) fn flush_batch(&self) {
        let Some(direct) = &*self.direct.borrow() else { return };
        let mut batch = direct.take();
        if batch.is_empty() {
            return;
        }
        let n = direct.write(&batch);
        if let Some(entry) = &*self.census.borrow() {
            entry.sent(n);
        }
        batch.drain(..n);
        self.queue_batch_bytes(batch);
    }

    /// Queues bytes of the batch (if any). The queue is empty while there
    /// is a batch, so the budget has room for them; an error is the
    /// writer's to meet and report.
    fn queue_batch_bytes(&self, bytes: Vec<u8>) {
        if !bytes.is_empty()
            && let Some(tx) = self.queue.borrow().clone()
            && let Ok(permit) = self.budget.clone().try_acquire_many_owned(bytes.len() as u32)
        {
            let _ = tx.send(WriteReq { data: bytes, done: None, _permit: permit });
        }
    }
}

/// Hands one received chunk (or the end, once) to the `receive` handler;
/// the credit is returned once the handler has been started.
fn deliver_chunk(owner: ServiceId, id: u64, chunk: Result<Vec<u8>>, permit: Option<OwnedSemaphorePermit>, to: OnChunk) {
    crate::service::run_on(owner, move |svc| {
        to(svc, id, chunk);
        drop(permit);
    });
}

/// Writes the queued requests in order. Ends when the socket is closed
/// (the rest fail with `"closed"`) or, on a WebSocket, when the reader saw
/// the connection end (with `"eof"`); then closes the connection politely.
async fn writer_task(
    owner: ServiceId,
    mut writer: Writer,
    mut rx: mpsc::UnboundedReceiver<WriteReq>,
    closed: Rc<CloseSignal>,
    census: Arc<census::Entry>,
    // Plain TCP: lets `write_batch` use the stream's descriptor while `writer` holds it.
    _alive: Option<WriterAlive>,
) {
    let closed = closed.wait();
    tokio::pin!(closed);
    let mut failure: Option<Error> = None;
    let why = loop {
        let req = tokio::select! {
            biased;
            _ = &mut closed => break Error::Closed,
            _ = writer.reader_ended() => break Error::Eof,
            r = rx.recv() => match r { Some(r) => r, None => break Error::Closed },
        };
        let WriteReq { data, done, _permit } = req;
        let size = data.len();
        let result = match &failure {
            Some(e) => Err(e.clone()),
            None => tokio::select! {
                biased;
                _ = &mut closed => {
                    finish(owner, done, Outcome::Fail(Error::Closed));
                    break Error::Closed;
                }
                r = writer.write(data) => r,
            },
        };
        match result {
            Ok(()) => {
                census.sent(size);
                finish(owner, done, Outcome::Size(size))
            }
            Err(e) => {
                failure.get_or_insert(e.clone());
                finish(owner, done, Outcome::Fail(e));
            }
        }
    };
    rx.close();
    while let Ok(req) = rx.try_recv() {
        finish(owner, req.done, Outcome::Fail(failure.clone().unwrap_or_else(|| why.clone())));
    }
    if failure.is_none() {
        writer.close().await;
    }
}

/// A socket dropped without `close()` (its service ended, or Lua collected
/// it) is gone all the same.
impl Drop for Shared {
    fn drop(&mut self) {
        // (try_with: a socket may drop with its thread's locals)
        let _ = LIVE.try_with(|live| live.borrow_mut().remove(&self.id));
        if self.census.get_mut().take().is_some() {
            census::leave(self.id);
        }
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
    listener: RefCell<Option<Rc<Listener>>>,
    is_closed: Cell<bool>,
}

impl Server {
    pub fn new(kind: Kind, owner: ServiceId, tls: Option<Arc<ServerConfig>>) -> Rc<Server> {
        Rc::new(Server { id: next_id(), kind, owner, tls, listener: RefCell::new(None), is_closed: Cell::new(false) })
    }

    /// Binds `host:port` and starts accepting; each peer goes to `on_peer`
    /// once its handshakes are done (failed ones are dropped).
    pub fn listen(&self, svc: &Rc<Service>, host: &str, port: u16, on_peer: OnPeer) -> Result<()> {
        if self.is_closed.get() {
            return Err(Error::Closed);
        }
        if self.listener.borrow().is_some() {
            return Err(Error::other("already listening"));
        }
        let listener = Listener::bind(listener::address(host, port)?)?;
        let at = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
        census::enter(self.id, format!("{} listen", self.kind.name()), self.owner, at);
        *self.listener.borrow_mut() = Some(listener.clone());
        let (kind, owner, server) = (self.kind, self.owner, self.id);
        listener::serve(svc, listener, kind, self.tls.clone(), move |_, addr, opened| match opened {
            Ok(opened) => {
                let peer = Shared::new(kind, owner, None);
                peer.open(opened);
                let ticket = PeerTicket(peer.id);
                PEERS.with(|p| p.borrow_mut().insert(peer.id, peer));
                crate::service::run_on(owner, move |svc| {
                    if let Some(peer) = ticket.take() {
                        on_peer(svc, server, peer);
                    }
                });
            }
            Err(e) => runtime::debug(|| format!("[{owner}] {} peer {addr} dropped: {e}", kind.name())),
        });
        Ok(())
    }

    /// Stops accepting and releases the port (accepted peers live on).
    pub fn close(&self) {
        if self.is_closed.replace(true) {
            return;
        }
        if let Some(listener) = self.listener.borrow_mut().take() {
            listener.close();
            census::leave(self.id);
        }
    }

    /// The address listened on; `None` when not listening.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.borrow().as_ref().and_then(|l| l.local_addr())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.listener.get_mut().take().is_some() {
            census::leave(self.id);
        }
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
    fn a_socket_is_found_by_its_id_while_it_lives() {
        let s = Shared::new(Kind::Tcp, 1, None);
        let id = s.id;
        assert!(Rc::ptr_eq(&find(id).unwrap(), &s));
        assert!(find(next_id()).is_none(), "an id no socket has");
        drop(s);
        assert!(find(id).is_none());
        LIVE.with(|live| assert!(!live.borrow().contains_key(&id), "the entry goes with the socket"));
    }

    #[test]
    fn a_new_socket_is_idle_and_refuses_io() {
        let s = Shared::new(Kind::Tcp, 1, None);
        assert_eq!(s.phase(), Phase::Idle);
        assert_eq!(s.check_readable().err().unwrap().to_string(), "not connected");
        s.close();
        s.close();
        assert_eq!(s.phase(), Phase::Closed);
        assert_eq!(s.check_readable().err().unwrap(), Error::Closed);
    }

    #[test]
    fn after_a_local_close_reading_says_closed_even_if_the_peer_had_closed_first() {
        let s = Shared::new(Kind::Ws, 1, None);
        s.phase.set(Phase::Open);
        assert_eq!(s.end_reading(Error::Eof), Error::Eof);
        assert_eq!(s.check_readable().err().unwrap(), Error::Eof);
        s.close();
        assert_eq!(s.check_readable().err().unwrap(), Error::Closed);
        assert_eq!(s.end_reading(Error::Eof), Error::Closed);
        assert_eq!(s.writer_gone(), Error::Closed);
    }

    #[test]
    fn a_server_closed_before_listening_refuses_to_listen() {
        let srv = Server::new(Kind::Tcp, 1, None);
        assert_eq!(srv.local_addr(), None);
        srv.close();
        srv.close();
        assert!(srv.is_closed.get());
    }
}
