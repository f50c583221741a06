//! The one error type of the Rust core.
//!
//! Cores (`runtime`, `service`, `net`, `cluster`, `codec`) report failures
//! as an [`Error`]; only `lua_api` turns one into Lua values (`false, msg`,
//! `nil, msg` or a raised error). The `Display` text of each variant is the
//! message users see, so code that needs to tell errors apart matches on the
//! variant, never on the text.

use std::fmt;

#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// No service serves this rpc name.
    NotFound(String),
    /// The callee has no handler for the name it was sent.
    NoHandler,
    /// A call got no answer in time.
    Timeout,
    /// The operation was abandoned: its service stopped, or the callee ended.
    Cancel,
    /// The socket (or link) was closed by our side.
    Closed,
    /// The peer closed its side.
    Eof,
    /// A remote node is not (or no longer) linked.
    Disconnected,
    /// The runtime is stopping and starts nothing new.
    ShuttingDown,
    /// Every service id is in use.
    TooManyServices,
    /// An operating-system or protocol error, as text.
    Io(String),
    /// Compressed data is invalid (bad block, bad header, CRC or length mismatch).
    Corrupt(String),
    /// Compressed data ended before its stream did.
    Truncated,
    /// Bytes follow the end of a compressed stream.
    TrailingData,
    /// Output would exceed this many bytes.
    TooLarge(usize),
    /// A message over the transport's size limit (NATS `max_payload`).
    MessageTooLarge,
    /// Anything else, as text (bad values, failed handlers, ...).
    Other(String),
}

impl Error {
    pub fn other(msg: impl Into<String>) -> Error {
        Error::Other(msg.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotFound(name) => write!(f, "{name} not found"),
            Error::NoHandler => f.write_str("function not found"),
            Error::Timeout => f.write_str("timeout"),
            Error::Cancel => f.write_str("cancel"),
            Error::Closed => f.write_str("closed"),
            Error::Eof => f.write_str("eof"),
            Error::Disconnected => f.write_str("disconnected"),
            Error::ShuttingDown => f.write_str("runtime is shutting down"),
            Error::TooManyServices => f.write_str("too many services"),
            Error::Corrupt(why) => write!(f, "corrupt data: {why}"),
            Error::Truncated => f.write_str("truncated data"),
            Error::TrailingData => f.write_str("trailing data after the compressed stream"),
            Error::TooLarge(max) => write!(f, "output exceeds {max} bytes"),
            Error::MessageTooLarge => f.write_str("message too large"),
            Error::Io(msg) | Error::Other(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Error {
        match e.kind() {
            std::io::ErrorKind::UnexpectedEof => Error::Eof,
            _ => Error::Io(e.to_string()),
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_what_users_see() {
        assert_eq!(Error::NotFound("a.b".into()).to_string(), "a.b not found");
        assert_eq!(Error::MessageTooLarge.to_string(), "message too large");
        assert_eq!(Error::Timeout.to_string(), "timeout");
        assert_eq!(Error::Cancel.to_string(), "cancel");
        assert_eq!(Error::Closed.to_string(), "closed");
        assert_eq!(Error::other("x").to_string(), "x");
    }

    #[test]
    fn unexpected_eof_is_eof() {
        let e: Error = std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "short").into();
        assert_eq!(e, Error::Eof);
    }
}
