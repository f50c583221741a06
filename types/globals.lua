---@meta

-- Global functions that skynet adds (or replaces: `pcall`).

---Calls a function in protected mode, or calls an rpc name.
---
---* **Function form** `pcall(f, ...)`: stock Lua `pcall`; no traceback is
---  appended to the error message.
---* **Sync rpc form** `pcall(name, ...)`: calls one handler registered under
---  `name` (round robin among several) with the copied arguments and blocks
---  for the answer: `true, r1, r2, ...` or `false, err`, where `err` is
---  `"<name> not found"`, `"timeout"` (no answer within the call timeout, see
---  `rpc.timeout`), `"cancel"` (this service was stopped while waiting) or the
---  handler's error message.
---* **Async rpc form** `pcall(name, callback, ...)`: dispatches and returns at
---  once: `true` if a handler was found, else `false, "<name> not found"`.
---  Later `callback(true, r...)` or `callback(false, err)` runs on the calling
---  service (`callback(false, "timeout")` once the timeout has passed).
---
---Arguments that cannot be copied (functions, userdata, threads, tables
---nested deeper than 64 levels) raise in the caller.
---@param f fun(...: any): ... The function to call.
---@param ... any Arguments passed to `f`.
---@return boolean ok `true` on success.
---@return any ... The results of `f`, or the error message.
---@overload fun(name: string, ...: any): ok: boolean, ...: any
---@overload fun(name: string, callback: fun(ok: boolean, ...: any), ...: any): found: boolean, err: string?
function pcall(f, ...) end

---Returns a function `g` such that `g(...)` is `func(<bound args>, ...)`.
---Results are passed through, errors propagate, and `g` may yield.
---Raises if `func` is not a function.
---@param func function The function to bind.
---@param ... any Arguments to put before those of each call.
---@return function bound The bound function.
function bind(func, ...) end

---When `os.debugging()` is true, writes the arguments (`tostring`-ed,
---tab-separated) to stderr with the prefix `#<service id> [hh:mm:ss]
---<source:line>`; otherwise does nothing.
---@param ... any Values to write.
function trace(...) end

---Raises an error whose message is the arguments `tostring`-ed and joined by
---`"\t"`, prefixed with `source:line: ` of the calling Lua function (like
---`error`). `throw()` raises `""`.
---@param ... any Parts of the message.
function throw(...) end

---Serialises any number of values into one binary string (MessagePack, one
---object per value). Nil, booleans, integers, floats, strings and tables
---(keys `1..n` make an array, anything else a map) are kept with their types;
---metatables are not. `wrap()` returns `""`. Functions, userdata, threads
---and tables nested deeper than 64 levels raise `"cannot wrap a <type>"` /
---`"wrap: nesting too deep"`.
---@param ... any Values to serialise.
---@return string data The serialised values.
---@nodiscard
function wrap(...) end

---Reverses `wrap`: returns the values, same count and types
---(`unwrap(wrap(1, nil, 2.0, "x"))` is `1, nil, 2.0, "x"`). `unwrap("")`
---returns no values. Malformed data raises `"unwrap: malformed data"`; a
---non-string argument raises.
---@param data string A string made by `wrap`.
---@return any ... The values.
---@nodiscard
function unwrap(data) end

---Compresses `str`. `method` is `"deflate"` (default: a raw DEFLATE stream,
---RFC 1951, no zlib header) or `"gzip"` (RFC 1952). Level 6. An unknown
---method raises `"unknown type: <m>"`.
---@param str string The data to compress.
---@param method? "deflate"|"gzip" Format of the output (default `"deflate"`).
---@return string compressed The compressed data.
---@nodiscard
function compress(str, method) end

---Decompresses `str`. `method` is `"deflate"` (default), its alias
---`"inflate"`, or `"gzip"`; an unknown method raises `"unknown type: <m>"`.
---Fails with `nil, msg` when the data is not one complete valid stream
---(corrupt, truncated, trailing bytes, gzip CRC or length mismatch) or
---the output would be larger than `max` bytes (`nil, "output exceeds <max>
---bytes"`, checked while inflating: no allocation past the cap).
---@param str string The compressed data.
---@param method? "deflate"|"inflate"|"gzip" Format of the input (default `"deflate"`).
---@param max? integer Largest output in bytes, inclusive (default 64 MiB).
---@return string? data The uncompressed data, or `nil` on failure.
---@return string? err Why it failed.
---@nodiscard
function uncompress(str, method, max) end
