//! The process-wide cluster tables: links to other nodes, the public names
//! hosted here, and what each link is owed.
//!
//! * A **link** is one connection to one peer node, numbered `1..=0xFFFF`
//!   (fresh numbers first, so a stale remote id rarely reaches a new link).
//!   Anyone may queue a frame for it from any thread: its `tx` feeds the
//!   writer task that owns the socket (`transport.rs`).
//! * A link's **queue** is counted in bytes, from [`Link::queue`] to the
//!   writer's flush ([`Link::written`]). Over [`QUEUE_MARK`] a service that
//!   sent to the link's node waits for room ([`Cluster`] is the runtime's
//!   [`RemoteRoom`]), as for a crowded local queue: it is woken when the
//!   queue is back under half the mark, or when the link closes. Nothing is
//!   dropped; a peer that reads slowly only slows its senders down.
//! * A **remote handler** is service `s` of the peer behind link `l`,
//!   registered in the name registry as id `(s << 16) | l` (always above
//!   every local id). Each link remembers the ones it registered, to remove
//!   them all at once when it drops.
//! * **Pending calls**: each `(caller, session)` sent over a link and not
//!   answered yet; when the link drops every one is answered
//!   `false, "disconnected"` at once instead of waiting for the timeout.
//!   A call that times out is forgotten at once ([`Cluster::forget`]); its
//!   late answer is dropped. Any other answer that is not pending is forged
//!   and closes the link.
//! * **Public names** (`rpc.create(name, f, true)`) of local services, kept
//!   here by `announce` so that a new link can be told all of them.
//! * **Peers**: the node behind a link says who it is (member id and link
//!   address) in its `ready`; from then on it is "up" for `cluster.event`
//!   handlers, and "down" when the link closes.
//!
//! Ordering of binds. A new link must learn every public name exactly as
//! of some instant and then every change after it, never an `unbind`
//! overtaken by an older `bind`. So `sync` (the initial binds plus `ready`)
//! and `announce` (one change to all synced links) both hold the public
//! table's lock while they queue frames, and a link hears `announce` only
//! once it has been synced. Links are FIFO, so the peer sees the same order.
//!
//! Join order. The connecting side syncs at once; the accepting side syncs
//! when it has read the connector's `ready` (all the connector's binds came
//! before it). When the connector then reads the acceptor's `ready`, both
//! sides know all of each other's names, which is when a joining adapter
//! may report itself ready.
//!
//! Nothing here touches a Lua state or the runtime: effects on services come
//! back as [`Message`]s for the caller to send, so the bookkeeping is
//! tested on its own below.

use super::frame::{self, Frame};
use super::trust::Trust;
use crate::codec::wrap;
use crate::runtime::backlog::RemoteRoom;
use crate::runtime::message::{Failure, Kind, Message, ServiceId, Session};
use crate::runtime::names::Names;
use crate::runtime::registry::MAX_ID;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use tokio::sync::mpsc;

/// Remote handlers one link may register; a peer binding more is hostile.
pub const MAX_REMOTE_NAMES: usize = 100_000;

/// Timed-out calls a link remembers, to drop their late answers quietly
/// instead of taking them for forgeries. A peer answers every call it took
/// in the end, so each entry is normally consumed by one late answer; the
/// bound only matters for answers that never come.
pub const MAX_LATE: usize = 4096;

/// Bytes a link's queue holds before its senders wait for room.
pub const QUEUE_MARK: usize = 8 << 20;

/// The name whose local handlers hear nodes come and go.
pub const EVENT_NAME: &str = "cluster.event";

/// A node as `cluster.event` names it: its member id and `"ip:port"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    pub node: u32,
    pub addr: String,
}

/// What a link's writer is asked to do. Every frame of a link goes through
/// this one queue ([`Link::queue`]), so a bound on it belongs there.
#[derive(Debug, PartialEq, Eq)]
pub enum Outgoing {
    Frame(Vec<u8>),
    /// Send `leave`, close the WebSocket politely and stop.
    Leave,
}

pub type LinkId = u16;

/// The remote id of service `service` of the node behind `link`.
pub fn remote_id(service: ServiceId, link: LinkId) -> ServiceId {
    (service << 16) | link as ServiceId
}

/// `(service, link)` of a remote id.
pub fn split_remote(id: ServiceId) -> (ServiceId, LinkId) {
    (id >> 16, (id & 0xFFFF) as LinkId)
}

pub struct Link {
    pub id: LinkId,
    /// The peer node's address, `ip:port`.
    pub peer: String,
    tx: mpsc::UnboundedSender<Outgoing>,
    /// Bytes of frames queued and not yet written (see [`QUEUE_MARK`]).
    queued: AtomicUsize,
    state: Mutex<LinkState>,
}

#[derive(Default)]
struct LinkState {
    closed: bool,
    synced: bool,
    pending: HashSet<(ServiceId, Session)>,
    remote: HashSet<(Arc<str>, ServiceId)>,
    /// Calls that timed out (oldest first), whose answers may still come.
    late: VecDeque<(ServiceId, Session)>,
    /// The node behind the link, once it has said who it is.
    peer: Option<Peer>,
    /// We are leaving: the link's end is ours, nothing to report.
    leaving: bool,
    /// The peer said it leaves: its end is clean.
    left: bool,
    /// Senders waiting for room in the queue: (service, session).
    waiting: Vec<(ServiceId, Session)>,
}

impl Link {
    fn state(&self) -> MutexGuard<'_, LinkState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues one frame for the writer (dropped if the writer is gone: the
    /// link is closing and its reader will clean up).
    pub fn queue(&self, frame: Vec<u8>) {
        let _ = self.push(frame);
    }

    /// Queues one frame, counted until written; false if the writer is gone.
    fn push(&self, frame: Vec<u8>) -> bool {
        let len = frame.len();
        self.queued.fetch_add(len, Ordering::Relaxed);
        if self.tx.send(Outgoing::Frame(frame)).is_err() {
            self.queued.fetch_sub(len, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// Bytes of frames queued and not yet written.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    /// Whether senders to this link's node should wait for room.
    pub fn over_mark(&self) -> bool {
        self.queued() > QUEUE_MARK
    }

    /// The writer has written `bytes` of queued frames. Returns the wake-ups
    /// of the senders waiting for room if this took the queue under half the
    /// mark. Only such a crossing can find waiters: a sender registers while
    /// the queue is at half or more, so the next crossing sees it (the
    /// writer is the only one taking bytes off, one call at a time).
    pub fn written(&self, bytes: usize) -> Vec<Message> {
        let before = self.queued.fetch_sub(bytes, Ordering::Relaxed);
        let half = QUEUE_MARK / 2;
        if before < half || before.saturating_sub(bytes) >= half {
            return Vec::new();
        }
        wake(&mut self.state().waiting)
    }

    /// Registers `sender`'s wait (on `session`) for room in the queue; false,
    /// registering nothing, if there is room already or the link is closed
    /// (no wake-up would come). Under the state lock, so that neither
    /// [`Link::written`] nor [`Cluster::close`] can miss it.
    pub fn wait_for_room(&self, sender: ServiceId, session: Session) -> bool {
        let mut state = self.state();
        if state.closed || self.queued() < QUEUE_MARK / 2 {
            return false;
        }
        state.waiting.push((sender, session));
        true
    }

    /// The node behind this link, if it has said who it is.
    pub fn peer(&self) -> Option<Peer> {
        self.state().peer.clone()
    }

    /// How the link ended: `(we left, the peer left)`.
    pub fn ending(&self) -> (bool, bool) {
        let state = self.state();
        (state.leaving, state.left)
    }

    pub fn pending(&self) -> usize {
        self.state().pending.len()
    }

    pub fn remote_names(&self) -> usize {
        self.state().remote.len()
    }

    /// `"joining"` until both sides know each other's names began to flow, then `"up"`.
    pub fn state_name(&self) -> &'static str {
        let state = self.state();
        match (state.closed, state.synced) {
            (true, _) => "closed",
            (false, true) => "up",
            (false, false) => "joining",
        }
    }
}

/// What an incoming frame asks of the node.
pub enum Incoming {
    Nothing,
    /// Send this to a local service (a call from the peer, or a reply to one of ours).
    Local(Message),
    /// The peer has sent all its binds and is up: send these `cluster.event`s.
    Ready(Vec<Message>),
    /// The peer leaves: it sends nothing more.
    Leave,
}

#[derive(Default)]
pub struct Cluster {
    /// Key and TLS of this process's links (set when the adapter joins).
    trust: RwLock<Arc<Trust>>,
    /// Who this node is (set once the master has given it a member id).
    me: RwLock<Option<Peer>>,
    links: RwLock<HashMap<LinkId, Arc<Link>>>,
    /// The last link id handed out.
    last_id: Mutex<LinkId>,
    /// Local public names -> the local services that host them.
    public: RwLock<HashMap<Arc<str>, Vec<ServiceId>>>,
}

impl Cluster {
    /// A new link that writes through `tx`; `None` if all 65535 ids are taken.
    pub fn trust(&self) -> Arc<Trust> {
        self.trust.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn set_trust(&self, trust: Trust) {
        *self.trust.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(trust);
    }

    pub fn me(&self) -> Option<Peer> {
        self.me.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn set_me(&self, me: Peer) {
        *self.me.write().unwrap_or_else(|e| e.into_inner()) = Some(me);
    }

    pub fn open(&self, tx: mpsc::UnboundedSender<Outgoing>, peer: String) -> Option<Arc<Link>> {
        let mut links = self.links.write().unwrap_or_else(|e| e.into_inner());
        let mut last = self.last_id.lock().unwrap_or_else(|e| e.into_inner());
        let mut id = *last;
        for _ in 0..=u16::MAX {
            id = id.wrapping_add(1);
            if id != 0 && !links.contains_key(&id) {
                *last = id;
                let link = Arc::new(Link {
                    id,
                    peer,
                    tx,
                    queued: AtomicUsize::new(0),
                    state: Mutex::new(LinkState::default()),
                });
                links.insert(id, link.clone());
                return Some(link);
            }
        }
        None
    }

    pub fn link(&self, id: LinkId) -> Option<Arc<Link>> {
        self.links.read().unwrap_or_else(|e| e.into_inner()).get(&id).cloned()
    }

    pub fn link_count(&self) -> usize {
        self.links.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Every open link, by id (for operators).
    pub fn links(&self) -> Vec<Arc<Link>> {
        let mut all: Vec<Arc<Link>> = self.links.read().unwrap_or_else(|e| e.into_inner()).values().cloned().collect();
        all.sort_by_key(|l| l.id);
        all
    }

    /// Tells `link` every local public name, then `ready` (saying who we
    /// are, `me`); from now on it hears every change too (see the module
    /// docs for why under the lock).
    pub fn sync(&self, link: &Link, me: &Peer) {
        let public = self.public.read().unwrap_or_else(|e| e.into_inner());
        let mut state = link.state();
        if state.closed || state.synced {
            return;
        }
        state.synced = true;
        for (name, ids) in public.iter() {
            for &caller in ids {
                link.queue(Frame::Bind { name: name.to_string(), caller }.encode());
            }
        }
        link.queue(Frame::Ready { node: me.node, addr: me.addr.clone() }.encode());
    }

    /// We leave the cluster: every link says `leave` and closes politely.
    pub fn leave(&self) {
        for link in self.links.read().unwrap_or_else(|e| e.into_inner()).values() {
            link.state().leaving = true;
            let _ = link.tx.send(Outgoing::Leave);
        }
    }

    /// Call `(caller, session)` timed out: no link waits for its answer any
    /// more (a late one is dropped, see [`MAX_LATE`]).
    pub fn forget(&self, caller: ServiceId, session: Session) {
        for link in self.links.read().unwrap_or_else(|e| e.into_inner()).values() {
            let mut state = link.state();
            if state.pending.remove(&(caller, session)) {
                if state.late.len() >= MAX_LATE {
                    state.late.pop_front();
                }
                state.late.push_back((caller, session));
                return;
            }
        }
    }

    /// Local service `id` bound (or unbound) public `name`: record it and tell every synced link.
    pub fn announce(&self, name: &str, id: ServiceId, bound: bool) {
        let mut public = self.public.write().unwrap_or_else(|e| e.into_inner());
        let changed = if bound {
            let ids = public.entry(Arc::from(name)).or_default();
            let fresh = !ids.contains(&id);
            if fresh {
                ids.push(id);
            }
            fresh
        } else {
            match public.get_mut(name) {
                Some(ids) => {
                    let before = ids.len();
                    ids.retain(|&i| i != id);
                    let gone = ids.len() != before;
                    if ids.is_empty() {
                        public.remove(name);
                    }
                    gone
                }
                None => false,
            }
        };
        if !changed {
            return;
        }
        let frame = if bound {
            Frame::Bind { name: name.to_owned(), caller: id }
        } else {
            Frame::Unbind { name: name.to_owned(), caller: id }
        }
        .encode();
        for link in self.links.read().unwrap_or_else(|e| e.into_inner()).values() {
            let state = link.state();
            if state.synced && !state.closed {
                link.queue(frame.clone());
            }
        }
    }

    /// Whether local service `id` hosts public `name`; the shared name if so.
    fn public_name(&self, name: &str, id: ServiceId) -> Option<Arc<str>> {
        let public = self.public.read().unwrap_or_else(|e| e.into_inner());
        let (key, ids) = public.get_key_value(name)?;
        ids.contains(&id).then(|| key.clone())
    }

    /// Sends `msg` (addressed to a remote id) over its link. `Err(msg)`: it
    /// could not be sent, and the caller should fail it (`"disconnected"`).
    pub fn route(&self, msg: Message) -> Result<(), Message> {
        let (who, link_id) = split_remote(msg.to);
        let Some(link) = self.link(link_id) else { return Err(msg) };
        match &msg.kind {
            Kind::Call(name) => {
                if msg.from == 0 || msg.from > MAX_ID || who == 0 {
                    return Err(msg);
                }
                let rcf = u32::from(msg.session != 0);
                let bytes = frame::deliver(name, &msg.payload, 0, who, msg.from, rcf, msg.session);
                let mut state = link.state();
                if state.closed {
                    return Err(msg);
                }
                if msg.session != 0 {
                    state.pending.insert((msg.from, msg.session));
                }
                if !link.push(bytes) {
                    state.pending.remove(&(msg.from, msg.session));
                    return Err(msg);
                }
                Ok(())
            }
            Kind::Reply(failed) => {
                // Nobody to tell if this fails: the caller's node lost the link too.
                if who != 0 && !link.state().closed {
                    link.queue(frame::response(&msg.payload, who, 1, msg.session, *failed));
                }
                Ok(())
            }
            _ => Err(msg),
        }
    }

    /// Handles one frame read from `link`. `Err`: the peer is broken or
    /// hostile and the link must close.
    pub fn incoming(&self, link: &Link, bytes: &[u8], names: &Names) -> Result<Incoming, String> {
        match Frame::decode(bytes)? {
            Frame::Bind { name, caller } => {
                let mut state = link.state();
                if state.remote.len() >= MAX_REMOTE_NAMES {
                    return Err(format!("more than {MAX_REMOTE_NAMES} names bound"));
                }
                let id = remote_id(caller, link.id);
                if !state.closed && names.add(&name, id) {
                    state.remote.insert((Arc::from(name), id));
                }
                Ok(Incoming::Nothing)
            }
            Frame::Unbind { name, caller } => {
                let mut state = link.state();
                let id = remote_id(caller, link.id);
                if state.remote.remove(&(Arc::from(name.as_str()), id)) {
                    names.remove(&name, id);
                }
                Ok(Incoming::Nothing)
            }
            Frame::Ready { node, addr } => {
                let peer = Peer { node, addr };
                let mut state = link.state();
                if state.peer.is_some() {
                    return Err("a second 'ready'".into());
                }
                state.peer = Some(peer.clone());
                Ok(Incoming::Ready(events("up", u64::from(peer.node), &peer.addr, names)))
            }
            Frame::Leave => {
                link.state().left = true;
                Ok(Incoming::Leave)
            }
            Frame::Challenge { .. } | Frame::Proof { .. } => Err("a handshake message after the handshake".into()),
            Frame::Deliver { name, argv, who, caller, rcf, sn, .. } => {
                let session = if rcf != 0 { sn } else { 0 };
                // Only public names of this node: never forwarded, never private.
                match self.public_name(&name, who) {
                    Some(shared) => Ok(Incoming::Local(Message {
                        to: who,
                        from: remote_id(caller, link.id),
                        session,
                        kind: Kind::Call(shared),
                        payload: argv,
                    })),
                    None => {
                        if session != 0 {
                            let not_found = wrap::failure(&format!("{name} not found"));
                            link.queue(frame::response(&not_found, caller, rcf, sn, Some(Failure::NotFound)));
                        }
                        Ok(Incoming::Nothing)
                    }
                }
            }
            Frame::Response { data, caller, sn, fail, .. } => {
                // Only answers to calls pending on this very link; a late
                // one (after our timeout) is dropped, anything else is forged.
                let mut state = link.state();
                if state.pending.remove(&(caller, sn)) {
                    Ok(Incoming::Local(Message { to: caller, from: 0, session: sn, kind: Kind::Reply(fail), payload: data }))
                } else if let Some(at) = state.late.iter().position(|&c| c == (caller, sn)) {
                    state.late.remove(at);
                    Ok(Incoming::Nothing)
                } else {
                    Err(format!("a response to a call it was not sent (service {caller}, session {sn})"))
                }
            }
        }
    }

    /// `link` dropped: forgets it and its remote handlers; returns the
    /// `false, "disconnected"` answers its pending calls are owed, and the
    /// `"down"` events of its node if it was up.
    pub fn close(&self, link: &Link, names: &Names) -> Vec<Message> {
        {
            let mut links = self.links.write().unwrap_or_else(|e| e.into_inner());
            if links.get(&link.id).is_some_and(|l| std::ptr::eq(&**l, link)) {
                links.remove(&link.id);
            }
        }
        let mut state = link.state();
        if state.closed {
            return Vec::new();
        }
        state.closed = true;
        for (name, id) in state.remote.drain() {
            names.remove(&name, id);
        }
        let mut out: Vec<Message> = state
            .pending
            .drain()
            .map(|(caller, session)| Message::failure(caller, 0, session, Failure::Disconnected))
            .collect();
        out.extend(wake(&mut state.waiting));
        if let Some(peer) = &state.peer {
            out.extend(events("down", u64::from(peer.node), &peer.addr, names));
        }
        out
    }
}

/// The cluster's links are the runtime's queues towards remote ids.
impl RemoteRoom for Cluster {
    fn over_mark(&self, to: ServiceId) -> bool {
        self.link(split_remote(to).1).is_some_and(|l| l.over_mark())
    }

    fn wait_for_room(&self, to: ServiceId, sender: ServiceId, session: Session) -> bool {
        self.link(split_remote(to).1).is_some_and(|l| l.wait_for_room(sender, session))
    }
}

/// The wake-ups of the senders in `waiting` (taken out of it).
fn wake(waiting: &mut Vec<(ServiceId, Session)>) -> Vec<Message> {
    waiting.drain(..).map(|(sender, session)| Message::signal(sender, session, Kind::Wake)).collect()
}

/// The one-way `cluster.event` message `(what, node, address)` for every
/// local handler of it (remote ones never hear another node's events).
/// Both transports report through here: the mesh with member ids and link
/// addresses, NATS with its node ids and the IPs the server sees.
pub fn events(what: &str, node: u64, addr: &str, names: &Names) -> Vec<Message> {
    let Some(group) = names.lookup(EVENT_NAME) else { return Vec::new() };
    let mut payload = Vec::with_capacity(addr.len() + 16);
    // wrap(what, node, address): the values one after another, strings as str.
    let _ = rmp::encode::write_str(&mut payload, what);
    let _ = rmp::encode::write_uint(&mut payload, node);
    let _ = rmp::encode::write_str(&mut payload, addr);
    group
        .ids
        .iter()
        .filter(|&&id| id <= MAX_ID)
        .map(|&to| Message { to, from: 0, session: 0, kind: Kind::Call(group.name.clone()), payload: payload.clone() })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(rx: &mut mpsc::UnboundedReceiver<Outgoing>) -> Vec<Frame> {
        let mut out = Vec::new();
        while let Ok(o) = rx.try_recv() {
            match o {
                Outgoing::Frame(b) => out.push(Frame::decode(&b).unwrap()),
                Outgoing::Leave => out.push(Frame::Leave),
            }
        }
        out
    }

    fn me() -> Peer {
        Peer { node: 1, addr: "127.0.0.1:9".into() }
    }

    /// A cluster with one open link, and what is written on that link.
    fn one_link() -> (Cluster, Names, Arc<Link>, mpsc::UnboundedReceiver<Outgoing>) {
        let c = Cluster::default();
        let (tx, rx) = mpsc::unbounded_channel();
        let link = c.open(tx, "127.0.0.1:7000".into()).unwrap();
        (c, Names::default(), link, rx)
    }

    fn call(to: ServiceId, from: ServiceId, session: Session, name: &str, payload: &[u8]) -> Message {
        Message { to, from, session, kind: Kind::Call(Arc::from(name)), payload: payload.to_vec() }
    }

    #[test]
    fn remote_ids_pack_service_and_link() {
        assert_eq!(remote_id(3, 2), 0x0003_0002);
        assert_eq!(split_remote(0xFFFF_0001), (0xFFFF, 1));
        assert!(remote_id(1, 1) > MAX_ID);
    }

    #[test]
    fn link_ids_are_fresh_first_and_never_zero() {
        let c = Cluster::default();
        let (tx, _rx) = mpsc::unbounded_channel();
        let a = c.open(tx.clone(), "127.0.0.1:7000".into()).unwrap();
        let b = c.open(tx.clone(), "127.0.0.1:7000".into()).unwrap();
        assert_eq!((a.id, b.id), (1, 2));
        let names = Names::default();
        c.close(&a, &names);
        assert_eq!(c.open(tx.clone(), "127.0.0.1:7000".into()).unwrap().id, 3, "a closed id is not reused at once");
        assert_eq!(c.link_count(), 2);
        let listed: Vec<(LinkId, &'static str)> = c.links().iter().map(|l| (l.id, l.state_name())).collect();
        assert_eq!(listed, vec![(2, "joining"), (3, "joining")]);
        c.sync(&b, &me());
        assert_eq!(b.state_name(), "up");
        assert_eq!(b.peer, "127.0.0.1:7000");
    }

    #[test]
    fn sync_sends_every_public_name_then_ready_and_later_changes() {
        let c = Cluster::default();
        c.announce("a", 5, true);
        c.announce("a", 6, true);
        c.announce("b", 5, true);
        c.announce("b", 5, false);
        c.announce("b", 5, false);
        let (tx, mut rx) = mpsc::unbounded_channel();
        let link = c.open(tx, "127.0.0.1:7000".into()).unwrap();
        c.announce("early", 1, true);
        assert!(frames(&mut rx).is_empty(), "nothing before the sync");
        c.sync(&link, &me());
        let mut got = frames(&mut rx);
        assert_eq!(got.pop(), Some(Frame::Ready { node: 1, addr: "127.0.0.1:9".into() }));
        got.sort_by_key(|f| format!("{f:?}"));
        assert_eq!(got, vec![
            Frame::Bind { name: "a".into(), caller: 5 },
            Frame::Bind { name: "a".into(), caller: 6 },
            Frame::Bind { name: "early".into(), caller: 1 },
        ]);
        c.sync(&link, &me());
        assert!(frames(&mut rx).is_empty(), "synced once");
        c.announce("a", 6, false);
        assert_eq!(frames(&mut rx), vec![Frame::Unbind { name: "a".into(), caller: 6 }]);
    }

    #[test]
    fn binds_register_remote_handlers_and_close_removes_them() {
        let c = Cluster::default();
        let names = Names::default();
        names.add("echo", 4);
        let (tx, _rx) = mpsc::unbounded_channel();
        let link = c.open(tx, "127.0.0.1:7000".into()).unwrap();
        let bind = Frame::Bind { name: "echo".into(), caller: 9 }.encode();
        assert!(matches!(c.incoming(&link, &bind, &names), Ok(Incoming::Nothing)));
        c.incoming(&link, &Frame::Bind { name: "other".into(), caller: 9 }.encode(), &names).unwrap();
        assert_eq!(names.lookup("echo").unwrap().ids, vec![4, remote_id(9, link.id)]);
        c.incoming(&link, &Frame::Unbind { name: "other".into(), caller: 9 }.encode(), &names).unwrap();
        assert!(names.lookup("other").is_none());
        assert_eq!(link.remote_names(), 1);
        assert!(c.close(&link, &names).is_empty());
        assert_eq!(names.lookup("echo").unwrap().ids, vec![4]);
        assert!(c.link(link.id).is_none());
        // a bind that arrives after the close registers nothing
        c.incoming(&link, &bind, &names).unwrap();
        assert_eq!(names.lookup("echo").unwrap().ids, vec![4]);
    }

    #[test]
    fn calls_are_framed_tracked_and_failed_on_close() {
        let (c, names, link, mut rx) = one_link();
        let to = remote_id(7, link.id);
        assert!(c.route(call(to, 3, 11, "echo", b"\x01")).is_ok());
        assert!(c.route(call(to, 3, 0, "echo", b"\x02")).is_ok());
        assert_eq!(frames(&mut rx), vec![
            Frame::Deliver { name: "echo".into(), argv: vec![1], mask: 0, who: 7, caller: 3, rcf: 1, sn: 11 },
            Frame::Deliver { name: "echo".into(), argv: vec![2], mask: 0, who: 7, caller: 3, rcf: 0, sn: 0 },
        ]);
        assert_eq!(link.pending(), 1, "one-way messages are not tracked");
        let failed = c.close(&link, &names);
        assert_eq!(failed.len(), 1);
        assert_eq!((failed[0].to, failed[0].session), (3, 11));
        assert_eq!(failed[0].payload, wrap::failure("disconnected"));
        // after the close, a call cannot go: the caller fails it at once
        assert!(c.route(call(to, 3, 12, "echo", b"")).is_err());
        assert!(c.route(call(remote_id(7, 999), 3, 12, "echo", b"")).is_err());
    }

    #[test]
    fn responses_reach_only_pending_callers() {
        let (c, names, link, mut rx) = one_link();
        assert!(c.route(call(remote_id(7, link.id), 3, 11, "echo", b"")).is_ok());
        frames(&mut rx);
        let answer = frame::response(b"\xc3\x05", 3, 1, 11, None);
        match c.incoming(&link, &answer, &names).unwrap() {
            Incoming::Local(m) => {
                assert_eq!((m.to, m.session, m.payload.as_slice()), (3, 11, &b"\xc3\x05"[..]));
                assert!(matches!(m.kind, Kind::Reply(None)));
            }
            _ => panic!("expected a local message"),
        }
        assert!(c.incoming(&link, &answer, &names).is_err(), "answered once: a second answer is forged");
        assert_eq!(link.pending(), 0);
    }

    #[test]
    fn a_forged_response_closes_the_link_and_reaches_nobody() {
        let (c, names, link, _rx) = one_link();
        assert!(c.route(call(remote_id(7, link.id), 3, 11, "echo", b"")).is_ok());
        // another caller, another session: not pending on this link
        assert!(c.incoming(&link, &frame::response(b"\xc3", 4, 1, 11, None), &names).is_err());
        assert!(c.incoming(&link, &frame::response(b"\xc3", 3, 1, 12, None), &names).is_err());
        // the call pending on another link is not this link's to answer
        let (tx, _rx2) = mpsc::unbounded_channel();
        let other = c.open(tx, "127.0.0.1:7000".into()).unwrap();
        assert!(c.incoming(&other, &frame::response(b"\xc3", 3, 1, 11, None), &names).is_err());
        assert_eq!(link.pending(), 1);
    }

    #[test]
    fn a_timed_out_call_is_forgotten_and_its_late_answer_dropped() {
        let (c, names, link, _rx) = one_link();
        assert!(c.route(call(remote_id(7, link.id), 3, 11, "echo", b"")).is_ok());
        assert!(c.route(call(remote_id(7, link.id), 3, 12, "echo", b"")).is_ok());
        c.forget(3, 11);
        c.forget(3, 99); // never sent: nothing to forget
        assert_eq!(link.pending(), 1);
        let late = frame::response(b"\xc3", 3, 1, 11, None);
        assert!(matches!(c.incoming(&link, &late, &names).unwrap(), Incoming::Nothing), "dropped quietly");
        assert!(c.incoming(&link, &late, &names).is_err(), "but only once");
        // closing fails only what is still pending
        assert_eq!(c.close(&link, &names).len(), 1);
    }

    #[test]
    fn the_late_memory_is_bounded() {
        let (c, _names, link, _rx) = one_link();
        for sn in 1..=(MAX_LATE as u32 + 10) {
            assert!(c.route(call(remote_id(7, link.id), 3, sn, "echo", b"")).is_ok());
            c.forget(3, sn);
        }
        assert_eq!(link.state().late.len(), MAX_LATE);
        assert_eq!(link.pending(), 0);
    }

    #[test]
    fn ready_makes_the_peer_up_for_event_handlers_and_close_down() {
        let (c, names, link, _rx) = one_link();
        names.add_private(EVENT_NAME, 4);
        names.add(EVENT_NAME, remote_id(2, 9)); // a remote handler never hears our events
        let ready = Frame::Ready { node: 7, addr: "10.0.0.2:4100".into() }.encode();
        let Ok(Incoming::Ready(up)) = c.incoming(&link, &ready, &names) else { panic!("expected ready") };
        let mut want = Vec::new();
        rmp::encode::write_str(&mut want, "up").unwrap();
        rmp::encode::write_uint(&mut want, 7).unwrap();
        rmp::encode::write_str(&mut want, "10.0.0.2:4100").unwrap();
        assert_eq!(up.len(), 1);
        assert_eq!((up[0].to, up[0].session, &up[0].payload), (4, 0, &want));
        assert!(matches!(&up[0].kind, Kind::Call(n) if &**n == EVENT_NAME));
        assert_eq!(link.peer(), Some(Peer { node: 7, addr: "10.0.0.2:4100".into() }));
        assert!(c.incoming(&link, &ready, &names).is_err(), "ready once");
        let down = c.close(&link, &names);
        assert_eq!(down.len(), 1);
        assert_eq!(&down[0].payload[..5], b"\xa4down");
        assert_eq!(&down[0].payload[5..], &want[3..], "same node and address as the up");
    }

    #[test]
    fn leaving_says_leave_on_every_link_and_handshake_frames_are_refused_after_it() {
        let (c, names, link, mut rx) = one_link();
        assert!(matches!(c.incoming(&link, &Frame::Leave.encode(), &names), Ok(Incoming::Leave)));
        assert_eq!(link.ending(), (false, true));
        c.leave();
        assert_eq!(frames(&mut rx), vec![Frame::Leave]);
        assert_eq!(link.ending(), (true, true));
        let challenge = Frame::Challenge { nonce: "00".repeat(32) }.encode();
        assert!(c.incoming(&link, &challenge, &names).is_err());
    }

    #[test]
    fn incoming_calls_reach_only_local_public_handlers() {
        let c = Cluster::default();
        let names = Names::default();
        c.announce("pub", 2, true);
        let (tx, mut rx) = mpsc::unbounded_channel();
        let link = c.open(tx, "127.0.0.1:7000".into()).unwrap();
        let d = frame::deliver("pub", b"\x07", 0, 2, 9, 1, 5);
        match c.incoming(&link, &d, &names).unwrap() {
            Incoming::Local(m) => {
                assert_eq!((m.to, m.from, m.session), (2, remote_id(9, link.id), 5));
                assert!(matches!(&m.kind, Kind::Call(n) if &**n == "pub"));
                assert_eq!(m.payload, vec![7]);
            }
            _ => panic!("expected a local message"),
        }
        // the right name on the wrong service, or an unknown name: refused with an answer
        for (name, who) in [("pub", 3), ("private", 2)] {
            let d = frame::deliver(name, b"", 0, who, 9, 1, 6);
            assert!(matches!(c.incoming(&link, &d, &names).unwrap(), Incoming::Nothing));
            let expect = Frame::Response {
                data: wrap::failure(&format!("{name} not found")),
                caller: 9,
                rcf: 1,
                sn: 6,
                fail: Some(Failure::NotFound),
            };
            assert_eq!(frames(&mut rx), vec![expect]);
        }
        // one-way: no answer at all
        c.incoming(&link, &frame::deliver("private", b"", 0, 2, 9, 0, 0), &names).unwrap();
        assert!(frames(&mut rx).is_empty());
    }

    #[test]
    fn replies_to_remote_callers_become_responses() {
        let c = Cluster::default();
        let (tx, mut rx) = mpsc::unbounded_channel();
        let link = c.open(tx, "127.0.0.1:7000".into()).unwrap();
        assert!(c.route(Message::reply(remote_id(9, link.id), 2, 5, b"\xc3".to_vec())).is_ok());
        assert_eq!(frames(&mut rx), vec![Frame::Response { data: vec![0xc3], caller: 9, rcf: 1, sn: 5, fail: None }]);
    }

    #[test]
    fn bad_frames_are_errors() {
        let c = Cluster::default();
        let names = Names::default();
        let (tx, _rx) = mpsc::unbounded_channel();
        let link = c.open(tx, "127.0.0.1:7000".into()).unwrap();
        assert!(c.incoming(&link, b"garbage", &names).is_err());
        assert!(c.incoming(&link, b"\x81\xa4what\xa5hello", &names).is_err());
    }

    /// The wake-ups in `msgs`, as (service, session).
    fn wakes(msgs: &[Message]) -> Vec<(ServiceId, Session)> {
        msgs.iter().filter(|m| matches!(m.kind, Kind::Wake)).map(|m| (m.to, m.session)).collect()
    }

    #[test]
    fn the_queue_counts_frame_bytes_until_written() {
        let (c, _names, link, mut rx) = one_link();
        let to = remote_id(7, link.id);
        assert!(c.route(call(to, 3, 0, "echo", &[0; 1000])).is_ok());
        link.queue(vec![0; 500]);
        let framed: usize = std::iter::from_fn(|| rx.try_recv().ok())
            .map(|o| match o {
                Outgoing::Frame(f) => f.len(),
                Outgoing::Leave => 0,
            })
            .sum();
        assert!(framed > 1500, "the call's frame carries its payload");
        assert_eq!(link.queued(), framed);
        assert!(link.written(framed).is_empty());
        assert_eq!(link.queued(), 0);
        // a frame the writer will never take (writer gone) is not counted
        drop(rx);
        link.queue(vec![0; 10]);
        assert_eq!(link.queued(), 0);
    }

    #[test]
    fn senders_wait_over_the_mark_and_are_woken_once_under_half() {
        let (c, _names, link, _rx) = one_link();
        let to = remote_id(7, link.id);
        let chunk = QUEUE_MARK / 8;
        for _ in 0..8 {
            link.queue(vec![0; chunk]);
        }
        assert!(!link.over_mark() && !c.over_mark(to), "at the mark, not over it");
        link.queue(vec![0; 1]);
        assert!(link.over_mark() && c.over_mark(to));
        assert!(c.wait_for_room(to, 3, 41));
        assert!(c.wait_for_room(remote_id(9, link.id), 4, 42), "any service of the node waits on its link");
        let mut woken = Vec::new();
        for _ in 0..4 {
            woken.extend(wakes(&link.written(chunk)));
            assert!(woken.is_empty(), "not before the queue is under half");
        }
        assert_eq!(link.queued(), QUEUE_MARK / 2 + 1);
        assert!(wakes(&link.written(1)).is_empty(), "at half is not under half");
        woken.extend(wakes(&link.written(1)));
        assert_eq!(woken, vec![(3, 41), (4, 42)]);
        assert!(wakes(&link.written(chunk)).is_empty(), "woken once");
        assert!(!c.wait_for_room(to, 3, 43), "under half: no wait registered");
    }

    #[test]
    fn closing_a_link_wakes_its_waiting_senders_and_takes_no_more() {
        let (c, names, link, _rx) = one_link();
        let to = remote_id(7, link.id);
        link.queue(vec![0; QUEUE_MARK + 1]);
        assert!(c.wait_for_room(to, 3, 7));
        let out = c.close(&link, &names);
        assert_eq!(wakes(&out), vec![(3, 7)]);
        assert!(!link.wait_for_room(3, 8), "a closed link wakes nobody later");
        assert!(!c.over_mark(to) && !c.wait_for_room(to, 3, 9), "no link: nothing to wait for");
    }
}
