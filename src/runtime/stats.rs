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
//! Time is measured once per message: the worker reads the clock after each
//! message and charges the time since the previous reading to the service
//! that message went to (see `Worker::turn`).

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

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

/// What is counted for one service (kept in its `ServiceInfo`).
#[derive(Default, Debug)]
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
    pub fn observe(&self, d: Duration) {
        let seconds = d.as_secs_f64();
        let bucket = BUCKETS.iter().position(|&bound| seconds <= bound).unwrap_or(BUCKETS.len());
        self.buckets[bucket].add(1);
        self.sum_ns.add(d.as_nanos().min(u64::MAX as u128) as u64);
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
    /// A call made here ended with `outcome` after `took` (`None`: it was never sent).
    pub fn call_ended(&self, outcome: Outcome, took: Option<Duration>) {
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
        a.observe(Duration::from_micros(30)); // first bucket (<= 50 µs)
        a.observe(Duration::from_micros(50)); // a bound belongs to its bucket
        a.observe(Duration::from_millis(3)); // <= 5 ms
        b.observe(Duration::from_secs(60)); // +Inf
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
    fn call_outcomes_are_counted_apart() {
        let w = WorkerStats::default();
        w.call_ended(Outcome::Ok, Some(Duration::from_micros(100)));
        w.call_ended(Outcome::Ok, Some(Duration::from_micros(100)));
        w.call_ended(Outcome::NotFound, None);
        w.call_ended(Outcome::Timeout, Some(Duration::from_secs(10)));
        let counts: Vec<u64> = Outcome::ALL.iter().map(|o| w.calls[*o as usize].get()).collect();
        assert_eq!(counts, vec![2, 0, 1, 1, 0]);
        let mut snap = HistogramSnapshot::default();
        w.call_durations.add_to(&mut snap);
        assert_eq!(snap.count(), 3, "a call never sent has no duration");
        assert_eq!(Outcome::NotFound.label(), "not_found");
    }
}
