//! The sockets of the cluster: the adapter's link listener, outgoing links,
//! and the two tasks that run each link.
//!
//! All of it runs as local tasks of the adapter service (on its worker,
//! `Service::spawn_task`), so they end when the adapter ends. A link is:
//!
//! * a **reader task**: reads one WebSocket message at a time, hands it to
//!   [`Cluster::incoming`] and sends the resulting message to the local
//!   service straight away (no Lua runs on the adapter for a remote call);
//!   a bad frame, an oversized message (the WebSocket layer's 16 MiB cap)
//!   or a read error ends it, with one log line;
//! * a **writer task**: writes the frames queued by any thread (`route` on
//!   the sender's thread, `announce`, the reader) in order.
//!
//! The reader owns a [`LinkGuard`]: however the reader ends (error, peer
//! gone, adapter stopped and the task aborted), dropping the guard removes
//! the link's remote handlers, fails its pending calls with
//! `"disconnected"` and stops the writer.

use super::links::{Incoming, Link};
use crate::net::listener::{self, Listener};
use crate::net::stream::{self, ClientSetup, Kind, Opened, Reader, Writer};
use crate::net::ws;
use crate::runtime;
use crate::service::Service;
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::sync::Arc;
use futures_util::SinkExt;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;

/// The header a node sends to open a link, and its only accepted value.
pub const JOIN_HEADER: &str = "xforword-join";
pub const JOIN_VALUE: &str = "skynet-lua";

/// Called once when a link we opened is ready (both sides synced) or failed.
pub type OnReady = Box<dyn FnOnce(Result<(), String>)>;

fn log(line: String) {
    runtime::log(&line);
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
/// Peers without the join header are refused (logged, closed).
pub fn listen(svc: &Rc<Service>, ip: IpAddr) -> Result<SocketAddr, String> {
    let listener = Listener::bind(SocketAddr::new(ip, 0)).map_err(|e| e.to_string())?;
    let addr = listener.local_addr().ok_or("the listener has no address")?;
    listener::serve(svc, listener, Kind::Ws, None, |svc, peer, opened| {
        let label = svc.label();
        let opened = match opened {
            Ok(o) => o,
            Err(e) => return log(format!("[{label}] cluster peer {peer} dropped: {e}")),
        };
        if ws::find(&opened.headers, JOIN_HEADER) != Some(JOIN_VALUE) {
            log(format!("[{label}] cluster peer {peer} refused: no '{JOIN_HEADER}: {JOIN_VALUE}' header"));
            let mut writer = opened.writer;
            return svc.spawn_task(async move { writer.close().await });
        }
        start_link(svc, opened, false, None);
    });
    Ok(addr)
}

/// Opens a link to the member listening on `host:port`; `on_ready` learns
/// when both sides know each other's names (or why not).
pub fn connect(svc: &Rc<Service>, host: String, port: u16, on_ready: OnReady) {
    let weak = Rc::downgrade(svc);
    svc.spawn_task(async move {
        let setup = ClientSetup {
            kind: Kind::Ws,
            tls: None,
            uri: "/".into(),
            headers: vec![(JOIN_HEADER.into(), JOIN_VALUE.into())],
        };
        match stream::connect(&host, port, setup).await {
            Ok(opened) => match weak.upgrade() {
                Some(svc) => start_link(&svc, opened, true, Some(on_ready)),
                None => on_ready(Err("closed".into())),
            },
            Err(e) => on_ready(Err(e.to_string())),
        }
    });
}

/// Turns an open WebSocket into a link; `connector`: we opened it (and sync first).
fn start_link(svc: &Rc<Service>, opened: Opened, connector: bool, on_ready: Option<OnReady>) {
    let cluster = super::cluster();
    let (tx, rx) = mpsc::unbounded_channel();
    let peer = opened.remote.map(|a| a.to_string()).unwrap_or_else(|| "?".into());
    let Some(link) = cluster.open(tx, peer.clone()) else {
        log(format!("[{}] cluster: no free link id", svc.label()));
        if let Some(f) = on_ready {
            f(Err("too many links".into()));
        }
        return;
    };
    runtime::debug(|| format!("[{}] cluster link {} to {peer} open", svc.label(), link.id));
    let (stop_tx, stop_rx) = watch::channel(false);
    svc.spawn_task(writer_task(opened.writer, rx, stop_rx));
    if connector {
        cluster.sync(&link);
    }
    let guard = LinkGuard { link, stop: stop_tx, on_ready, label: svc.label(), peer };
    svc.spawn_task(reader_task(opened.reader, guard, connector));
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

async fn reader_task(mut reader: Reader, mut guard: LinkGuard, connector: bool) {
    let cluster = super::cluster();
    let rt = runtime::get();
    let why = loop {
        let data = match reader.next().await {
            Ok(Some(d)) => d,
            Ok(None) => break None,
            Err(e) => break Some(e.to_string()),
        };
        match cluster.incoming(&guard.link, &data, &rt.names) {
            Ok(Incoming::Nothing) => {}
            Ok(Incoming::Local(msg)) => rt.send(msg),
            Ok(Incoming::Ready) => {
                if connector {
                    if let Some(f) = guard.on_ready.take() {
                        f(Ok(()));
                    }
                } else {
                    cluster.sync(&guard.link);
                }
            }
            Err(e) => break Some(e),
        }
    };
    match why {
        Some(e) => log(format!("[{}] cluster link {} to {} closed: {e}", guard.label, guard.link.id, guard.peer)),
        None => runtime::debug(|| {
            format!("[{}] cluster link {} to {} closed by the peer", guard.label, guard.link.id, guard.peer)
        }),
    }
}

/// Frames written before one flush: a burst of calls goes out in a few
/// syscalls instead of one each, without delaying a lone frame.
const WRITE_BATCH: usize = 256;

async fn writer_task(mut writer: Writer, mut rx: mpsc::UnboundedReceiver<Vec<u8>>, mut stop: watch::Receiver<bool>) {
    loop {
        let frame = tokio::select! {
            biased;
            _ = stop.wait_for(|s| *s) => break,
            f = rx.recv() => match f { Some(f) => f, None => break },
        };
        // On a write error the reader sees the broken connection too and closes the link.
        let written = match &mut writer {
            Writer::Ws(sink, _) => {
                let batch = async {
                    sink.feed(Message::binary(frame)).await?;
                    for _ in 1..WRITE_BATCH {
                        match rx.try_recv() {
                            Ok(f) => sink.feed(Message::binary(f)).await?,
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
        if !written {
            return;
        }
    }
    writer.close().await;
}
