//! One connection of any kind (tcp, ssl, ws, wss) as a reader half and a
//! writer half, plus the async steps that open it (connect, accept).
//!
//! Every kind is reduced to the same two halves so that the socket logic
//! (one writer task fed in order, one reader used by `read` or `receive`)
//! does not care what runs underneath. TLS wraps the TCP stream first; the
//! WebSocket layer then runs over that, whatever it is.

use super::ws::{self, Headers};
use crate::error::{Error, Result};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_rustls::rustls::{ClientConfig, ServerConfig};
use tokio_rustls::{TlsAcceptor, TlsConnector};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};

/// A chunk read from a byte stream is at most this long.
pub const CHUNK: usize = 64 * 1024;
/// The smallest read buffer (what an idle connection holds).
pub const MIN_CHUNK: usize = 2 * 1024;
/// How long a TLS or WebSocket handshake may take.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a polite close (close frame, close_notify, FIN) may take.
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

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

/// How the reading half of a WebSocket saw it end. The writing half learns
/// it and ends the connection to match: the two halves share one socket,
/// and only the writer can put the last frame on the wire.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum WsEnd {
    /// The peer sent a close frame; tungstenite has queued the answer (the
    /// same code), which the writer flushes at once.
    Answer,
    /// The peer broke the protocol: we close with this code.
    Refuse(CloseCode),
    /// The connection is gone: nothing can be sent any more.
    Gone,
}

pub enum Reader {
    /// The half and the size of the next read's buffer. Each chunk is read
    /// into a buffer of its own, handed over as it is (no copy); its size
    /// follows the traffic, from [`MIN_CHUNK`] up to [`CHUNK`] and back, so
    /// that an idle connection holds only a small buffer.
    Bytes(ReadHalf<BoxIo>, usize),
    Ws(SplitStream<WebSocketStream<BoxIo>>, watch::Sender<Option<WsEnd>>),
}

pub enum Writer {
    Bytes(WriteHalf<BoxIo>),
    Ws(SplitSink<WebSocketStream<BoxIo>, Message>, watch::Receiver<Option<WsEnd>>),
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
    /// Its share of the connection cap (kept by whoever keeps the connection).
    pub slot: Option<super::limit::Slot>,
    /// Plain TCP: the socket's descriptor, for the `send`s that
    /// `write_batch` writes itself; open while `writer` lives.
    pub fd: Option<RawFd>,
}

fn ws_error(e: tungstenite::Error) -> Error {
    match e {
        tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed => Error::Eof,
        tungstenite::Error::Io(e) => e.into(),
        e => Error::Io(e.to_string()),
    }
}

impl Reader {
    /// The next chunk (byte streams) or message (WebSocket); `Ok(None)` at
    /// the end of the stream.
    pub async fn next(&mut self) -> Result<Option<Vec<u8>>> {
        match self {
            Reader::Bytes(r, size) => {
                let mut buf = Vec::with_capacity(*size);
                let n = r.read_buf(&mut buf).await?;
                if n == 0 {
                    return Ok(None);
                }
                *size = next_chunk_size(*size, n);
                Ok(Some(buf))
            }
            Reader::Ws(r, end) => loop {
                let (how, result) = match r.next().await {
                    Some(Ok(Message::Close(_))) => (WsEnd::Answer, Ok(None)),
                    Some(Ok(m)) => match ws::payload(m) {
                        Some(data) => return Ok(Some(data)),
                        None => continue,
                    },
                    None => (WsEnd::Gone, Ok(None)),
                    Some(Err(e)) => {
                        let how = ws::refusal(&e).map_or(WsEnd::Gone, WsEnd::Refuse);
                        match ws_error(e) {
                            Error::Eof => (how, Ok(None)),
                            e => (how, Err(e)),
                        }
                    }
                };
                end.send_replace(Some(how));
                return result;
            },
        }
    }
}

impl Writer {
    /// Writes all of `data` (one message on a WebSocket).
    pub async fn write(&mut self, data: Vec<u8>) -> Result<()> {
        match self {
            Writer::Bytes(w) => {
                w.write_all(&data).await?;
                Ok(w.flush().await?)
            }
            Writer::Ws(w, _) => w.send(ws::message(data)).await.map_err(ws_error),
        }
    }

    /// Resolves once the reading half of a WebSocket has seen the end of
    /// the connection (then the writer should close); never for a byte
    /// stream, where the peer's end of input does not end our output.
    pub async fn reader_ended(&mut self) {
        if let Writer::Ws(_, end) = self
            && end.wait_for(Option::is_some).await.is_ok()
        {
            return;
        }
        std::future::pending().await
    }

    /// Ends the connection politely, within [`CLOSE_TIMEOUT`]: on a
    /// WebSocket the answer to the peer's close frame, or a close frame of
    /// our own (1000, or 1002 and the like after a protocol error); on a
    /// byte stream a TLS close_notify and a FIN.
    pub async fn close(&mut self) {
        let polite = async {
            match self {
                Writer::Bytes(w) => {
                    let _ = w.shutdown().await;
                }
                Writer::Ws(w, end) => {
                    let ours = match *end.borrow() {
                        Some(WsEnd::Gone) => return,
                        Some(WsEnd::Answer) => None,
                        Some(WsEnd::Refuse(code)) => Some(code),
                        None => Some(CloseCode::Normal),
                    };
                    if let Some(code) = ours {
                        let _ = w.send(Message::Close(Some(CloseFrame { code, reason: "".into() }))).await;
                    }
                    // Flushes what is queued (the answer to the peer's close frame among it).
                    let _ = w.close().await;
                }
            }
        };
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, polite).await;
    }
}

fn halves(io: BoxIo) -> (Reader, Writer) {
    let (r, w) = tokio::io::split(io);
    (Reader::Bytes(r, MIN_CHUNK), Writer::Bytes(w))
}

/// The buffer size after a read of `n` bytes into `size`: doubled when the
/// read filled it, halved when it used under a quarter of it.
fn next_chunk_size(size: usize, n: usize) -> usize {
    if n >= size {
        (size * 2).min(CHUNK)
    } else if n < size / 4 {
        (size / 2).max(MIN_CHUNK)
    } else {
        size
    }
}

fn ws_halves(ws: WebSocketStream<BoxIo>) -> (Reader, Writer) {
    let (w, r) = ws.split();
    let (end, ended) = watch::channel(None);
    (Reader::Ws(r, end), Writer::Ws(w, ended))
}

/// The address of `host:port`: parsed directly for IP literals, resolved otherwise.
pub async fn resolve(host: &str, port: u16) -> Result<SocketAddr> {
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    let mut addrs = tokio::net::lookup_host((host, port)).await.map_err(|e| Error::Io(format!("{host}: {e}")))?;
    addrs.next().ok_or_else(|| Error::Io(format!("{host}: no address")))
}

/// What a client needs besides the address.
pub struct ClientSetup {
    pub kind: Kind,
    pub tls: Option<Arc<ClientConfig>>,
    pub uri: String,
    pub headers: Headers,
}

/// Connects to `host:port` and runs the TLS and WebSocket handshakes.
pub async fn connect(host: &str, port: u16, setup: ClientSetup) -> Result<Opened> {
    let addr = resolve(host, port).await?;
    let tcp = TcpStream::connect(addr).await?;
    let _ = tcp.set_nodelay(true);
    let local = tcp.local_addr().ok();
    let remote = tcp.peer_addr().ok();
    let fd = (setup.kind == Kind::Tcp).then(|| tcp.as_raw_fd());
    let handshakes = async {
        let io: BoxIo = match &setup.tls {
            Some(config) if setup.kind.secure() => {
                let name = super::tls::server_name(host)?;
                let tls = TlsConnector::from(config.clone())
                    .connect(name, tcp)
                    .await
                    .map_err(|e| Error::Io(format!("tls handshake failed: {e}")))?;
                Box::new(tls)
            }
            _ => Box::new(tcp),
        };
        if !setup.kind.websocket() {
            let (reader, writer) = halves(io);
            return Ok::<_, Error>((reader, writer, Vec::new()));
        }
        let req = ws::request(setup.kind.secure(), host, port, &setup.uri, &setup.headers)?;
        let (wsock, headers) = ws::connect(req, io).await?;
        let (reader, writer) = ws_halves(wsock);
        Ok((reader, writer, headers))
    };
    let (reader, writer, headers) = tokio::time::timeout(HANDSHAKE_TIMEOUT, handshakes)
        .await
        .map_err(|_| Error::Io("handshake timeout".into()))??;
    Ok(Opened { reader, writer, local, remote, uri: None, headers, slot: None, fd })
}

/// Runs the server side handshakes of kind `kind` on an accepted stream.
pub async fn accept(kind: Kind, tcp: TcpStream, tls: Option<Arc<ServerConfig>>) -> Result<Opened> {
    let _ = tcp.set_nodelay(true);
    let local = tcp.local_addr().ok();
    let remote = tcp.peer_addr().ok();
    let fd = (kind == Kind::Tcp).then(|| tcp.as_raw_fd());
    let handshakes = async {
        let io: BoxIo = match tls {
            Some(config) if kind.secure() => {
                let tls = TlsAcceptor::from(config).accept(tcp).await.map_err(|e| Error::Io(format!("tls handshake failed: {e}")))?;
                Box::new(tls)
            }
            _ => Box::new(tcp),
        };
        if !kind.websocket() {
            let (reader, writer) = halves(io);
            return Ok::<_, Error>((reader, writer, None, Vec::new()));
        }
        let (wsock, uri, headers) = ws::accept(io).await?;
        let (reader, writer) = ws_halves(wsock);
        Ok((reader, writer, Some(uri), headers))
    };
    let (reader, writer, uri, headers) =
        tokio::time::timeout(HANDSHAKE_TIMEOUT, handshakes).await.map_err(|_| Error::Io("handshake timeout".into()))??;
    Ok(Opened { reader, writer, local, remote, uri, headers, slot: None, fd })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
    }

    async fn listener() -> (TcpListener, u16) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        (listener, port)
    }

    #[test]
    fn kinds_parse() {
        assert_eq!(Kind::parse(b"wss"), Some(Kind::Wss));
        assert_eq!(Kind::parse(b"udp"), None);
        assert!(Kind::Ssl.secure() && !Kind::Ws.secure() && Kind::Ws.websocket());
    }

    async fn pair(kind: Kind) -> (Opened, Opened) {
        let (listener, port) = listener().await;
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
            let (listener, port) = listener().await;
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
            assert!(e.to_string().contains("handshake"), "{e}");
        });
    }

    /// A raw client: the WebSocket handshake by hand, then whatever bytes the test sends.
    async fn raw_ws_client(port: u16) -> TcpStream {
        let mut c = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        c.write_all(
            b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        )
        .await
        .unwrap();
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            head.push(c.read_u8().await.unwrap());
        }
        assert!(head.starts_with(b"HTTP/1.1 101"));
        c
    }

    /// Runs `client` against one accepted ws connection whose reader and
    /// writer do what a socket's tasks do: read to the end, then close.
    async fn against_our_ws_server<F: std::future::Future<Output = Vec<u8>>>(
        client: impl FnOnce(u16) -> F,
    ) -> (Result<Option<Vec<u8>>>, Vec<u8>) {
        let (listener, port) = listener().await;
        let server = async {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut s = accept(Kind::Ws, tcp, None).await.unwrap();
            let read = s.reader.next().await;
            tokio::time::timeout(Duration::from_secs(1), s.writer.reader_ended()).await.unwrap();
            s.writer.close().await;
            read
        };
        tokio::join!(server, client(port))
    }

    #[test]
    fn a_close_frame_is_answered_with_its_code_and_reads_as_the_end() {
        rt().block_on(async {
            let (read, answer) = against_our_ws_server(|port| async move {
                let mut c = raw_ws_client(port).await;
                // A masked close frame with code 1001 (mask 0: the payload as is).
                c.write_all(&[0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe9]).await.unwrap();
                let mut answer = Vec::new();
                c.read_to_end(&mut answer).await.unwrap();
                answer
            })
            .await;
            assert_eq!(read.unwrap(), None);
            assert_eq!(answer, [0x88, 0x02, 0x03, 0xe9]);
        });
    }

    #[test]
    fn a_protocol_error_closes_with_1002() {
        rt().block_on(async {
            let (read, answer) = against_our_ws_server(|port| async move {
                let mut c = raw_ws_client(port).await;
                // Unmasked: a client must mask its frames.
                c.write_all(&[0x81, 0x02, b'h', b'i']).await.unwrap();
                let mut answer = [0u8; 4];
                c.read_exact(&mut answer).await.unwrap();
                answer.to_vec()
            })
            .await;
            assert!(read.is_err());
            assert_eq!(answer, [0x88, 0x02, 0x03, 0xea]);
        });
    }

    #[test]
    fn a_byte_stream_writer_outlives_the_peers_eof() {
        rt().block_on(async {
            let (mut s, mut c) = pair(Kind::Tcp).await;
            c.writer.close().await;
            assert_eq!(s.reader.next().await.unwrap(), None);
            let ended = tokio::time::timeout(Duration::from_millis(50), s.writer.reader_ended()).await;
            assert!(ended.is_err(), "a tcp peer's FIN does not end our writing");
            s.writer.write(b"still".to_vec()).await.unwrap();
            assert_eq!(c.reader.next().await.unwrap().unwrap(), b"still");
        });
    }

    #[test]
    fn our_close_sends_1000() {
        rt().block_on(async {
            let (listener, port) = listener().await;
            let server = async {
                let (tcp, _) = listener.accept().await.unwrap();
                let (mut ws, _, _) = ws::accept(tcp).await.unwrap();
                match ws.next().await {
                    Some(Ok(Message::Close(Some(frame)))) => u16::from(frame.code),
                    other => panic!("{other:?}"),
                }
            };
            let client = async {
                let setup = ClientSetup { kind: Kind::Ws, tls: None, uri: "/".into(), headers: vec![] };
                let mut c = connect("127.0.0.1", port, setup).await.unwrap();
                c.writer.close().await;
            };
            let (code, ()) = tokio::join!(server, client);
            assert_eq!(code, 1000);
        });
    }
}
