//! A service: one lua_State, its coroutines and what they wait for.
//!
//! Rules (cited as "rule N" elsewhere):
//! 1. A service lives on the thread that created its state, for its whole
//!    life; only that thread touches its `Lua` and this struct (hence `Rc`
//!    and `RefCell`, never `Arc`).
//! 2. Every event (rpc call, timer, posted function, async callback, `main`)
//!    runs in a coroutine of its own, taken from a pool; one runs at a time.
//! 3. A blocking function never blocks the thread. It starts its operation
//!    under a new session and calls [`Service::suspend`]: in a coroutine we
//!    scheduled, the coroutine is parked (the Lua side of the function then
//!    yields) and resumed when a message for that session arrives; on the
//!    main service's own thread, the worker loop runs right there until the
//!    answer comes ([`Service::block_on`]). One operation, two drivers.
//! 4. Every call this service accepted is answered exactly once: by the
//!    handler's return, by `respond(...)`, with its error, or with
//!    `"cancel"` when the service ends (`unanswered` tracks them).
//! 5. No `RefCell` borrow is held while Lua code runs: Lua may call back
//!    into us.
//! 6. The service and its state form a cycle (the state's app data points
//!    back here); [`Service::end`] breaks it, and the state is closed when
//!    the worker drops its last `Rc`.

pub mod scheduler;
pub mod spawn;

use crate::runtime::message::{Message, ServiceId, Session};
use crate::runtime::names::NameCache;
use crate::runtime::registry::{Life, ServiceInfo};
use crate::runtime::worker::Worker;
use crate::runtime::{self, cancel_payload};
use mlua::{Function, Lua, MultiValue, RegistryKey, Table, Thread};
use std::cell::{Cell, RefCell};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

pub use scheduler::{Ctx, CtxKind, WaitKind};

/// A parked coroutine (or the blocked main thread) and what it waits for.
pub struct Waiter {
    /// `None`: the main service's own thread, blocked in [`Service::block_on`].
    pub co: Option<Thread>,
    pub ctx: Ctx,
    pub kind: WaitKind,
    /// For rpc calls: when to give up with `"timeout"`.
    pub deadline: Option<Instant>,
}

/// An `os.timer` object's armed state.
pub struct TimerSlot {
    pub func: Function,
    pub ms: f64,
    /// Unique per arming: an expiry of an earlier arming is ignored.
    pub arm: u64,
}

pub struct Service {
    pub id: ServiceId,
    pub info: Arc<ServiceInfo>,
    pub lua: Lua,
    /// The service that started this one (0 for the main service).
    pub parent: ServiceId,
    pub is_main: bool,
    pub worker: Rc<Worker>,
    stopped: Cell<bool>,
    ended: Cell<bool>,
    /// rpc handlers by name, with their `public` flag (announced to the cluster).
    handlers: RefCell<HashMap<Arc<str>, (Function, bool)>>,
    waiters: RefCell<HashMap<Session, Waiter>>,
    next_session: Cell<Session>,
    /// Finished coroutines kept for reuse (rule 2).
    pool: RefCell<Vec<Thread>>,
    /// The coroutine being resumed now and its context.
    running: RefCell<Option<(Thread, Ctx)>>,
    /// Set by [`suspend`](Self::suspend) just before the running coroutine yields.
    parked: Cell<Option<(Session, WaitKind, Option<Instant>)>>,
    /// What the blocked main thread was woken with.
    block_result: RefCell<Option<mlua::Result<MultiValue>>>,
    posted: RefCell<VecDeque<(Function, MultiValue)>>,
    pub timers: RefCell<HashMap<u64, TimerSlot>>,
    next_timer: Cell<u64>,
    /// Services started by this one, with their shared info (for `job:state()`).
    pub jobs: RefCell<HashMap<ServiceId, Arc<ServiceInfo>>>,
    /// Calls accepted and not yet answered (rule 4).
    unanswered: RefCell<HashSet<(ServiceId, Session)>>,
    /// `job:close()` callers to answer when this service has ended.
    close_waiters: RefCell<Vec<(ServiceId, Session)>>,
    /// The parent's `os.pload` session, until this service is ready.
    ready_reply: Cell<Option<Session>>,
    pub names: RefCell<NameCache>,
    /// Events started (the count `os.wait` returns).
    events: Cell<u64>,
    /// The prelude's job metatable and helpers (see `lua_api/prelude.lua`).
    pub prelude: RefCell<Option<RegistryKey>>,
    /// Local tasks (sockets, ...) to abort when the service ends.
    tasks: RefCell<Vec<tokio::task::AbortHandle>>,
}

/// The service that owns `lua`.
pub fn of(lua: &Lua) -> mlua::Result<Rc<Service>> {
    lua.app_data_ref::<Rc<Service>>()
        .map(|s| s.clone())
        .ok_or_else(|| mlua::Error::runtime("skynet: this Lua state is not a service (or has ended)"))
}

impl Service {
    pub fn new(
        info: Arc<ServiceInfo>,
        lua: Lua,
        parent: ServiceId,
        is_main: bool,
        worker: Rc<Worker>,
    ) -> Rc<Service> {
        let svc = Rc::new(Service {
            id: info.id,
            info,
            lua,
            parent,
            is_main,
            worker,
            stopped: Cell::new(false),
            ended: Cell::new(false),
            handlers: RefCell::new(HashMap::default()),
            waiters: RefCell::new(HashMap::default()),
            next_session: Cell::new(0),
            pool: RefCell::new(Vec::new()),
            running: RefCell::new(None),
            parked: Cell::new(None),
            block_result: RefCell::new(None),
            posted: RefCell::new(VecDeque::new()),
            timers: RefCell::new(HashMap::default()),
            next_timer: Cell::new(0),
            jobs: RefCell::new(HashMap::default()),
            unanswered: RefCell::new(HashSet::default()),
            close_waiters: RefCell::new(Vec::new()),
            ready_reply: Cell::new(None),
            names: RefCell::new(NameCache::default()),
            events: Cell::new(0),
            prelude: RefCell::new(None),
            tasks: RefCell::new(Vec::new()),
        });
        svc.lua.set_app_data(svc.clone());
        svc
    }

    pub fn label(&self) -> String {
        format!("{}:{}", self.info.name, self.id)
    }

    pub fn stopped(&self) -> bool {
        self.stopped.get()
    }

    pub fn ended(&self) -> bool {
        self.ended.get()
    }

    pub fn events(&self) -> u64 {
        self.events.get()
    }

    /// A new session number (never 0).
    pub fn new_session(&self) -> Session {
        let mut s = self.next_session.get().wrapping_add(1);
        if s == 0 {
            s = 1;
        }
        self.next_session.set(s);
        s
    }

    pub fn new_timer_key(&self) -> u64 {
        let k = self.next_timer.get() + 1;
        self.next_timer.set(k);
        k
    }

    /// Sends `msg` through the runtime (local queue or another worker's mailbox).
    pub fn send(&self, msg: Message) {
        runtime::get().send(msg);
    }

    // ---- rpc names -------------------------------------------------------

    /// Registers `func` under `name`; false if this service already has it.
    /// Registers `func` under `name` (`public`: callable from other nodes);
    /// false if this service already has `name`.
    pub fn add_handler(&self, name: &str, func: Function, public: bool) -> bool {
        if self.handlers.borrow().contains_key(name) {
            return false;
        }
        let key: Arc<str> = Arc::from(name);
        self.handlers.borrow_mut().insert(key, (func, public));
        runtime::get().names.add(name, self.id);
        if public {
            crate::cluster::announce(name, self.id, true);
        }
        true
    }

    pub fn remove_handler(&self, name: &str) -> bool {
        let Some((_, public)) = self.handlers.borrow_mut().remove(name) else { return false };
        runtime::get().names.remove(name, self.id);
        if public {
            crate::cluster::announce(name, self.id, false);
        }
        true
    }

    /// The handler of `name`; `from_remote` calls only reach public ones.
    pub fn handler(&self, name: &str, from_remote: bool) -> Option<Function> {
        match self.handlers.borrow().get(name) {
            Some((func, public)) if *public || !from_remote => Some(func.clone()),
            _ => None,
        }
    }

    /// Records a waiter that is not a parked coroutine (an async callback).
    pub fn add_waiter(&self, session: Session, waiter: Waiter) {
        if waiter.deadline.is_some() {
            self.worker.arm_sweep();
        }
        self.waiters.borrow_mut().insert(session, waiter);
    }

    // ---- answers (rule 4) -------------------------------------------------

    /// Records that call `(caller, session)` awaits an answer from us.
    pub fn expect_answer(&self, caller: ServiceId, session: Session) {
        if session != 0 {
            self.unanswered.borrow_mut().insert((caller, session));
        }
    }

    /// Answers call `(caller, session)` unless it was answered already.
    pub fn answer(&self, caller: ServiceId, session: Session, payload: Vec<u8>) -> bool {
        if session == 0 || !self.unanswered.borrow_mut().remove(&(caller, session)) {
            return false;
        }
        self.send(Message::reply(caller, self.id, session, payload));
        true
    }

    // ---- readiness and jobs ----------------------------------------------

    pub fn set_ready_reply(&self, session: Session) {
        self.ready_reply.set(Some(session));
    }

    /// Tells the parent's `os.pload` that we are ready (or failed to become so).
    pub fn report_ready(&self, payload: impl FnOnce() -> Vec<u8>) {
        if let Some(session) = self.ready_reply.take() {
            self.send(Message::reply(self.parent, self.id, session, payload()));
        }
    }

    pub fn add_close_waiter(&self, from: ServiceId, session: Session) {
        if session != 0 {
            self.close_waiters.borrow_mut().push((from, session));
        }
    }

    // ---- stop and end -----------------------------------------------------

    /// `os.stop()`: marks the service stopped and ends every wait with
    /// `"cancel"` (sleeps just return). The service ends when `main` returns.
    pub fn stop(&self) {
        if self.stopped.replace(true) {
            return;
        }
        let sessions: Vec<Session> = self.waiters.borrow().keys().copied().collect();
        for session in sessions {
            self.worker.push_local(Message::reply(self.id, 0, session, cancel_payload()));
        }
    }

    /// The service's `main` has finished (or its state is closing): give up
    /// everything it holds and leave the worker (rules 4 and 6).
    pub fn end(&self, failure: Option<String>) {
        if self.ended.replace(true) {
            return;
        }
        self.stopped.set(true);
        let rt = runtime::get();
        self.info.set_life(if failure.is_some() { Life::Error } else { Life::Dead });
        match &failure {
            Some(msg) => self.report_ready(|| runtime::failure_payload(msg)),
            None => self.report_ready(|| vec![0xc3]),
        }
        for (name, (_, public)) in self.handlers.borrow_mut().drain() {
            rt.names.remove(&name, self.id);
            if public {
                crate::cluster::announce(&name, self.id, false);
            }
        }
        for (caller, session) in self.unanswered.borrow_mut().drain() {
            self.send(Message::reply(caller, self.id, session, cancel_payload()));
        }
        for child in self.jobs.borrow().keys() {
            self.send(Message::signal(*child, 0, runtime::message::Kind::Stop));
        }
        for (from, session) in self.close_waiters.borrow_mut().drain(..) {
            self.send(Message::reply(from, self.id, session, Vec::new()));
        }
        rt.registry.unregister(self.id);
        rt.live[self.worker.index].fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        self.release_lua_refs();
        self.worker.remove_service(self.id);
    }

    /// Drops every reference into the state, so that it can close.
    fn release_lua_refs(&self) {
        for task in self.tasks.borrow_mut().drain(..) {
            task.abort();
        }
        self.waiters.borrow_mut().clear();
        self.pool.borrow_mut().clear();
        self.posted.borrow_mut().clear();
        self.timers.borrow_mut().clear();
        self.handlers.borrow_mut().clear();
        self.prelude.borrow_mut().take();
        self.lua.remove_app_data::<Rc<Service>>();
    }

    /// Gives up on a service that did not stop in time at shutdown: its
    /// state is leaked on purpose, since closing it would run its Lua code.
    pub fn abandon(self: Rc<Self>) {
        self.ended.set(true);
        let rt = runtime::get();
        rt.registry.unregister(self.id);
        std::mem::forget(self);
    }

    // ---- lookups used by bindings ----------------------------------------

    /// The table the prelude returned (job metatable, helpers).
    pub fn prelude_table(&self) -> mlua::Result<Table> {
        match &*self.prelude.borrow() {
            Some(key) => self.lua.registry_value(key),
            None => Err(mlua::Error::runtime("skynet: service not initialised")),
        }
    }
}
