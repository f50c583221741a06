---@meta

-- `io` additions: TLS contexts, sockets, servers, and `io.http` (HTTP/1.x
-- parsers, URLs, percent-escapes). Blocking socket methods suspend only the
-- calling coroutine (in the main script they run the main service's events
-- while waiting).

---@alias skynet.socket.kind
---| "tcp" # plain TCP
---| "ssl" # TLS over TCP
---| "ws"  # WebSocket
---| "wss" # WebSocket over TLS

---An address and port, as returned by `endpoint()`.
---@class skynet.endpoint
---@field address string IP address, e.g. `"127.0.0.1"`.
---@field port integer

---Creates a TLS context (certificate, key, password, verification), read
---when a socket or server is created from it.
---@return skynet.context ctx
function io.context() end

---Creates a socket bound to the current service. `ssl`/`wss` without `ctx`
---use a default client context that does not verify the server. An unknown
---kind fails with `nil, "unknown type: <kind>"`.
---@param kind skynet.socket.kind
---@param ctx? skynet.context TLS context for `ssl`/`wss`.
---@return skynet.socket? socket
---@return string? err
function io.socket(kind, ctx) end

---Creates a server bound to the current service. `ssl`/`wss` raise without a
---context holding a certificate and a usable key. An unknown kind fails with
---`nil, "unknown type: <kind>"`.
---@param kind skynet.socket.kind
---@param ctx? skynet.context TLS context (required for `ssl`/`wss`).
---@return skynet.server? server
---@return string? err
function io.server(kind, ctx) end

---TLS configuration (`io.context()`). Methods return `true` or `false, msg`.
---TLS 1.2 and later only.
---@class skynet.context
local context = {}

---Sets the certificate chain: PEM text, or (without `-----BEGIN`) a file
---path. Server side: our certificate. Client side: an extra trusted root.
---@param pem string PEM text or file path.
---@return boolean ok
---@return string? err e.g. `"no certificate found"`.
function context:certificate(pem) end

---Sets the private key (PKCS#1, PKCS#8, SEC1 or encrypted PKCS#8; PEM text
---or file path).
---@param pem string PEM text or file path.
---@return boolean ok
---@return string? err
function context:key(pem) end

---Sets the password of an encrypted PKCS#8 key (before or after `key`).
---@param pwd string
---@return boolean ok
---@return string? err e.g. `"bad password"`.
function context:password(pwd) end

---Client side: check the server certificate against the context's
---certificates (default off).
---@param flag boolean
---@return boolean ok Always `true`.
function context:verify(flag) end

---A TCP, TLS or WebSocket connection (`io.socket()`, or the peer given to a
---server's `listen` callback). Methods run on the owning service. A socket
---with a pending operation or an active `receive` is not garbage-collected.
---@class skynet.socket
local socket = {}

---Resolves `host`, connects, and does the TLS and WebSocket handshakes (ws
---uses the `seturi` and `setheader` values; default URI `/`). Without `func`
---it blocks and returns `true` or `false, msg`. With `func` it returns
---`true` at once, then `func(nil)` on success or `func(msg)` on failure.
---Fails with `false, msg` for a port outside 1..65535 (`"invalid port"`) or
---a socket already connected, busy or closed.
---@param host string
---@param port integer
---@param func? fun(err: string?) Completion callback (makes the call non-blocking).
---@return boolean ok
---@return string? err
function socket:connect(host, port, func) end

---Blocks until data arrives: tcp/ssl give the next chunk (1 byte to 64 KiB),
---ws/wss one whole message. Fails with `nil, msg`: `"eof"` (the peer
---closed), `"closed"` (after a local close), `"not connected"`, `"busy"`
---(while `receive` is active or another read is pending).
---@return string? data
---@return string? err
function socket:read() end

---Blocks until all of `data` is written. Numbers are converted.
---@param data string|number
---@return integer? size `#data`, or `nil` on failure.
---@return string? err
function socket:write(data) end

---Queues `data` for sending (sends keep their order); waits for room when
---the 1 MiB write budget is used up. Later `func(size, nil)` or
---`func(0, msg)` runs. Fails with `false, msg` if the socket is not open.
---@param data string|number
---@param func? fun(size: integer, err: string?)
---@return boolean ok
---@return string? err
function socket:send(data, func) end

---Starts continuous reading: `func(data, nil)` per chunk or message, then
---once `func(nil, msg)` on error or close (`"eof"`, `"closed"`, ...), after
---which reading stops. Calling again replaces the handler.
---@param func fun(data: string?, err: string?)
---@return boolean? ok `true`, or `nil` on failure.
---@return string? err
function socket:receive(func) end

---Closes the socket (idempotent); a WebSocket sends a close frame (1000)
---first. Pending calls wake with `nil, "closed"`; queued unsent data is
---dropped.
function socket:close() end

---A process-unique integer naming this socket.
---@return integer id
function socket:id() end

---The remote (default) or local address of the connection. Fails with
---`nil, "not connected"` / `"closed"`; another `which` gives
---`nil, "unknown type"`.
---@param which? "remote"|"local"
---@return skynet.endpoint? endpoint
---@return string? err
function socket:endpoint(which) end

---Sets the URI of a WebSocket client handshake (default `/`).
---@param uri string
---@return boolean ok Always `true`.
function socket:seturi(uri) end

---The WebSocket handshake URI; on an accepted ws peer, the URI the client
---asked for (with its query).
---@return string uri
function socket:geturi() end

---Sets a header of the WebSocket client handshake (`value` converted with
---`tostring`); replaces a header of the same name (case-insensitive).
---@param name string
---@param value any
---@return boolean ok Always `true`.
function socket:setheader(name, value) end

---A WebSocket handshake header, by case-insensitive name. `"request"`
---(default): what `setheader` set, or on an accepted ws peer the client's
---headers; `"response"`: the server's handshake answer (client side). Any
---other `what` raises `invalid type: <what>`.
---@param name string
---@param what? "request"|"response"
---@return string? value
function socket:getheader(name, what) end

---A listening socket (`io.server()`).
---@class skynet.server
local server = {}

---Listens on `host:port` (`port` 0 picks a free port). For each accepted
---connection, after its TLS and WebSocket handshakes, `func(peer, nil)` runs
---in its own coroutine; failed handshakes are dropped. Fails with
---`false, msg` (`"already listening"`, `"invalid port"`, `"closed"`, bind
---errors).
---@param host string
---@param port integer
---@param func fun(peer: skynet.socket, err: nil)
---@return boolean ok
---@return string? err
function server:listen(host, port, func) end

---The local address the server listens on, or `nil, "not listening"`.
---@return skynet.endpoint? endpoint
---@return string? err
function server:endpoint() end

---A process-unique integer naming this server.
---@return integer id
function server:id() end

---Stops accepting and releases the port at once; accepted peers live on.
function server:close() end

---HTTP/1.x without sockets: incremental message parsers with the API of
---lua-http-parser, URL splitting and percent-escapes.
---@class skynet.io.http
io.http = {}

---Callbacks of an HTTP parser; every key is optional. They run synchronously
---inside `execute` and may call the parser's query methods. An error raised
---by a callback propagates out of `execute`.
---@class skynet.http.callbacks
---@field on_message_begin? fun() First byte of a message.
---@field on_url? fun(url: string) Requests: the request target, after the request line.
---@field on_status? fun(code: integer, text: string) Responses: after the status line.
---@field on_header? fun(name: string, value: string) Each header (name as sent), and each trailer.
---@field on_headers_complete? fun(): boolean? End of the head; return `true` to say the message has no body (a response to `HEAD`).
---@field on_body? fun(chunk: string?) Each piece of body, then `nil` once before every `on_message_complete`.
---@field on_message_complete? fun() End of the message.
---@field on_chunk_header? fun(len: integer) Each chunk-size line, including the last `0`.
---@field on_chunk_complete? fun() After each chunk's data.

---The parts of a URL (`io.http.parse_url`); only those present are set.
---Nothing is percent-decoded.
---@class skynet.http.url
---@field schema? string
---@field userinfo? string
---@field host? string IPv6 hosts come without brackets.
---@field port? integer
---@field path? string
---@field query? string
---@field fragment? string

---Creates an incremental HTTP/1.x request parser. Raises if `callbacks` is
---not a table or one of its known keys is not a function.
---@param callbacks skynet.http.callbacks
---@return skynet.http.parser parser
function io.http.request_parser(callbacks) end

---Creates an incremental HTTP/1.x response parser. Raises if `callbacks` is
---not a table or one of its known keys is not a function.
---@param callbacks skynet.http.callbacks
---@return skynet.http.parser parser
function io.http.response_parser(callbacks) end

---Splits a URL: absolute (`schema://[userinfo@]host[:port][/path][?query][#fragment]`),
---origin form (`/path?query#fragment`, `*`), or with `is_connect` only the
---authority form `host:port`. Fails with `nil, "invalid url"`.
---@param url string
---@param is_connect? boolean Parse the authority form of a CONNECT request.
---@return skynet.http.url? parts
---@return string? err
function io.http.parse_url(url, is_connect) end

---Percent-encodes `s`: `A-Z a-z 0-9 - _ . ~` are kept, every other byte
---becomes `%XX` (upper-case hex; space is `%20`).
---@param s string
---@return string escaped
function io.http.escape(s) end

---Decodes `%XX` escapes (either case); `+` stays `+`. A `%` not followed by
---two hex digits fails with `nil, "invalid escape"`.
---@param s string
---@return string? bytes
---@return string? err
function io.http.unescape(s) end

---An incremental HTTP/1.x parser (`io.http.request_parser` /
---`io.http.response_parser`). Handles Content-Length, chunked bodies,
---bodies read until EOF and pipelined messages.
---@class skynet.http.parser
local parser = {}

---Feeds `data` to the parser, running the callbacks. Returns the bytes
---consumed: all of `data` unless a parse error or an upgrade stopped the
---parser. `execute("")` signals the end of the stream. After an error or an
---upgrade it consumes nothing until `reset`. Raises when called from one of
---its own callbacks.
---@param data string
---@return integer consumed
function parser:execute(data) end

---The parser's error: `errno, name, description` (http-parser's numbers and
---names); `0, "HPE_OK", "success"` when all is well.
---@return integer errno
---@return string name
---@return string description
function parser:error() end

---The request method as sent (`"GET"`, ...), `nil` for responses.
---@return string? method
function parser:method() end

---The HTTP version of the message.
---@return integer major
---@return integer minor
function parser:version() end

---The status of a response, `0` for requests.
---@return integer status
function parser:status_code() end

---Whether the connection may carry another message.
---@return boolean keep_alive
function parser:should_keep_alive() end

---Whether the message switched protocols (upgrade request, `CONNECT`, or a
---`101` response); the rest of the data belongs to the new protocol.
---@return boolean upgrade
function parser:is_upgrade() end

---Forgets all state (including an error); with a table, also replaces the
---callbacks. Raises when called from one of its own callbacks.
---@param callbacks? skynet.http.callbacks
function parser:reset(callbacks) end
