//! The NATS connection of a node and the tasks that drive it.
//!
//! Everything runs as local tasks on the worker of the `cluster.nats`
//! service: async-nats' own connection task (it spawns it on the current
//! tokio runtime, which is that worker's), a **driver** that owns the
//! client and does what others queue ([`Out`]: publishes, subscriptions),
//! sends heartbeats and watches the connection's events, and one task per
//! subscription that turns incoming messages into local messages. No Lua
//! runs for a remote call. When the service ends, the driver is aborted:
//! its [`Attached`] guard detaches the node, turns the name registry's
//! stand-ins off and fails pending calls with `"disconnected"`.
//!
//! The client reconnects by itself every 250 ms, forever, and subscribes
//! again everything it had; while it is away calls fail with
//! `"disconnected"` at once. It pings every [`PING`], so a server that
//! vanished without closing the connection is noticed within a few seconds.

use super::calls::Answer;
use super::peers::{Beat, Change, Peers, BEAT};
use super::{nats, subject, Node, Out, BROADCAST_ID, CALLER_ID, CALL_ID};
use crate::cluster::links;
use crate::codec::wrap;
use crate::error::Error;
use crate::net::tls;
use crate::runtime::message::{Kind, Message};
use crate::runtime;
use crate::service::Service;
use async_nats::{Client, ConnectOptions, Event, ServerAddr, StatusCode, Subscriber};
use futures_util::StreamExt;
use rustc_hash::FxHashMap as HashMap;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use tokio::task::{spawn_local, AbortHandle};

/// How long connecting (and the first round trip) may take.
pub const CONNECT_LIMIT: Duration = Duration::from_secs(5);
const RECONNECT_EVERY: Duration = Duration::from_millis(250);
const PING: Duration = Duration::from_secs(2);
/// An outgoing call unanswered this long is forgotten: its caller ended
/// before its timeout (a timeout itself forgets the call at once).
const FORGET_AFTER: Duration = Duration::from_secs(3600);
/// Queued publishes handled per turn of the driver before it looks at its
/// other duties.
const BATCH: usize = 256;
/// Messages a subscription may hold before its task takes them. async-nats
/// drops what does not fit (and reports a slow consumer), so this is far
/// above what a burst of one-way messages fills while the worker is busy.
const SUBSCRIPTION_CAPACITY: usize = 1 << 20;
/// The reply token of the start-up round trip (tokens of calls start at 1).
const SYNC_TOKEN: u64 = 0;

/// What `os.pload("cluster.nats", url, options)` was given.
#[derive(Default, Debug, Clone)]
pub struct Options {
    pub urls: Vec<String>,
    pub token: Option<String>,
    pub user: Option<String>,
    pub password: Option<String>,
    /// Path of a `.creds` file (JWT and NKey seed).
    pub creds: Option<String>,
    /// PEM paths: the CA the server is checked against, our certificate and key.
    pub ca: Option<String>,
    pub cert: Option<String>,
    pub key: Option<String>,
    pub prefix: String,
    pub name: Option<String>,
}

/// Told once whether the node is up (connected, names subscribed and confirmed).
pub type OnReady = Box<dyn FnOnce(Result<(), Error>)>;

/// Connects as tasks of `svc`; `on_ready` learns the outcome.
pub fn start(svc: &Rc<Service>, options: Options, on_ready: OnReady) {
    let label = svc.label();
    svc.spawn_task(run(options, on_ready, label));
}

fn read(path: &str) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|e| Error::Io(format!("{path}: {e}")))
}

/// The async-nats options for `o`, events going to `events`.
fn connect_options(o: &Options, events: mpsc::UnboundedSender<Event>) -> Result<ConnectOptions, Error> {
    let mut c = ConnectOptions::new()
        .no_echo()
        .subscription_capacity(SUBSCRIPTION_CAPACITY)
        .ping_interval(PING)
        .connection_timeout(CONNECT_LIMIT)
        .max_reconnects(None)
        .reconnect_delay_callback(|_| RECONNECT_EVERY)
        .event_callback(move |event| {
            let events = events.clone();
            async move {
                let _ = events.send(event);
            }
        });
    if let Some(name) = &o.name {
        c = c.name(name);
    }
    if let Some(token) = &o.token {
        c = c.token(token.clone());
    }
    if let Some(user) = &o.user {
        c = c.user_and_password(user.clone(), o.password.clone().unwrap_or_default());
    }
    if let Some(path) = &o.creds {
        let text = String::from_utf8(read(path)?).map_err(|_| Error::other(format!("{path}: not text")))?;
        c = c.credentials(&text).map_err(|e| Error::other(format!("{path}: {e}")))?;
    }
    if o.ca.is_some() || o.cert.is_some() {
        let ca = o.ca.as_deref().map(read).transpose()?;
        let identity = match (&o.cert, &o.key) {
            (Some(cert), Some(key)) => Some((read(cert)?, read(key)?)),
            (None, None) => None,
            _ => return Err(Error::other("cert and key go together")),
        };
        let config = tls::verifying_client_config(ca.as_deref(), identity.as_ref().map(|(c, k)| (&c[..], &k[..])))?;
        c = c.tls_client_config((*config).clone()).require_tls(true);
    }
    Ok(c)
}

fn server_addrs(urls: &[String]) -> Result<Vec<ServerAddr>, Error> {
    urls.iter().map(|u| u.parse::<ServerAddr>().map_err(|e| Error::other(format!("bad url {u}: {e}")))).collect()
}

async fn connect(o: &Options, events: mpsc::UnboundedSender<Event>) -> Result<Client, Error> {
    let addrs = server_addrs(&o.urls)?;
    let options = connect_options(o, events)?;
    match tokio::time::timeout(CONNECT_LIMIT, options.connect(addrs)).await {
        Ok(Ok(client)) => Ok(client),
        Ok(Err(e)) => Err(Error::Io(format!("cannot connect to {}: {e}", o.urls.join(",")))),
        Err(_) => Err(Error::Io(format!("cannot connect to {}: no answer within 5 s", o.urls.join(",")))),
    }
}

async fn run(options: Options, on_ready: OnReady, label: String) {
    let (events_tx, events) = mpsc::unbounded_channel();
    let client = match connect(&options, events_tx).await {
        Ok(c) => c,
        Err(e) => return on_ready(Err(e)),
    };
    let (tx, rx) = mpsc::unbounded_channel();
    let node = Arc::new(Node::new(options.prefix.clone(), tx));
    let Some(names) = nats().attach(node.clone()) else {
        return on_ready(Err(Error::other("this process is a NATS node already")));
    };
    let _attached = Attached(node.clone());
    let mut driver = Driver {
        client,
        node,
        label,
        names: HashMap::default(),
        tasks: Vec::new(),
        peers: Rc::new(RefCell::new(Peers::default())),
        address: String::new(),
    };
    match tokio::time::timeout(CONNECT_LIMIT, driver.setup(names)).await {
        Ok(Ok(())) => on_ready(Ok(())),
        Ok(Err(e)) => return on_ready(Err(e)),
        Err(_) => return on_ready(Err(Error::Io("the server did not confirm the subscriptions within 5 s".into()))),
    }
    driver.run(rx, events).await;
}

/// Undoes the node's presence however its driver ends.
struct Attached(Arc<Node>);

impl Drop for Attached {
    fn drop(&mut self) {
        let rt = runtime::get();
        nats().detach(&self.0);
        rt.names.set_elsewhere(0, 0);
        self.0.set_connected(false, 0);
        for msg in self.0.calls.fail_all() {
            rt.send(msg);
        }
    }
}

/// Aborts a subscription's task when dropped (unsubscribing it).
struct Task(AbortHandle);

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

struct Driver {
    client: Client,
    node: Arc<Node>,
    label: String,
    /// The two subscription tasks of each public name.
    names: HashMap<Arc<str>, [Task; 2]>,
    /// Inbox and heartbeat subscriptions.
    tasks: Vec<Task>,
    peers: Rc<RefCell<Peers>>,
    /// Ours, as the server sees it: what others report in node events.
    address: String,
}

impl Driver {
    fn log(&self, what: &str) {
        runtime::log(&format!("[{}] cluster.nats: {what}", self.label));
    }

    async fn subscribe(&self, subject: String, group: bool) -> Result<Subscriber, Error> {
        let done = if group {
            self.client.queue_subscribe(subject.clone(), subject.clone()).await
        } else {
            self.client.subscribe(subject.clone()).await
        };
        done.map_err(|e| Error::Io(format!("cannot subscribe {subject}: {e}")))
    }

    /// Inbox, heartbeats and every public name subscribed; then a request
    /// nobody serves, whose no-responders answer proves the server has
    /// processed every subscription before it.
    async fn setup(&mut self, names: Vec<Arc<str>>) -> Result<(), Error> {
        let info = self.client.server_info();
        self.node.set_connected(true, info.max_payload);
        self.node.set_server(format!("{}:{}", info.host, info.port));
        self.address = info.client_ip.clone();
        let (synced_tx, synced) = oneshot::channel();
        let inbox = self.subscribe(format!("{}.*", self.node.inbox), false).await?;
        self.tasks.push(Task(spawn_local(read_inbox(inbox, self.node.clone(), synced_tx)).abort_handle()));
        let beats = self.subscribe(subject::nodes(&self.node.prefix), false).await?;
        self.tasks.push(Task(spawn_local(read_beats(beats, self.node.clone(), self.peers.clone())).abort_handle()));
        for name in names {
            self.serve(name).await?;
        }
        let nobody = format!("{}.sync.{}", self.node.prefix, self.node.id);
        let reply = format!("{}.{SYNC_TOKEN}", self.node.inbox);
        self.client.publish_with_reply(nobody, reply, Vec::new().into()).await.map_err(|e| Error::Io(e.to_string()))?;
        synced.await.map_err(|_| Error::Closed)?;
        runtime::get().names.set_elsewhere(CALL_ID, BROADCAST_ID);
        self.beat(Beat::Alive(self.address.clone())).await;
        Ok(())
    }

    async fn serve(&mut self, name: Arc<str>) -> Result<(), Error> {
        if self.names.contains_key(&name) {
            return Ok(());
        }
        let calls = self.subscribe(subject::rpc(&self.node.prefix, &name), true).await?;
        let all = self.subscribe(subject::all(&self.node.prefix, &name), false).await?;
        let calls = Task(spawn_local(read_calls(calls, self.node.clone(), name.clone())).abort_handle());
        let all = Task(spawn_local(read_broadcasts(all, name.clone())).abort_handle());
        self.names.insert(name, [calls, all]);
        Ok(())
    }

    async fn beat(&self, beat: Beat) {
        let subject = subject::node(&self.node.prefix, self.node.id);
        let _ = self.client.publish(subject, beat.encode().into()).await;
    }

    async fn handle(&mut self, out: Out) {
        match out {
            Out::Publish { subject, reply, payload } => {
                // Errors here mean the connection is going away: the events say so.
                let _ = match reply {
                    Some(reply) => self.client.publish_with_reply(subject, reply, payload.into()).await,
                    None => self.client.publish(subject, payload.into()).await,
                };
            }
            Out::Subscribe(name) => {
                if let Err(e) = self.serve(name).await {
                    self.log(&e.to_string());
                }
            }
            Out::Unsubscribe(name) => {
                self.names.remove(&name);
            }
        }
    }

    fn on_event(&mut self, event: Event) {
        let rt = runtime::get();
        match event {
            Event::Disconnected => {
                self.node.set_connected(false, 0);
                rt.names.set_elsewhere(CALL_ID, 0);
                for msg in self.node.calls.fail_all() {
                    rt.send(msg);
                }
                self.log("server gone, reconnecting");
            }
            Event::Connected => {
                let info = self.client.server_info();
                let was = self.node.connected();
                self.node.set_connected(true, info.max_payload);
                self.node.set_server(format!("{}:{}", info.host, info.port));
                rt.names.set_elsewhere(CALL_ID, BROADCAST_ID);
                if !was {
                    self.log(&format!("connected to {}:{}", info.host, info.port));
                }
            }
            Event::ServerError(e) => self.log(&format!("server error: {e}")),
            Event::SlowConsumer(_) => self.log("messages dropped: this node cannot keep up with what it receives"),
            _ => {}
        }
    }

    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Out>, mut events: mpsc::UnboundedReceiver<Event>) {
        let mut tick = tokio::time::interval(BEAT);
        loop {
            tokio::select! {
                out = rx.recv() => {
                    let Some(out) = out else { break };
                    self.handle(out).await;
                    for _ in 1..BATCH {
                        match rx.try_recv() {
                            Ok(out) => self.handle(out).await,
                            Err(_) => break,
                        }
                    }
                }
                Some(event) = events.recv() => self.on_event(event),
                _ = tick.tick() => {
                    if self.node.connected() {
                        self.beat(Beat::Alive(self.address.clone())).await;
                    }
                    let gone = self.peers.borrow_mut().sweep(Instant::now());
                    gone.into_iter().for_each(tell);
                    self.node.calls.sweep(FORGET_AFTER);
                }
            }
        }
    }
}

impl Drop for Driver {
    /// Says goodbye, so that other nodes report this one down at once
    /// rather than after three missed heartbeats.
    fn drop(&mut self) {
        if !self.node.connected() {
            return;
        }
        let client = self.client.clone();
        let subject = subject::node(&self.node.prefix, self.node.id);
        spawn_local(async move {
            let _ = client.publish(subject, Beat::Leaving.encode().into()).await;
            let _ = tokio::time::timeout(Duration::from_secs(1), client.flush()).await;
        });
    }
}

/// Answers to our requests: `<inbox>.<token>`.
async fn read_inbox(mut sub: Subscriber, node: Arc<Node>, synced: oneshot::Sender<()>) {
    let rt = runtime::get();
    let mut synced = Some(synced);
    while let Some(m) = sub.next().await {
        let Some(token) = m.subject.rsplit('.').next().and_then(|t| t.parse::<u64>().ok()) else { continue };
        if token == SYNC_TOKEN {
            if let Some(s) = synced.take() {
                let _ = s.send(());
            }
            continue;
        }
        let failure;
        let answer = match m.status {
            Some(StatusCode::NO_RESPONDERS) => Answer::NoResponders,
            Some(status) if status != StatusCode::OK => {
                let why = m.description.clone().unwrap_or_else(|| status.to_string());
                failure = wrap::failure(&why);
                Answer::Payload(&failure)
            }
            _ => Answer::Payload(&m.payload),
        };
        if let Some(reply) = node.calls.answer(token, answer) {
            rt.send(reply);
        }
    }
}

/// Requests and one-way messages for `name`: one local handler each.
async fn read_calls(mut sub: Subscriber, node: Arc<Node>, name: Arc<str>) {
    let rt = runtime::get();
    while let Some(m) = sub.next().await {
        match nats().pick(&name) {
            Some((to, shared)) => {
                let session = m.reply.map(|r| node.calls.accept(r.to_string())).unwrap_or(0);
                let kind = Kind::Call(shared);
                rt.send(Message { to, from: CALLER_ID, session, kind, payload: m.payload.to_vec() });
                // As a mesh link's reader: no more while the handler is over
                // its mark (what arrives meanwhile waits in the subscription).
                rt.registry.backlog.room(to).await;
            }
            // The last local handler went away since the server picked us.
            None => {
                if let Some(reply) = m.reply {
                    let payload = wrap::failure(&Error::NotFound(name.to_string()).to_string());
                    node.queue(Out::Publish { subject: reply.to_string(), reply: None, payload });
                }
            }
        }
    }
}

/// Broadcasts of `name`: every local public handler.
async fn read_broadcasts(mut sub: Subscriber, name: Arc<str>) {
    let rt = runtime::get();
    while let Some(m) = sub.next().await {
        let Some((ids, shared)) = nats().served(&name) else { continue };
        for &to in &ids {
            rt.send(Message { to, from: CALLER_ID, session: 0, kind: Kind::Call(shared.clone()), payload: m.payload.to_vec() });
        }
        for to in ids {
            rt.registry.backlog.room(to).await;
        }
    }
}

/// Heartbeats of the other nodes.
async fn read_beats(mut sub: Subscriber, node: Arc<Node>, peers: Rc<RefCell<Peers>>) {
    while let Some(m) = sub.next().await {
        let Some(id) = subject::node_id(&node.prefix, &m.subject) else { continue };
        let Some(beat) = Beat::decode(&m.payload) else { continue };
        if id == node.id {
            continue;
        }
        let change = peers.borrow_mut().heard(id, beat, Instant::now());
        change.into_iter().for_each(tell);
    }
}

/// Tells every local handler of `cluster.event` about `change`, as the
/// mesh tells its links' nodes coming and going.
fn tell(change: Change) {
    let rt = runtime::get();
    let (what, id, address) = match &change {
        Change::Up(id, a) => ("up", *id, a),
        Change::Down(id, a) => ("down", *id, a),
    };
    for msg in links::events(what, id, address, &rt.names) {
        rt.send(msg);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked() {
        assert!(server_addrs(&["nats://127.0.0.1:4222".into(), "tls://h:1".into()]).is_ok());
        assert!(server_addrs(&["http://x:1".into()]).is_err());
    }

    #[test]
    fn options_refuse_half_an_identity_and_missing_files() {
        let (tx, _rx) = mpsc::unbounded_channel();
        let cert_only = Options { cert: Some("/nonexistent.pem".into()), ..Options::default() };
        assert!(connect_options(&cert_only, tx.clone()).is_err());
        let creds = Options { creds: Some("/nonexistent.creds".into()), ..Options::default() };
        let e = connect_options(&creds, tx).err().unwrap();
        assert!(matches!(&e, Error::Io(why) if why.starts_with("/nonexistent.creds:")), "{e}");
    }
}
