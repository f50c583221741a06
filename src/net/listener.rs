//! A listening TCP socket and the loop that accepts on it, shared by
//! `io.server` ([`super::socket`]) and the cluster's link listener.
//!
//! An accept over the connection cap (`limit`) is closed at once. Each
//! accepted connection runs the handshakes of its kind (TLS,
//! WebSocket) in a task of its own, so a slow or broken peer never holds up
//! the others; what it became goes to the caller's `on_open`.

use super::limit;
use super::stream::{self, Kind, Opened};
use crate::error::{Error, Result};
use crate::runtime;
use crate::service::Service;
use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::watch;
use tokio_rustls::rustls::ServerConfig;

/// Connections waiting to be accepted (the kernel's queue).
const BACKLOG: u32 = 1024;
/// The pause after a failed accept (out of descriptors, ...), so that a
/// persistent failure does not spin.
const ACCEPT_RETRY: Duration = Duration::from_millis(20);

pub struct Listener {
    /// Taken by [`Listener::close`], which releases the port at once.
    tcp: RefCell<Option<TcpListener>>,
    /// Wakes the accept loop when closed.
    stop: watch::Sender<bool>,
    local: Option<SocketAddr>,
}

impl Listener {
    /// Binds `addr` and listens. SO_REUSEADDR: a restarted server gets its
    /// port back at once, whatever the connections of its predecessor.
    pub fn bind(addr: SocketAddr) -> Result<Rc<Listener>> {
        // Sockets register with the calling thread's runtime: on the main
        // thread that is the main loop's, which runs only while it blocks.
        let tcp = runtime::main_loop::in_runtime(|| -> std::io::Result<TcpListener> {
            let socket = if addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
            socket.set_reuseaddr(true)?;
            socket.bind(addr)?;
            socket.listen(BACKLOG)
        })?;
        let local = tcp.local_addr().ok();
        Ok(Rc::new(Listener { tcp: RefCell::new(Some(tcp)), stop: watch::channel(false).0, local }))
    }

    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.local
    }

    /// Stops accepting: the port is released at once, new connects are refused.
    pub fn close(&self) {
        self.tcp.borrow_mut().take();
        self.stop.send_replace(true);
    }

    /// The next connection; `None` once closed.
    async fn next(&self) -> Option<std::io::Result<(TcpStream, SocketAddr)>> {
        let mut stop = self.stop.subscribe();
        let accept = std::future::poll_fn(|cx| match &*self.tcp.borrow() {
            Some(l) => l.poll_accept(cx).map(Some),
            None => Poll::Ready(None),
        });
        tokio::select! {
            biased;
            _ = stop.wait_for(|s| *s) => None,
            r = accept => r,
        }
    }
}

/// Accepts on `listener` (in a task of `svc`) until it is closed or the
/// service ends. `on_open(svc, peer, opened)` gets every connection once
/// the handshakes of `kind` have run, or why they failed.
pub fn serve<F>(svc: &Rc<Service>, listener: Rc<Listener>, kind: Kind, tls: Option<Arc<ServerConfig>>, on_open: F)
where
    F: Fn(&Rc<Service>, SocketAddr, Result<Opened>) + Clone + 'static,
{
    let weak = Rc::downgrade(svc);
    svc.spawn_task(async move {
        while let Some(accepted) = listener.next().await {
            let Some(svc) = weak.upgrade() else { break };
            let (tcp, peer) = match accepted {
                Ok(a) => a,
                Err(e) => {
                    runtime::log(&format!("[{}] {} accept: {e}", svc.label(), kind.name()));
                    drop(svc);
                    tokio::time::sleep(ACCEPT_RETRY).await;
                    continue;
                }
            };
            let Some(slot) = limit::take() else {
                drop(tcp);
                if limit::may_log_refusal() {
                    runtime::log(&format!("[{}] {} refused {peer}: {} connections open", svc.label(), kind.name(), limit::max()));
                }
                continue;
            };
            let (weak, tls, on_open) = (weak.clone(), tls.clone(), on_open.clone());
            svc.spawn_task(async move {
                let opened = stream::accept(kind, tcp, tls).await.map(|mut o| {
                    o.slot = Some(slot);
                    o
                });
                if let Some(svc) = weak.upgrade() {
                    on_open(&svc, peer, opened);
                }
            });
        }
    });
}

/// The address `host:port` names for listening (resolved here, at once).
pub fn address(host: &str, port: u16) -> Result<SocketAddr> {
    std::net::ToSocketAddrs::to_socket_addrs(&(host, port))
        .map_err(|e| Error::Io(format!("{host}: {e}")))?
        .next()
        .ok_or_else(|| Error::Io(format!("{host}: no address")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_an_ephemeral_port_and_releases_it_on_close() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let l = Listener::bind(address("127.0.0.1", 0).unwrap()).unwrap();
            let addr = l.local_addr().unwrap();
            assert_ne!(addr.port(), 0);
            let client = TcpStream::connect(addr);
            let (accepted, connected) = tokio::join!(l.next(), client);
            assert!(accepted.unwrap().is_ok() && connected.is_ok());
            l.close();
            assert!(l.next().await.is_none());
            assert!(TcpStream::connect(addr).await.is_err());
        });
    }

    #[test]
    fn a_bad_host_is_an_error() {
        assert!(address("no such host.invalid", 1).is_err());
    }
}
