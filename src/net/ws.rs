//! WebSocket pieces over any byte stream: the client request, the server
//! side handshake that records what the client asked for, the
//! text-or-binary rule for outgoing messages and the close code that
//! answers a peer breaking the protocol.
//!
//! The TLS layer is ours (see [`super::tls`]), so tokio-tungstenite only
//! ever sees an already secured stream and its own TLS features stay off.

use crate::error::{Error, Result};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::tungstenite::handshake::client::Request;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request as Asked, Response as Answer};
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message, client::IntoClientRequest};
use tokio_tungstenite::WebSocketStream;

/// An incoming message over this size closes the connection.
pub const MAX_MESSAGE: usize = 16 << 20;

pub type Headers = Vec<(String, String)>;

/// The settings of every WebSocket: the message cap, and a read buffer of
/// 4 KiB to start with (tungstenite's 128 KiB default would be held by
/// every idle connection; the buffer grows when a message needs it).
pub fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE))
        .read_buffer_size(4 * 1024)
}

/// The handshake request of a client: `uri` on `host:port`, plus `headers`.
pub fn request(secure: bool, host: &str, port: u16, uri: &str, headers: &Headers) -> Result<Request> {
    let host = if host.contains(':') { format!("[{host}]") } else { host.to_owned() };
    let uri = if uri.starts_with('/') { uri.to_owned() } else { format!("/{uri}") };
    let url = format!("{}://{host}:{port}{uri}", if secure { "wss" } else { "ws" });
    let mut req = url.into_client_request().map_err(|e| Error::other(e.to_string()))?;
    for (name, value) in headers {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| Error::other(format!("invalid header name: {name}")))?;
        let value = HeaderValue::from_str(value).map_err(|_| Error::other(format!("invalid header value for {name}")))?;
        req.headers_mut().insert(name, value);
    }
    Ok(req)
}

fn header_list(map: &tokio_tungstenite::tungstenite::http::HeaderMap) -> Headers {
    map.iter().map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned())).collect()
}

/// Client handshake over `stream`: the socket and the server's headers.
pub async fn connect<S: AsyncRead + AsyncWrite + Unpin>(
    req: Request,
    stream: S,
) -> Result<(WebSocketStream<S>, Headers)> {
    let (ws, resp) = tokio_tungstenite::client_async_with_config(req, stream, Some(config()))
        .await
        .map_err(|e| Error::Io(format!("websocket handshake failed: {e}")))?;
    Ok((ws, header_list(resp.headers())))
}

/// Server handshake over `stream`: the socket, the URI and the headers the client sent.
pub async fn accept<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
) -> Result<(WebSocketStream<S>, String, Headers)> {
    let mut asked: Option<(String, Headers)> = None;
    let record = |req: &Asked, resp: Answer| -> std::result::Result<Answer, ErrorResponse> {
        asked = Some((req.uri().to_string(), header_list(req.headers())));
        Ok(resp)
    };
    let ws = tokio_tungstenite::accept_hdr_async_with_config(stream, record, Some(config()))
        .await
        .map_err(|e| Error::Io(format!("websocket handshake failed: {e}")))?;
    let (uri, headers) = asked.unwrap_or_else(|| ("/".to_owned(), Vec::new()));
    Ok((ws, uri, headers))
}

/// Text when `data` is valid UTF-8, else binary (as the original).
pub fn message(data: Vec<u8>) -> Message {
    match String::from_utf8(data) {
        Ok(text) => Message::text(text),
        Err(e) => Message::binary(e.into_bytes()),
    }
}

/// The payload of a data message; `None` for control frames.
pub fn payload(msg: Message) -> Option<Vec<u8>> {
    match msg {
        Message::Text(t) => Some(t.as_bytes().to_vec()),
        Message::Binary(b) => Some(Vec::from(b)),
        _ => None,
    }
}

/// The close code that answers a peer whose data broke the connection
/// (RFC 6455 §7.4.1); `None` when the connection itself failed.
pub fn refusal(e: &tungstenite::Error) -> Option<CloseCode> {
    use tungstenite::error::ProtocolError;
    match e {
        // The peer vanished: there is nobody to tell.
        tungstenite::Error::Protocol(ProtocolError::ResetWithoutClosingHandshake) => None,
        tungstenite::Error::Protocol(_) => Some(CloseCode::Protocol),
        tungstenite::Error::Capacity(_) => Some(CloseCode::Size),
        tungstenite::Error::Utf8(_) => Some(CloseCode::Invalid),
        _ => None,
    }
}

/// Case-insensitive header lookup.
pub fn find<'a>(headers: &'a Headers, name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_carries_uri_and_headers() {
        let req = request(false, "127.0.0.1", 80, "/chat?x=1", &vec![("X-Token".into(), "42".into())]).unwrap();
        assert_eq!(req.uri().to_string(), "ws://127.0.0.1:80/chat?x=1");
        assert_eq!(req.headers()["x-token"], "42");
        assert!(request(false, "h", 1, "/", &vec![("bad name".into(), "v".into())]).is_err());
        assert!(request(true, "::1", 1, "p", &vec![]).unwrap().uri().to_string().starts_with("wss://[::1]:1/p"));
    }

    #[test]
    fn utf8_goes_as_text_else_binary() {
        assert!(matches!(message(b"hi".to_vec()), Message::Text(_)));
        assert!(matches!(message(vec![0xff, 0]), Message::Binary(_)));
        assert_eq!(payload(message(vec![0xff])).unwrap(), vec![0xff]);
        assert_eq!(payload(Message::Ping(Vec::new().into())), None);
    }

    #[test]
    fn broken_data_is_refused_with_its_code_and_a_broken_connection_is_not() {
        use tungstenite::error::{CapacityError, ProtocolError};
        assert_eq!(refusal(&tungstenite::Error::Protocol(ProtocolError::UnmaskedFrameFromClient)), Some(CloseCode::Protocol));
        let big = CapacityError::MessageTooLong { size: 2, max_size: 1 };
        assert_eq!(refusal(&tungstenite::Error::Capacity(big)), Some(CloseCode::Size));
        assert_eq!(refusal(&tungstenite::Error::ConnectionClosed), None);
        assert_eq!(refusal(&tungstenite::Error::Protocol(ProtocolError::ResetWithoutClosingHandshake)), None);
        assert_eq!(refusal(&tungstenite::Error::Io(std::io::ErrorKind::ConnectionReset.into())), None);
    }

    #[test]
    fn header_lookup_ignores_case() {
        let h = vec![("Sec-WebSocket-Protocol".to_owned(), "chat".to_owned())];
        assert_eq!(find(&h, "sec-websocket-protocol"), Some("chat"));
        assert_eq!(find(&h, "x"), None);
    }
}
