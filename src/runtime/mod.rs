//! The runtime: worker threads, their queues, and the process-wide tables.
//!
//! ```text
//!  lua5.4 process
//!  ├─ main thread ── the user's script = main service; runs its worker loop
//!  │                 only inside blocking calls (`os.wait`, sync `pcall`, ...)
//!  ├─ worker 0..N-1 ─ each a tokio current_thread loop that owns its
//!  │                  services' lua_States, timers and sockets
//!  ├─ watchdog ───── reports services that keep a worker busy
//!  └─ signals ────── SIGINT/SIGTERM: stop the main service, then exit
//! ```
//!
//! * [`actor`]: what a worker drives (services are actors of the layer above).
//! * [`message`]: what travels between services.
//! * [`mailbox`]: a worker's inbox (lock-free queue + wake only when idle).
//! * [`registry`]: service ids -> worker, names and life states.
//! * [`backlog`]: what waits in each service's queue; senders waiting for room.
//! * [`stats`]: what is counted for operators (per service, per worker).
//! * [`names`]: rpc names -> handler ids, with per-service lookup caches.
//! * [`timer`]: a worker's timer heap.
//! * [`worker`]: the loop that drives one thread's services.
//! * [`shutdown`]: stopping everything before `skynet.so` is unloaded.
//! * [`main_loop`]: the main thread's loop, run only while the script blocks.
//!
//! Mailbox index `N` (after the N workers) belongs to the main thread.

pub mod actor;
pub mod backlog;
pub mod clock;
pub mod linger;
pub mod mailbox;
pub mod main_loop;
pub mod message;
pub mod names;
pub mod registry;
pub mod shutdown;
pub mod signals;
pub mod stats;
pub mod timer;
pub mod watchdog;
pub mod worker;

use backlog::RemoteRoom;
use mailbox::Mailbox;
use message::{Failure, Kind, Message, ServiceId, Session};
use names::Names;
use registry::Registry;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

/// What the watchdog sees of one worker: the service it handed a message
/// to last (0: none since its last turn ended) and how many messages it
/// handed out, packed in one word so that a message costs one store.
/// Written by that worker only (hence a load and a store, not an atomic
/// add), and aligned like `stats::WorkerStats`: two workers never write to
/// one cache line (neighbouring entries sharing one would bounce it
/// between their cores on every message).
#[derive(Default)]
#[repr(align(128))]
pub struct Heartbeat(AtomicU64);

impl Heartbeat {
    /// The worker hands a message to `service`.
    pub fn enter(&self, service: ServiceId) {
        let beats = (self.0.load(Ordering::Relaxed) >> 32).wrapping_add(1);
        self.0.store(beats << 32 | u64::from(service), Ordering::Relaxed);
    }

    /// The worker's turn ended: no service runs.
    pub fn leave(&self) {
        self.0.store(self.0.load(Ordering::Relaxed) & !u64::from(u32::MAX), Ordering::Relaxed);
    }

    /// (the service in a message now or 0, messages handed out so far, mod 2^32).
    pub fn read(&self) -> (ServiceId, u32) {
        let word = self.0.load(Ordering::Relaxed);
        (word as ServiceId, (word >> 32) as u32)
    }
}

/// The CPU a worker last watched its mailbox on (`u32::MAX`: none, or the
/// main thread is out of its loop), read by the other workers as they
/// start watching theirs (see `Worker::shares_cpu`). On a line of its own,
/// apart from the [`Heartbeat`]: it seldom changes, so the readers' copies
/// of the line stay valid.
#[repr(align(128))]
pub struct CpuSlot(pub AtomicU32);

impl Default for CpuSlot {
    fn default() -> Self {
        CpuSlot(AtomicU32::new(u32::MAX))
    }
}

/// The process-wide part of the runtime, shared by every thread.
pub struct Runtime {
    /// Worker inboxes, then the main thread's at index `workers`.
    pub mailboxes: Vec<Arc<Mailbox>>,
    pub workers: usize,
    pub registry: Registry,
    pub names: Names,
    /// Live services per worker, for placement.
    pub live: Vec<AtomicUsize>,
    pub heartbeats: Vec<Heartbeat>,
    /// Per worker (then the main thread): the CPU it runs on.
    pub cpus: Vec<CpuSlot>,
    /// What each worker (then the main thread) counted.
    pub stats: Vec<stats::WorkerStats>,
    /// Origin of `os.steady_clock`.
    pub epoch: Instant,
    /// The status `os.exit` asked for, if any.
    pub exit_code: Mutex<Option<i32>>,
    /// The id of the main service (the script that required us).
    pub main_service: AtomicU32,
    /// Set once shutdown has begun; never cleared.
    pub stopping: AtomicBool,
    pub threads: shutdown::Threads,
    /// Where messages to remote ids (above [`registry::MAX_ID`]) go: the
    /// cluster, once plugged in.
    remote: OnceLock<RemoteRoute>,
    /// Told when a call's wait timed out, so that whoever holds state for
    /// that call elsewhere (the cluster's pending table) can drop it.
    expired: OnceLock<ExpiredCall>,
    /// Room in the queues towards remote ids: the cluster's, once plugged in.
    remote_room: OnceLock<&'static dyn RemoteRoom>,
}

/// Takes a message for a remote id; gives it back if it cannot be sent.
pub type RemoteRoute = Box<dyn Fn(Message) -> Result<(), Message> + Send + Sync>;

/// Takes `(caller, session)` of a call that timed out.
pub type ExpiredCall = Box<dyn Fn(ServiceId, Session) + Send + Sync>;

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// The runtime, once started.
pub fn get() -> &'static Runtime {
    RUNTIME.get().expect("skynet runtime not started")
}

/// Whether the runtime was started (and not yet fully stopped) in this process.
pub fn try_get() -> Option<&'static Runtime> {
    RUNTIME.get()
}

/// Worker count: `SKYNET_THREADS`, else one per logical CPU.
fn worker_count() -> usize {
    std::env::var("SKYNET_THREADS")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .filter(|&n| n >= 1 && n <= 256)
        .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1))
}

/// Starts the runtime: its tables, then the worker, watchdog and signal threads.
/// Returns `None` if it had been started before.
pub fn start() -> Option<&'static Runtime> {
    let workers = worker_count();
    let mut fresh = false;
    let rt = RUNTIME.get_or_init(|| {
        fresh = true;
        Runtime {
            mailboxes: (0..=workers).map(|_| Arc::new(Mailbox::default())).collect(),
            workers,
            registry: Registry::default(),
            names: Names::default(),
            live: (0..=workers).map(|_| AtomicUsize::new(0)).collect(),
            heartbeats: (0..=workers).map(|_| Heartbeat::default()).collect(),
            cpus: (0..=workers).map(|_| CpuSlot::default()).collect(),
            stats: (0..=workers).map(|_| stats::WorkerStats::default()).collect(),
            epoch: Instant::now(),
            exit_code: Mutex::new(None),
            main_service: AtomicU32::new(0),
            stopping: AtomicBool::new(false),
            threads: shutdown::Threads::default(),
            remote: OnceLock::new(),
            expired: OnceLock::new(),
            remote_room: OnceLock::new(),
        }
    });
    if !fresh {
        return None;
    }
    crate::allocator::no_huge_pages();
    for index in 0..rt.workers {
        rt.threads.spawn(format!("skynet-worker-{index}"), move || worker::thread_main(index));
    }
    watchdog::start(rt);
    signals::start(rt);
    Some(rt)
}

impl Runtime {
    /// The mailbox index of the main thread.
    pub fn main_index(&self) -> usize {
        self.workers
    }

    /// The worker with the fewest live services (main thread excluded).
    pub fn least_loaded(&self) -> usize {
        (0..self.workers).min_by_key(|&w| self.live[w].load(Ordering::Relaxed)).unwrap_or(0)
    }

    /// Registers where messages to remote ids go (once per process).
    pub fn route_remote(&self, route: RemoteRoute) {
        let _ = self.remote.set(route);
    }

    /// Registers who knows the room towards remote ids (once per process).
    pub fn room_remote(&self, room: &'static dyn RemoteRoom) {
        let _ = self.remote_room.set(room);
    }

    /// Whether a sender to `to` should wait for room: `to`'s queue (a local
    /// service) or the queue towards it (a remote id) is over its mark.
    pub fn crowded(&self, to: ServiceId) -> bool {
        if to > registry::MAX_ID {
            self.remote_room.get().is_some_and(|r| r.over_mark(to))
        } else {
            self.registry.backlog.over_mark(to)
        }
    }

    /// [`crowded`](Self::crowded) as a sender asks it right after sending
    /// `bytes` to `to` (a local queue is looked at only now and then, see
    /// `Backlog::over_mark_after_send`).
    pub fn crowded_after_send(&self, to: ServiceId, bytes: usize) -> bool {
        if to > registry::MAX_ID {
            self.crowded(to)
        } else {
            self.registry.backlog.over_mark_after_send(to, bytes)
        }
    }

    /// Registers `sender`'s wait (on `session`) for room towards `to`; it is
    /// woken by a `Kind::Wake` for `session`. False: no wait was registered
    /// (there is room already), so none must be waited for.
    pub fn wait_for_room(&self, to: ServiceId, sender: ServiceId, session: Session) -> bool {
        if to > registry::MAX_ID {
            self.remote_room.get().is_some_and(|r| r.wait_for_room(to, sender, session))
        } else {
            self.registry.backlog.wait_for_room(to, sender, session)
        }
    }

    /// Registers who hears of timed-out calls (once per process).
    pub fn on_call_expired(&self, hook: ExpiredCall) {
        let _ = self.expired.set(hook);
    }

    /// Call `(caller, session)` timed out: its answer is no longer awaited.
    pub fn call_expired(&self, caller: ServiceId, session: Session) {
        if let Some(hook) = self.expired.get() {
            hook(caller, session);
        }
    }

    /// Routes `msg` to the worker of its receiver: the local queue when that
    /// is the current thread's worker, else its mailbox.
    pub fn send(&self, msg: Message) {
        if msg.to > registry::MAX_ID {
            let unsent = match self.remote.get() {
                Some(route) => route(msg),
                None => Err(msg),
            };
            if let Err(msg) = unsent {
                self.fail(msg, Failure::Disconnected);
            }
            return;
        }
        match self.registry.worker_of(msg.to) {
            Some(w) => {
                self.registry.backlog.queued(msg.to, msg.payload.len());
                worker::push_local_if_current(w, msg, |msg| self.mailboxes[w].push(msg));
            }
            None => self.undeliverable(msg),
        }
    }

    /// A message whose receiver is gone: callers waiting on it must not wait
    /// for the timeout, so calls and close requests are answered at once.
    pub fn undeliverable(&self, msg: Message) {
        self.fail(msg, Failure::Cancel);
    }

    /// Answers a call that cannot be delivered with `false, why`.
    pub fn fail(&self, msg: Message, why: Failure) {
        if msg.session == 0 || msg.from == 0 {
            return;
        }
        match msg.kind {
            Kind::Call(_) => self.send(Message::failure(msg.from, msg.to, msg.session, why)),
            Kind::Stop => self.send(Message::reply(msg.from, msg.to, msg.session, Vec::new())),
            _ => {}
        }
    }

    /// Asks every service to stop and records the exit status (`os.exit` from a service).
    pub fn request_exit(&self, code: i32) {
        self.set_exit_code(code);
        // Every service is marked first: one that sees another's "cancel"
        // then already knows that it is stopping too.
        let ids = self.registry.ids();
        for info in ids.iter().filter_map(|&id| self.registry.info(id)) {
            info.request_stop();
        }
        for id in ids {
            self.stop_service(id, 0, 0);
        }
    }

    /// Asks service `id` to stop (its queued calls are discarded, see
    /// `ServiceInfo::request_stop`); `session` of `from` is answered once it
    /// has ended (0: no answer wanted).
    pub fn stop_service(&self, id: message::ServiceId, from: message::ServiceId, session: message::Session) {
        if let Some(info) = self.registry.info(id) {
            info.request_stop();
        }
        self.send(Message { to: id, from, session, kind: Kind::Stop, payload: Vec::new() });
    }

    /// Stops service `id` on an operator's request (console `kill`): its
    /// monitors hear `"killed"`. False if there is no such service.
    pub fn kill(&self, id: message::ServiceId) -> bool {
        let Some(info) = self.registry.info(id) else { return false };
        info.mark_killed();
        self.stop_service(id, 0, 0);
        true
    }

    /// Records the status the process ends with if shutdown has to give up
    /// on a stuck service (`os.exit(code)` from the main script).
    pub fn set_exit_code(&self, code: i32) {
        *self.exit_code.lock().unwrap_or_else(|e| e.into_inner()) = Some(code);
    }

    pub fn requested_exit(&self) -> Option<i32> {
        *self.exit_code.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Debug output as an operator set it (console `trace on|off`): 0 = as the
/// environment says, 1 = on, 2 = off.
static DEBUG_OVERRIDE: AtomicU8 = AtomicU8::new(0);

/// Whether debug output is on (`os.debugging()`): as an operator set it, else
/// a debug build, or `SKYNET_DEBUG` set to anything but 0.
pub fn debugging() -> bool {
    match DEBUG_OVERRIDE.load(Ordering::Relaxed) {
        1 => true,
        2 => false,
        _ => cfg!(debug_assertions) || std::env::var("SKYNET_DEBUG").is_ok_and(|v| v != "0"),
    }
}

/// Turns debug output on or off for the whole process, whatever the environment says.
pub fn set_debugging(on: bool) {
    DEBUG_OVERRIDE.store(if on { 1 } else { 2 }, Ordering::Relaxed);
}

/// Writes `line()` to the log only when [`debugging`].
pub fn debug(line: impl FnOnce() -> String) {
    if debugging() {
        log(&line());
    }
}

/// Writes a log line to stderr in one piece (lines of different threads never mix).
pub fn log(line: &str) {
    use std::io::Write;
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(line.as_bytes());
    if !line.ends_with('\n') {
        let _ = err.write_all(b"\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_heartbeat_says_which_service_runs_and_how_many_messages_went_out() {
        let beat = Heartbeat::default();
        assert_eq!(beat.read(), (0, 0));
        beat.enter(42);
        assert_eq!(beat.read(), (42, 1));
        beat.enter(registry::MAX_ID);
        assert_eq!(beat.read(), (registry::MAX_ID, 2));
        beat.leave();
        assert_eq!(beat.read(), (0, 2), "leaving keeps the count");
        beat.enter(5);
        assert_eq!(beat.read(), (5, 3));
    }
}
