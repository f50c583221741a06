//! The incremental HTTP/1.x message parser behind `io.http.*_parser`.
//!
//! Bytes arrive in pieces of any size (a socket read may end anywhere, even
//! in the middle of `\r\n`), so the parser is a state machine that keeps what
//! it cannot yet decide on. Two kinds of element are *buffered* until they
//! are complete, each with a hard size limit so that a hostile peer cannot
//! make memory grow: the message head (request/status line plus headers,
//! [`MAX_HEAD_BYTES`], [`MAX_HEADERS`]) and, in chunked bodies, the chunk-size
//! line and the trailer section. Complete heads are tokenized by `httparse`
//! (we never split header lines by hand); bodies are *streamed*: each body
//! byte is handed to the handler once, straight from the caller's slice.
//!
//! Events go to a [`Handler`] in the order of lua-http-parser's callbacks:
//! `MessageBegin` at the first byte of a message, `Url` or `Status`, one
//! `Header` per header, `HeadersComplete` (whose `true` result means "this
//! message has no body", e.g. the response to a HEAD request), `Body`
//! pieces, per chunk `ChunkHeader`/`ChunkComplete` (trailers come as
//! `Header` events before the last `ChunkComplete`), then `BodyEnd` and
//! `MessageComplete`. `BodyEnd` comes once before every `MessageComplete`,
//! body or not, so that a body sink always sees its end.
//!
//! Body framing follows RFC 7230 §3.3.3: no body for 1xx/204/304 responses;
//! `Transfer-Encoding` ending in `chunked` is chunked (with `Content-Length`
//! too it is an error, the request-smuggling shape); `Content-Length` gives
//! the length; otherwise a request has no body and a response runs until the
//! end of the stream, which the caller signals with an empty `execute`
//! (http-parser's convention). Pipelined messages simply follow each other;
//! blank lines between them are skipped. An upgrade (`Connection: upgrade`
//! with `Upgrade`, a 101 response, or a CONNECT request) completes the message
//! at the end of its head and stops: `execute` returns the bytes of the head
//! only, the rest belongs to the new protocol.
//!
//! Errors use http-parser's numbering (`HPE_*`). After an error, or after an
//! upgrade, `execute` consumes nothing until [`Parser::reset`].

use std::mem;

/// Most bytes a message head (or a trailer section) may take.
pub const MAX_HEAD_BYTES: usize = 80 * 1024;
/// Most header lines in one head or trailer section.
pub const MAX_HEADERS: usize = 128;
/// Most bytes a chunk-size line (with extensions) may take.
const MAX_CHUNK_LINE: usize = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Request,
    Response,
}

/// Parse errors, numbered as http-parser's `enum http_errno`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Errno {
    #[default]
    Ok = 0,
    CbMessageBegin = 1,
    CbUrl = 2,
    CbHeaderField = 3,
    CbHeadersComplete = 5,
    CbBody = 6,
    CbMessageComplete = 7,
    CbStatus = 8,
    CbChunkHeader = 9,
    CbChunkComplete = 10,
    InvalidEofState = 11,
    HeaderOverflow = 12,
    InvalidVersion = 14,
    InvalidStatus = 15,
    InvalidMethod = 16,
    InvalidUrl = 17,
    LfExpected = 23,
    InvalidHeaderToken = 24,
    InvalidContentLength = 25,
    UnexpectedContentLength = 26,
    InvalidChunkSize = 27,
    InvalidTransferEncoding = 33,
}

impl Errno {
    pub fn code(self) -> i64 {
        self as i64
    }

    /// http-parser's `http_errno_name`.
    pub fn name(self) -> &'static str {
        match self {
            Errno::Ok => "HPE_OK",
            Errno::CbMessageBegin => "HPE_CB_message_begin",
            Errno::CbUrl => "HPE_CB_url",
            Errno::CbHeaderField => "HPE_CB_header_field",
            Errno::CbHeadersComplete => "HPE_CB_headers_complete",
            Errno::CbBody => "HPE_CB_body",
            Errno::CbMessageComplete => "HPE_CB_message_complete",
            Errno::CbStatus => "HPE_CB_status",
            Errno::CbChunkHeader => "HPE_CB_chunk_header",
            Errno::CbChunkComplete => "HPE_CB_chunk_complete",
            Errno::InvalidEofState => "HPE_INVALID_EOF_STATE",
            Errno::HeaderOverflow => "HPE_HEADER_OVERFLOW",
            Errno::InvalidVersion => "HPE_INVALID_VERSION",
            Errno::InvalidStatus => "HPE_INVALID_STATUS",
            Errno::InvalidMethod => "HPE_INVALID_METHOD",
            Errno::InvalidUrl => "HPE_INVALID_URL",
            Errno::LfExpected => "HPE_LF_EXPECTED",
            Errno::InvalidHeaderToken => "HPE_INVALID_HEADER_TOKEN",
            Errno::InvalidContentLength => "HPE_INVALID_CONTENT_LENGTH",
            Errno::UnexpectedContentLength => "HPE_UNEXPECTED_CONTENT_LENGTH",
            Errno::InvalidChunkSize => "HPE_INVALID_CHUNK_SIZE",
            Errno::InvalidTransferEncoding => "HPE_INVALID_TRANSFER_ENCODING",
        }
    }

    /// http-parser's `http_errno_description`.
    pub fn description(self) -> &'static str {
        match self {
            Errno::Ok => "success",
            Errno::CbMessageBegin => "the on_message_begin callback failed",
            Errno::CbUrl => "the on_url callback failed",
            Errno::CbHeaderField => "the on_header callback failed",
            Errno::CbHeadersComplete => "the on_headers_complete callback failed",
            Errno::CbBody => "the on_body callback failed",
            Errno::CbMessageComplete => "the on_message_complete callback failed",
            Errno::CbStatus => "the on_status callback failed",
            Errno::CbChunkHeader => "the on_chunk_header callback failed",
            Errno::CbChunkComplete => "the on_chunk_complete callback failed",
            Errno::InvalidEofState => "stream ended at an unexpected time",
            Errno::HeaderOverflow => "too many header bytes seen; overflow detected",
            Errno::InvalidVersion => "invalid HTTP version",
            Errno::InvalidStatus => "invalid HTTP status code",
            Errno::InvalidMethod => "invalid HTTP method",
            Errno::InvalidUrl => "invalid URL",
            Errno::LfExpected => "LF character expected",
            Errno::InvalidHeaderToken => "invalid character in header",
            Errno::InvalidContentLength => "invalid character in content-length header",
            Errno::UnexpectedContentLength => "unexpected content-length header",
            Errno::InvalidChunkSize => "invalid character in chunk size header",
            Errno::InvalidTransferEncoding => "request has invalid transfer-encoding",
        }
    }
}

/// One parse event; slices borrow the parser's buffer or the caller's data.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<'a> {
    MessageBegin,
    Url(&'a [u8]),
    Status(u16, &'a [u8]),
    Header(&'a [u8], &'a [u8]),
    HeadersComplete,
    Body(&'a [u8]),
    BodyEnd,
    MessageComplete,
    ChunkHeader(u64),
    ChunkComplete,
}

impl Event<'_> {
    /// The error recorded when the handler fails on this event.
    fn callback_errno(&self) -> Errno {
        match self {
            Event::MessageBegin => Errno::CbMessageBegin,
            Event::Url(_) => Errno::CbUrl,
            Event::Status(..) => Errno::CbStatus,
            Event::Header(..) => Errno::CbHeaderField,
            Event::HeadersComplete => Errno::CbHeadersComplete,
            Event::Body(_) | Event::BodyEnd => Errno::CbBody,
            Event::MessageComplete => Errno::CbMessageComplete,
            Event::ChunkHeader(_) => Errno::CbChunkHeader,
            Event::ChunkComplete => Errno::CbChunkComplete,
        }
    }
}

/// What the parser knows about the current message (and its last error).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Info {
    /// Request method as sent (empty for responses or before a request line).
    pub method: String,
    pub major: u8,
    pub minor: u8,
    /// Response status (0 for requests).
    pub status: u16,
    pub keep_alive: bool,
    pub upgrade: bool,
    pub errno: Errno,
}

/// Receives the events of [`Parser::execute`].
pub trait Handler {
    type Error;
    /// Handles one event; `info` is the parser's state at that point. The
    /// result matters only for `HeadersComplete`: `true` = the message has
    /// no body. An error stops parsing and puts the parser in error state.
    fn on_event(&mut self, info: &Info, event: Event<'_>) -> Result<bool, Self::Error>;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Collecting a message head in `buf` (empty = between messages).
    Head,
    Body { remaining: u64 },
    UntilEof,
    /// Collecting a chunk-size line in `buf`.
    ChunkSize,
    ChunkData { remaining: u64 },
    /// Expecting the CRLF after chunk data.
    ChunkDataEnd { seen_cr: bool },
    /// Collecting the trailer section in `buf`.
    Trailers,
    Upgraded,
    Failed,
}

pub struct Parser {
    kind: Kind,
    state: State,
    /// The element being buffered (head, chunk-size line or trailers).
    buf: Vec<u8>,
    info: Info,
}

/// How the body of a message is framed, decided from its head.
enum Framing {
    None,
    Length(u64),
    Chunked,
    UntilEof,
}

impl Parser {
    pub fn new(kind: Kind) -> Self {
        Parser { kind, state: State::Head, buf: Vec::new(), info: Info::default() }
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn info(&self) -> &Info {
        &self.info
    }

    /// Forgets everything: the next byte starts a new message.
    pub fn reset(&mut self) {
        *self = Parser::new(self.kind);
    }

    /// Feeds `data` (empty = end of stream) and returns how many bytes were
    /// consumed: all of them unless a parse error or an upgrade stopped the
    /// parser (see [`Info::errno`] and [`Info::upgrade`]). A handler error
    /// is returned as is, the parser then stays in error state.
    pub fn execute<H: Handler>(&mut self, data: &[u8], h: &mut H) -> Result<usize, H::Error> {
        if matches!(self.state, State::Failed | State::Upgraded) {
            return Ok(0);
        }
        if data.is_empty() {
            return self.end_of_stream(h).map(|()| 0);
        }
        let mut pos = 0;
        while pos < data.len() {
            match self.state {
                State::Head => {
                    if self.buf.is_empty() {
                        // Blank lines before a message (after a pipelined one) are skipped.
                        while pos < data.len() && matches!(data[pos], b'\r' | b'\n') {
                            pos += 1;
                        }
                        if pos == data.len() {
                            break;
                        }
                        self.info = Info::default();
                        self.emit(h, Event::MessageBegin)?;
                    }
                    let Some(end) = self.buffer_block(data, &mut pos) else {
                        // An unfinished head that already cannot be HTTP (a TLS
                        // hello on a plain port, say) fails now, not when a
                        // blank line or the size limit comes.
                        if self.state != State::Failed
                            && let Err(errno) = self.check_head_prefix()
                        {
                            return Ok(self.fail(errno, 0));
                        }
                        continue;
                    };
                    let start = pos.saturating_sub(end);
                    if !self.finish_head(h)? {
                        return Ok(start);
                    }
                    if self.state == State::Upgraded {
                        return Ok(pos);
                    }
                }
                State::Body { remaining } | State::ChunkData { remaining } => {
                    let n = remaining.min((data.len() - pos) as u64) as usize;
                    let left = remaining - n as u64;
                    self.emit(h, Event::Body(&data[pos..pos + n]))?;
                    pos += n;
                    match (self.state, left) {
                        (State::Body { .. }, 0) => self.complete_message(h)?,
                        (State::Body { .. }, _) => self.state = State::Body { remaining: left },
                        (_, 0) => self.state = State::ChunkDataEnd { seen_cr: false },
                        _ => self.state = State::ChunkData { remaining: left },
                    }
                }
                State::UntilEof => {
                    self.emit(h, Event::Body(&data[pos..]))?;
                    pos = data.len();
                }
                State::ChunkSize => {
                    let Some(newline) = data[pos..].iter().position(|&b| b == b'\n') else {
                        self.buf.extend_from_slice(&data[pos..]);
                        pos = data.len();
                        if self.buf.len() > MAX_CHUNK_LINE {
                            return Ok(self.fail(Errno::InvalidChunkSize, 0));
                        }
                        continue;
                    };
                    let start = pos.saturating_sub(self.buf.len());
                    self.buf.extend_from_slice(&data[pos..=pos + newline]);
                    pos += newline + 1;
                    let size = match self.buf.first() {
                        Some(b) if b.is_ascii_hexdigit() && self.buf.len() <= MAX_CHUNK_LINE => {
                            match httparse::parse_chunk_size(&self.buf) {
                                Ok(httparse::Status::Complete((_, size))) => Some(size),
                                _ => None,
                            }
                        }
                        _ => None,
                    };
                    self.buf.clear();
                    let Some(size) = size else { return Ok(self.fail(Errno::InvalidChunkSize, start)) };
                    self.emit(h, Event::ChunkHeader(size))?;
                    self.state = if size == 0 { State::Trailers } else { State::ChunkData { remaining: size } };
                }
                State::ChunkDataEnd { seen_cr } => {
                    match data[pos] {
                        b'\r' if !seen_cr => self.state = State::ChunkDataEnd { seen_cr: true },
                        b'\n' => {
                            self.state = State::ChunkSize;
                            self.emit(h, Event::ChunkComplete)?;
                        }
                        _ => return Ok(self.fail(Errno::InvalidChunkSize, pos)),
                    }
                    pos += 1;
                }
                State::Trailers => {
                    let Some(end) = self.buffer_block(data, &mut pos) else { continue };
                    let start = pos.saturating_sub(end);
                    if !self.finish_trailers(h)? {
                        return Ok(start);
                    }
                }
                State::Upgraded | State::Failed => break,
            }
            if self.state == State::Failed {
                break;
            }
        }
        // An error always reports fewer bytes than given.
        Ok(if self.state == State::Failed { pos.min(data.len() - 1) } else { pos })
    }

    /// Appends `data[pos..]` to `buf` up to the blank line ending a header
    /// block. Returns the block's length once it is complete, `None` if more
    /// is needed (or the block is too big: then the parser has failed).
    fn buffer_block(&mut self, data: &[u8], pos: &mut usize) -> Option<usize> {
        let old = self.buf.len();
        let room = (MAX_HEAD_BYTES + 1).saturating_sub(old);
        let take = room.min(data.len() - *pos);
        self.buf.extend_from_slice(&data[*pos..*pos + take]);
        match blank_line_end(&self.buf, old) {
            Some(end) => {
                self.buf.truncate(end);
                *pos += end - old;
                Some(end)
            }
            None => {
                *pos += take;
                if self.buf.len() > MAX_HEAD_BYTES {
                    self.fail(Errno::HeaderOverflow, 0);
                }
                None
            }
        }
    }

    /// Parses the complete head in `buf` and emits its events. `Ok(false)`
    /// when the head is malformed (the parser has failed).
    fn finish_head<H: Handler>(&mut self, h: &mut H) -> Result<bool, H::Error> {
        let head = mem::take(&mut self.buf);
        let result = self.emit_head(&head, h);
        self.buf = head;
        self.buf.clear();
        if self.buf.capacity() > 4096 {
            self.buf.shrink_to(4096);
        }
        result
    }

    fn emit_head<H: Handler>(&mut self, head: &[u8], h: &mut H) -> Result<bool, H::Error> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let (start_line, headers): (Event<'_>, &[httparse::Header<'_>]) = match self.kind {
            Kind::Request => {
                let mut req = httparse::Request::new(&mut headers);
                match req.parse(head) {
                    Ok(httparse::Status::Complete(_)) => {}
                    Ok(httparse::Status::Partial) => return Ok(self.fail_head(Errno::LfExpected)),
                    Err(httparse::Error::Token) if req.method.is_some() => return Ok(self.fail_head(Errno::InvalidUrl)),
                    Err(e) => return Ok(self.fail_head(errno_of(e, self.kind))),
                }
                self.info.method = req.method.unwrap_or_default().to_owned();
                self.info.minor = req.version.unwrap_or_default();
                (Event::Url(req.path.unwrap_or_default().as_bytes()), req.headers)
            }
            Kind::Response => {
                let mut res = httparse::Response::new(&mut headers);
                match res.parse(head) {
                    Ok(httparse::Status::Complete(_)) => {}
                    Ok(httparse::Status::Partial) => return Ok(self.fail_head(Errno::LfExpected)),
                    Err(e) => return Ok(self.fail_head(errno_of(e, self.kind))),
                }
                self.info.status = res.code.unwrap_or_default();
                self.info.minor = res.version.unwrap_or_default();
                (Event::Status(self.info.status, res.reason.unwrap_or_default().as_bytes()), res.headers)
            }
        };
        self.info.major = 1;
        let summary = match HeadSummary::of(headers) {
            Ok(summary) => summary,
            Err(errno) => return Ok(self.fail_head(errno)),
        };
        let is_request = self.kind == Kind::Request;
        self.info.upgrade = if summary.upgrade_header && summary.connection_upgrade {
            is_request || self.info.status == 101
        } else {
            is_request && self.info.method == "CONNECT"
        };
        let mut framing = match self.framing(&summary) {
            Ok(framing) => framing,
            Err(errno) => return Ok(self.fail_head(errno)),
        };
        self.set_keep_alive(&summary, &framing);

        self.emit(h, start_line)?;
        for header in headers {
            self.emit(h, Event::Header(header.name.as_bytes(), header.value))?;
        }
        let skip_body = self.emit(h, Event::HeadersComplete)?;
        if self.info.upgrade {
            self.complete_message(h)?;
            self.state = State::Upgraded;
            return Ok(true);
        }
        if skip_body {
            framing = Framing::None;
            self.set_keep_alive(&summary, &framing);
        }
        match framing {
            Framing::None | Framing::Length(0) => self.complete_message(h)?,
            Framing::Length(n) => self.state = State::Body { remaining: n },
            Framing::Chunked => self.state = State::ChunkSize,
            Framing::UntilEof => self.state = State::UntilEof,
        }
        Ok(true)
    }

    /// RFC 7230 §3.3.3 body length rules.
    fn framing(&self, summary: &HeadSummary) -> Result<Framing, Errno> {
        let status = self.info.status;
        if self.kind == Kind::Response && ((100..200).contains(&status) || status == 204 || status == 304) {
            return Ok(Framing::None);
        }
        if summary.transfer_encoding {
            if summary.content_length.is_some() {
                return Err(Errno::UnexpectedContentLength);
            }
            return match (summary.chunked, self.kind) {
                (true, _) => Ok(Framing::Chunked),
                (false, Kind::Request) => Err(Errno::InvalidTransferEncoding),
                (false, Kind::Response) => Ok(Framing::UntilEof),
            };
        }
        Ok(match (summary.content_length, self.kind) {
            (Some(n), _) => Framing::Length(n),
            (None, Kind::Request) => Framing::None,
            (None, Kind::Response) => Framing::UntilEof,
        })
    }

    /// http-parser's `http_should_keep_alive`.
    fn set_keep_alive(&mut self, summary: &HeadSummary, framing: &Framing) {
        let persistent = if self.info.minor >= 1 { !summary.connection_close } else { summary.connection_keep_alive };
        self.info.keep_alive = persistent && !matches!(framing, Framing::UntilEof);
    }

    fn finish_trailers<H: Handler>(&mut self, h: &mut H) -> Result<bool, H::Error> {
        let block = mem::take(&mut self.buf);
        let result = self.emit_trailers(&block, h);
        self.buf = block;
        self.buf.clear();
        result
    }

    fn emit_trailers<H: Handler>(&mut self, block: &[u8], h: &mut H) -> Result<bool, H::Error> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let trailers = match httparse::parse_headers(block, &mut headers) {
            Ok(httparse::Status::Complete((_, trailers))) => trailers,
            Ok(httparse::Status::Partial) => return Ok(self.fail_head(Errno::LfExpected)),
            Err(e) => return Ok(self.fail_head(errno_of(e, self.kind))),
        };
        for header in trailers {
            self.emit(h, Event::Header(header.name.as_bytes(), header.value))?;
        }
        self.emit(h, Event::ChunkComplete)?;
        self.complete_message(h)?;
        Ok(true)
    }

    fn complete_message<H: Handler>(&mut self, h: &mut H) -> Result<(), H::Error> {
        self.state = State::Head;
        self.emit(h, Event::BodyEnd)?;
        self.emit(h, Event::MessageComplete)?;
        Ok(())
    }

    fn end_of_stream<H: Handler>(&mut self, h: &mut H) -> Result<(), H::Error> {
        match self.state {
            State::UntilEof => self.complete_message(h),
            State::Head if self.buf.is_empty() => Ok(()),
            State::Upgraded | State::Failed => Ok(()),
            _ => {
                self.fail(Errno::InvalidEofState, 0);
                Ok(())
            }
        }
    }

    /// Sends `event` to the handler; a handler error fails the parser.
    fn emit<H: Handler>(&mut self, h: &mut H, event: Event<'_>) -> Result<bool, H::Error> {
        let errno = event.callback_errno();
        h.on_event(&self.info, event).inspect_err(|_| {
            self.state = State::Failed;
            self.info.errno = errno;
        })
    }

    /// Records a parse error; returns `consumed` for the caller's convenience.
    fn fail(&mut self, errno: Errno, consumed: usize) -> usize {
        self.state = State::Failed;
        self.info.errno = errno;
        self.buf = Vec::new();
        consumed
    }

    /// Whether the head buffered so far can still become a valid one.
    fn check_head_prefix(&self) -> Result<(), Errno> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let parsed = match self.kind {
            Kind::Request => httparse::Request::new(&mut headers).parse(&self.buf).map(|_| ()),
            Kind::Response => httparse::Response::new(&mut headers).parse(&self.buf).map(|_| ()),
        };
        parsed.map_err(|e| errno_of(e, self.kind))
    }

    fn fail_head(&mut self, errno: Errno) -> bool {
        self.fail(errno, 0);
        false
    }
}

/// What the headers of a message say about its framing and connection.
#[derive(Default)]
struct HeadSummary {
    content_length: Option<u64>,
    transfer_encoding: bool,
    /// `chunked` is the last transfer coding.
    chunked: bool,
    connection_close: bool,
    connection_keep_alive: bool,
    connection_upgrade: bool,
    upgrade_header: bool,
}

impl HeadSummary {
    fn of(headers: &[httparse::Header<'_>]) -> Result<Self, Errno> {
        let mut s = HeadSummary::default();
        for header in headers {
            let name = header.name;
            let value = header.value;
            if name.eq_ignore_ascii_case("content-length") {
                let n = parse_content_length(value).ok_or(Errno::InvalidContentLength)?;
                if s.content_length.is_some_and(|old| old != n) {
                    return Err(Errno::UnexpectedContentLength);
                }
                s.content_length = Some(n);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                s.transfer_encoding = true;
                if let Some(last) = value.split(|&b| b == b',').map(trim).rfind(|t| !t.is_empty()) {
                    s.chunked = last.eq_ignore_ascii_case(b"chunked");
                }
            } else if name.eq_ignore_ascii_case("connection") {
                for token in value.split(|&b| b == b',').map(trim) {
                    s.connection_close |= token.eq_ignore_ascii_case(b"close");
                    s.connection_keep_alive |= token.eq_ignore_ascii_case(b"keep-alive");
                    s.connection_upgrade |= token.eq_ignore_ascii_case(b"upgrade");
                }
            } else if name.eq_ignore_ascii_case("upgrade") {
                s.upgrade_header = true;
            }
        }
        Ok(s)
    }
}

fn trim(s: &[u8]) -> &[u8] {
    s.trim_ascii()
}

/// A Content-Length value: decimal digits only, no overflow.
fn parse_content_length(value: &[u8]) -> Option<u64> {
    let digits = trim(value);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &d| n.checked_mul(10)?.checked_add(u64::from(d - b'0')))
}

fn errno_of(e: httparse::Error, kind: Kind) -> Errno {
    match e {
        httparse::Error::HeaderName | httparse::Error::HeaderValue => Errno::InvalidHeaderToken,
        httparse::Error::NewLine => Errno::LfExpected,
        httparse::Error::Status => Errno::InvalidStatus,
        httparse::Error::Token if kind == Kind::Request => Errno::InvalidMethod,
        httparse::Error::Token => Errno::InvalidStatus,
        httparse::Error::TooManyHeaders => Errno::HeaderOverflow,
        httparse::Error::Version => Errno::InvalidVersion,
    }
}

/// The end (exclusive) of the first empty line in `buf` that ends at or
/// after `from`; the start of `buf` counts as the start of a line.
fn blank_line_end(buf: &[u8], from: usize) -> Option<usize> {
    let mut search = from;
    while let Some(offset) = buf.get(search..)?.iter().position(|&b| b == b'\n') {
        let newline = search + offset;
        let line_start = buf[..newline].iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
        if matches!(&buf[line_start..newline], b"" | b"\r") {
            return Some(newline + 1);
        }
        search = newline + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Records events as strings, e.g. `url /a`, `header Host=x`, `body abc`.
    #[derive(Default)]
    struct Recorder {
        events: Vec<String>,
        skip_body: bool,
        fail_on: Option<&'static str>,
    }

    impl Handler for Recorder {
        type Error = String;
        fn on_event(&mut self, _info: &Info, event: Event<'_>) -> Result<bool, String> {
            let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
            let text = match event {
                Event::MessageBegin => "begin".to_owned(),
                Event::Url(u) => format!("url {}", s(u)),
                Event::Status(c, t) => format!("status {c} {}", s(t)),
                Event::Header(n, v) => format!("header {}={}", s(n), s(v)),
                Event::HeadersComplete => "headers".to_owned(),
                Event::Body(b) => format!("body {}", s(b)),
                Event::BodyEnd => "body-end".to_owned(),
                Event::MessageComplete => "complete".to_owned(),
                Event::ChunkHeader(n) => format!("chunk {n}"),
                Event::ChunkComplete => "chunk-done".to_owned(),
            };
            if self.fail_on.is_some_and(|f| text.starts_with(f)) {
                return Err(format!("failed at {text}"));
            }
            let is_headers = text == "headers";
            self.events.push(text);
            Ok(is_headers && self.skip_body)
        }
    }

    /// Merges adjacent body events so that results do not depend on splitting.
    fn merged(events: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for e in events {
            match (out.last_mut(), e.strip_prefix("body ")) {
                (Some(last), Some(more)) if last.starts_with("body ") => last.push_str(more),
                _ => out.push(e.clone()),
            }
        }
        out
    }

    fn run_pieces(kind: Kind, pieces: &[&[u8]]) -> (Parser, Vec<String>, usize) {
        let mut p = Parser::new(kind);
        let mut r = Recorder::default();
        let mut consumed = 0;
        for piece in pieces {
            consumed += p.execute(piece, &mut r).unwrap();
        }
        (p, merged(&r.events), consumed)
    }

    fn run(kind: Kind, data: &[u8]) -> (Parser, Vec<String>, usize) {
        run_pieces(kind, &[data])
    }

    #[test]
    fn an_unfinished_head_that_cannot_be_http_fails_at_once() {
        let mut p = Parser::new(Kind::Request);
        let mut h = Recorder::default();
        // The start of a TLS ClientHello: no line end, no blank line.
        let n = p.execute(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", &mut h).unwrap();
        assert!(n < 11);
        assert_ne!(p.info().errno, Errno::Ok);
        // A valid but unfinished head is still waiting.
        let mut p = Parser::new(Kind::Request);
        assert_eq!(p.execute(b"GET /pa", &mut h).unwrap(), 7);
        assert_eq!(p.info().errno, Errno::Ok);
    }

    const CHUNKED: &[u8] = b"POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\
        5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 42\r\n\r\n";

    fn chunked_events() -> Vec<&'static str> {
        vec![
            "begin", "url /up", "header Transfer-Encoding=chunked", "headers", "chunk 5", "body hello",
            "chunk-done", "chunk 6", "body  world", "chunk-done", "chunk 0", "header X-Sum=42", "chunk-done",
            "body-end", "complete",
        ]
    }

    #[test]
    fn request_with_content_length() {
        let data = b"POST /a?b=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
        let (p, ev, n) = run(Kind::Request, data);
        assert_eq!(n, data.len());
        assert_eq!(
            ev,
            ["begin", "url /a?b=1", "header Host=x", "header Content-Length=5", "headers", "body hello", "body-end", "complete"]
        );
        let info = p.info();
        assert_eq!((info.method.as_str(), info.major, info.minor, info.keep_alive), ("POST", 1, 1, true));
        assert_eq!(info.errno, Errno::Ok);
    }

    #[test]
    fn chunked_split_at_every_boundary() {
        for cut in 0..=CHUNKED.len() {
            let (p, ev, n) = run_pieces(Kind::Request, &[&CHUNKED[..cut], &CHUNKED[cut..]]);
            assert_eq!(ev, chunked_events(), "cut at {cut}");
            assert_eq!((n, p.info().errno), (CHUNKED.len(), Errno::Ok));
        }
        let bytes: Vec<&[u8]> = CHUNKED.chunks(1).collect();
        assert_eq!(run_pieces(Kind::Request, &bytes).1, chunked_events());
    }

    #[test]
    fn many_pipelined_messages_in_one_buffer() {
        let data = b"POST / HTTP/1.1\r\nContent-Length: 1\r\n\r\nx".repeat(20_000);
        let (p, ev, n) = run(Kind::Request, &data);
        assert_eq!((n, p.info().errno), (data.len(), Errno::Ok));
        assert_eq!(ev.iter().filter(|e| *e == "complete").count(), 20_000);
    }

    #[test]
    fn pipelined_requests() {
        let data = b"GET /1 HTTP/1.1\r\n\r\nPOST /2 HTTP/1.1\r\nContent-Length: 2\r\n\r\nok\r\nGET /3 HTTP/1.0\r\n\r\n";
        let (p, ev, n) = run(Kind::Request, data);
        assert_eq!(n, data.len());
        let urls: Vec<_> = ev.iter().filter(|e| e.starts_with("url") || e.starts_with("body ")).collect();
        assert_eq!(urls, ["url /1", "url /2", "body ok", "url /3"]);
        assert_eq!(ev.iter().filter(|e| *e == "complete").count(), 3);
        assert_eq!((p.info().minor, p.info().keep_alive), (0, false));
    }

    #[test]
    fn response_until_eof() {
        let (mut p, ev, _) = run(Kind::Response, b"HTTP/1.0 200 OK\r\nServer: t\r\n\r\nabc");
        assert_eq!(ev, ["begin", "status 200 OK", "header Server=t", "headers", "body abc"]);
        assert!(!p.info().keep_alive);
        let mut r = Recorder::default();
        p.execute(b"def", &mut r).unwrap();
        assert_eq!(p.execute(b"", &mut r).unwrap(), 0);
        assert_eq!(r.events, ["body def", "body-end", "complete"]);
        assert_eq!(p.info().errno, Errno::Ok);
    }

    #[test]
    fn responses_without_body() {
        for head in [&b"HTTP/1.1 204 No Content\r\n\r\n"[..], b"HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n", b"HTTP/1.1 100 Continue\r\n\r\n"] {
            let (p, ev, n) = run(Kind::Response, head);
            assert_eq!(n, head.len());
            assert_eq!(ev.last().map(String::as_str), Some("complete"), "{ev:?}");
            assert!(p.info().keep_alive);
        }
    }

    #[test]
    fn skip_body_after_head_request() {
        let mut p = Parser::new(Kind::Response);
        let mut r = Recorder { skip_body: true, ..Default::default() };
        let data = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
        assert_eq!(p.execute(data, &mut r).unwrap(), data.len());
        assert_eq!(r.events.iter().filter(|e| *e == "complete").count(), 2);
    }

    #[test]
    fn upgrade_stops_at_end_of_head() {
        let head = b"GET /ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n";
        let mut data = head.to_vec();
        data.extend_from_slice(b"\x81\x05frame");
        let (mut p, ev, n) = run(Kind::Request, &data);
        assert_eq!(n, head.len());
        assert!(p.info().upgrade);
        assert_eq!(ev.last().map(String::as_str), Some("complete"));
        assert_eq!(p.execute(b"more", &mut Recorder::default()).unwrap(), 0);
        assert_eq!(p.info().errno, Errno::Ok);
        p.reset();
        assert!(!p.info().upgrade);
        let (p, _, _) = run(Kind::Request, b"CONNECT h:443 HTTP/1.1\r\n\r\n");
        assert!(p.info().upgrade);
        let (p, _, _) = run(Kind::Response, b"HTTP/1.1 101 Switching\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n");
        assert!(p.info().upgrade);
    }

    #[test]
    fn parse_errors() {
        let cases: &[(Kind, &[u8], Errno)] = &[
            (Kind::Request, b"G@T / HTTP/1.1\r\n\r\n", Errno::InvalidMethod),
            (Kind::Request, b"GET / HTTP/2.0\r\n\r\n", Errno::InvalidVersion),
            (Kind::Request, b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", Errno::InvalidHeaderToken),
            (Kind::Request, b"POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", Errno::InvalidContentLength),
            (Kind::Request, b"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", Errno::InvalidContentLength),
            (Kind::Request, b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", Errno::UnexpectedContentLength),
            (Kind::Request, b"POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", Errno::UnexpectedContentLength),
            (Kind::Request, b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", Errno::InvalidTransferEncoding),
            (Kind::Request, b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", Errno::InvalidChunkSize),
            (Kind::Request, b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", Errno::InvalidChunkSize),
            (Kind::Request, b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX", Errno::InvalidChunkSize),
            (Kind::Request, b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n11111111111111111\r\n", Errno::InvalidChunkSize),
            (Kind::Response, b"HTTP/1.1 2x0 OK\r\n\r\n", Errno::InvalidStatus),
            (Kind::Response, b"HTTX/1.1 200 OK\r\n\r\n", Errno::InvalidVersion),
        ];
        for (kind, data, errno) in cases {
            let (p, _, n) = run(*kind, data);
            assert_eq!(p.info().errno, *errno, "{}", String::from_utf8_lossy(data));
            assert!(n < data.len(), "{}", String::from_utf8_lossy(data));
        }
    }

    #[test]
    fn failed_parser_consumes_nothing_until_reset() {
        let (mut p, _, _) = run(Kind::Request, b"G@T / HTTP/1.1\r\n\r\n");
        let mut r = Recorder::default();
        assert_eq!(p.execute(b"GET / HTTP/1.1\r\n\r\n", &mut r).unwrap(), 0);
        p.reset();
        assert_eq!(p.info().errno, Errno::Ok);
        assert_eq!(p.execute(b"GET / HTTP/1.1\r\n\r\n", &mut r).unwrap(), 18);
    }

    #[test]
    fn eof_in_the_middle_is_an_error() {
        for data in [&b"GET / HTTP/1.1\r\nHost"[..], b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab", CHUNKED.split_at(60).0] {
            let (mut p, _, _) = run(Kind::Request, data);
            assert_eq!(p.execute(b"", &mut Recorder::default()).unwrap(), 0);
            assert_eq!(p.info().errno, Errno::InvalidEofState);
        }
        let (mut p, _, _) = run(Kind::Request, b"GET / HTTP/1.1\r\n\r\n");
        p.execute(b"", &mut Recorder::default()).unwrap();
        assert_eq!(p.info().errno, Errno::Ok);
    }

    #[test]
    fn head_limits() {
        let mut big = b"GET / HTTP/1.1\r\nX: ".to_vec();
        big.resize(MAX_HEAD_BYTES + 10, b'a');
        let (p, _, n) = run(Kind::Request, &big);
        assert_eq!(p.info().errno, Errno::HeaderOverflow);
        assert!(n < big.len());
        // Fed in small pieces, the buffer never grows past the limit.
        let mut p = Parser::new(Kind::Request);
        let mut r = Recorder::default();
        for piece in big.chunks(1000) {
            p.execute(piece, &mut r).unwrap();
        }
        assert_eq!(p.info().errno, Errno::HeaderOverflow);
        assert!(p.buf.capacity() <= MAX_HEAD_BYTES + 1000);
        let mut many = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..=MAX_HEADERS {
            many.extend_from_slice(format!("H{i}: v\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        let (p, _, _) = run(Kind::Request, &many);
        assert_eq!(p.info().errno, Errno::HeaderOverflow);
    }

    #[test]
    fn handler_error_fails_the_parser() {
        let mut p = Parser::new(Kind::Request);
        let mut r = Recorder { fail_on: Some("header"), ..Default::default() };
        let err = p.execute(b"GET / HTTP/1.1\r\nA: b\r\n\r\n", &mut r).unwrap_err();
        assert_eq!(err, "failed at header A=b");
        assert_eq!(p.info().errno, Errno::CbHeaderField);
        assert_eq!(p.execute(b"x", &mut r).unwrap(), 0);
    }

    #[test]
    fn keep_alive_rules() {
        let cases: &[(&[u8], bool)] = &[
            (b"GET / HTTP/1.1\r\n\r\n", true),
            (b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", false),
            (b"GET / HTTP/1.0\r\n\r\n", false),
            (b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true),
        ];
        for (data, keep) in cases {
            assert_eq!(run(Kind::Request, data).0.info().keep_alive, *keep);
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..400), cut in 0usize..400, response: bool) {
            let kind = if response { Kind::Response } else { Kind::Request };
            let cut = cut.min(data.len());
            let mut p = Parser::new(kind);
            let mut r = Recorder::default();
            let n1 = p.execute(&data[..cut], &mut r).unwrap();
            prop_assert!(n1 <= cut);
            let n2 = p.execute(&data[cut..], &mut r).unwrap();
            prop_assert!(n2 <= data.len() - cut);
            p.execute(b"", &mut r).unwrap();
        }

        #[test]
        fn http_shaped_bytes_never_panic(parts in proptest::collection::vec(prop_oneof![
            Just(&b"GET / HTTP/1.1\r\n"[..]), Just(&b"HTTP/1.1 200 OK\r\n"[..]), Just(&b"Transfer-Encoding: chunked\r\n"[..]),
            Just(&b"Content-Length: 3\r\n"[..]), Just(&b"\r\n"[..]), Just(&b"3\r\nabc\r\n"[..]), Just(&b"0\r\n"[..]),
            Just(&b"Connection: upgrade\r\nUpgrade: x\r\n"[..]), Just(&b"x"[..]), Just(&b"\n"[..]),
        ], 0..30), response: bool, step in 1usize..7) {
            let kind = if response { Kind::Response } else { Kind::Request };
            let data = parts.concat();
            let mut p = Parser::new(kind);
            let mut r = Recorder::default();
            for piece in data.chunks(step) {
                let n = p.execute(piece, &mut r).unwrap();
                prop_assert!(n <= piece.len());
            }
        }
    }
}
