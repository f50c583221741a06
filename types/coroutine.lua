---@meta

-- The stock functions skynet replaces so that blocking calls work inside the
-- user's own coroutines and caught errors are plain strings.
-- (`coroutine.create`, `status`, `running`, `isyieldable` and `yield` are stock.)

---Calls `f` in protected mode with a message handler, as stock `xpcall`.
---An error raised by a skynet function reaches `handler` as a plain string
---with the caller's position (`"file.lua:12: bad argument #1 to 'decode' (...)"`).
---@param f fun(...: any): ... The function to call.
---@param handler fun(err: any): any The message handler.
---@param ... any Arguments passed to `f`.
---@return boolean ok `true` on success.
---@return any ... The results of `f`, or what `handler` returned.
function xpcall(f, handler, ...) end

---Starts or continues coroutine `co`, as stock `coroutine.resume`. A blocking
---skynet call inside `co` (`pcall(name)`, `os.wait`, socket reads, ...) waits
---without returning from `resume`: the wait passes up to the scheduler and the
---coroutine goes on when it ends. `resume` returns only when `co` yields by
---itself or ends. While `co` waits so, another `resume` of it returns
---`false, "cannot resume non-suspended coroutine"`. Errors come back as
---plain strings.
---@param co thread The coroutine.
---@param ... any Values passed to the coroutine (as arguments or as the results of its `yield`).
---@return boolean ok `false` if the coroutine raised an error.
---@return any ... The values it yielded or returned, or the error message.
function coroutine.resume(co, ...) end

---Creates a coroutine from `f` and returns a function that resumes it, as
---stock `coroutine.wrap`: blocking skynet calls inside it wait as with
---`coroutine.resume`; an error is raised in the caller (with its position
---when the error is a string).
---@param f function The body of the coroutine.
---@return fun(...: any): ... resume A function resuming the coroutine with its arguments.
function coroutine.wrap(f) end

---Closes coroutine `co` (suspended or dead), as stock `coroutine.close`; an
---error it had raised comes back as a plain string.
---@param co thread The coroutine.
---@return boolean ok `false` if the coroutine had ended in an error.
---@return any err The error, if any.
function coroutine.close(co) end
