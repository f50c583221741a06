//! The worker loop: one thread, its services, its timers.
//!
//! Each worker thread runs a tokio current_thread runtime with a `LocalSet`
//! (so sockets and other tasks of its services run here too, with no thread
//! hop) and, on it, [`Worker::run`]: take due timers, the local queue (sends
//! between services of this thread) and a batch of the mailbox (sends from
//! other threads); hand each message to its service; sleep when there is
//! nothing to do. The main thread has a `Worker` too, driven only while the
//! script blocks (see `main_loop.rs`).
//!
//! Timers: tokio's timer rounds up to whole milliseconds, which would make
//! every sleep up to 1 ms late. Each worker instead has one `timerfd` (an
//! [`Alarm`]) armed with nanosecond precision for its earliest deadline and
//! watched by tokio's I/O driver, so sleeps end within tens of microseconds
//! of their deadline without polling.

use crate::runtime::mailbox::Mailbox;
use crate::runtime::message::{Kind, Message, ServiceId, Session};
use crate::runtime::timer::TimerQueue;
use crate::runtime::{self, Runtime};
use crate::runtime::actor::Actor;
use std::cell::{Cell, RefCell};
use rustc_hash::FxHashMap as HashMap;
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use crate::runtime::clock::{LoopClock, Tick};
use std::time::Duration;

/// Messages handled from one queue before looking at the others.
const BATCH: usize = 256;
/// Turns between two yields to tokio while busy (lets socket tasks run).
const TURNS_PER_YIELD: u32 = 8;
/// How long an idle worker watches its mailbox before it sleeps, and for
/// how much of that it spins without giving up the CPU.
const SPIN_BEFORE_SLEEP: Duration = Duration::from_micros(50);
const SPIN_BEFORE_YIELD: Duration = Duration::from_micros(15);
/// How long the loop watches its mailbox before sleeping after a spawn
/// went through the worker (see [`Worker::await_spawn`]).
const SPAWN_WATCH: Duration = Duration::from_millis(1);
/// How often pending calls are checked for their timeout.
const SWEEP_EVERY: Duration = Duration::from_millis(100);
/// How long after going idle a worker gives freed memory back.
const COLLECT_AFTER: Duration = Duration::from_secs(1);
/// How long stopped services get to end at shutdown before they are abandoned.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(4);

/// What a timer does when it fires.
pub enum TimerEvent {
    /// End the wait of `session` in `service` (a sleep).
    Wake(ServiceId, Session),
    /// Fire `os.timer` object `key` of `service`, armed as `arm`.
    Timer(ServiceId, u64, u64),
    /// Check pending calls for timeouts.
    Sweep,
    /// Give memory freed since the last look back to the system.
    Collect,
}

pub struct Worker {
    pub index: usize,
    pub mailbox: Arc<Mailbox>,
    local: RefCell<VecDeque<Message>>,
    services: RefCell<HashMap<ServiceId, Rc<dyn Actor>>>,
    timers: RefCell<TimerQueue<TimerEvent>>,
    sweep_armed: Cell<bool>,
    /// A [`TimerEvent::Collect`] is pending.
    collect_armed: Cell<bool>,
    /// When shutdown began: stop everything, then leave.
    shutdown_deadline: Cell<Option<Tick>>,
    /// Wakes the loop at the next timer deadline (made on first use, inside tokio).
    alarm: RefCell<Option<Rc<Alarm>>>,
    /// The clock as last read by the turn under way (`None` between turns):
    /// see [`Worker::now`].
    clock: Cell<Option<Tick>>,
    /// What the loop reads the clock with.
    loop_clock: LoopClock,
    /// Mail went to or came from another thread since the loop last
    /// watched for mail: then more usually follows within microseconds
    /// (the answer to a call, the next of a stream of messages), which is
    /// what makes watching before sleeping worth it (see [`Worker::run`]).
    crossed: Cell<bool>,
    /// Until when the loop watches its mailbox rather than sleep, because
    /// a spawn went through this worker (see [`Worker::await_spawn`]).
    spawn_watch: Cell<Option<Tick>>,
    /// The service of the last turn's last run (0: none), whose heap size
    /// is recorded when the worker goes idle (see [`Run::end`]).
    last_served: Cell<ServiceId>,
}

/// Records `svc`'s Lua heap size for operators.
fn record_heap(svc: &dyn Actor) {
    if let Some(bytes) = svc.heap_bytes() {
        svc.info().stats.memory.set(bytes as u64);
    }
}

/// When a watch for mail that starts at `start` gives up: after the
/// usual spin, or at the end of a spawn's watch if that is later.
fn watch_until(start: Tick, spawn_watch: Option<Tick>) -> Tick {
    let usual = start.after(SPIN_BEFORE_SLEEP);
    spawn_watch.map_or(usual, |watch| watch.max(usual))
}

/// Heap sizes are recorded once in this many messages a service handles
/// (and whenever its worker goes idle, see [`Run::end`]).
const HEAP_EVERY: u64 = 64;

/// Messages in a row to one service, within a turn.
struct Run {
    service: Option<Rc<dyn Actor>>,
    /// The service's id (0: none), kept to compare without a virtual call.
    id: ServiceId,
    since: Tick,
    /// Messages handed to the service in this run.
    messages: u64,
}

impl Run {
    /// Counts one more message of the run to `svc` (id `to`), starting the
    /// run if it is the first. (Inlined, as is [`Run::end`]: each is a few
    /// instructions on every message, and a call would add as many.)
    #[inline(always)]
    fn add(&mut self, to: ServiceId, svc: Rc<dyn Actor>) {
        if self.service.is_none() {
            self.service = Some(svc);
            self.id = to;
        }
        self.messages += 1;
    }

    /// Ends the run at `now`: counts its messages and charges its time to
    /// its service and, on its first run and then once in [`HEAP_EVERY`]
    /// messages, records its heap size (reading it costs about as much as
    /// the rest of the accounting; the worker also records it for the last
    /// service it served when it goes idle, where a service usually stays
    /// a while).
    #[inline(always)]
    fn end(&mut self, now: Tick) {
        let Some(svc) = self.service.take() else { return };
        let stats = &svc.info().stats;
        let before = stats.messages.get();
        let after = before + std::mem::take(&mut self.messages);
        stats.messages.set(after);
        stats.cpu_ns.add(now.nanos_since(self.since));
        if stats.memory.get() == 0 || before / HEAP_EVERY != after / HEAP_EVERY {
            record_heap(&*svc);
        }
        self.id = 0;
        self.since = now;
    }
}

/// A `timerfd` watched by tokio: a precise wake-up at one deadline.
pub struct Alarm {
    fd: tokio::io::unix::AsyncFd<std::os::fd::OwnedFd>,
    armed: Cell<Option<Tick>>,
}

impl Alarm {
    fn new() -> Option<Alarm> {
        use std::os::fd::FromRawFd;
        // SAFETY: timerfd_create returns a new descriptor we then own.
        let raw = unsafe { libc::timerfd_create(libc::CLOCK_MONOTONIC, libc::TFD_NONBLOCK | libc::TFD_CLOEXEC) };
        if raw < 0 {
            return None;
        }
        // SAFETY: `raw` is a valid descriptor that nothing else owns.
        let fd = unsafe { std::os::fd::OwnedFd::from_raw_fd(raw) };
        // SAFETY: `fd` is an open timerfd owned by the AsyncFd for its whole life.
        let fd = unsafe { tokio::io::unix::AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE) }.ok()?;
        Some(Alarm { fd, armed: Cell::new(None) })
    }

    /// Arms the alarm for `deadline` (an absolute time on the clock of
    /// [`Tick`], which is the timerfd's `CLOCK_MONOTONIC`).
    fn set(&self, deadline: Tick) {
        if self.armed.get() == Some(deadline) {
            return;
        }
        self.armed.set(Some(deadline));
        let spec = libc::itimerspec {
            it_interval: libc::timespec { tv_sec: 0, tv_nsec: 0 },
            it_value: deadline.as_timespec(),
        };
        use std::os::fd::AsRawFd;
        // SAFETY: arming our own timerfd with a valid itimerspec.
        unsafe { libc::timerfd_settime(self.fd.as_raw_fd(), libc::TFD_TIMER_ABSTIME, &spec, std::ptr::null_mut()) };
    }

    /// Waits until the alarm rings.
    async fn fired(&self) {
        use std::os::fd::AsRawFd;
        loop {
            let Ok(mut guard) = self.fd.readable().await else { return };
            let mut expirations = 0u64;
            // SAFETY: reading the 8-byte expiration count into a local.
            let n = unsafe { libc::read(self.fd.as_raw_fd(), &mut expirations as *mut u64 as *mut libc::c_void, 8) };
            if n == 8 {
                self.armed.set(None);
                return;
            }
            guard.clear_ready();
        }
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Rc<Worker>>> = const { RefCell::new(None) };
}

/// The worker of the calling thread.
pub fn current() -> Option<Rc<Worker>> {
    CURRENT.with(|c| c.borrow().clone())
}

/// Pushes `msg` to the local queue if the calling thread is worker `index`;
/// else calls `remote(msg)`. Returns whether it went local. (A local task
/// may be the sender while the loop sleeps, hence the wake, which costs one
/// atomic operation when the loop is running.)
pub fn push_local_if_current(index: usize, msg: Message, remote: impl FnOnce(Message)) -> bool {
    CURRENT.with(|c| match &*c.borrow() {
        Some(w) if w.index == index => {
            w.local.borrow_mut().push_back(msg);
            w.mailbox.wake();
            true
        }
        Some(w) => {
            w.crossed.set(true);
            remote(msg);
            false
        }
        _ => {
            remote(msg);
            false
        }
    })
}

impl Worker {
    /// Creates the worker of the calling thread and makes it current.
    pub fn install(rt: &Runtime, index: usize) -> Rc<Worker> {
        let w = Rc::new(Worker {
            index,
            mailbox: rt.mailboxes[index].clone(),
            local: RefCell::new(VecDeque::new()),
            services: RefCell::new(HashMap::default()),
            timers: RefCell::new(TimerQueue::default()),
            sweep_armed: Cell::new(false),
            collect_armed: Cell::new(false),
            shutdown_deadline: Cell::new(None),
            alarm: RefCell::new(None),
            clock: Cell::new(None),
            loop_clock: LoopClock::default(),
            crossed: Cell::new(false),
            spawn_watch: Cell::new(None),
            last_served: Cell::new(0),
        });
        CURRENT.with(|c| *c.borrow_mut() = Some(w.clone()));
        w
    }

    /// Forgets the calling thread's worker.
    pub fn uninstall() -> Option<Rc<Worker>> {
        CURRENT.with(|c| c.borrow_mut().take())
    }

    pub fn add_service(&self, svc: Rc<dyn Actor>) {
        self.services.borrow_mut().insert(svc.id(), svc);
    }

    pub fn remove_service(&self, id: ServiceId) -> Option<Rc<dyn Actor>> {
        self.services.borrow_mut().remove(&id)
    }

    pub fn service(&self, id: ServiceId) -> Option<Rc<dyn Actor>> {
        self.services.borrow().get(&id).cloned()
    }

    /// Queues `msg` for a service of this worker.
    pub fn push_local(&self, msg: Message) {
        runtime::get().registry.backlog.queued(msg.to, msg.payload.len());
        self.local.borrow_mut().push_back(msg);
    }

    pub fn add_timer(&self, deadline: Tick, event: TimerEvent) {
        self.timers.borrow_mut().push(deadline, event);
    }

    /// Makes sure pending calls get checked for timeouts.
    pub fn arm_sweep(&self) {
        if !self.sweep_armed.replace(true) {
            self.add_timer(self.now().after(SWEEP_EVERY), TimerEvent::Sweep);
        }
    }

    /// The time, for accounting: during a turn, the clock reading the turn
    /// started at (or the one its current run of messages to one service
    /// did, see [`Run`]), so that measuring a call's duration costs no clock
    /// reading on the message path; between turns (the main script running
    /// outside its loop), the clock itself.
    pub fn now(&self) -> Tick {
        self.clock.get().unwrap_or_else(|| self.loop_clock.now())
    }

    /// Says that a spawn went through this worker: a service of it awaits
    /// a child that another worker starts, or it just started one. The
    /// answer comes once the child's state is built and its `main` first
    /// waits, 100 to 200 µs for a small service: beyond the usual watch for
    /// mail, and waking a sleeping thread costs about as much again on a
    /// virtual machine (it more than halved the spawn rate). Spawns come in
    /// loops, so the child's worker is likely to get the next request as
    /// soon. Both watch for up to [`SPAWN_WATCH`]; an answer or a request
    /// slower than that finds the worker asleep, as before.
    pub fn await_spawn(&self) {
        self.spawn_watch.set(Some(self.now().after(SPAWN_WATCH)));
    }

    /// Reads the clock for the turn under way.
    fn read_clock(&self) -> Tick {
        let now = self.loop_clock.now();
        self.clock.set(Some(now));
        now
    }

    /// Handles whatever is due at `now` (a reading the loop just took);
    /// returns how many things it handled and the clock as it ended (`now`
    /// if it handled nothing).
    ///
    /// Accounting (see `runtime::stats`): messages come in runs to one
    /// service (a batch of one-way messages, a conversation's turns), so the
    /// clock is read only when the next message goes to another service and
    /// when a turn that handled something ends; each run is charged to its
    /// service, whose heap size is then recorded. The loop goes on from the
    /// ending reading (see [`Worker::run`]).
    fn turn(self: &Rc<Self>, rt: &Runtime, now: Tick) -> (usize, Tick) {
        let mut handled = 0;
        self.clock.set(Some(now));
        loop {
            let due = self.timers.borrow_mut().pop_due(now);
            let Some(event) = due else { break };
            self.fire(event);
            handled += 1;
        }
        let mut run = Run { service: None, id: 0, since: now, messages: 0 };
        let mut served = 0;
        for _ in 0..BATCH {
            let next = self.local.borrow_mut().pop_front();
            let Some(msg) = next else { break };
            served += self.dispatch(rt, msg, &mut run);
            handled += 1;
        }
        for i in 0..BATCH {
            let Some(msg) = self.mailbox.pop() else { break };
            if i == 0 {
                self.crossed.set(true);
            }
            served += self.dispatch(rt, msg, &mut run);
            handled += 1;
        }
        let mut end = now;
        if handled > 0 {
            end = self.loop_clock.now();
            if run.id != 0 {
                self.last_served.set(run.id);
                run.end(end);
            }
            let stats = &rt.stats[self.index];
            stats.busy_ns.add(end.nanos_since(now));
            stats.messages.add(served);
            if served > 0 {
                rt.heartbeats[self.index].leave();
            }
        }
        self.clock.set(None);
        (handled, end)
    }

    /// Once this worker idles after work, its allocator is asked, a second
    /// later, to give freed memory back to the system (mimalloc keeps it
    /// per thread otherwise: after 8,000 connections closed, their buffers
    /// would stay resident for good).
    fn arm_collect(&self, now: Tick) {
        if !self.collect_armed.replace(true) {
            self.add_timer(now.after(COLLECT_AFTER), TimerEvent::Collect);
        }
    }

    fn fire(&self, event: TimerEvent) {
        match event {
            TimerEvent::Wake(id, session) => self.push_local(Message::signal(id, session, Kind::Wake)),
            TimerEvent::Timer(id, key, arm) => self.push_local(Message::signal(id, 0, Kind::Timer { key, arm })),
            TimerEvent::Collect => {
                self.collect_armed.set(false);
                // SAFETY: mi_collect only walks and trims this thread's own
                // mimalloc heap; it takes no pointers.
                unsafe { libmimalloc_sys::mi_collect(false) };
            }
            TimerEvent::Sweep => {
                self.sweep_armed.set(false);
                let services: Vec<Rc<dyn Actor>> = self.services.borrow().values().cloned().collect();
                let now = Tick::now();
                let mut pending = false;
                for svc in services {
                    pending |= svc.expire_calls(now);
                }
                if pending {
                    self.arm_sweep();
                }
            }
        }
    }

    /// Hands `msg` to its service, counting it in the current `run`;
    /// returns how many messages a service was handed (0 or 1).
    fn dispatch(self: &Rc<Self>, rt: &Runtime, msg: Message, run: &mut Run) -> u64 {
        let to = msg.to;
        if to != 0 && rt.registry.backlog.taken(to, msg.payload.len()) {
            for (sender, session) in rt.registry.backlog.release(to) {
                rt.send(Message::signal(sender, session, Kind::Wake));
            }
        }
        // A turn's first run starts at the turn's clock reading; later
        // ones when the previous run ends.
        if run.id != 0 && run.id != to {
            run.end(self.read_clock());
        }
        // The watchdog's heartbeat names the service whose Lua code may run
        // now (a new one runs its chunk and `main` in `create`).
        let beat = &rt.heartbeats[self.index];
        let served = match msg.kind {
            Kind::Shutdown => {
                beat.leave();
                self.begin_shutdown();
                None
            }
            Kind::Spawn(create) => {
                beat.enter(to);
                create(self);
                self.service(to)
            }
            _ => match self.service(to) {
                Some(svc) => {
                    beat.enter(to);
                    svc.clone().handle(msg);
                    Some(svc)
                }
                None => {
                    rt.undeliverable(msg);
                    None
                }
            },
        };
        match served {
            Some(svc) => {
                run.add(to, svc);
                1
            }
            None => 0,
        }
    }

    fn begin_shutdown(&self) {
        if self.shutdown_deadline.get().is_some() {
            return;
        }
        self.shutdown_deadline.set(Some(Tick::now().after(SHUTDOWN_GRACE)));
        let services: Vec<Rc<dyn Actor>> = self.services.borrow().values().cloned().collect();
        for svc in services {
            svc.stop();
        }
    }

    /// At shutdown: true once every service ended, or the grace time is over
    /// (then the remaining services are abandoned without running their Lua code).
    fn shutdown_done(&self) -> bool {
        let Some(deadline) = self.shutdown_deadline.get() else { return false };
        if self.services.borrow().is_empty() {
            return true;
        }
        if Tick::now() >= deadline {
            for (_, svc) in self.services.borrow_mut().drain() {
                runtime::log(&format!("skynet: service {} did not stop in time; abandoned", svc.label()));
                svc.abandon();
            }
            return true;
        }
        false
    }

    /// The worker's alarm, armed for `deadline` (`None` if no timerfd could be made).
    fn alarm(&self, deadline: Tick) -> Option<Rc<Alarm>> {
        let mut slot = self.alarm.borrow_mut();
        if slot.is_none() {
            *slot = Alarm::new().map(Rc::new);
        }
        let alarm = slot.clone()?;
        alarm.set(deadline);
        Some(alarm)
    }

    /// Before sleeping, watches the mailbox for a few microseconds: in a
    /// conversation between services of two workers the answer usually comes
    /// within that time, and catching it here saves the sender a wake-up
    /// syscall and us a sleep. After the first few microseconds it yields
    /// the CPU between looks, so that on a busy machine the peer worker
    /// (maybe waiting for this very core) gets to run instead of being
    /// starved by our spinning. Returns true if mail came. After a spawn
    /// it watches longer (see [`Worker::await_spawn`]).
    ///
    /// `now` starts as the loop's latest reading and is read again before
    /// each look, so that when mail comes it is the time the next turn
    /// starts at, late by one reading at most: watching is idle time, and
    /// the turn needs no reading of its own.
    fn spin_for_mail(&self, rt: &Runtime, now: &mut Tick) -> bool {
        let start = *now;
        let yield_after = if self.shares_cpu(rt) { Duration::ZERO } else { SPIN_BEFORE_YIELD };
        let until = watch_until(start, self.spawn_watch.get());
        loop {
            if !self.mailbox.is_empty() {
                return true;
            }
            if *now >= until {
                return false;
            }
            let spun = now.since(start);
            if spun >= yield_after {
                std::thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
            *now = self.loop_clock.now();
        }
    }

    /// Whether another worker last watched its mailbox on the CPU this one
    /// runs on. When the machine is short of CPUs (another process keeps
    /// one busy), the system may put two workers on one CPU; then the mail
    /// one of them watches for can only come once it gives the CPU up, and
    /// spinning only delays it: each hop of a conversation would cost the
    /// whole spin (a sequential call between two such workers fell from
    /// 600k to 28k per second). Publishes this worker's CPU on the way.
    fn shares_cpu(&self, rt: &Runtime) -> bool {
        // SAFETY: sched_getcpu takes no arguments; glibc answers from the
        // thread's rseq area, without a system call.
        let cpu = unsafe { libc::sched_getcpu() };
        let Ok(cpu) = u32::try_from(cpu) else { return false };
        let mine = &rt.cpus[self.index].0;
        if mine.load(Ordering::Relaxed) != cpu {
            mine.store(cpu, Ordering::Relaxed);
        }
        rt.cpus.iter().enumerate().any(|(i, slot)| i != self.index && slot.0.load(Ordering::Relaxed) == cpu)
    }

    /// Unpublishes this worker's CPU as the loop returns (the main thread
    /// runs its loop only while its script blocks). A worker that sleeps
    /// keeps it: when woken by mail it is on that CPU before it can say so,
    /// and a peer that spins meanwhile would hold it off.
    fn leave_cpu(&self, rt: &Runtime) {
        rt.cpus[self.index].0.store(u32::MAX, Ordering::Relaxed);
    }

    /// Runs the loop until `until()` holds or, on a worker thread, shutdown is complete.
    ///
    /// The clock is read once between two turns, and that one reading
    /// serves three ends: it ends the turn before (its time and its last
    /// run are charged up to it), it starts the next turn, and the mailbox
    /// watch measures its time from it. In a conversation between two
    /// workers, the watch's last look gives the next turn its start, so a
    /// turn costs one reading in all. A wait that awaits (a yield to tokio,
    /// a sleep) reads the clock again after it.
    pub async fn run(self: &Rc<Self>, until: &dyn Fn() -> bool) {
        let rt = runtime::get();
        let mut turns = 0u32;
        let mut now = self.loop_clock.now();
        loop {
            let (handled, end) = self.turn(rt, now);
            now = end;
            if until() || self.shutdown_done() {
                self.leave_cpu(rt);
                return;
            }
            if handled > 0 {
                turns += 1;
                if turns >= TURNS_PER_YIELD {
                    turns = 0;
                    tokio::task::yield_now().await;
                    now = self.loop_clock.now();
                }
                continue;
            }
            turns = 0;
            // Watching only pays after mail crossed threads; a worker busy
            // with its own sockets goes straight to tokio, whose I/O
            // driver is not polled while we watch.
            if self.crossed.take() && self.spin_for_mail(rt, &mut now) {
                continue;
            }
            if !self.mailbox.go_idle() {
                continue;
            }
            if let Some(svc) = self.service(self.last_served.replace(0)) {
                record_heap(&*svc);
            }
            self.arm_collect(now);
            if !self.local.borrow().is_empty() {
                self.mailbox.end_idle();
                continue;
            }
            let next = self.timers.borrow().next_deadline();
            let next = match (next, self.shutdown_deadline.get()) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let alarm = match next {
                Some(deadline) if deadline <= now => {
                    self.mailbox.end_idle();
                    continue;
                }
                Some(deadline) => self.alarm(deadline),
                None => None,
            };
            match alarm {
                None => self.mailbox.wait().await,
                Some(alarm) => {
                    tokio::select! {
                        _ = self.mailbox.wait() => {}
                        _ = alarm.fired() => self.mailbox.end_idle(),
                    }
                }
            }
            now = self.loop_clock.now();
        }
    }
}

/// Body of a worker thread.
pub fn thread_main(index: usize) {
    let rt = runtime::get();
    let tokio_rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            runtime::log(&format!("skynet: worker {index} cannot start: {e}"));
            return;
        }
    };
    let worker = Worker::install(rt, index);
    let local = tokio::task::LocalSet::new();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        local.block_on(&tokio_rt, worker.run(&|| false));
    }));
    if result.is_err() {
        runtime::log(&format!("skynet: worker {index} failed; its services are abandoned"));
        for (_, svc) in worker.services.borrow_mut().drain() {
            svc.abandon();
        }
    }
    // Closes started by services that have ended still go out (see `linger`).
    local.block_on(&tokio_rt, runtime::linger::settle(runtime::linger::SETTLE));
    drop(local);
    Worker::uninstall();
    drop(worker);
    tokio_rt.shutdown_timeout(Duration::from_millis(500));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::registry::ServiceInfo;
    use std::any::Any;

    #[test]
    fn a_spawn_lengthens_the_watch_for_mail_until_its_deadline() {
        let start = Tick::now();
        let usual = start.after(SPIN_BEFORE_SLEEP);
        assert_eq!(watch_until(start, None), usual);
        assert_eq!(watch_until(start, Some(start.after(SPAWN_WATCH))), start.after(SPAWN_WATCH));
        let long_ago = start;
        assert_eq!(watch_until(start.after(SPAWN_WATCH * 2), Some(long_ago)), start.after(SPAWN_WATCH * 2).after(SPIN_BEFORE_SLEEP));
    }

    /// An actor that only counts how often its heap was read.
    struct Counted {
        info: ServiceInfo,
        heap_reads: Cell<u64>,
    }

    impl Actor for Counted {
        fn info(&self) -> &ServiceInfo {
            &self.info
        }
        fn handle(self: Rc<Self>, _: Message) {}
        fn stop(&self) {}
        fn expire_calls(&self, _: Tick) -> bool {
            false
        }
        fn abandon(self: Rc<Self>) {}
        fn heap_bytes(&self) -> Option<usize> {
            self.heap_reads.set(self.heap_reads.get() + 1);
            Some(1000 + self.heap_reads.get() as usize)
        }
        fn into_any(self: Rc<Self>) -> Rc<dyn Any> {
            self
        }
    }

    #[test]
    fn a_run_charges_its_messages_and_time_and_reads_the_heap_now_and_then() {
        let actor = Rc::new(Counted { info: ServiceInfo::new(7, "counted"), heap_reads: Cell::new(0) });
        let base = Tick::now();
        let at = |ns: u64| base.after(Duration::from_nanos(ns));
        let start = at(1_000);
        let mut run = Run { service: None, id: 0, since: start, messages: 0 };
        for _ in 0..3 {
            run.add(7, actor.clone());
        }
        assert_eq!(run.id, 7);
        run.end(at(6_000));
        let stats = &actor.info.stats;
        assert_eq!((stats.messages.get(), stats.cpu_ns.get()), (3, 5_000));
        assert_eq!(actor.heap_reads.get(), 1, "the first run records the heap");
        assert_eq!(stats.memory.get(), 1001);
        assert_eq!((run.id, run.since), (0, at(6_000)), "the next run starts where this one ended");
        run.end(at(9_000));
        assert_eq!(stats.cpu_ns.get(), 5_000, "ending no run charges nothing");
        // Runs of one message each: the heap is read again once the count
        // passes the next multiple of HEAP_EVERY, not before.
        for n in 4..=HEAP_EVERY {
            run.add(7, actor.clone());
            run.end(at(9_000 + n));
            let expected = if n < HEAP_EVERY { 1 } else { 2 };
            assert_eq!(actor.heap_reads.get(), expected, "after {n} messages");
        }
        assert_eq!(stats.messages.get(), HEAP_EVERY);
    }
}
