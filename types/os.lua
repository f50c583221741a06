---@meta

-- `os` additions: services, waiting, clocks, files; and the objects they
-- make (jobs, timers, coroutine objects, directories).

---The runtime version, e.g. `"1.0.0"`.
---@return string version
function os.version() end

---Starts a service: a new isolated Lua state that loads module `name` (as
---`require` would find it through the caller's `package.path`; `/` and `\`
---become `.`, a trailing `.lua` is removed), then calls its global `main`
---with the extra arguments (copied). Blocks until the child is ready: its
---`main` called `os.wait` for the first time, returned, or failed.
---
---Returns `true, job` when ready (a `main` that returns before waiting gives
---a job whose state is `"dead"`), or `false, msg` when the module cannot be
---found or loaded, raised before being ready, or defines no `main`
---(`"no main function in <name>"`). Raises if `name` is missing, not a string
---or empty (`"no name"`), or an argument cannot be copied.
---
---Cluster services started this way: `"cluster.adapter", host, port [, key]`
---joins a mesh through its master (defaults `"127.0.0.1"`, 80). `key` (at
---least 16 bytes; wins over `SKYNET_CLUSTER_KEY`) must be the cluster's
---shared key; without any key only a loopback master can be joined. Returns
---within about 4 s whatever the members do; `job:close()` leaves.
---`"cluster.nats", url [, options]` makes this process a node meeting others
---through a NATS server (`url`: `nats://host:port`, `tls://host:port`, or
---several separated by commas); it returns once connected with every public
---name subscribed, or `false, msg` when the server cannot be reached within
---5 s. With either, nodes coming and going are told to the local handlers of
---`cluster.event`: `(what, node, address)` with `what` = `"up"`/`"down"`,
---`node` the member id (mesh) or node id (NATS), `address` `"ip:port"`
---(mesh) or the node's IP as the NATS server sees it.
---@param name string Module name, as for `require`.
---@param ... any Arguments for the service's `main` (copied).
---@return boolean ok
---@return skynet.job|string job_or_err The job object, or the error message.
---@overload fun(name: "cluster.nats", url: string, options?: skynet.nats_options): boolean, skynet.job|string
function os.pload(name, ...) end

---Options of `os.pload("cluster.nats", url, options)`; all optional.
---@class skynet.nats_options
---@field token string? Authentication token.
---@field user string? User name (with `password`).
---@field password string? Password of `user`.
---@field creds string? Path of a NATS `.creds` file (JWT and NKey seed).
---@field ca string? PEM file of the CA the server's certificate is checked against (TLS).
---@field cert string? PEM file of this node's certificate, for servers that verify clients (with `key`).
---@field key string? PEM file of the key of `cert`.
---@field prefix string? First tokens of every subject (default `"skynet"`): clusters with different prefixes share a server without meeting.
---@field name string? Client name shown by the server's monitoring.

---Compiles the Lua source file `fname` to bytecode (`string.dump` format,
---not stripped). With `oname`, writes it to that file and returns `true` or
---`false, msg`; without, returns the bytecode string or `nil, msg`.
---@param fname string Path of the Lua source.
---@param oname string Path of the bytecode file to write.
---@return boolean ok
---@return string? err
---@overload fun(fname: string): bytecode: string?, err: string?
function os.compile(fname, oname) end

---The current directory (or `nil, msg`).
---@return string? path
---@return string? err
function os.getcwd() end

---The name of the current service: its module name, or in the main script
---the basename of `arg[0]` without `.lua` (or `"main"`).
---@return string name
function os.name() end

---Creates a coroutine object: a serial task queue bound to the current service.
---@return skynet.coroutine queue
function os.coroutine() end

---Creates a timer object bound to the current service.
---@return skynet.timer timer
function os.timer() end

---The directory separator: `"/"` (`"\\"` on Windows).
---@return string sep
function os.dirsep() end

---Creates one directory (not recursive; an existing path fails).
---@param path string
---@return boolean ok
---@return string? err
function os.mkdir(path) end

---Opens a directory for listing: `for name, is_dir in pairs(dir) do ... end`
---yields every entry except `.` and `..` (order unspecified).
---@param path? string Directory to list (default `"."`).
---@return skynet.dir? dir The directory object, or `nil` on failure.
---@return string? err
function os.opendir(path) end

---The number of logical CPUs.
---@return integer count
function os.processors() end

---The id of the current service (a positive integer; ids above 0xFFFF
---denote callers on other nodes).
---@return integer id
function os.id() end

---Runs `func(...)` later on the current service, after the running code
---blocks or returns, in FIFO order. Arguments are kept as they are (no copy).
---Raises if `func` is not a function.
---@param func function
---@param ... any Arguments for `func`.
function os.post(func, ...) end

---Calls `func(id, how, msg)` on the current service once service `id` has
---ended, as an event of its own (it may block). `how` is `"exit"` (main
---returned), `"error"` (main raised; `msg` is the error), `"stopped"`
---(`os.stop`, `job:close`, its parent ended, a signal), `"killed"` (console
---`kill`) or, when `id` had ended already or never existed, `"dead"` (on a
---later turn, never from inside `os.monitor`). Any number of monitors per
---service. Raises if `id` is not an integer or `func` not a function.
---@param id integer A local service id.
---@param func fun(id: integer, how: "exit"|"error"|"stopped"|"killed"|"dead", msg?: string)
function os.monitor(id, func) end

---Hands control to the service's event loop (rpc calls, timers, socket
---callbacks, posted functions). `ms` nil or negative: until the service is
---stopped; `0`: handles the events already queued, then returns; `> 0`: for
---up to `ms` milliseconds (returns early when the service is stopped). The
---first call marks the service ready (it unblocks the parent's `os.pload`).
---Once the service is stopped it returns 0 at once, so wait loops must check
---`os.stopped()`: `while not os.stopped() do os.wait() end`.
---Blocking.
---@param ms? number Milliseconds to wait at most.
---@return integer events The number of events handled.
function os.wait(ms) end

---Bytes of the calling service's Lua heap (in the main script: the
---interpreter's count of the script's heap).
---@return integer bytes
function os.memory() end

---Sets a ceiling on the calling service's Lua heap, in bytes (0 = none, the
---default) and returns the previous one; without `bytes` only returns it.
---Over the ceiling an allocation fails with Lua's `not enough memory` error
---inside that service only: the service and the process go on. The main
---script's heap belongs to the interpreter: there it returns `nil, msg`.
---@param bytes? integer The ceiling, 0 for none.
---@return integer? previous The previous ceiling.
---@return string? err Why no ceiling could be set.
function os.memlimit(bytes) end

---Stops the whole process. From a service: every service is stopped (as
---`os.stop`) and the main script's `os.wait` returns so it can clean up; the
---process then exits with `code` when the main script ends. From the main
---script: stops all services, waits for them (at most 5 s), then exits as
---stock `os.exit` (`true` gives 0, `false` 1, default 0).
---@param code? boolean|integer Exit status.
---@param close? boolean Close the Lua state before exiting (as stock `os.exit`).
function os.exit(code, close) end

---Asks the current service to stop: `os.stopped()` turns true, the current
---or next `os.wait` returns at once, blocked calls return `false, "cancel"`
---or `nil, "cancel"`. Code keeps running until `main` returns.
function os.stop() end

---Whether the current service has been asked to stop.
---@return boolean stopped
function os.stopped() end

---True when the environment variable `SKYNET_DEBUG` is set and not `"0"`, or
---for a debug build. `trace` writes only then.
---@return boolean debugging
function os.debugging() end

---Wall-clock time since the Unix epoch: a float of seconds (`"s"`, the
---default) or an integer of milliseconds (`"ms"`) or microseconds (`"us"`).
---Any other unit raises.
---@param unit? "s"|"ms"|"us"
---@return number time
---@overload fun(unit: "ms"|"us"): integer
function os.system_clock(unit) end

---Monotonic time since the runtime started, in `unit` as for
---`os.system_clock`. Never goes backwards; the clock of timers. (Stock
---`os.clock` stays CPU time.)
---@param unit? "s"|"ms"|"us"
---@return number time
---@overload fun(unit: "ms"|"us"): integer
function os.steady_clock(unit) end

---A child service started by `os.pload`. Garbage-collecting the job does not
---stop the child; a service's children are stopped when it ends.
---@class skynet.job
local job = {}

---The child's service id.
---@return integer id
function job:id() end

---The child's state: `"running"`, `"error"` (its `main` raised) or `"dead"`.
---@return "running"|"error"|"dead" state
function job:state() end

---Stops the child (as `os.stop` inside it) and blocks until it has ended.
---No-op if it has already ended. Blocking.
function job:close() end

---A coroutine object (`os.coroutine()`): a serial task queue bound to the
---current service. Tasks run one after another, in order; a task that blocks
---delays the next one. Task errors are logged and the queue goes on.
---@class skynet.coroutine
local queue = {}

---Appends `func` (called with no arguments; use `bind` to pass some). If the
---queue was idle, the task starts at once and runs until it blocks or ends,
---before `dispatch` returns. Raises if `func` is not a function.
---@param func fun()
---@return boolean queued `true`, or `false` once the queue is closed.
function queue:dispatch(func) end

---Queues `func` (if given) as the last task and closes the queue: later
---`dispatch` calls are refused. Idempotent.
---@param func? fun()
function queue:close(func) end

---A timer object (`os.timer()`). An armed timer keeps working when the
---script drops the object. Precision about 1 ms, never early.
---@class skynet.timer
local timer = {}

---(Re)arms the timer: after `ms` milliseconds `func()` runs on this service.
---Re-arming cancels the pending callback. The timer fires once; if `func`
---returns a positive number `n` it re-arms for `n` ms, if it returns `true`
---for the same `ms`; any other result ends it. If `func` raises, the error is
---logged and the timer stops. Raises if `ms` is not a non-negative number.
---@param ms number Delay in milliseconds (>= 0).
---@param func fun(): (number|boolean|nil)
---@return boolean ok Always `true`.
function timer:expires(ms, func) end

---Cancels the pending callback, if any. Idempotent.
function timer:cancel() end

---A directory being listed (`os.opendir`). Iterate it with `pairs`, which
---yields `name, is_dir` for each entry.
---@class skynet.dir
local dir = {}

---Ends the listing early (a running `pairs` loop stops).
function dir:close() end
