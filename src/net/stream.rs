//! One connection of any kind (tcp, ssl, ws, wss) as a reader half and a
//! writer half, plus the async steps that open it (connect, accept).
//!
//! Every kind is reduced to the same two halves so that the socket logic
//! (one writer task fed in order, one reader used by `read` or `receive`)
//! does not care what runs underneath. TLS wraps the TCP stream first; the
//! WebSocket layer then runs over that, whatever it is.

use super::ws::{self, Headers};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::net::TcpStream;
use tokio_rustls::rustls::{ClientConfig, ServerConfig};
use tokio_rustls::{TlsAcceptor, TlsConnector};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::{self, Message};

/// A chunk read from a byte stream is at most this long.
pub const CHUNK: usize = 64 * 1024;
/// How long a TLS or WebSocket handshake may take.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Tcp,
    Ssl,
    Ws,
    Wss,
}

impl Kind {
    pub fn parse(name: &[u8]) -> Option<Kind> {
        match name {
            b"tcp" => Some(Kind::Tcp),
            b"ssl" => Some(Kind::Ssl),
            b"ws" => Some(Kind::Ws),
            b"wss" => Some(Kind::Wss),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Tcp => "tcp",
            Kind::Ssl => "ssl",
            Kind::Ws => "ws",
            Kind::Wss => "wss",
        }
    }

    pub fn secure(self) -> bool {
        matches!(self, Kind::Ssl | Kind::Wss)
    }

    pub fn websocket(self) -> bool {
        matches!(self, Kind::Ws | Kind::Wss)
    }
}

/// Any byte stream: plain TCP or TLS over it.
pub trait Io: AsyncRead + AsyncWrite + Unpin {}
impl<T: AsyncRead + AsyncWrite + Unpin> Io for T {}
pub type BoxIo = Box<dyn Io>;

pub enum Reader {
    /// The half and a buffer reused for every read (a fresh 64 KiB per
    /// chunk would cost more than the read itself for small messages).
    Bytes(ReadHalf<BoxIo>, Box<[u8]>),
    Ws(SplitStream<WebSocketStream<BoxIo>>),
}

pub enum Writer {
    Bytes(WriteHalf<BoxIo>),
    Ws(SplitSink<WebSocketStream<BoxIo>, Message>),
}

/// An open connection and what is known about it.
pub struct Opened {
    pub reader: Reader,
    pub writer: Writer,
    pub local: Option<SocketAddr>,
    pub remote: Option<SocketAddr>,
    /// WebSocket server side: the URI the client asked for.
    pub uri: Option<String>,
    /// WebSocket: the other side's handshake headers.
    pub headers: Headers,
}

fn ws_error(e: tungstenite::Error) -> String {
    match e {
        tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed => "eof".into(),
        tungstenite::Error::Io(e) => io_error(e),
        e => e.to_string(),
    }
}

fn io_error(e: std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => "eof".into(),
        _ => e.to_string(),
    }
}

impl Reader {
    /// The next chunk (byte streams) or message (WebSocket); `Ok(None)` at
    /// the end of the stream.
    pub async fn next(&mut self) -> Result<Option<Vec<u8>>, String> {
        match self {
            Reader::Bytes(r, buf) => {
                let n = r.read(buf).await.map_err(io_error)?;
                if n == 0 {
                    return Ok(None);
                }
                Ok(Some(buf[..n].to_vec()))
            }
            Reader::Ws(r) => loop {
                match r.next().await {
                    None => return Ok(None),
                    Some(Err(e)) => {
                        let msg = ws_error(e);
                        return if msg == "eof" { Ok(None) } else { Err(msg) };
                    }
                    Some(Ok(Message::Close(_))) => return Ok(None),
                    Some(Ok(m)) => {
                        if let Some(data) = ws::payload(m) {
                            return Ok(Some(data));
                        }
                    }
                }
            },
        }
    }
}

impl Writer {
    /// Writes all of `data` (one message on a WebSocket).
    pub async fn write(&mut self, data: Vec<u8>) -> Result<(), String> {
        match self {
            Writer::Bytes(w) => {
                w.write_all(&data).await.map_err(io_error)?;
                w.flush().await.map_err(io_error)
            }
            Writer::Ws(w) => w.send(ws::message(data)).await.map_err(ws_error),
        }
    }

    /// Ends the connection politely: a close frame on a WebSocket, a TLS
    /// close_notify and a FIN otherwise. Bounded in time.
    pub async fn close(&mut self) {
        let polite = async {
            match self {
                Writer::Bytes(w) => {
                    let _ = w.shutdown().await;
                }
                Writer::Ws(w) => {
                    let normal = tungstenite::protocol::CloseFrame {
                        code: tungstenite::protocol::frame::coding::CloseCode::Normal,
                        reason: "".into(),
                    };
                    let _ = w.send(Message::Close(Some(normal))).await;
                    let _ = w.close().await;
                }
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(1), polite).await;
    }
}

fn halves(io: BoxIo) -> (Reader, Writer) {
    let (r, w) = tokio::io::split(io);
    (Reader::Bytes(r, vec![0u8; CHUNK].into_boxed_slice()), Writer::Bytes(w))
}

fn ws_halves(ws: WebSocketStream<BoxIo>) -> (Reader, Writer) {
    let (w, r) = ws.split();
    (Reader::Ws(r), Writer::Ws(w))
}

/// The address of `host:port`: parsed directly for IP literals, resolved otherwise.
pub async fn resolve(host: &str, port: u16) -> Result<SocketAddr, String> {
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    let mut addrs = tokio::net::lookup_host((host, port)).await.map_err(|e| format!("{host}: {e}"))?;
    addrs.next().ok_or_else(|| format!("{host}: no address"))
}

/// What a client needs besides the address.
pub struct ClientSetup {
    pub kind: Kind,
    pub tls: Option<Arc<ClientConfig>>,
    pub uri: String,
    pub headers: Headers,
}

/// Connects to `host:port` and runs the TLS and WebSocket handshakes.
pub async fn connect(host: &str, port: u16, setup: ClientSetup) -> Result<Opened, String> {
    let addr = resolve(host, port).await?;
    let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let _ = tcp.set_nodelay(true);
    let local = tcp.local_addr().ok();
    let remote = tcp.peer_addr().ok();
    let handshakes = async {
        let io: BoxIo = match &setup.tls {
            Some(config) if setup.kind.secure() => {
                let name = super::tls::server_name(host)?;
                let tls = TlsConnector::from(config.clone())
                    .connect(name, tcp)
                    .await
                    .map_err(|e| format!("tls handshake failed: {e}"))?;
                Box::new(tls)
            }
            _ => Box::new(tcp),
        };
        if !setup.kind.websocket() {
            let (reader, writer) = halves(io);
            return Ok::<_, String>((reader, writer, Vec::new()));
        }
        let req = ws::request(setup.kind.secure(), host, port, &setup.uri, &setup.headers)?;
        let (wsock, headers) = ws::connect(req, io).await?;
        let (reader, writer) = ws_halves(wsock);
        Ok((reader, writer, headers))
    };
    let (reader, writer, headers) = tokio::time::timeout(HANDSHAKE_TIMEOUT, handshakes)
        .await
        .map_err(|_| "handshake timeout".to_string())??;
    Ok(Opened { reader, writer, local, remote, uri: None, headers })
}

/// Runs the server side handshakes of kind `kind` on an accepted stream.
pub async fn accept(kind: Kind, tcp: TcpStream, tls: Option<Arc<ServerConfig>>) -> Result<Opened, String> {
    let _ = tcp.set_nodelay(true);
    let local = tcp.local_addr().ok();
    let remote = tcp.peer_addr().ok();
    let handshakes = async {
        let io: BoxIo = match tls {
            Some(config) if kind.secure() => {
                let tls = TlsAcceptor::from(config).accept(tcp).await.map_err(|e| format!("tls handshake failed: {e}"))?;
                Box::new(tls)
            }
            _ => Box::new(tcp),
        };
        if !kind.websocket() {
            let (reader, writer) = halves(io);
            return Ok::<_, String>((reader, writer, None, Vec::new()));
        }
        let (wsock, uri, headers) = ws::accept(io).await?;
        let (reader, writer) = ws_halves(wsock);
        Ok((reader, writer, Some(uri), headers))
    };
    let (reader, writer, uri, headers) =
        tokio::time::timeout(HANDSHAKE_TIMEOUT, handshakes).await.map_err(|_| "handshake timeout".to_string())??;
    Ok(Opened { reader, writer, local, remote, uri, headers })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
    }

    #[test]
    fn kinds_parse() {
        assert_eq!(Kind::parse(b"wss"), Some(Kind::Wss));
        assert_eq!(Kind::parse(b"udp"), None);
        assert!(Kind::Ssl.secure() && !Kind::Ws.secure() && Kind::Ws.websocket());
    }

    async fn pair(kind: Kind) -> (Opened, Opened) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = async {
            let (tcp, _) = listener.accept().await.unwrap();
            accept(kind, tcp, None).await.unwrap()
        };
        let setup = ClientSetup { kind, tls: None, uri: "/x".into(), headers: vec![("X-A".into(), "1".into())] };
        let client = async { connect("127.0.0.1", port, setup).await.unwrap() };
        let (s, c) = tokio::join!(server, client);
        (s, c)
    }

    #[test]
    fn tcp_and_ws_pairs_exchange_data_and_see_eof() {
        rt().block_on(async {
            for kind in [Kind::Tcp, Kind::Ws] {
                let (mut s, mut c) = pair(kind).await;
                c.writer.write(b"hello".to_vec()).await.unwrap();
                assert_eq!(s.reader.next().await.unwrap().unwrap(), b"hello");
                if kind == Kind::Ws {
                    assert_eq!(s.uri.as_deref(), Some("/x"));
                    assert_eq!(ws::find(&s.headers, "x-a"), Some("1"));
                }
                c.writer.close().await;
                assert_eq!(s.reader.next().await.unwrap(), None);
            }
        });
    }

    #[test]
    fn connect_to_a_closed_port_fails() {
        rt().block_on(async {
            let port = {
                let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
                l.local_addr().unwrap().port()
            };
            let setup = ClientSetup { kind: Kind::Tcp, tls: None, uri: "/".into(), headers: vec![] };
            assert!(connect("127.0.0.1", port, setup).await.is_err());
        });
    }

    #[test]
    fn ws_accept_refuses_a_plain_http_request() {
        rt().block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = listener.local_addr().unwrap().port();
            let client = async {
                let mut c = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
                c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
                let mut buf = Vec::new();
                let _ = c.read_to_end(&mut buf).await;
            };
            let server = async {
                let (tcp, _) = listener.accept().await.unwrap();
                accept(Kind::Ws, tcp, None).await.err().unwrap()
            };
            let (_, e) = tokio::join!(client, server);
            assert!(e.contains("handshake"), "{e}");
        });
    }
}
