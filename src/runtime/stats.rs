//! What the runtime counts for operators (the console and `/metrics`).
//!
//! Counting sits on the message path, so it must cost next to nothing:
//! every figure here has exactly one writer, the thread of the worker that
//! owns it (a service's figures are written by its worker, a worker's by
//! itself), so an update is a relaxed load and store, with no locked
//! instruction and no cache line bouncing between workers. Readers on other
//! threads see a recent value, which is all a report needs. Process-wide
//! figures are the sums of the per-worker ones, made at read time.
//!
//! Time is measured per run of messages to one service, not per message:
//! the worker reads the clock once between turns and when the next message
//! goes to another service, and charges each run, its time and its count
//! of messages, to its service when it ends (see `Worker::turn` and
//! `Worker::run`). Readings are `runtime::clock::Tick`s,
//! plain nanoseconds, so charging one is a subtraction.

use crate::codec::wrap;
use crate::runtime::message::Failure;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// A counter (or gauge) written by one thread only, read by any.
#[derive(Default, Debug)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Adds `n`. Only the owning thread may call this: a load and a store,
    /// not an atomic add, since nobody else writes.
    pub fn add(&self, n: u64) {
        self.0.store(self.0.load(Ordering::Relaxed).wrapping_add(n), Ordering::Relaxed);
    }

    /// Sets the value (a gauge). Owning thread only.
    pub fn set(&self, v: u64) {
        self.0.store(v, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A gauge that goes up and down, written by one thread only.
#[derive(Default, Debug)]
pub struct Gauge(AtomicI64);

impl Gauge {
    pub fn add(&self, n: i64) {
        self.0.store(self.0.load(Ordering::Relaxed).wrapping_add(n), Ordering::Relaxed);
    }

    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// What is counted for one service (kept in its `ServiceInfo`), on a
/// cache line of its own: `ServiceInfo`s are allocated one after another
/// by whoever spawns the services, so the figures of two services on
/// different workers would otherwise share a line, and each worker's
/// writes would take it from the other's core.
#[derive(Default, Debug)]
#[repr(align(64))]
pub struct ServiceStats {
    /// Messages handed to the service (calls, replies, timers, wake-ups, ...).
    pub messages: Counter,
    /// Time its worker spent handling them, in nanoseconds.
    pub cpu_ns: Counter,
    /// Bytes of its Lua heap after the last message it handled.
    pub memory: Counter,
}

/// How an rpc call ended, as its caller saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok = 0,
    Error = 1,
    Timeout = 2,
    NotFound = 3,
    Cancel = 4,
}

impl Outcome {
    /// How a call ended, from its reply: a failure of the runtime says so
    /// itself; otherwise the handler answered, and the status value heading
    /// the payload tells success from its error.
    pub fn of_reply(failed: Option<Failure>, payload: &[u8]) -> Outcome {
        match failed {
            Some(Failure::NotFound) => Outcome::NotFound,
            Some(Failure::Timeout) => Outcome::Timeout,
            Some(Failure::Cancel) => Outcome::Cancel,
            Some(Failure::Disconnected) => Outcome::Error,
            None if payload.first() == Some(&wrap::TRUE) => Outcome::Ok,
            None => Outcome::Error,
        }
    }

    pub const ALL: [Outcome; 5] = [Outcome::Ok, Outcome::Error, Outcome::Timeout, Outcome::NotFound, Outcome::Cancel];

    /// The label value of `skynet_rpc_calls_total{result=...}`.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Error => "error",
            Outcome::Timeout => "timeout",
            Outcome::NotFound => "not_found",
            Outcome::Cancel => "cancel",
        }
    }
}

/// Upper bounds of the call-duration buckets, in seconds (from 50 µs, a
/// call between two workers, to 10 s, the default call timeout).
pub const BUCKETS: [f64; 16] =
    [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// [`BUCKETS`] in nanoseconds, what [`Histogram::observe`] compares with
/// (integers: the message path measures in nanoseconds, see `runtime::clock`).
const BUCKETS_NS: [u64; BUCKETS.len()] = {
    let mut ns = [0; BUCKETS.len()];
    let mut i = 0;
    while i < ns.len() {
        ns[i] = (BUCKETS[i] * 1e9 + 0.5) as u64;
        i += 1;
    }
    ns
};

/// A histogram of durations with the bounds of [`BUCKETS`] (one writer).
#[derive(Default, Debug)]
pub struct Histogram {
    /// Observations per bucket (not cumulative); the last one is `+Inf`.
    buckets: [Counter; BUCKETS.len() + 1],
    sum_ns: Counter,
}

/// A histogram as read: cumulative counts per bound, then the total.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HistogramSnapshot {
    /// `cumulative[i]` = observations <= `BUCKETS[i]`; the last = all of them.
    pub cumulative: Vec<u64>,
    pub sum_seconds: f64,
}

impl HistogramSnapshot {
    pub fn count(&self) -> u64 {
        self.cumulative.last().copied().unwrap_or(0)
    }
}

impl Histogram {
    /// Counts one duration of `ns` nanoseconds.
    pub fn observe(&self, ns: u64) {
        let bucket = BUCKETS_NS.iter().position(|&bound| ns <= bound).unwrap_or(BUCKETS.len());
        self.buckets[bucket].add(1);
        self.sum_ns.add(ns);
    }

    /// Adds this histogram's counts to `into` (which may hold other workers').
    pub fn add_to(&self, into: &mut HistogramSnapshot) {
        if into.cumulative.is_empty() {
            into.cumulative = vec![0; BUCKETS.len() + 1];
        }
        let mut running = 0;
        for (i, bucket) in self.buckets.iter().enumerate() {
            running += bucket.get();
            into.cumulative[i] += running;
        }
        into.sum_seconds += self.sum_ns.get() as f64 / 1e9;
    }
}

/// What is counted for one worker (and for the main thread). Aligned so
/// that two workers never write to one cache line.
#[derive(Default, Debug)]
#[repr(align(128))]
pub struct WorkerStats {
    /// Time spent handling messages and timers, in nanoseconds.
    pub busy_ns: Counter,
    /// Messages handed to services (those ended since included).
    pub messages: Counter,
    /// Calls made by services of this worker, by [`Outcome`].
    pub calls: [Counter; 5],
    pub call_durations: Histogram,
    /// `os.timer` objects armed by services of this worker.
    pub timers: Gauge,
}

impl WorkerStats {
    /// A call made here ended with `outcome` after `took` nanoseconds
    /// (`None`: it was never sent).
    pub fn call_ended(&self, outcome: Outcome, took: Option<u64>) {
        self.calls[outcome as usize].add(1);
        if let Some(took) = took {
            self.call_durations.observe(took);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_add_and_set() {
        let c = Counter::default();
        c.add(3);
        c.add(4);
        assert_eq!(c.get(), 7);
        c.set(2);
        assert_eq!(c.get(), 2);
        let g = Gauge::default();
        g.add(5);
        g.add(-7);
        assert_eq!(g.get(), -2);
    }

    #[test]
    fn histogram_buckets_are_cumulative_and_summed_across_workers() {
        let a = Histogram::default();
        let b = Histogram::default();
        a.observe(30_000); // first bucket (<= 50 µs)
        a.observe(50_000); // a bound belongs to its bucket
        a.observe(3_000_000); // <= 5 ms
        b.observe(60_000_000_000); // +Inf
        let mut snap = HistogramSnapshot::default();
        a.add_to(&mut snap);
        b.add_to(&mut snap);
        assert_eq!(snap.cumulative.len(), BUCKETS.len() + 1);
        assert_eq!(snap.cumulative[0], 2);
        let five_ms = BUCKETS.iter().position(|&b| b == 0.005).unwrap();
        assert_eq!(snap.cumulative[five_ms - 1], 2, "3 ms is above 2.5 ms");
        assert_eq!(snap.cumulative[five_ms], 3);
        assert_eq!(snap.cumulative[BUCKETS.len() - 1], 3, "60 s is above every bound");
        assert_eq!(snap.count(), 4);
        assert!((snap.sum_seconds - 60.00308).abs() < 1e-9);
        assert!(snap.cumulative.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn outcomes_come_from_the_failure_not_the_text() {
        assert_eq!(Outcome::of_reply(None, &[wrap::TRUE, 1]), Outcome::Ok);
        assert_eq!(Outcome::of_reply(Some(Failure::Timeout), &wrap::failure("timeout")), Outcome::Timeout);
        assert_eq!(Outcome::of_reply(Some(Failure::Cancel), &wrap::failure("cancel")), Outcome::Cancel);
        assert_eq!(Outcome::of_reply(Some(Failure::NotFound), &wrap::failure("x not found")), Outcome::NotFound);
        assert_eq!(Outcome::of_reply(Some(Failure::Disconnected), &wrap::failure("disconnected")), Outcome::Error);
        // A handler may fail with any text, even one the runtime uses.
        assert_eq!(Outcome::of_reply(None, &wrap::failure("timeout")), Outcome::Error);
        assert_eq!(Outcome::of_reply(None, &[]), Outcome::Error);
    }

    #[test]
    fn call_outcomes_are_counted_apart() {
        let w = WorkerStats::default();
        w.call_ended(Outcome::Ok, Some(100_000));
        w.call_ended(Outcome::Ok, Some(100_000));
        w.call_ended(Outcome::NotFound, None);
        w.call_ended(Outcome::Timeout, Some(10_000_000_000));
        let counts: Vec<u64> = Outcome::ALL.iter().map(|o| w.calls[*o as usize].get()).collect();
        assert_eq!(counts, vec![2, 0, 1, 1, 0]);
        let mut snap = HistogramSnapshot::default();
        w.call_durations.add_to(&mut snap);
        assert_eq!(snap.count(), 3, "a call never sent has no duration");
        assert_eq!(Outcome::NotFound.label(), "not_found");
    }
}
