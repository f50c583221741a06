//! Cluster over NATS: nodes meet through a NATS server instead of the mesh
//! (docs/cluster.md, "Cluster over NATS").
//!
//! Nothing is learnt about other nodes' names: a call of a name with no
//! handler in this process goes to the server as a request on the name's
//! subject, and whichever node serves it answers (the server picks one node
//! of the queue group at random; "no responders" means nobody serves it).
//! The runtime reaches this module through three reserved remote ids (low
//! 16 bits zero, which no mesh link uses):
//!
//! * [`CALL_ID`]: the name registry's stand-in for "some node serving the
//!   name" (`Names::set_elsewhere`): calls and one-way messages to it
//!   become requests or publishes on `<prefix>.rpc.<name>`;
//! * [`BROADCAST_ID`]: `rpc.deliver` to all also sends here, a publish on
//!   `<prefix>.all.<name>`;
//! * [`CALLER_ID`]: the caller of a request that came from another node;
//!   the local service's answer to it becomes the request's reply.
//!
//! * [`subject`]: rpc names as subjects; [`calls`]: pending calls both
//!   ways; [`peers`]: heartbeats and node events; [`client`]: the
//!   connection (async-nats) and the tasks that drive it.

pub mod calls;
pub mod client;
pub mod peers;
pub mod subject;

use crate::codec::wrap;
use crate::error::Error;
use crate::runtime::{
    self,
    message::{Failure, Kind, Message, ServiceId},
    registry::MAX_ID,
};
use calls::Calls;
use rustc_hash::FxHashMap as HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock};
use tokio::sync::mpsc;

pub const CALL_ID: ServiceId = 1 << 16;
pub const BROADCAST_ID: ServiceId = 2 << 16;
pub const CALLER_ID: ServiceId = 3 << 16;

/// Whether remote id `id` is one of ours rather than a mesh link's.
pub fn owns(id: ServiceId) -> bool {
    id > MAX_ID && id & 0xFFFF == 0
}

/// The process's NATS tables (idle until `cluster.nats` connects).
pub fn nats() -> &'static Nats {
    static NATS: OnceLock<Nats> = OnceLock::new();
    NATS.get_or_init(Nats::default)
}

/// Work for the task that owns the connection, queued from any thread.
#[derive(Debug, PartialEq, Eq)]
pub enum Out {
    Publish { subject: String, reply: Option<String>, payload: Vec<u8> },
    Subscribe(Arc<str>),
    Unsubscribe(Arc<str>),
}

/// This process as a NATS node, while `cluster.nats` runs.
pub struct Node {
    /// Random, so that restarted processes are new nodes.
    pub id: u64,
    pub prefix: String,
    /// Reply subjects of our requests are `<inbox>.<token>`.
    pub inbox: String,
    tx: mpsc::UnboundedSender<Out>,
    connected: AtomicBool,
    max_payload: AtomicUsize,
    /// The server last connected to, `host:port` (for operators).
    server: Mutex<String>,
    pub calls: Calls,
}

impl Node {
    pub fn new(prefix: String, tx: mpsc::UnboundedSender<Out>) -> Node {
        let id = rand::random::<u64>() >> 16 | 1;
        Node {
            id,
            inbox: format!("_INBOX.{prefix}.{id:x}"),
            prefix,
            tx,
            connected: AtomicBool::new(false),
            max_payload: AtomicUsize::new(usize::MAX),
            server: Mutex::new(String::new()),
            calls: Calls::default(),
        }
    }

    pub fn set_connected(&self, connected: bool, max_payload: usize) {
        self.max_payload.store(max_payload, Ordering::Relaxed);
        self.connected.store(connected, Ordering::Release);
    }

    pub fn connected(&self) -> bool {
        self.connected.load(Ordering::Acquire)
    }

    pub fn set_server(&self, server: String) {
        *self.server.lock().unwrap_or_else(|e| e.into_inner()) = server;
    }

    pub fn server(&self) -> String {
        self.server.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn too_large(&self, payload: &[u8]) -> bool {
        payload.len() > self.max_payload.load(Ordering::Relaxed)
    }

    fn queue(&self, out: Out) -> bool {
        self.tx.send(out).is_ok()
    }

    /// A call or one-way message from a local service to whichever node serves the name.
    fn call(&self, msg: Message, name: Arc<str>) -> Result<(), Message> {
        if !self.connected() {
            return Err(msg);
        }
        if self.too_large(&msg.payload) {
            fail(msg.from, msg.session, &Error::MessageTooLarge);
            return Ok(());
        }
        let subject = subject::rpc(&self.prefix, &name);
        let token = (msg.session != 0).then(|| self.calls.start(msg.from, msg.session, name));
        let reply = token.map(|t| format!("{}.{t}", self.inbox));
        if self.queue(Out::Publish { subject, reply, payload: msg.payload }) {
            return Ok(());
        }
        if let Some(t) = token {
            self.calls.abandon(t);
        }
        if msg.session != 0 {
            runtime::get().send(Message::failure(msg.from, 0, msg.session, Failure::Disconnected));
        }
        Ok(())
    }

    /// An answer of a local service to a request from another node.
    fn reply(&self, msg: Message) {
        let Some(reply) = self.calls.reply_subject(msg.session) else { return };
        let payload = if self.too_large(&msg.payload) { wrap::failure(&Error::MessageTooLarge.to_string()) } else { msg.payload };
        self.queue(Out::Publish { subject: reply, reply: None, payload });
    }
}

/// Answers `(caller, session)` with `false, why` (nothing for a one-way message).
fn fail(caller: ServiceId, session: u32, why: &Error) {
    if session != 0 && caller != 0 {
        runtime::get().send(Message::reply(caller, 0, session, wrap::failure(&why.to_string())));
    }
}

/// The local services that host one public name, and the round-robin position.
struct Served {
    name: Arc<str>,
    ids: Vec<ServiceId>,
    next: usize,
}

#[derive(Default)]
pub struct Nats {
    /// Local public names, kept from the start so that a node connecting
    /// later subscribes them all.
    public: Mutex<HashMap<Arc<str>, Served>>,
    node: RwLock<Option<Arc<Node>>>,
}

impl Nats {
    fn public(&self) -> MutexGuard<'_, HashMap<Arc<str>, Served>> {
        self.public.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn node(&self) -> Option<Arc<Node>> {
        self.node.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Makes `node` this process's node; returns the public names to
    /// subscribe now. Later changes reach it as `Subscribe`/`Unsubscribe`,
    /// after these (both happen under the public table's lock). `None` if
    /// another node is attached already.
    pub fn attach(&self, node: Arc<Node>) -> Option<Vec<Arc<str>>> {
        let public = self.public();
        let mut slot = self.node.write().unwrap_or_else(|e| e.into_inner());
        if slot.is_some() {
            return None;
        }
        *slot = Some(node);
        Some(public.keys().cloned().collect())
    }

    /// `node` is gone (its task ended).
    pub fn detach(&self, node: &Arc<Node>) {
        let mut slot = self.node.write().unwrap_or_else(|e| e.into_inner());
        if slot.as_ref().is_some_and(|n| Arc::ptr_eq(n, node)) {
            *slot = None;
        }
    }

    /// Local service `id` bound (or unbound) public `name`.
    pub fn announce(&self, name: &str, id: ServiceId, bound: bool) {
        let mut public = self.public();
        let change = if bound {
            let key: Arc<str> = Arc::from(name);
            let served = public.entry(key.clone()).or_insert_with(|| Served { name: key, ids: Vec::new(), next: 0 });
            if served.ids.contains(&id) {
                return;
            }
            served.ids.push(id);
            (served.ids.len() == 1).then(|| Out::Subscribe(Arc::from(name)))
        } else {
            let Some(served) = public.get_mut(name) else { return };
            served.ids.retain(|&i| i != id);
            let emptied = served.ids.is_empty();
            if emptied {
                public.remove(name);
            }
            emptied.then(|| Out::Unsubscribe(Arc::from(name)))
        };
        if let (Some(out), Some(node)) = (change, self.node()) {
            node.queue(out);
        }
    }

    /// The next local public handler of `name`, with the shared name.
    pub fn pick(&self, name: &str) -> Option<(ServiceId, Arc<str>)> {
        let mut public = self.public();
        let served = public.get_mut(name)?;
        let id = served.ids[served.next % served.ids.len()];
        served.next = served.next.wrapping_add(1);
        Some((id, served.name.clone()))
    }

    /// Every local public handler of `name`.
    pub fn served(&self, name: &str) -> Option<(Vec<ServiceId>, Arc<str>)> {
        let public = self.public();
        let (key, served) = public.get_key_value(name)?;
        Some((served.ids.clone(), key.clone()))
    }

    /// The connection to the server counted as one link while it is up
    /// (operators' figures: `skynet_cluster_links`, the console's `stat`).
    pub fn link_count(&self) -> usize {
        usize::from(self.node().is_some_and(|n| n.connected()))
    }

    /// Call `(caller, session)` timed out: no answer is awaited any more.
    pub fn forget(&self, caller: ServiceId, session: u32) {
        if let Some(node) = self.node() {
            node.calls.forget(caller, session);
        }
    }

    /// Sends `msg`, addressed to one of our ids. `Err(msg)`: not connected
    /// (the runtime answers `"disconnected"`).
    pub fn route(&self, msg: Message) -> Result<(), Message> {
        let Some(node) = self.node() else { return Err(msg) };
        match (&msg.kind, msg.to) {
            (Kind::Call(name), CALL_ID) => {
                let name = name.clone();
                node.call(msg, name)
            }
            (Kind::Call(name), BROADCAST_ID) => {
                if node.connected() && !node.too_large(&msg.payload) {
                    node.queue(Out::Publish { subject: subject::all(&node.prefix, name), reply: None, payload: msg.payload });
                }
                Ok(())
            }
            (Kind::Reply(_), CALLER_ID) => {
                node.reply(msg);
                Ok(())
            }
            _ => Err(msg),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn node() -> (Nats, Arc<Node>, mpsc::UnboundedReceiver<Out>) {
        let nats = Nats::default();
        let (tx, rx) = mpsc::unbounded_channel();
        let node = Arc::new(Node::new("sk".into(), tx));
        (nats, node, rx)
    }

    fn outs(rx: &mut mpsc::UnboundedReceiver<Out>) -> Vec<Out> {
        std::iter::from_fn(|| rx.try_recv().ok()).collect()
    }

    fn call(to: ServiceId, session: u32, name: &str, payload: &[u8]) -> Message {
        Message { to, from: 4, session, kind: Kind::Call(Arc::from(name)), payload: payload.to_vec() }
    }

    #[test]
    fn our_ids_are_remote_and_never_a_link() {
        for id in [CALL_ID, BROADCAST_ID, CALLER_ID] {
            assert!(owns(id));
        }
        assert!(!owns(0x0001_0001), "service 1 of link 1");
        assert!(!owns(0xFFFF));
    }

    #[test]
    fn attach_returns_the_names_and_later_changes_follow() {
        let (nats, node, mut rx) = node();
        nats.announce("a", 5, true);
        nats.announce("a", 6, true);
        nats.announce("b", 5, true);
        nats.announce("b", 5, false);
        let mut names = nats.attach(node.clone()).unwrap();
        names.sort();
        assert_eq!(names, vec![Arc::from("a")]);
        assert!(outs(&mut rx).is_empty());
        assert!(nats.attach(node.clone()).is_none(), "one node per process");
        nats.announce("c", 5, true);
        nats.announce("c", 6, true);
        nats.announce("a", 5, false);
        nats.announce("a", 6, false);
        assert_eq!(outs(&mut rx), vec![Out::Subscribe(Arc::from("c")), Out::Unsubscribe(Arc::from("a"))]);
        nats.detach(&node);
        assert!(nats.node().is_none());
    }

    #[test]
    fn local_handlers_are_picked_round_robin() {
        let nats = Nats::default();
        nats.announce("a", 5, true);
        nats.announce("a", 6, true);
        let picks: Vec<_> = (0..3).map(|_| nats.pick("a").unwrap().0).collect();
        assert_eq!(picks, vec![5, 6, 5]);
        assert!(nats.pick("b").is_none());
        assert_eq!(nats.served("a").unwrap().0, vec![5, 6]);
    }

    #[test]
    fn calls_need_a_connection() {
        let (nats, node, mut rx) = node();
        assert!(nats.route(call(CALL_ID, 1, "x", b"")).is_err(), "no node");
        nats.attach(node.clone());
        assert!(nats.route(call(CALL_ID, 1, "x", b"")).is_err(), "not connected");
        assert_eq!(node.calls.outgoing(), 0);
        node.set_connected(true, 100);
        assert!(nats.route(call(CALL_ID, 1, "x", b"\x01")).is_ok());
        assert!(nats.route(call(CALL_ID, 0, "x", b"\x02")).is_ok());
        let got = outs(&mut rx);
        let inbox = &node.inbox;
        assert_eq!(got, vec![
            Out::Publish { subject: "sk.rpc.x".into(), reply: Some(format!("{inbox}.1")), payload: vec![1] },
            Out::Publish { subject: "sk.rpc.x".into(), reply: None, payload: vec![2] },
        ]);
        assert_eq!(node.calls.outgoing(), 1, "one-way messages are not pending");
    }

    #[test]
    fn broadcasts_and_replies_are_publishes() {
        let (nats, node, mut rx) = node();
        nats.attach(node.clone());
        node.set_connected(true, 100);
        assert!(nats.route(call(BROADCAST_ID, 0, "a b", b"\x03")).is_ok());
        let session = node.calls.accept("_INBOX.z.9".into());
        assert!(nats.route(Message::reply(CALLER_ID, 5, session, vec![0xc3])).is_ok());
        assert!(nats.route(Message::reply(CALLER_ID, 5, session, vec![0xc3])).is_ok(), "a second answer is dropped");
        assert_eq!(outs(&mut rx), vec![
            Out::Publish { subject: "sk.all.a%20b".into(), reply: None, payload: vec![3] },
            Out::Publish { subject: "_INBOX.z.9".into(), reply: None, payload: vec![0xc3] },
        ]);
    }

    #[test]
    fn a_reply_over_the_limit_becomes_a_failure() {
        let (nats, node, mut rx) = node();
        nats.attach(node.clone());
        node.set_connected(true, 4);
        let session = node.calls.accept("r".into());
        assert!(nats.route(Message::reply(CALLER_ID, 5, session, vec![0; 5])).is_ok());
        assert_eq!(outs(&mut rx), vec![Out::Publish {
            subject: "r".into(),
            reply: None,
            payload: wrap::failure("message too large")
        }]);
    }

    #[test]
    fn the_connection_counts_as_a_link_and_timed_out_calls_are_forgotten() {
        let (nats, node, _rx) = node();
        assert_eq!(nats.link_count(), 0, "no node");
        nats.forget(4, 1);
        nats.attach(node.clone());
        assert_eq!(nats.link_count(), 0, "not connected yet");
        node.set_connected(true, 100);
        assert_eq!(nats.link_count(), 1);
        assert!(nats.route(call(CALL_ID, 1, "x", b"")).is_ok());
        assert!(nats.route(call(CALL_ID, 2, "x", b"")).is_ok());
        nats.forget(4, 1);
        assert_eq!(node.calls.outgoing(), 1, "only the call that timed out");
    }

    #[test]
    fn other_messages_are_refused() {
        let (nats, node, _rx) = node();
        nats.attach(node.clone());
        node.set_connected(true, 100);
        assert!(nats.route(call(CALLER_ID, 1, "x", b"")).is_err());
        assert!(nats.route(Message::reply(CALL_ID, 5, 1, vec![])).is_err());
    }
}
