//! The Lua-free half of a service: who it is, the sessions it waits on, the
//! calls it owes answers to, and the Rust API it talks to other services
//! with ([`Core::call`], [`Core::deliver`], [`Core::sleep`], answers).
//!
//! Payloads are `wrap`ped buffers in and out; what a wait means to the
//! service (a parked coroutine, a callback, ...) is the type parameter `W`,
//! so the same machinery serves a Lua service (`Service`, whose `W` is a
//! [`Waiter`](super::Waiter)) and the Rust actors of the tests below.
//!
//! Rules kept here (numbered as in `service/mod.rs`):
//! * rule 3: a wait is a session; whatever ends it (a reply, a timer, a
//!   stop, the timeout sweep) is a message for that session.
//! * rule 4: every call accepted is answered exactly once: by the handler,
//!   with its error, or with `"cancel"` when the service ends.

use crate::codec::wrap;
use crate::error::Error;
use crate::runtime::message::{Failure, Kind, Message, ServiceId, Session};
use crate::runtime::names::NameCache;
use crate::runtime::registry::{Life, MAX_ID, ServiceInfo};
use crate::runtime::stats::Outcome;
use crate::runtime::worker::{TimerEvent, Worker};
use crate::runtime;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use crate::runtime::clock::Tick;
use std::time::Duration;

/// The call timeout of a new service: `SKYNET_RPC_TIMEOUT` (ms), else 10 s.
pub fn default_call_timeout() -> Duration {
    static DEFAULT: OnceLock<Duration> = OnceLock::new();
    *DEFAULT.get_or_init(|| {
        let ms = std::env::var("SKYNET_RPC_TIMEOUT").ok().and_then(|s| s.trim().parse::<u64>().ok());
        Duration::from_millis(ms.filter(|&ms| ms > 0).unwrap_or(10_000))
    })
}

/// The payload of a `true` status with no values.
pub const OK_PAYLOAD: [u8; 1] = [wrap::TRUE];

/// A call sent: the session its answer will come on, and the callee.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    pub session: Session,
    pub to: ServiceId,
}

/// A one-way message sent: to how many handlers, and one of them whose
/// queue is over its high-water mark, if any (see [`Core::room_in`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivered {
    pub count: usize,
    pub crowded: Option<ServiceId>,
}

struct Wait<W> {
    what: W,
    /// For calls: when to give up with `"timeout"`.
    deadline: Option<Tick>,
    /// For rpc calls: when the call was made, to count how it ended and
    /// how long it took (see [`Core::answered`]).
    started: Option<Tick>,
}

pub struct Core<W> {
    pub id: ServiceId,
    pub info: Arc<ServiceInfo>,
    /// The service that started this one (0 for the main service).
    pub parent: ServiceId,
    pub is_main: bool,
    pub worker: Rc<Worker>,
    stopped: Cell<bool>,
    ended: Cell<bool>,
    next_session: Cell<Session>,
    waits: RefCell<HashMap<Session, Wait<W>>>,
    /// Calls accepted and not yet answered (rule 4).
    unanswered: RefCell<HashSet<(ServiceId, Session)>>,
    /// `job:close()` callers to answer when this service has ended.
    close_waiters: RefCell<Vec<(ServiceId, Session)>>,
    /// The parent's `os.pload` session, until this service is ready.
    ready_reply: Cell<Option<Session>>,
    /// Services started by this one (stopped when it ends); ended ones are
    /// forgotten now and then (their job objects keep their info).
    jobs: RefCell<HashMap<ServiceId, Arc<ServiceInfo>>>,
    /// How many jobs there may be before the ended ones are forgotten.
    jobs_prune_at: Cell<usize>,
    /// The rpc names this service serves, with their `public` flag.
    served: RefCell<HashMap<Arc<str>, bool>>,
    names: RefCell<NameCache>,
    /// Events started (the count `os.wait` returns).
    events: Cell<u64>,
    call_timeout: Cell<Duration>,
}

impl<W> Core<W> {
    pub fn new(info: Arc<ServiceInfo>, parent: ServiceId, is_main: bool, worker: Rc<Worker>) -> Core<W> {
        Core {
            id: info.id,
            info,
            parent,
            is_main,
            worker,
            stopped: Cell::new(false),
            ended: Cell::new(false),
            next_session: Cell::new(0),
            waits: RefCell::new(HashMap::default()),
            unanswered: RefCell::new(HashSet::default()),
            close_waiters: RefCell::new(Vec::new()),
            ready_reply: Cell::new(None),
            jobs: RefCell::new(HashMap::default()),
            jobs_prune_at: Cell::new(64),
            served: RefCell::new(HashMap::default()),
            names: RefCell::new(NameCache::default()),
            events: Cell::new(0),
            call_timeout: Cell::new(default_call_timeout()),
        }
    }

    pub fn label(&self) -> String {
        format!("{}:{}", self.info.name, self.id)
    }

    /// Whether the service was asked to stop (`os.stopped()`): as soon as
    /// someone asked, even before the stop message itself arrives.
    pub fn stopped(&self) -> bool {
        self.stopped.get() || self.info.stop_requested()
    }

    pub fn ended(&self) -> bool {
        self.ended.get()
    }

    pub fn events(&self) -> u64 {
        self.events.get()
    }

    /// Counts one more event (a call, timer, posted function, callback).
    pub fn count_event(&self) {
        self.events.set(self.events.get() + 1);
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

    /// Sends `msg` through the runtime (local queue or another worker's mailbox).
    pub fn send(&self, msg: Message) {
        runtime::get().send(msg);
    }

    /// Queues `msg` for a service of this worker (ourselves, usually).
    fn send_self(&self, session: Session, payload: Vec<u8>) {
        self.worker.push_local(Message::reply(self.id, 0, session, payload));
    }

    /// Ends our own wait on `session` with the runtime's failure `why`.
    fn fail_self(&self, session: Session, why: Failure) {
        self.worker.push_local(Message::failure(self.id, 0, session, why));
    }

    // ---- names ----------------------------------------------------------

    /// Starts serving `name`; false if this service serves it already.
    pub fn serve(&self, name: &str, public: bool) -> bool {
        if self.served.borrow().contains_key(name) {
            return false;
        }
        self.served.borrow_mut().insert(Arc::from(name), public);
        let names = &runtime::get().names;
        if public {
            names.add(name, self.id);
        } else {
            names.add_private(name, self.id);
        }
        if public {
            names.publish(name, self.id, true);
        }
        true
    }

    /// Stops serving `name`; false if this service did not serve it.
    pub fn unserve(&self, name: &str) -> bool {
        let Some(public) = self.served.borrow_mut().remove(name) else { return false };
        let names = &runtime::get().names;
        names.remove(name, self.id);
        if public {
            names.publish(name, self.id, false);
        }
        true
    }

    /// A call that arrived after this service was asked to stop: answered
    /// `"cancel"` (a one-way message is dropped) without being handled.
    /// True if `session` of `caller` was so discarded.
    pub fn discard_if_stopping(&self, caller: ServiceId, session: Session) -> bool {
        if !self.info.stop_requested() {
            return false;
        }
        if session != 0 {
            self.send(Message::failure(caller, self.id, session, Failure::Cancel));
        }
        true
    }

    /// Whether a call from `from` may reach our handler of `name`: remote
    /// callers only reach public names.
    pub fn reachable(&self, name: &str, from: ServiceId) -> bool {
        match self.served.borrow().get(name) {
            Some(&public) => public || from <= MAX_ID,
            None => false,
        }
    }

    // ---- the Rust API: calls, one-way messages, sleeps -------------------

    /// Sends a call of `name` with `args` to the next handler in rotation.
    /// The answer comes as a `Reply` for the returned session; wait for it
    /// with [`wait`](Self::wait) and [`call_deadline`](Self::call_deadline).
    /// A name with no handler here goes to the stand-in for handlers
    /// elsewhere, if a transport set one (`Names::set_elsewhere`).
    pub fn call(&self, name: &str, args: Vec<u8>) -> Result<Sent, Error> {
        let names = &runtime::get().names;
        let picked = self.names.borrow_mut().pick(names, name);
        let picked = picked.or_else(|| names.elsewhere_call().map(|id| (id, Arc::from(name))));
        let Some((to, shared_name)) = picked else {
            runtime::get().stats[self.worker.index].call_ended(Outcome::NotFound, None);
            return Err(Error::NotFound(name.to_owned()));
        };
        let session = self.new_session();
        self.send(Message { to, from: self.id, session, kind: Kind::Call(shared_name), payload: args });
        Ok(Sent { session, to })
    }

    /// One-way `name` with `args` to the handlers picked as `rpc.deliver`
    /// says: `receiver` (an id) if not 0, else all when `mask` is 0, else
    /// the one at `mask` modulo the count. Returns how many got it.
    /// With handlers elsewhere (`Names::set_elsewhere`): a delivery to all
    /// also goes to their broadcast stand-in; any other goes to one of them
    /// when there is no handler here.
    pub fn deliver(&self, name: &str, mask: i64, receiver: i64, mut args: Vec<u8>) -> Delivered {
        let names = &runtime::get().names;
        let group = self.names.borrow_mut().group(names, name);
        let to_all = receiver == 0 && mask == 0;
        // The local handlers it goes to: a slice of the group's ids, so that
        // the hot path (one message to one or a few handlers) allocates nothing.
        let local: &[ServiceId] = match &group {
            Some(group) if receiver != 0 => match group.ids.iter().position(|&id| i64::from(id) == receiver) {
                Some(i) => &group.ids[i..=i],
                None => &[],
            },
            Some(group) if mask == 0 => &group.ids,
            Some(group) => {
                let i = mask.rem_euclid(group.ids.len() as i64) as usize;
                &group.ids[i..=i]
            }
            None => &[],
        };
        let elsewhere = if to_all { names.elsewhere_broadcast() } else { names.elsewhere_call() };
        let elsewhere = elsewhere.filter(|_| to_all || group.is_none());
        let count = local.len() + usize::from(elsewhere.is_some());
        if count == 0 {
            return Delivered { count: 0, crowded: None };
        }
        let shared_name: Arc<str> = match &group {
            Some(group) => group.name.clone(),
            None => Arc::from(name),
        };
        let bytes = args.len();
        let targets = || local.iter().copied().chain(elsewhere);
        for (i, to) in targets().enumerate() {
            // The last one takes the payload itself, the others a copy.
            let payload = if i + 1 == count { std::mem::take(&mut args) } else { args.clone() };
            self.send(Message { to, from: self.id, session: 0, kind: Kind::Call(shared_name.clone()), payload });
        }
        let rt = runtime::get();
        let crowded = targets().find(|&to| rt.crowded_after_send(to, bytes));
        Delivered { count, crowded }
    }

    /// After a send to `to`: if `to`'s queue (or, for a remote id, its
    /// link's) is over its high-water mark, the session of a wait for room,
    /// ended when that queue is back under half the mark (rule 3: wait for
    /// it like any other session).
    pub fn room_in(&self, to: ServiceId) -> Option<Session> {
        let rt = runtime::get();
        if !rt.crowded(to) {
            return None;
        }
        let session = self.new_session();
        rt.wait_for_room(to, self.id, session).then_some(session)
    }

    /// Arranges the wake-up of a sleep and returns its session: after `ms`
    /// milliseconds, after the events queued now (`0`), or only when the
    /// service stops (`None`, negative, or too far to represent). A stopped
    /// service's sleep ends at once, but through the loop, so that
    /// `while true do os.wait(10) end` cannot hold the worker forever.
    pub fn sleep(&self, ms: Option<f64>) -> Session {
        let session = self.new_session();
        match ms {
            _ if self.stopped() => self.send_self(session, Vec::new()),
            Some(ms) if ms == 0.0 => self.send_self(session, Vec::new()),
            Some(ms) if ms > 0.0 => {
                if let Some(deadline) = Tick::after_ms(ms) {
                    self.worker.add_timer(deadline, TimerEvent::Wake(self.id, session));
                }
            }
            _ => {}
        }
        session
    }

    /// How long this service's calls wait for their answer.
    pub fn call_timeout(&self) -> Duration {
        self.call_timeout.get()
    }

    pub fn set_call_timeout(&self, timeout: Duration) {
        self.call_timeout.set(timeout);
    }

    /// The deadline of a call started now (by the worker's clock: a
    /// timeout is checked every 100 ms, so a reading from the start of
    /// this turn is precise enough and costs nothing).
    pub fn call_deadline(&self) -> Tick {
        self.worker.now().after(self.call_timeout.get())
    }

    // ---- waits (rule 3) --------------------------------------------------

    /// Records `what` as waiting on `session`, failed with `"timeout"` at `deadline`.
    pub fn wait(&self, session: Session, what: W, deadline: Option<Tick>) {
        if deadline.is_some() {
            self.worker.arm_sweep();
        }
        self.waits.borrow_mut().insert(session, Wait { what, deadline, started: None });
    }

    /// Records `what` as waiting for the answer to rpc call `session`: as
    /// [`wait`](Self::wait), and the call's end is counted for operators.
    /// Its duration is taken from the worker's clock (`Worker::now`), which
    /// costs no clock reading while the worker handles messages.
    pub fn wait_call(&self, session: Session, what: W, deadline: Tick) {
        self.worker.arm_sweep();
        let started = Some(self.worker.now());
        self.waits.borrow_mut().insert(session, Wait { what, deadline: Some(deadline), started });
    }

    /// Ends the wait on `session`: what waited, if anything still does.
    pub fn take_wait(&self, session: Session) -> Option<W> {
        self.waits.borrow_mut().remove(&session).map(|w| w.what)
    }

    /// Ends the wait on `session` with the answer `payload` (`failed`: the
    /// runtime's failure, if it failed the call): as
    /// [`take_wait`](Self::take_wait), counting how a call ended.
    pub fn answered(&self, session: Session, failed: Option<Failure>, payload: &[u8]) -> Option<W> {
        let wait = self.waits.borrow_mut().remove(&session)?;
        if let Some(started) = wait.started {
            let took = self.worker.now().nanos_since(started);
            runtime::get().stats[self.worker.index].call_ended(Outcome::of_reply(failed, payload), Some(took));
        }
        Some(wait.what)
    }

    /// Fails every wait whose deadline passed; true if some deadlines remain.
    pub fn expire_calls(&self, now: Tick) -> bool {
        let expired: Vec<Session> = self
            .waits
            .borrow()
            .iter()
            .filter(|(_, w)| w.deadline.is_some_and(|d| d <= now))
            .map(|(s, _)| *s)
            .collect();
        let rt = runtime::get();
        for session in expired {
            rt.call_expired(self.id, session);
            self.fail_self(session, Failure::Timeout);
        }
        self.waits.borrow().values().any(|w| w.deadline.is_some_and(|d| d > now))
    }

    /// Forgets every wait (the service is ending; their owners are gone).
    pub fn clear_waits(&self) {
        self.waits.borrow_mut().clear();
    }

    // ---- answers (rule 4) --------------------------------------------------

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

    /// Answers call `(caller, session)` with the runtime's failure `why`
    /// (unless it was answered already).
    pub fn fail_call(&self, caller: ServiceId, session: Session, why: Failure) -> bool {
        if session == 0 || !self.unanswered.borrow_mut().remove(&(caller, session)) {
            return false;
        }
        self.send(Message::failure(caller, self.id, session, why));
        true
    }

    // ---- readiness, jobs, stop and end -------------------------------------

    pub fn set_ready_reply(&self, session: Session) {
        self.ready_reply.set(Some(session));
    }

    /// Tells the parent's `os.pload` that we are ready (or failed to become so).
    pub fn report_ready(&self, payload: impl FnOnce() -> Vec<u8>) {
        if let Some(session) = self.ready_reply.take() {
            self.send(Message::reply(self.parent, self.id, session, payload()));
        }
    }

    /// Records a child started by this service. A service that starts
    /// children all its life must not keep every one it ever started, so
    /// once the table has doubled since the last look, ended ones go.
    pub fn add_job(&self, info: Arc<ServiceInfo>) {
        let mut jobs = self.jobs.borrow_mut();
        if jobs.len() >= self.jobs_prune_at.get() {
            jobs.retain(|_, info| info.life() == Life::Running);
            self.jobs_prune_at.set((jobs.len() * 2).max(64));
        }
        jobs.insert(info.id, info);
    }

    pub fn add_close_waiter(&self, from: ServiceId, session: Session) {
        if session != 0 {
            self.close_waiters.borrow_mut().push((from, session));
        }
    }

    /// Asks child `id` to stop; the returned session is answered (with no
    /// values) once the child has ended.
    pub fn stop_job(&self, id: ServiceId) -> Session {
        let session = self.new_session();
        runtime::get().stop_service(id, self.id, session);
        session
    }

    /// Marks the service stopped and ends every wait with `"cancel"`; false
    /// if it was stopped already.
    pub fn stop(&self) -> bool {
        if self.stopped.replace(true) {
            return false;
        }
        self.info.request_stop();
        let sessions: Vec<Session> = self.waits.borrow().keys().copied().collect();
        for session in sessions {
            self.fail_self(session, Failure::Cancel);
        }
        true
    }

    /// The service has ended (`failure`: how it failed): gives up its
    /// names, answers what it owes, stops its children and leaves the
    /// registry. False if it had ended already.
    pub fn finish(&self, failure: Option<&str>) -> bool {
        if self.ended.replace(true) {
            return false;
        }
        self.stopped.set(true);
        let rt = runtime::get();
        self.info.set_life(if failure.is_some() { Life::Error } else { Life::Dead });
        match failure {
            Some(msg) => self.report_ready(|| wrap::failure(msg)),
            None => self.report_ready(|| OK_PAYLOAD.to_vec()),
        }
        let served: Vec<Arc<str>> = self.served.borrow().keys().cloned().collect();
        for name in served {
            self.unserve(&name);
        }
        for (caller, session) in self.unanswered.borrow_mut().drain() {
            self.send(Message::failure(caller, self.id, session, Failure::Cancel));
        }
        for child in self.jobs.borrow().keys() {
            rt.stop_service(*child, 0, 0);
        }
        for (from, session) in self.close_waiters.borrow_mut().drain(..) {
            self.send(Message::reply(from, self.id, session, Vec::new()));
        }
        rt.registry.unregister(self.id);
        rt.live[self.worker.index].fetch_sub(1, Ordering::Relaxed);
        true
    }

    /// Leaves the registry without running anything (shutdown gave up on us).
    pub fn abandon(&self) {
        self.ended.set(true);
        runtime::get().registry.unregister(self.id);
    }
}

#[cfg(test)]
mod tests {
    //! The service layer without Lua: Rust actors built on [`Core`] run on
    //! the real runtime's workers and report what they see to the test.
    use super::*;
    use crate::runtime::actor::Actor;
    use crate::runtime::worker::Worker;
    use std::any::Any;
    use std::sync::mpsc;
    use std::time::Instant;

    /// What a probe reports to the test thread.
    #[derive(Debug, PartialEq)]
    enum Seen {
        /// A call or one-way message of this name, with its payload.
        Got(String, Vec<u8>),
        /// The answer to one of its sessions.
        Answer(Session, Vec<u8>),
    }

    /// A Rust actor: answers calls of `echo` with their payload, never
    /// answers `hold`, and reports everything else.
    struct Probe {
        core: Core<()>,
        seen: mpsc::Sender<Seen>,
    }

    impl Actor for Probe {
        fn info(&self) -> &ServiceInfo {
            &self.core.info
        }
        fn handle(self: Rc<Self>, msg: Message) {
            if self.core.ended() {
                return runtime::get().undeliverable(msg);
            }
            match msg.kind {
                Kind::Call(name) => {
                    self.core.expect_answer(msg.from, msg.session);
                    if !self.core.reachable(&name, msg.from) {
                        self.core.fail_call(msg.from, msg.session, Failure::NotFound);
                        return;
                    }
                    if &*name == "echo" {
                        let mut reply = OK_PAYLOAD.to_vec();
                        reply.extend_from_slice(&msg.payload);
                        self.core.answer(msg.from, msg.session, reply);
                    }
                    if name.ends_with("mimic") {
                        // A handler's own failure that reads like the runtime's.
                        self.core.answer(msg.from, msg.session, wrap::failure("timeout"));
                    }
                    let _ = self.seen.send(Seen::Got(name.to_string(), msg.payload));
                }
                Kind::Reply(failed) => {
                    if self.core.answered(msg.session, failed, &msg.payload).is_some() {
                        let _ = self.seen.send(Seen::Answer(msg.session, msg.payload));
                    }
                }
                Kind::Wake => {
                    if self.core.answered(msg.session, None, &msg.payload).is_some() {
                        let _ = self.seen.send(Seen::Answer(msg.session, msg.payload));
                    }
                }
                Kind::Stop => {
                    self.core.stop();
                    self.core.add_close_waiter(msg.from, msg.session);
                    self.core.finish(None);
                    self.core.worker.remove_service(self.core.id);
                }
                Kind::Run(f) => f(self),
                _ => {}
            }
        }
        fn stop(&self) {
            self.core.stop();
        }
        fn expire_calls(&self, now: Tick) -> bool {
            self.core.expire_calls(now)
        }
        fn abandon(self: Rc<Self>) {
            self.core.abandon();
        }
        fn into_any(self: Rc<Self>) -> Rc<dyn Any> {
            self
        }
    }

    /// Starts a probe serving `names` on the least-loaded worker; returns its
    /// id and what it sees.
    fn start_probe(names: &'static [&'static str]) -> (ServiceId, mpsc::Receiver<Seen>) {
        let rt = runtime::start().unwrap_or_else(runtime::get);
        let worker = rt.least_loaded();
        let info = rt.registry.register("probe", worker).expect("an id");
        rt.live[worker].fetch_add(1, Ordering::Relaxed);
        let id = info.id;
        let (tx, rx) = mpsc::channel();
        let (ready_tx, ready_rx) = mpsc::channel();
        let create = move |worker: &Rc<Worker>| {
            let probe = Rc::new(Probe { core: Core::new(info, 0, false, worker.clone()), seen: tx });
            for name in names {
                probe.core.serve(name, false);
            }
            worker.add_service(probe);
            let _ = ready_tx.send(());
        };
        rt.send(Message::signal(id, 0, Kind::Spawn(Box::new(create))));
        ready_rx.recv_timeout(Duration::from_secs(5)).expect("probe started");
        (id, rx)
    }

    /// Runs `f` on probe `id`, in its worker's turn.
    fn on_probe(id: ServiceId, f: impl FnOnce(&Probe) + Send + 'static) {
        let run = move |any: Rc<dyn Any>| f(&any.downcast::<Probe>().expect("a probe"));
        runtime::get().send(Message::signal(id, 0, Kind::Run(Box::new(run))));
    }

    /// Makes probe `caller` call service id `to` directly (no name lookup)
    /// and returns the payload of the answer.
    fn call_id_and_wait(caller: ServiceId, caller_rx: &mpsc::Receiver<Seen>, to: ServiceId) -> Vec<u8> {
        on_probe(caller, move |p| {
            let session = p.core.new_session();
            p.core.wait_call(session, (), p.core.call_deadline());
            p.core.send(Message { to, from: p.core.id, session, kind: Kind::Call("direct".into()), payload: Vec::new() });
        });
        let Seen::Answer(_, payload) = next(caller_rx) else { panic!("an answer") };
        payload
    }

    fn next(rx: &mpsc::Receiver<Seen>) -> Seen {
        rx.recv_timeout(Duration::from_secs(5)).expect("an event within 5 s")
    }

    #[test]
    fn one_way_messages_arrive_in_send_order() {
        let (_sink, sink_rx) = start_probe(&["order.sink"]);
        let (sender, _) = start_probe(&[]);
        on_probe(sender, |p| {
            for i in 0..200u8 {
                assert_eq!(p.core.deliver("order.sink", 0, 0, vec![i]).count, 1);
            }
        });
        for i in 0..200u8 {
            assert_eq!(next(&sink_rx), Seen::Got("order.sink".into(), vec![i]));
        }
    }

    #[test]
    fn a_call_gets_its_reply() {
        let (_echo, _) = start_probe(&["echo"]);
        let (caller, caller_rx) = start_probe(&[]);
        let (tx, rx) = mpsc::channel();
        on_probe(caller, move |p| {
            let session = p.core.call("echo", vec![0xa1, b'x']).expect("echo is served").session;
            p.core.wait_call(session, (), p.core.call_deadline());
            tx.send(session).unwrap();
        });
        let session = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(next(&caller_rx), Seen::Answer(session, vec![0xc3, 0xa1, b'x']));
    }

    #[test]
    fn handling_time_is_charged_to_the_service_and_its_worker() {
        let (probe, probe_rx) = start_probe(&[]);
        let busy_total = || runtime::get().stats.iter().map(|w| w.busy_ns.get()).sum::<u64>();
        let busy_before = busy_total();
        const SPIN: Duration = Duration::from_millis(3);
        on_probe(probe, |p| {
            let started = Instant::now();
            while started.elapsed() < SPIN {}
            let _ = p.seen.send(Seen::Got("spun".into(), Vec::new()));
        });
        assert_eq!(next(&probe_rx), Seen::Got("spun".into(), Vec::new()));
        // The turn is charged at the loop's next clock reading, just after it.
        let info = runtime::get().registry.info(probe).expect("the probe lives");
        let deadline = Instant::now() + Duration::from_secs(5);
        while info.stats.cpu_ns.get() < SPIN.as_nanos() as u64 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(info.stats.cpu_ns.get() >= SPIN.as_nanos() as u64, "cpu {} ns", info.stats.cpu_ns.get());
        assert!(busy_total() - busy_before >= SPIN.as_nanos() as u64);
        assert!(info.stats.messages.get() >= 1);
    }

    /// The calls counted so far, by outcome, summed over the workers.
    fn calls_counted() -> [u64; 5] {
        let mut sums = [0; 5];
        for w in &runtime::get().stats {
            for (sum, counter) in sums.iter_mut().zip(&w.calls) {
                *sum += counter.get();
            }
        }
        sums
    }

    #[test]
    fn the_end_of_each_call_is_counted_by_outcome() {
        let (_echo, _) = start_probe(&["count.echo", "echo"]);
        let (caller, caller_rx) = start_probe(&[]);
        let before = calls_counted();
        on_probe(caller, |p| {
            let session = p.core.call("echo", Vec::new()).unwrap().session;
            p.core.wait_call(session, (), p.core.call_deadline());
            assert!(p.core.call("count.nobody", Vec::new()).is_err());
        });
        assert!(matches!(next(&caller_rx), Seen::Answer(..)));
        let after = calls_counted();
        // Other tests call too: at least ours were counted.
        assert!(after[Outcome::Ok as usize] > before[Outcome::Ok as usize]);
        assert!(after[Outcome::NotFound as usize] > before[Outcome::NotFound as usize]);
    }

    #[test]
    fn a_handler_failing_with_the_runtimes_words_is_an_error_not_a_timeout() {
        let (_mimic, _) = start_probe(&["count.mimic"]);
        let (caller, caller_rx) = start_probe(&[]);
        let before = calls_counted();
        on_probe(caller, |p| {
            let session = p.core.call("count.mimic", Vec::new()).unwrap().session;
            p.core.wait_call(session, (), p.core.call_deadline());
        });
        let Seen::Answer(_, payload) = next(&caller_rx) else { panic!("an answer") };
        assert_eq!(payload, wrap::failure("timeout"));
        let after = calls_counted();
        assert!(after[Outcome::Error as usize] > before[Outcome::Error as usize]);
    }

    #[test]
    fn a_call_of_an_unserved_name_fails_at_once() {
        let (caller, _) = start_probe(&[]);
        let (tx, rx) = mpsc::channel();
        on_probe(caller, move |p| tx.send(p.core.call("nobody.serves.this", Vec::new()).map(|sent| sent.session)).unwrap());
        let result = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(result, Err(Error::NotFound("nobody.serves.this".into())));
    }

    #[test]
    fn an_unanswered_call_times_out_after_the_service_timeout() {
        let (_holder, holder_rx) = start_probe(&["timeout.hold"]);
        let (caller, caller_rx) = start_probe(&[]);
        let started = Instant::now();
        on_probe(caller, |p| {
            p.core.set_call_timeout(Duration::from_millis(30));
            let session = p.core.call("timeout.hold", Vec::new()).unwrap().session;
            p.core.wait_call(session, (), p.core.call_deadline());
        });
        assert!(matches!(next(&holder_rx), Seen::Got(..)));
        let Seen::Answer(_, payload) = next(&caller_rx) else { panic!("an answer") };
        assert_eq!(payload, wrap::failure("timeout"));
        // The sweep runs every 100 ms: well under the 10 s default.
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn a_call_to_a_stopped_callee_is_cancelled() {
        let (callee, _) = start_probe(&["stopped.callee"]);
        let (caller, caller_rx) = start_probe(&[]);
        runtime::get().send(Message::signal(callee, 0, Kind::Stop));
        // The callee has left: its id delivers nothing any more.
        let deadline = Instant::now() + Duration::from_secs(5);
        while runtime::get().registry.worker_of(callee).is_some() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(call_id_and_wait(caller, &caller_rx, callee), wrap::failure("cancel"));
    }

    #[test]
    fn stopping_a_callee_with_a_call_pending_answers_cancel() {
        let (holder, holder_rx) = start_probe(&["pending.hold"]);
        let (caller, caller_rx) = start_probe(&[]);
        on_probe(caller, |p| {
            let session = p.core.call("pending.hold", Vec::new()).unwrap().session;
            p.core.wait_call(session, (), p.core.call_deadline());
        });
        assert!(matches!(next(&holder_rx), Seen::Got(..)));
        runtime::get().send(Message::signal(holder, 0, Kind::Stop));
        let Seen::Answer(_, payload) = next(&caller_rx) else { panic!("an answer") };
        assert_eq!(payload, wrap::failure("cancel"));
    }

    #[test]
    fn a_stop_ends_the_stopped_service_own_waits_with_cancel() {
        let (sleeper, sleeper_rx) = start_probe(&[]);
        on_probe(sleeper, |p| {
            let session = p.core.sleep(None);
            p.core.wait(session, (), None);
            p.core.stop();
        });
        let Seen::Answer(_, payload) = next(&sleeper_rx) else { panic!("an answer") };
        assert_eq!(payload, wrap::failure("cancel"));
    }

    #[test]
    fn a_sleep_ends_after_its_time() {
        let (sleeper, sleeper_rx) = start_probe(&[]);
        let started = Instant::now();
        on_probe(sleeper, |p| {
            let session = p.core.sleep(Some(20.0));
            p.core.wait(session, (), None);
        });
        assert!(matches!(next(&sleeper_rx), Seen::Answer(..)));
        assert!(started.elapsed() >= Duration::from_millis(20));
    }

    #[test]
    fn a_call_to_a_remote_id_with_no_route_is_answered_disconnected() {
        let (caller, caller_rx) = start_probe(&[]);
        assert_eq!(call_id_and_wait(caller, &caller_rx, MAX_ID + 1), wrap::failure("disconnected"));
    }

    #[test]
    fn remote_callers_reach_public_names_only() {
        let (probe, _) = start_probe(&["private.name"]);
        let (tx, rx) = mpsc::channel();
        on_probe(probe, move |p| {
            p.core.serve("public.name", true);
            let remote = MAX_ID + 1;
            tx.send((
                p.core.reachable("private.name", 7),
                p.core.reachable("private.name", remote),
                p.core.reachable("public.name", remote),
            ))
            .unwrap();
        });
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), (true, false, true));
    }
}
