---@meta

-- `rpc`: registering handlers under names, one-way messages, call context.
-- Calls themselves are made with the rpc forms of `pcall`.

---@class skynet.rpc
rpc = {}

---Registers `func` as a handler of `name` for the current service. Many
---services may register the same name: they form a group (load balancing,
---broadcast). A public handler is also announced to the cluster and callable
---from other nodes; others stay local to the process. The handler runs in its
---own coroutine with copied arguments; its results answer a `pcall` (they
---are ignored for `rpc.deliver`); if it raises, the caller gets `false, err`.
---Raises if `name` is not a non-empty string or `func` not a function.
---@param name string
---@param func fun(...: any): ...
---@param public? boolean Announce to the cluster (default `false`).
---@return boolean ok `true`, or `false` if this service already has `name`.
---@return string? err `"already registered"`.
function rpc.create(name, func, public) end

---Unregisters this service's handler of `name`. Calls already queued for it
---are not run (a `pcall` among them gets `false, "function not found"`).
---@param name string
---@return boolean removed `false` if this service had no such handler.
function rpc.remove(name) end

---Sends a one-way message (no answer; handler errors are only logged) to
---handlers of `name`, ordered by service id, local before remote:
---`receiver ~= 0`: only the handler of service `receiver`;
---`receiver == 0, mask == 0`: every handler (broadcast);
---`receiver == 0, mask ~= 0`: exactly one, number `(mask mod n) + 1`
---(a stable shard key). Raises if `mask` or `receiver` is not an integer.
---@param name string
---@param mask integer Shard key, or 0.
---@param receiver integer Service id, or 0.
---@param ... any Arguments (copied).
---@return integer count The number of handlers the message was sent to.
function rpc.deliver(name, mask, receiver, ...) end

---Inside a handler: the id of the service that sent the call or message
---(above 0xFFFF when it came from another node); valid for the whole handler,
---across blocking calls. Outside a handler: `0`.
---@return integer id
function rpc.caller() end

---Inside a handler invoked by `pcall`: switches this call to a deferred answer
---and returns `respond(...)`. The handler's return values are then ignored;
---the caller receives `true, ...` when `respond(...)` is called, from any
---later code of this service. Only the first call in a handler returns the
---function; later calls, calls outside a handler and in `rpc.deliver`
---messages return `nil`. `respond` answers once (later calls return `false`).
---@return (fun(...: any): boolean)? respond
function rpc.responser() end

---Sets the calling service's timeout for its own calls, sync and async
---(default 10 000 ms, or the environment variable `SKYNET_RPC_TIMEOUT`), and
---returns the previous value. Without an argument it only returns the
---current value.
---@param ms integer New timeout in milliseconds.
---@return integer previous The timeout before this call.
---@overload fun(): current: integer
function rpc.timeout(ms) end
