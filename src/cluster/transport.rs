//! The sockets of the cluster: the adapter's link listener, outgoing links,
//! the key handshake that opens each of them, and the two tasks that run a
//! link.
//!
//! All of it runs as local tasks of the adapter service (on its worker,
//! `Service::spawn_task`), so they end when the adapter ends. Opening a link:
//!
//! 1. TCP, then TLS if the process has cluster certificates (both sides
//!    verified against the cluster CA), then the WebSocket handshake with
//!    the join header;
//! 2. with a key, the challenge-response of `handshake.rs` (the acceptor
//!    challenges); without one, protected mode: loopback peers only;
//! 3. only then is the link registered and names exchanged.
//!
//! A connector gives up after [`CONTACT_TIMEOUT`] (until both sides know
//! each other's names); an acceptor drops a peer that has not proved the
//! key within [`ACCEPT_TIMEOUT`]. Then a link is:
//!
//! * a **reader task**: reads one WebSocket message at a time, hands it to
//!   [`Cluster::incoming`] and sends the resulting message to the local
//!   service straight away (no Lua runs on the adapter for a remote call);
//!   while the service a call was for is over its high-water mark it reads
//!   nothing more, so TCP pushes back on the peer's writer (and so on the
//!   peer's senders); a bad frame, an oversized message (the WebSocket
//!   layer's 16 MiB cap) or a read error ends it, with one log line;
//! * a **writer task**: writes the frames queued by any thread (`route` on
//!   the sender's thread, `announce`, the reader) in order, and tells the
//!   link what it has written (senders waiting for room are woken there).
//!
//! The reader owns a [`LinkGuard`]: however the reader ends (error, peer
//! gone, adapter stopped and the task aborted), dropping the guard removes
//! the link's remote handlers, fails its pending calls with
//! `"disconnected"`, tells `cluster.event` handlers the node is down and
//! stops the writer.

use super::frame::Frame;
use super::handshake::{self, Key, Role};
use super::links::{Incoming, Link, Outgoing, Peer};
use super::trust::KEY_VAR;
use crate::net::listener::{self, Listener};
use crate::net::stream::{self, ClientSetup, Kind, Opened, Reader, Writer};
use crate::net::ws;
use crate::runtime;
use crate::service::Service;
use futures_util::SinkExt;
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

/// The header a node sends to open a link, and its only accepted value.
pub const JOIN_HEADER: &str = "xforword-join";
pub const JOIN_VALUE: &str = "skynet-lua";

/// How long a connector tries one member: connection, TLS, key and the
/// exchange of names. Members are tried in parallel, so a join takes at
/// most this long whatever the members do.
pub const CONTACT_TIMEOUT: Duration = Duration::from_secs(3);

/// How long an accepted peer has to finish its handshakes.
pub const ACCEPT_TIMEOUT: Duration = Duration::from_secs(5);

/// Called once when a link we opened is ready (both sides synced) or failed.
pub type OnReady = Box<dyn FnOnce(Result<(), String>)>;

fn log(line: String) {
    runtime::log(&line);
}

fn refused_bad_key(addr: impl std::fmt::Display) {
    log(format!("cluster: refused {addr}: bad key"));
}

/// The local address this host uses to reach `host:port` (no packet is
/// sent: connecting a UDP socket only picks the route), so the listener
/// is reachable by the master's other members and by nothing else.
pub fn local_address_towards(host: &str, port: u16) -> Result<IpAddr, String> {
    let target = std::net::ToSocketAddrs::to_socket_addrs(&(host, port))
        .map_err(|e| format!("{host}: {e}"))?
        .next()
        .ok_or_else(|| format!("{host}: no address"))?;
    let any: SocketAddr = if target.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" }.parse().map_err(|_| "address")?;
    let udp = std::net::UdpSocket::bind(any).map_err(|e| e.to_string())?;
    udp.connect(target).map_err(|e| e.to_string())?;
    Ok(udp.local_addr().map_err(|e| e.to_string())?.ip())
}

/// Listens for links on an ephemeral port of `ip`; returns the address.
/// Without a key (protected mode) only a loopback `ip` is allowed. The
/// shared accept loop runs TCP and TLS (with cluster certificates) and the
/// WebSocket handshake; [`admit`] then decides whether the peer is trusted.
pub fn listen(svc: &Rc<Service>, ip: IpAddr) -> Result<SocketAddr, String> {
    let trust = super::cluster().trust();
    if !trust.allows(ip) {
        return Err(format!("set {KEY_VAR} to listen on {ip}"));
    }
    let listener = Listener::bind(SocketAddr::new(ip, 0)).map_err(|e| e.to_string())?;
    let addr = listener.local_addr().ok_or("the listener has no address")?;
    let (kind, tls) = match &trust.tls {
        Some(t) => (Kind::Wss, Some(t.server.clone())),
        None => (Kind::Ws, None),
    };
    listener::serve(svc, listener, kind, tls, |svc, peer, opened| {
        let label = svc.label();
        let opened = match opened {
            Ok(o) => o,
            Err(e) => return log(format!("[{label}] cluster peer {peer} dropped: {e}")),
        };
        let weak = Rc::downgrade(svc);
        svc.spawn_task(async move {
            let Some(opened) = admit(opened, peer, &label).await else { return };
            if let Some(svc) = weak.upgrade() {
                start_link(&svc, opened, None);
            }
        });
    });
    Ok(addr)
}

/// The trust checks of an accepted peer, after its TLS and WebSocket
/// handshakes; `None` (logged, closed) if it is refused.
async fn admit(mut opened: Opened, peer: SocketAddr, label: &str) -> Option<Opened> {
    let trust = super::cluster().trust();
    if !trust.allows(peer.ip()) {
        log(format!("cluster: refused {peer}: not a loopback peer and no {KEY_VAR}"));
        opened.writer.close().await;
        return None;
    }
    if ws::find(&opened.headers, JOIN_HEADER) != Some(JOIN_VALUE) {
        log(format!("[{label}] cluster peer {peer} refused: no '{JOIN_HEADER}: {JOIN_VALUE}' header"));
        opened.writer.close().await;
        return None;
    }
    if let Some(key) = &trust.key {
        let proved = tokio::time::timeout(ACCEPT_TIMEOUT, prove_as_acceptor(&mut opened, key)).await;
        if !matches!(proved, Ok(Ok(()))) {
            refused_bad_key(peer);
            opened.writer.close().await;
            return None;
        }
    }
    // A node links only once it knows its own member id (it says it in its
    // `ready`); the master may list it a moment before it does.
    let deadline = Instant::now() + ACCEPT_TIMEOUT;
    while super::cluster().me().is_none() {
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Some(opened)
}

/// The next frame read during a handshake.
async fn read_frame(reader: &mut Reader) -> Result<Frame, String> {
    match reader.next().await.map_err(|e| e.to_string())? {
        Some(data) => Frame::decode(&data),
        None => Err("closed".into()),
    }
}

/// Acceptor: challenge, check the connector's proof, prove in turn.
async fn prove_as_acceptor(opened: &mut Opened, key: &Key) -> Result<(), String> {
    let mine = handshake::nonce();
    opened.writer.write(Frame::Challenge { nonce: mine.clone() }.encode()).await.map_err(|e| e.to_string())?;
    let Frame::Proof { nonce: Some(theirs), proof } = read_frame(&mut opened.reader).await? else {
        return Err("not a proof".into());
    };
    if !handshake::check(key, Role::Connector, &mine, &theirs, &proof) {
        return Err("bad proof".into());
    }
    let answer = handshake::prove(key, Role::Acceptor, &mine, &theirs);
    opened.writer.write(Frame::Proof { nonce: None, proof: answer }.encode()).await.map_err(|e| e.to_string())
}

/// Connector: answer the challenge with our own nonce, check the acceptor's proof.
async fn prove_as_connector(opened: &mut Opened, key: &Key) -> Result<(), String> {
    let Frame::Challenge { nonce: theirs } = read_frame(&mut opened.reader).await? else {
        return Err("no challenge".into());
    };
    let mine = handshake::nonce();
    let proof = handshake::prove(key, Role::Connector, &theirs, &mine);
    opened.writer.write(Frame::Proof { nonce: Some(mine.clone()), proof }.encode()).await.map_err(|e| e.to_string())?;
    let Frame::Proof { nonce: None, proof } = read_frame(&mut opened.reader).await? else {
        return Err("not a proof".into());
    };
    if !handshake::check(key, Role::Acceptor, &theirs, &mine, &proof) {
        return Err("bad proof".into());
    }
    Ok(())
}

/// Opens a link to the member listening on `host:port`; `on_ready` learns
/// when both sides know each other's names (or why not), within
/// [`CONTACT_TIMEOUT`].
pub fn connect(svc: &Rc<Service>, host: String, port: u16, on_ready: OnReady) {
    let weak = Rc::downgrade(svc);
    let deadline = Instant::now() + CONTACT_TIMEOUT;
    svc.spawn_task(async move {
        match tokio::time::timeout_at(deadline, contact(&host, port)).await {
            Ok(Ok(opened)) => match weak.upgrade() {
                Some(svc) => start_link(&svc, opened, Some((on_ready, deadline))),
                None => on_ready(Err("closed".into())),
            },
            Ok(Err(e)) => on_ready(Err(e)),
            Err(_) => on_ready(Err(format!("no answer within {} s", CONTACT_TIMEOUT.as_secs()))),
        }
    });
}

/// Connection, TLS, WebSocket and key handshakes to a member.
async fn contact(host: &str, port: u16) -> Result<Opened, String> {
    let trust = super::cluster().trust();
    let (kind, tls) = match &trust.tls {
        Some(t) => (Kind::Wss, Some(t.client.clone())),
        None => (Kind::Ws, None),
    };
    let setup = ClientSetup { kind, tls, uri: "/".into(), headers: vec![(JOIN_HEADER.into(), JOIN_VALUE.into())] };
    let mut opened = stream::connect(host, port, setup).await.map_err(|e| e.to_string())?;
    if let Some(key) = &trust.key {
        if prove_as_connector(&mut opened, key).await.is_err() {
            refused_bad_key(format_args!("{host}:{port}"));
            opened.writer.close().await;
            return Err("bad key".into());
        }
    }
    Ok(opened)
}

/// Turns an open, trusted WebSocket into a link. `connector`: we opened it,
/// sync first, and report readiness by the deadline.
fn start_link(svc: &Rc<Service>, opened: Opened, connector: Option<(OnReady, Instant)>) {
    let cluster = super::cluster();
    let fail = |connector: Option<(OnReady, Instant)>, why: &str| {
        log(format!("[{}] cluster: {why}", svc.label()));
        if let Some((f, _)) = connector {
            f(Err(why.into()));
        }
    };
    let Some(me) = cluster.me() else { return fail(connector, "this node has no member id yet") };
    let (tx, rx) = mpsc::unbounded_channel();
    let peer = opened.remote.map(|a| a.to_string()).unwrap_or_else(|| "?".into());
    let Some(link) = cluster.open(tx, peer.clone()) else { return fail(connector, "no free link id") };
    runtime::debug(|| format!("[{}] cluster link {} to {peer} open", svc.label(), link.id));
    let (stop_tx, stop_rx) = watch::channel(false);
    svc.spawn_task(writer_task(opened.writer, link.clone(), rx, stop_rx));
    if connector.is_some() {
        cluster.sync(&link, &me);
    }
    let (on_ready, deadline) = match connector {
        Some((f, d)) => (Some(f), Some(d)),
        None => (None, None),
    };
    let guard = LinkGuard { link, stop: stop_tx, on_ready, label: svc.label(), peer };
    svc.spawn_task(reader_task(opened.reader, guard, me, deadline));
}

/// Closes the link when the reader ends, whatever ends it.
struct LinkGuard {
    link: Arc<Link>,
    stop: watch::Sender<bool>,
    on_ready: Option<OnReady>,
    label: String,
    peer: String,
}

impl Drop for LinkGuard {
    fn drop(&mut self) {
        let rt = runtime::get();
        for msg in super::cluster().close(&self.link, &rt.names) {
            rt.send(msg);
        }
        self.stop.send_replace(true);
        if let Some(f) = self.on_ready.take() {
            f(Err("link closed before it was ready".into()));
        }
    }
}

/// `deadline`: a link we opened must be ready by then.
async fn reader_task(mut reader: Reader, mut guard: LinkGuard, me: Peer, deadline: Option<Instant>) {
    let cluster = super::cluster();
    let rt = runtime::get();
    let connector = deadline.is_some();
    let why = loop {
        let next = match (deadline, guard.on_ready.is_some()) {
            (Some(d), true) => match tokio::time::timeout_at(d, reader.next()).await {
                Ok(r) => r,
                Err(_) => break Some(format!("not ready within {} s", CONTACT_TIMEOUT.as_secs())),
            },
            _ => reader.next().await,
        };
        let data = match next {
            Ok(Some(d)) => d,
            Ok(None) => break None,
            Err(e) => break Some(e.to_string()),
        };
        match cluster.incoming(&guard.link, &data, &rt.names) {
            Ok(Incoming::Nothing) => {}
            Ok(Incoming::Local(msg)) => {
                // A reply answers a call this node made (so their number is
                // bounded by those calls) and may be what the crowded service
                // waits for: only calls hold the reader back.
                let call_to = matches!(msg.kind, runtime::message::Kind::Call(_)).then_some(msg.to);
                rt.send(msg);
                if let Some(to) = call_to {
                    rt.registry.backlog.room(to).await;
                }
            }
            Ok(Incoming::Ready(events)) => {
                if connector {
                    if let Some(f) = guard.on_ready.take() {
                        f(Ok(()));
                    }
                } else {
                    cluster.sync(&guard.link, &me);
                }
                for msg in events {
                    rt.send(msg);
                }
            }
            Ok(Incoming::Leave) => break None,
            Err(e) => break Some(e),
        }
    };
    let node = match guard.link.peer() {
        Some(p) => format!("node {} ({})", p.node, p.addr),
        None => guard.peer.clone(),
    };
    match (guard.link.ending(), why) {
        ((true, _), _) => runtime::debug(|| format!("[{}] cluster link {} closed: we left", guard.label, guard.link.id)),
        ((false, true), _) => log(format!("cluster: node {} left", guard.link.peer().map_or(0, |p| p.node))),
        (_, Some(e)) => log(format!("[{}] cluster link {} to {node} closed: {e}", guard.label, guard.link.id)),
        (_, None) => log(format!("[{}] cluster link {} to {node} closed by the peer", guard.label, guard.link.id)),
    }
}

/// Frames written before one flush: a burst of calls goes out in a few
/// syscalls instead of one each, without delaying a lone frame.
const WRITE_BATCH: usize = 256;

async fn writer_task(
    mut writer: Writer,
    link: Arc<Link>,
    mut rx: mpsc::UnboundedReceiver<Outgoing>,
    mut stop: watch::Receiver<bool>,
) {
    let rt = runtime::get();
    loop {
        let next = tokio::select! {
            biased;
            _ = stop.wait_for(|s| *s) => break,
            f = rx.recv() => match f { Some(f) => f, None => break },
        };
        let Outgoing::Frame(frame) = next else {
            // Leaving: say so, then the WebSocket close frame (below).
            let _ = writer.write(Frame::Leave.encode()).await;
            break;
        };
        // Bytes of queued frames in this batch, taken off the link's count
        // once they are out (the `leave` frame was never counted).
        let mut bytes = frame.len();
        let mut leave = false;
        // On a write error the reader sees the broken connection too and closes the link.
        let written = match &mut writer {
            Writer::Ws(sink, _) => {
                let batch = async {
                    sink.feed(Message::binary(frame)).await?;
                    for _ in 1..WRITE_BATCH {
                        match rx.try_recv() {
                            Ok(Outgoing::Frame(f)) => {
                                bytes += f.len();
                                sink.feed(Message::binary(f)).await?
                            }
                            Ok(Outgoing::Leave) => {
                                leave = true;
                                sink.feed(Message::binary(Frame::Leave.encode())).await?;
                                break;
                            }
                            Err(_) => break,
                        }
                    }
                    sink.flush().await
                };
                tokio::select! {
                    biased;
                    _ = stop.wait_for(|s| *s) => return,
                    r = batch => r.is_ok(),
                }
            }
            other => other.write(frame).await.is_ok(),
        };
        if written {
            for wake in link.written(bytes) {
                rt.send(wake);
            }
        }
        if leave {
            break;
        }
        if !written {
            return;
        }
    }
    writer.close().await;
}
