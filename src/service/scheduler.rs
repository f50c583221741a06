//! Running a service's coroutines: events in, parked coroutines, wake-ups.
//!
//! [`Service::handle`] turns each message into a coroutine run: a call runs
//! its handler in a fresh (pooled) coroutine, a reply or wake-up resumes the
//! coroutine parked on that session. When a coroutine finishes, its context
//! says what to do with the result (answer the caller, end the service, ...).

use super::core::OK_PAYLOAD;
use super::task_queue::TaskQueue;
use super::{Service, Waiter};
use crate::codec::wrap;
use crate::runtime::message::{Failure, Kind, Message, ServiceId, Session};
use crate::runtime::registry::ServiceInfo;
use crate::runtime::worker::TimerEvent;
use crate::runtime::{self, main_loop};
use mlua::thread::ThreadStatus;
use mlua::{Function, IntoLuaMulti, MultiValue, Thread, Value};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::sync::Arc;
use crate::runtime::clock::Tick;

/// Why a coroutine runs, which says what to do when it finishes.
#[derive(Clone)]
pub enum CtxKind {
    /// The service's `main` (its end ends the service).
    Main,
    /// An rpc handler: answer `session` of `caller` (0: a deliver, no answer).
    Handler,
    /// The callback of timer `key`, armed as `arm` (its result may re-arm it).
    Timer(u64, u64),
    /// A task of an `os.coroutine()` queue: start the next one when done.
    Queued(Rc<TaskQueue>),
    /// Anything else (posted function, async callback): errors are logged.
    Event,
}

/// The context of one coroutine run.
#[derive(Clone)]
pub struct Ctx {
    pub kind: CtxKind,
    /// Who sent the call being handled (0 outside handlers).
    pub caller: ServiceId,
    pub session: Session,
    /// `rpc.responser()` was taken: the handler's results are not the answer.
    pub deferred: bool,
}

impl Ctx {
    pub fn new(kind: CtxKind) -> Ctx {
        Ctx { kind, caller: 0, session: 0, deferred: false }
    }
}

/// What a parked coroutine waits for, which says how to wake it.
pub enum WaitKind {
    /// A sync rpc call: resumed with `ok, results...`.
    Call,
    /// An async rpc call: its callback (kept under this key) runs with `ok, results...`.
    Callback(i64),
    /// `os.wait`: resumed with the number of events handled meanwhile.
    Sleep { events_before: u64 },
    /// Room in a crowded queue (after an async call or `rpc.deliver`):
    /// resumed with this value, what the send returned.
    Room(Value),
    /// `os.pload`: resumed with `true, job` or `false, msg`.
    Spawn(Arc<ServiceInfo>),
    /// `job:close()`: resumed with nothing.
    Close,
    /// An operation of a local task (socket I/O, ...), ended by
    /// [`Service::complete`]; a cancelled one is resumed with `nil, msg`.
    Op,
}

/// A Lua error as logged: its message, then its traceback (without the
/// `runtime error:` label mlua puts in front).
pub fn error_report(e: &mlua::Error) -> String {
    match e {
        mlua::Error::RuntimeError(s) => s.clone(),
        mlua::Error::CallbackError { cause, traceback } => format!("{}\n{}", error_message(cause), traceback),
        mlua::Error::WithContext { cause, .. } => error_report(cause),
        mlua::Error::MemoryError(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The message of a Lua error, without the traceback mlua appends.
pub fn error_message(e: &mlua::Error) -> String {
    match e {
        mlua::Error::CallbackError { cause, .. } => error_message(cause),
        mlua::Error::RuntimeError(s) => s.split("\nstack traceback:").next().unwrap_or(s).to_owned(),
        mlua::Error::WithContext { cause, .. } => error_message(cause),
        mlua::Error::MemoryError(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The message of an error raised by a Rust function as user code sees it:
/// the position of the Lua code that called the function, then the message
/// (what stock `luaL_error` gives; nothing when the caller was not Lua code,
/// or when the message already starts with a position, being an error of
/// Lua code that passed through Rust).
pub fn raised_message(e: &mlua::Error) -> String {
    let message = error_message(e);
    let mlua::Error::CallbackError { traceback, .. } = e else { return message };
    // The first frame is the Rust function itself, then its callers; the
    // Lua halves of our own functions (chunks named `=skynet.*`) are skipped.
    let caller = traceback
        .lines()
        .skip(2)
        .map(|frame| frame.trim_start().split(": in ").next().unwrap_or(""))
        .find(|place| !place.starts_with("skynet."));
    match caller {
        Some(place) if !place.starts_with("[C]") && !starts_with_position(&message) => {
            format!("{place}: {message}")
        }
        _ => message,
    }
}

/// Whether `message` starts like `file.lua:12: ...`.
fn starts_with_position(message: &str) -> bool {
    let Some((head, _)) = message.split_once(": ") else { return false };
    head.rsplit_once(':').is_some_and(|(source, line)| {
        !source.is_empty() && !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit())
    })
}

impl Service {
    /// Handles one message addressed to this service.
    pub fn handle(self: &Rc<Self>, msg: Message) {
        if self.ended() {
            return runtime::get().undeliverable(msg);
        }
        match msg.kind {
            Kind::Call(name) => self.on_call(msg.from, msg.session, &name, &msg.payload),
            Kind::Reply(failed) => self.on_wake(msg.session, failed, &msg.payload),
            Kind::Wake => self.on_wake(msg.session, None, &msg.payload),
            Kind::Timer { key, arm } => self.on_timer(key, arm),
            Kind::Post => self.on_post(),
            Kind::Stop => {
                self.core.add_close_waiter(msg.from, msg.session);
                self.stop();
                if self.is_main {
                    // The main thread may be blocked waiting for a stop.
                    self.worker.push_local(Message::signal(self.id, 0, Kind::Wake));
                }
            }
            Kind::Run(f) => f(self.clone()),
            Kind::Spawn(_) | Kind::Shutdown => {}
        }
    }

    fn on_call(self: &Rc<Self>, from: ServiceId, session: Session, name: &str, payload: &[u8]) {
        if self.discard_if_stopping(from, session) {
            return;
        }
        self.count_event();
        self.expect_answer(from, session);
        let Some(func) = self.handler(name, from) else {
            self.fail_call(from, session, Failure::NotFound);
            return;
        };
        let args = match wrap::decode(&self.lua, payload) {
            Ok(a) => a,
            Err(e) => {
                self.answer(from, session, wrap::failure(&e.to_string()));
                return;
            }
        };
        let ctx = Ctx { kind: CtxKind::Handler, caller: from, session, deferred: false };
        self.start(func, ctx, args);
    }

    /// Runs `func(args)` in a pooled coroutine with context `ctx`.
    pub fn start(self: &Rc<Self>, func: Function, ctx: Ctx, args: MultiValue) {
        let co = match self.pool.borrow_mut().pop() {
            Some(co) => co,
            None => match self.lua.create_thread(func.clone()) {
                Ok(co) => co,
                Err(e) => return self.finish(ctx, Err(e)),
            },
        };
        if let Err(e) = co.reset(func) {
            return self.finish(ctx, Err(e));
        }
        self.resume(co, ctx, args);
    }

    /// Starts `func(args)` as an event of its own (a socket callback, ...):
    /// counted by `os.wait`, errors logged.
    pub fn start_event(self: &Rc<Self>, func: Function, args: MultiValue) {
        self.count_event();
        self.start(func, Ctx::new(CtxKind::Event), args);
    }

    /// Resumes `co` with `args` and deals with how it stopped: parked on a
    /// session, finished, or failed.
    pub fn resume(self: &Rc<Self>, co: Thread, ctx: Ctx, args: MultiValue) {
        let previous = self.running.replace(Some((co.clone(), ctx)));
        let entered = super::enter(self);
        let result = catch_unwind(AssertUnwindSafe(|| co.resume::<MultiValue>(args)));
        drop(entered);
        let (_, ctx) = std::mem::replace(&mut *self.running.borrow_mut(), previous).expect("set above");
        let parked = self.parked.take();
        let result = match result {
            Ok(r) => r,
            Err(_) => Err(mlua::Error::runtime("skynet: internal error (panic) while running Lua code")),
        };
        match result {
            Ok(_) if co.status() == ThreadStatus::Resumable => match parked {
                Some((session, kind, deadline)) => {
                    if let WaitKind::Sleep { .. } = kind
                        && matches!(ctx.kind, CtxKind::Main)
                    {
                        // The first os.wait of main makes the service ready.
                        self.report_ready(|| OK_PAYLOAD.to_vec());
                    }
                    let call = matches!(kind, WaitKind::Call);
                    let waiter = Waiter { co: Some(co), ctx, kind };
                    match deadline {
                        Some(deadline) if call => self.core.wait_call(session, waiter, deadline),
                        _ => self.core.wait(session, waiter, deadline),
                    }
                }
                None => {
                    let e = mlua::Error::runtime("attempt to yield from a service coroutine outside a blocking call");
                    self.finish(ctx, Err(e));
                }
            },
            Ok(values) => {
                self.finish(ctx, Ok(values));
                self.pool.borrow_mut().push(co);
            }
            Err(e) => self.finish(ctx, Err(e)),
        }
    }

    /// A coroutine with context `ctx` finished with `result`.
    fn finish(self: &Rc<Self>, ctx: Ctx, result: mlua::Result<MultiValue>) {
        if let Err(e) = &result {
            runtime::log(&format!("[{}] {}", self.label(), error_report(e)));
        }
        match ctx.kind {
            CtxKind::Main => self.end(result.err().map(|e| error_message(&e))),
            CtxKind::Handler => {
                if ctx.session == 0 {
                    return;
                }
                let payload = match result {
                    Err(e) => wrap::failure(&error_message(&e)),
                    Ok(_) if ctx.deferred => return,
                    Ok(values) => success_payload(values.iter()),
                };
                self.answer(ctx.caller, ctx.session, payload);
            }
            CtxKind::Timer(key, arm) => self.timer_finished(key, arm, result),
            CtxKind::Queued(queue) => queue.next(self),
            CtxKind::Event => {}
        }
    }

    /// The context of the event running now.
    pub fn with_ctx<R>(&self, f: impl FnOnce(&mut super::Ctx) -> R) -> Option<R> {
        self.running.borrow_mut().as_mut().map(|(_, ctx)| f(ctx))
    }

    /// Waits for `session` (rule 3): records the wait and returns `session`.
    /// The Lua half (`suspend` in prelude.lua) yields it up to the scheduler,
    /// through whatever coroutines of the user's lie in between, whose
    /// `coroutine.resume` passes it on; [`resume`](Self::resume) then parks
    /// the scheduled coroutine. Where nothing can yield (the main script's
    /// own thread) the Lua half calls [`block`](Self::block) instead.
    pub fn suspend(&self, session: Session, kind: WaitKind, deadline: Option<Tick>) -> mlua::Result<MultiValue> {
        self.park(session, kind, deadline);
        session.into_lua_multi(&self.lua)
    }

    /// Records the wait on `session` that the running code is about to
    /// yield (or block) for: [`suspend`](Self::suspend) without the
    /// conversion, for a raw C path that pushes the session itself.
    pub fn park(&self, session: Session, kind: WaitKind, deadline: Option<Tick>) {
        self.parked.set(Some((session, kind, deadline)));
    }

    /// `core.block(session)`: the wait just recorded by [`suspend`](Self::suspend)
    /// is waited for right here, by running this thread's loop until it
    /// ends; returns the values it ended with. Only the main script's own
    /// thread may do this: in a service, nothing that cannot yield may block.
    pub fn block(self: &Rc<Self>, session: Session) -> mlua::Result<MultiValue> {
        let Some((parked, kind, deadline)) = self.parked.take() else {
            return Err(mlua::Error::runtime("skynet: nothing to wait for"));
        };
        if parked != session || !self.is_main {
            return Err(mlua::Error::runtime("attempt to yield across a C-call boundary"));
        }
        let call = matches!(kind, WaitKind::Call);
        let waiter = Waiter { co: None, ctx: Ctx::new(CtxKind::Event), kind };
        match deadline {
            Some(deadline) if call => self.core.wait_call(session, waiter, deadline),
            _ => self.core.wait(session, waiter, deadline),
        }
        self.block_on()
    }

    /// Runs the main thread's worker loop until the blocked wait ends.
    fn block_on(self: &Rc<Self>) -> mlua::Result<MultiValue> {
        main_loop::block_on(&self.worker, &|| self.block_result.borrow().is_some()).map_err(mlua::Error::external)?;
        self.block_result.borrow_mut().take().unwrap_or_else(|| Ok(MultiValue::new()))
    }

    /// Runs `func` with the answer to `session` when it comes (an async call).
    pub fn wait_callback(&self, session: Session, func: Function, deadline: Tick) -> mlua::Result<()> {
        let key = self.kept.put(func)?;
        let waiter = Waiter { co: None, ctx: Ctx::new(CtxKind::Event), kind: WaitKind::Callback(key) };
        self.core.wait_call(session, waiter, deadline);
        Ok(())
    }

    /// A reply or wake-up for `session` arrived (`payload` None: synthetic).
    pub fn on_wake(self: &Rc<Self>, session: Session, failed: Option<Failure>, payload: &[u8]) {
        let Some(waiter) = self.core.answered(session, failed, payload) else { return };
        let values = self.wake_values(&waiter.kind, payload);
        self.deliver(waiter, values);
    }

    /// Ends the wait on `session` with the values `make` builds in our
    /// state: the way an operation run by a local task (a socket read, ...)
    /// hands over its result. Nothing happens if nobody waits any more.
    pub fn complete(self: &Rc<Self>, session: Session, make: impl FnOnce(&mlua::Lua) -> mlua::Result<MultiValue>) {
        let Some(waiter) = self.core.take_wait(session) else { return };
        let values = make(&self.lua);
        self.deliver(waiter, values);
    }

    fn deliver(self: &Rc<Self>, waiter: Waiter, values: mlua::Result<MultiValue>) {
        match (waiter.co, waiter.kind) {
            (_, WaitKind::Callback(key)) => {
                self.count_event();
                match (self.kept.take::<Function>(key), values) {
                    (Ok(func), Ok(v)) => self.start(func, Ctx::new(CtxKind::Event), v),
                    (Err(e), _) | (_, Err(e)) => runtime::log(&format!("[{}] {}", self.label(), error_report(&e))),
                }
            }
            (None, _) => *self.block_result.borrow_mut() = Some(values),
            (Some(co), _) => match values {
                Ok(v) => self.resume(co, waiter.ctx, v),
                Err(e) => {
                    let v = (false, e.to_string()).into_lua_multi(&self.lua).unwrap_or_default();
                    self.resume(co, waiter.ctx, v)
                }
            },
        }
    }

    /// Runs `task` on this service's worker as a tokio local task (sockets
    /// and other I/O live there, rule 1). The task ends its operation with
    /// [`run_on`](super::run_on) or by calling
    /// into the service when it is local; it is aborted when the service ends.
    pub fn spawn_task(&self, task: impl std::future::Future<Output = ()> + 'static) {
        let handle = if self.is_main {
            main_loop::spawn_local(task)
        } else {
            Some(tokio::task::spawn_local(task).abort_handle())
        };
        let mut tasks = self.tasks.borrow_mut();
        tasks.retain(|t| !t.is_finished());
        tasks.extend(handle);
    }

    /// The values a waiter of `kind` is woken with, from its message payload.
    fn wake_values(&self, kind: &WaitKind, payload: &[u8]) -> mlua::Result<MultiValue> {
        let lua = &self.lua;
        match kind {
            WaitKind::Call | WaitKind::Callback(_) => wrap::decode(lua, payload),
            WaitKind::Sleep { events_before } => (self.events() - events_before).into_lua_multi(lua),
            WaitKind::Close => Ok(MultiValue::new()),
            WaitKind::Room(sent) => sent.clone().into_lua_multi(lua),
            // Reached only when the wait was cancelled (`complete` ends it otherwise):
            // the I/O convention is `nil, msg`.
            WaitKind::Op => {
                let mut v = wrap::decode(lua, payload)?;
                if matches!(v.front(), Some(Value::Boolean(false))) {
                    v.pop_front();
                    v.push_front(Value::Nil);
                }
                Ok(v)
            }
            WaitKind::Spawn(info) => {
                let mut v = wrap::decode(lua, payload)?;
                if matches!(v.front(), Some(Value::Boolean(true))) {
                    let job = self.new_job(info)?;
                    return (true, job).into_lua_multi(lua);
                }
                if v.is_empty() {
                    v.push_back(Value::Boolean(false));
                }
                Ok(v)
            }
        }
    }

    // ---- posted functions ---------------------------------------------------

    /// `os.post(func, ...)`: run later, in FIFO order.
    pub fn post(&self, func: Function, args: MultiValue) -> mlua::Result<()> {
        // `{func, args..., n = #args}`: the count keeps trailing nils.
        let call = self.lua.create_table_with_capacity(args.len() + 1, 1)?;
        call.raw_set("n", args.len())?;
        call.raw_set(1, func)?;
        for (i, arg) in args.into_iter().enumerate() {
            call.raw_set(i + 2, arg)?;
        }
        let key = self.kept.put(call)?;
        let first = self.posted.borrow().is_empty();
        self.posted.borrow_mut().push_back(key);
        if first {
            self.worker.push_local(Message::signal(self.id, 0, Kind::Post));
        }
        Ok(())
    }

    fn on_post(self: &Rc<Self>) {
        let batch: Vec<i64> = self.posted.borrow_mut().drain(..).collect();
        for key in batch {
            self.count_event();
            let call = self.kept.take::<mlua::Table>(key).and_then(|t| {
                let n: usize = t.raw_get("n")?;
                let args = (2..n + 2).map(|i| t.raw_get::<Value>(i)).collect::<mlua::Result<MultiValue>>()?;
                Ok((t.raw_get::<Function>(1)?, args))
            });
            match call {
                Ok((func, args)) => self.start(func, Ctx::new(CtxKind::Event), args),
                Err(e) => runtime::log(&format!("[{}] {}", self.label(), error_report(&e))),
            }
        }
    }

    // ---- os.timer objects ---------------------------------------------------

    /// Arms timer `key` to call `func` after `ms` milliseconds, replacing
    /// any earlier arming (whose expiry will then be ignored).
    pub fn arm_timer(&self, key: u64, ms: f64, func: Function) -> mlua::Result<()> {
        let func = self.kept.put(func)?;
        self.rearm_timer(key, ms, func);
        Ok(())
    }

    /// Arms timer `key` again with its callback kept under `func`.
    fn rearm_timer(&self, key: u64, ms: f64, func: i64) {
        let arm = self.new_timer_key();
        let previous = self.timers.borrow_mut().insert(key, super::TimerSlot { func, ms, arm });
        match previous {
            None => self.timers_armed(1),
            Some(previous) if previous.func != func => self.kept.remove(previous.func),
            Some(_) => {}
        }
        // A deadline too far to represent never comes: the timer stays armed, silent.
        if let Some(deadline) = Tick::after_ms(ms) {
            self.worker.add_timer(deadline, TimerEvent::Timer(self.id, key, arm));
        }
    }

    pub fn cancel_timer(&self, key: u64) {
        let removed = self.timers.borrow_mut().remove(&key);
        if let Some(slot) = removed {
            self.kept.remove(slot.func);
            self.timers_armed(-1);
        }
    }

    fn on_timer(self: &Rc<Self>, key: u64, arm: u64) {
        let func = match self.timers.borrow().get(&key) {
            Some(slot) if slot.arm == arm => slot.func,
            _ => return,
        };
        self.count_event();
        match self.kept.get::<Function>(func) {
            Ok(func) => self.start(func, Ctx::new(CtxKind::Timer(key, arm)), MultiValue::new()),
            Err(e) => runtime::log(&format!("[{}] {}", self.label(), error_report(&e))),
        }
    }

    /// Applies the repeat rule (docs/API.md §10) to a finished timer callback.
    fn timer_finished(&self, key: u64, arm: u64, result: mlua::Result<MultiValue>) {
        let (func, ms) = match self.timers.borrow().get(&key) {
            // Re-armed (or cancelled) inside its own callback: leave it be.
            Some(slot) if slot.arm == arm => (slot.func, slot.ms),
            _ => return,
        };
        let again = match result.as_ref().ok().and_then(|v| v.front().cloned()) {
            Some(Value::Boolean(true)) => Some(ms),
            Some(Value::Integer(n)) if n > 0 => Some(n as f64),
            Some(Value::Number(n)) if n > 0.0 => Some(n),
            _ => None,
        };
        match again {
            Some(ms) if !self.stopped() => self.rearm_timer(key, ms, func),
            _ => self.cancel_timer(key),
        }
    }
}

/// The payload of `true, values...`.
pub fn success_payload<'a>(values: impl IntoIterator<Item = &'a Value>) -> Vec<u8> {
    let mut buf = Vec::with_capacity(16);
    buf.extend_from_slice(&OK_PAYLOAD);
    match wrap::encode_into(&mut buf, values) {
        Ok(()) => buf,
        Err(e) => wrap::failure(&error_message(&e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole scheduler driven from a vendored Lua state as the main
    /// script, through to shutdown. The runtime is process-wide and other
    /// tests share it, so this one re-runs itself in a process of its own.
    #[test]
    fn services_call_wait_time_out_and_shut_down() {
        const ALONE: &str = "SKYNET_TEST_ALONE";
        if std::env::var_os(ALONE).is_none() {
            let name = "service::scheduler::tests::services_call_wait_time_out_and_shut_down";
            let status = std::process::Command::new(std::env::current_exe().unwrap())
                .args(["--exact", name, "--test-threads=1"])
                .env(ALONE, "1")
                .status()
                .unwrap();
            assert!(status.success(), "the test failed in its own process");
            return;
        }
        let dir = std::env::temp_dir().join(format!("skynet-sched-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("echo.lua"),
            r#"function main(tag)
                 rpc.create("t.echo", function(...) return tag, ... end)
                 rpc.create("t.fail", function() error("boom", 0) end)
                 rpc.create("t.slow", function(ms) os.wait(ms) return ms end)
                 while not os.stopped() do os.wait() end
               end"#,
        )
        .unwrap();
        std::fs::write(dir.join("quick.lua"), "function main() return 1 end").unwrap();
        {
            // The main script's state, as the interpreter makes it.
            let lua = mlua::Lua::new();
            crate::skynet(&lua).unwrap();
            lua.load(format!("package.path = {:?} .. '/?.lua;' .. package.path", dir.to_str().unwrap()))
                .exec()
                .unwrap();
            let script = r#"
                local out = {}
                local ok, job = os.pload("echo", "E")
                out[#out + 1] = tostring(ok) .. " " .. job:state()
                out[#out + 1] = table.concat({ tostring(select(1, pcall("t.echo", 1))), select(2, pcall("t.echo", 1, "x")) }, ",")
                out[#out + 1] = table.concat({ tostring(select(1, pcall("t.fail"))), select(2, pcall("t.fail")) }, ",")
                out[#out + 1] = select(2, pcall("t.none"))
                -- a slow handler does not block the caller's other events
                local got
                pcall("t.slow", function(ok, ms) got = ms end, 30)
                local t0 = os.steady_clock("ms")
                while not got and os.steady_clock("ms") - t0 < 5000 do os.wait(5) end
                out[#out + 1] = tostring(got)
                -- ordering of one-way messages
                local seen = {}
                rpc.create("t.sink", function(i) seen[#seen + 1] = i end)
                for i = 1, 100 do rpc.deliver("t.sink", 0, 0, i) end
                os.wait(0)
                local ordered = #seen == 100
                for i = 1, #seen do ordered = ordered and seen[i] == i end
                out[#out + 1] = tostring(ordered)
                local ok2, quick = os.pload("quick")
                out[#out + 1] = tostring(ok2) .. " " .. quick:state()
                job:close()
                out[#out + 1] = job:state()
                return table.concat(out, "|")
            "#;
            let result: String = lua.load(script).eval().unwrap();
            assert_eq!(result, "true running|true,E,1,x|false,boom|t.none not found|30|true|true dead|dead");
            // What the sentinel's finalizer does when the interpreter closes the state.
            crate::service::main::stop_runtime();
        }
        assert!(runtime::get().stopping.load(std::sync::atomic::Ordering::SeqCst));
        assert!(runtime::get().registry.ids().is_empty(), "every service ended");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn raised_messages_carry_the_position_of_the_lua_caller() {
        let callback = |traceback: &str, message: &str| mlua::Error::CallbackError {
            traceback: traceback.into(),
            cause: std::sync::Arc::new(mlua::Error::RuntimeError(message.into())),
        };
        let from_lua = callback("stack traceback:\n\t[C]: in field 'decode'\n\tspec/a.lua:12: in main chunk\n\t[C]: in ?", "bad argument #1");
        assert_eq!(raised_message(&from_lua), "spec/a.lua:12: bad argument #1");
        let from_c = callback("stack traceback:\n\t[C]: in field 'decode'\n\t[C]: in function 'pcall'", "bad argument #1");
        assert_eq!(raised_message(&from_c), "bad argument #1");
        let via_prelude = callback("stack traceback:\n\t[C]: in ?\n\tskynet.prelude:41: in function 'pcall'\n\tu.lua:5: in main chunk", "bad argument #2");
        assert_eq!(raised_message(&via_prelude), "u.lua:5: bad argument #2");
        let passed_through = callback("stack traceback:\n\t[C]: in ?\n\tb.lua:3: in function 'f'", "x.lua:1: boom");
        assert_eq!(raised_message(&passed_through), "x.lua:1: boom");
    }

    #[test]
    fn error_message_drops_the_traceback() {
        let e = mlua::Error::RuntimeError("x.lua:1: boom\nstack traceback:\n\t[C]: in ?".into());
        assert_eq!(error_message(&e), "x.lua:1: boom");
    }
}
