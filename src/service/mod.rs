//! A service: one lua_State, its coroutines and what they wait for.
//!
//! * [`core`]: the Lua-free half (sessions, waits, answers owed) and the
//!   Rust API for calls, one-way messages and sleeps.
//! * [`scheduler`]: running the state's coroutines as messages come.
//! * [`spawn`]: starting a service on a worker.
//! * [`main`]: the user's script as the main service.
//! * [`task_queue`]: serial task queues (`os.coroutine()` objects).
//! * [`kept`]: Lua values kept for later (callbacks), in a table of the state.
//! * [`monitor`]: telling watchers that a service has ended (`os.monitor`).
//! * [`inspect`]: what an operator does inside a live service (gc, hot fix).
//!
//! Rules (cited as "rule N" elsewhere):
//! 1. A service lives on the thread that created its state, for its whole
//!    life; only that thread touches its `Lua` and this struct (hence `Rc`
//!    and `RefCell`, never `Arc`).
//! 2. Every event (rpc call, timer, posted function, async callback, `main`)
//!    runs in a coroutine of its own, taken from a pool; one runs at a time.
//! 3. A blocking function never blocks the thread. It starts its operation
//!    under a new session and calls [`Service::suspend`]: the Lua side
//!    yields the session up to the coroutine we scheduled (through any user
//!    coroutines between), which is parked and resumed when a message for
//!    that session arrives; on the main script's own thread, the worker loop
//!    runs right there until the answer comes ([`Service::block`]). One
//!    operation, two drivers.
//! 4. Every call this service accepted is answered exactly once: by the
//!    handler's return, by `respond(...)`, with its error, or with
//!    `"cancel"` when the service ends (tracked by [`core::Core`]).
//! 5. No `RefCell` borrow is held while Lua code runs: Lua may call back
//!    into us.
//! 6. The service and its state form a cycle (the state's app data points
//!    back here); [`Service::end`] breaks it, and the state is closed when
//!    the worker drops its last `Rc`.

pub mod core;
pub mod inspect;
pub mod kept;
pub mod main;
pub mod monitor;
pub mod scheduler;
pub mod spawn;
pub mod task_queue;

use crate::runtime::actor::Actor;
use crate::runtime::message::{Message, ServiceId, Session};
use crate::runtime::registry::{MAX_ID, ServiceInfo};
use crate::runtime::worker::Worker;
use crate::runtime;
use mlua::{Function, Lua, MultiValue, RegistryKey, Table, Thread};
use rustc_hash::FxHashMap as HashMap;
use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;
use crate::runtime::clock::Tick;

pub use self::core::Core;
pub use scheduler::{Ctx, CtxKind, WaitKind};

/// What waits on a session: a parked coroutine (or the blocked main
/// thread), with what to do when the wait ends.
pub struct Waiter {
    /// `None`: the main service's own thread, blocked in [`Service::suspend`],
    /// or an async callback (`WaitKind::Callback`).
    pub co: Option<Thread>,
    pub ctx: Ctx,
    pub kind: WaitKind,
}

/// What a job object holds of its child: its shared info, which outlives
/// the child (so `job:state()` still answers once the parent has forgotten
/// the ended child).
pub struct JobHandle(pub Arc<ServiceInfo>);

impl mlua::UserData for JobHandle {}

/// An `os.timer` object's armed state.
pub struct TimerSlot {
    /// Where its callback is kept.
    pub func: i64,
    pub ms: f64,
    /// Unique per arming: an expiry of an earlier arming is ignored.
    pub arm: u64,
}

pub struct Service {
    /// Sessions, waits, answers owed; the Rust API (`Deref` reaches it).
    pub core: Core<Waiter>,
    pub lua: Lua,
    /// rpc handlers by name (their names are served through `core`).
    handlers: RefCell<HashMap<Arc<str>, Function>>,
    /// Finished coroutines kept for reuse (rule 2).
    pool: RefCell<Vec<Thread>>,
    /// The coroutine being resumed now and its context.
    running: RefCell<Option<(Thread, Ctx)>>,
    /// Set by [`suspend`](Self::suspend) just before the running coroutine yields.
    parked: Cell<Option<(Session, WaitKind, Option<Tick>)>>,
    /// What the blocked main thread was woken with.
    block_result: RefCell<Option<mlua::Result<MultiValue>>>,
    /// Posted functions with their arguments, as kept sequences (`kept`).
    posted: RefCell<VecDeque<i64>>,
    /// Timer callbacks, posted functions, async callbacks.
    pub kept: kept::Kept,
    pub timers: RefCell<HashMap<u64, TimerSlot>>,
    next_timer: Cell<u64>,
    /// The prelude's job metatable and helpers (see `lua_api/prelude.lua`).
    pub prelude: RefCell<Option<RegistryKey>>,
    /// Local tasks (sockets, ...) to abort when the service ends.
    tasks: RefCell<Vec<tokio::task::AbortHandle>>,
    /// The paths its `package` library gets when first used (`None`: the
    /// main service, whose library is the script's own).
    pub package_paths: RefCell<Option<Arc<spawn::PackagePaths>>>,
}

impl std::ops::Deref for Service {
    type Target = Core<Waiter>;

    fn deref(&self) -> &Core<Waiter> {
        &self.core
    }
}

thread_local! {
    /// The service whose coroutine this thread is resuming (null: none),
    /// set by `Service::resume` for the span of each resume: see [`running`].
    static RUNNING: Cell<*const Service> = const { Cell::new(std::ptr::null()) };
}

/// The service whose coroutine this thread is resuming, if any: the one
/// whose Lua code calls now (a state's Lua code runs only inside its own
/// service's resumes, or outside any, as the main script's top level does).
/// A raw C front's shortcut past [`of`], whose registry lookup and app-data
/// map cost about 330 instructions per call.
pub fn running() -> Option<Rc<Service>> {
    let p = RUNNING.with(Cell::get);
    // SAFETY: a non-null pointer was set by `Service::resume` from the
    // `&Rc<Service>` it holds for the whole resume, and is put back to what
    // it was before the resume ends: it points to a live `Service` owned by
    // an `Rc`, whose count we raise for the `Rc` we make.
    (!p.is_null()).then(|| unsafe {
        Rc::increment_strong_count(p);
        Rc::from_raw(p)
    })
}

/// Makes `svc` the [`running`] service until the guard drops.
pub(crate) fn enter(svc: &Rc<Service>) -> impl Drop + use<> {
    struct Restore(*const Service);
    impl Drop for Restore {
        fn drop(&mut self) {
            RUNNING.with(|r| r.set(self.0));
        }
    }
    Restore(RUNNING.with(|r| r.replace(Rc::as_ptr(svc))))
}

/// The service that owns `lua`.
pub fn of(lua: &Lua) -> mlua::Result<Rc<Service>> {
    lua.app_data_ref::<Rc<Service>>()
        .map(|s| s.clone())
        .ok_or_else(|| mlua::Error::runtime("skynet: this Lua state is not a service (or has ended)"))
}

/// Runs `f` on service `to`, on its worker and in its turn: how a local
/// task (socket I/O, ...) hands its result to its service.
pub fn run_on(to: ServiceId, f: impl FnOnce(&Rc<Service>) + Send + 'static) {
    let run = move |any: Rc<dyn Any>| {
        if let Ok(svc) = any.downcast::<Service>() {
            f(&svc)
        }
    };
    runtime::get().send(Message::signal(to, 0, runtime::message::Kind::Run(Box::new(run))));
}

impl Service {
    pub fn new(
        info: Arc<ServiceInfo>,
        lua: Lua,
        parent: ServiceId,
        is_main: bool,
        worker: Rc<Worker>,
    ) -> mlua::Result<Rc<Service>> {
        let svc = Rc::new(Service {
            kept: kept::Kept::new(&lua)?,
            core: Core::new(info, parent, is_main, worker),
            lua,
            handlers: RefCell::new(HashMap::default()),
            pool: RefCell::new(Vec::new()),
            running: RefCell::new(None),
            parked: Cell::new(None),
            block_result: RefCell::new(None),
            posted: RefCell::new(VecDeque::new()),
            timers: RefCell::new(HashMap::default()),
            next_timer: Cell::new(0),
            prelude: RefCell::new(None),
            tasks: RefCell::new(Vec::new()),
            package_paths: RefCell::new(None),
        });
        svc.lua.set_app_data(svc.clone());
        Ok(svc)
    }

    /// Counts `n` more (or fewer) armed `os.timer` objects for operators.
    pub fn timers_armed(&self, n: i64) {
        runtime::get().stats[self.worker.index].timers.add(n);
    }

    pub fn new_timer_key(&self) -> u64 {
        let k = self.next_timer.get() + 1;
        self.next_timer.set(k);
        k
    }

    // ---- rpc names -------------------------------------------------------

    /// Registers `func` under `name` (`public`: callable from other nodes);
    /// false if this service already has `name`.
    pub fn add_handler(&self, name: &str, func: Function, public: bool) -> bool {
        if !self.core.serve(name, public) {
            return false;
        }
        self.handlers.borrow_mut().insert(Arc::from(name), func);
        true
    }

    pub fn remove_handler(&self, name: &str) -> bool {
        self.handlers.borrow_mut().remove(name);
        self.core.unserve(name)
    }

    /// The handler of `name` that a call from `from` may reach. (`handlers`
    /// holds exactly the names the core serves, and a local caller reaches
    /// every one of them: for it, one lookup decides.)
    pub fn handler(&self, name: &str, from: ServiceId) -> Option<Function> {
        if from > MAX_ID && !self.core.reachable(name, from) {
            return None;
        }
        self.handlers.borrow().get(name).cloned()
    }

    // ---- stop and end -----------------------------------------------------

    /// `os.stop()`: marks the service stopped and ends every wait with
    /// `"cancel"` (sleeps just return). The service ends when `main` returns.
    pub fn stop(&self) {
        self.core.stop();
    }

    /// The service's `main` has finished (or its state is closing): give up
    /// everything it holds and leave the worker (rules 4 and 6).
    pub fn end(&self, failure: Option<String>) {
        if !self.core.finish(failure.as_deref()) {
            return;
        }
        monitor::tell(&self.info, failure.as_deref());
        self.release_lua_refs();
        self.worker.remove_service(self.id);
    }

    /// Drops every reference into the state, so that it can close.
    fn release_lua_refs(&self) {
        for task in self.tasks.borrow_mut().drain(..) {
            task.abort();
        }
        self.core.clear_waits();
        self.pool.borrow_mut().clear();
        self.posted.borrow_mut().clear();
        let armed = self.timers.borrow_mut().drain().count();
        self.timers_armed(-(armed as i64));
        self.kept.clear();
        self.handlers.borrow_mut().clear();
        self.prelude.borrow_mut().take();
        self.lua.remove_app_data::<Rc<Service>>();
    }

    // ---- lookups used by bindings ----------------------------------------

    /// The table the prelude returned (job metatable, helpers).
    pub fn prelude_table(&self) -> mlua::Result<Table> {
        match &*self.prelude.borrow() {
            Some(key) => self.lua.registry_value(key),
            None => Err(mlua::Error::runtime("skynet: service not initialised")),
        }
    }

    /// A job object for child `info` (built by the prelude around a
    /// [`JobHandle`]).
    pub fn new_job(&self, info: &Arc<ServiceInfo>) -> mlua::Result<mlua::Value> {
        let new_job: Function = self.prelude_table()?.get("new_job")?;
        new_job.call((info.id, JobHandle(info.clone())))
    }
}

impl Actor for Service {
    fn info(&self) -> &ServiceInfo {
        &self.core.info
    }

    fn handle(self: Rc<Self>, msg: Message) {
        Service::handle(&self, msg);
    }

    fn stop(&self) {
        Service::stop(self);
    }

    fn expire_calls(&self, now: Tick) -> bool {
        self.core.expire_calls(now)
    }

    /// Its state is leaked on purpose: closing it would run its Lua code.
    fn heap_bytes(&self) -> Option<usize> {
        Some(self.lua.used_memory())
    }

    fn abandon(self: Rc<Self>) {
        self.core.abandon();
        std::mem::forget(self);
    }

    fn into_any(self: Rc<Self>) -> Rc<dyn Any> {
        self
    }
}
