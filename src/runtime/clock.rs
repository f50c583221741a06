//! The runtime's clock: the monotonic clock read as whole nanoseconds.
//!
//! Why not `std::time::Instant`: the message path reads the time a few
//! times per turn (see `Worker::turn`) and subtracts readings for the
//! accounting of operators; with `Instant`, each subtraction and each
//! comparison goes through seconds-and-nanoseconds arithmetic with checks,
//! which cost more than the reading itself. A [`Tick`] is one `u64`: it
//! compares and subtracts in one instruction, timer heaps order it as fast
//! as an integer, and it is the very value the kernel's `timerfd` takes as
//! an absolute time, so a worker's alarm needs no conversion.
//!
//! It is the same clock as `Instant` (`CLOCK_MONOTONIC`).

use std::num::NonZeroU64;
use std::time::Duration;

/// A reading of the monotonic clock, in nanoseconds since an unspecified
/// origin (the machine's boot, so never zero: an `Option<Tick>` takes no
/// more room than a `Tick`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tick(NonZeroU64);

impl Tick {
    /// The latest tick there is: a deadline that never comes.
    pub const NEVER: Tick = Tick(NonZeroU64::MAX);

    fn from_nanos(ns: u64) -> Tick {
        Tick(NonZeroU64::new(ns).unwrap_or(NonZeroU64::MIN))
    }

    /// The clock now.
    pub fn now() -> Tick {
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: clock_gettime writes one timespec into the local we pass;
        // CLOCK_MONOTONIC exists on every Linux (it cannot fail there).
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
        Tick::from_nanos(ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64)
    }

    /// `d` later (saturating: far enough is [`NEVER`](Self::NEVER)).
    pub fn after(self, d: Duration) -> Tick {
        Tick(self.0.saturating_add(d.as_nanos().min(u64::MAX as u128) as u64))
    }

    /// `ms` milliseconds from now, if that can be represented (a deadline
    /// further away never comes). A negative or NaN delay is no delay.
    pub fn after_ms(ms: f64) -> Option<Tick> {
        let ns = ms.max(0.0) * 1e6; // NaN becomes 0: `max` ignores it
        if ns >= u64::MAX as f64 {
            return None;
        }
        Tick::now().0.checked_add(ns as u64).filter(|&t| t < NonZeroU64::MAX).map(Tick)
    }

    /// Nanoseconds from `earlier` to this tick (0 if `earlier` is later).
    pub fn nanos_since(self, earlier: Tick) -> u64 {
        self.0.get().saturating_sub(earlier.0.get())
    }

    /// The time from `earlier` to this tick (zero if `earlier` is later).
    pub fn since(self, earlier: Tick) -> Duration {
        Duration::from_nanos(self.nanos_since(earlier))
    }

    /// This tick as the absolute time a `timerfd` armed with
    /// `TFD_TIMER_ABSTIME` on `CLOCK_MONOTONIC` takes.
    pub fn as_timespec(self) -> libc::timespec {
        let ns = self.0.get();
        libc::timespec { tv_sec: (ns / 1_000_000_000) as libc::time_t, tv_nsec: (ns % 1_000_000_000) as libc::c_long }
    }
}

/// A clock for one thread's hot loop: [`Tick`]s read through the CPU's
/// time-stamp counter where that is safe, at less than half the cost.
///
/// Why: `clock_gettime` costs about 24 ns on a KVM guest and `rdtsc` about
/// 10, and a worker reads the clock once between turns and once per run of
/// messages (for the accounting of operators): on a call between two
/// workers, that difference is a few percent of the whole call.
///
/// How: where the kernel itself keeps time with the counter (its
/// clocksource is `tsc`, which it picks only when the counter runs at a
/// constant rate and in step on every CPU), a counter reading is turned
/// into nanoseconds from an *anchor*: a pair (counter, clock) read
/// together, and the rate between the last two anchors. After
/// [`ANCHOR_EVERY`] counts the clock is read again, so a reading stays
/// within tens of nanoseconds of `CLOCK_MONOTONIC` (the rate is known to a
/// few parts in 100,000 after one period) and any drift is corrected.
/// Elsewhere, or until a rate is known, it reads `clock_gettime`.
pub struct LoopClock {
    anchor: std::cell::Cell<Anchor>,
}

#[derive(Clone, Copy, Default)]
struct Anchor {
    tsc: u64,
    ns: u64,
    /// Nanoseconds per count, as a 32.32 fixed-point number (0: unknown).
    rate: u64,
}

/// Counts after which [`LoopClock`] reads the clock again (about a
/// millisecond at 3 GHz).
const ANCHOR_EVERY: u64 = 1 << 22;
/// A clock reading that took longer than this many counts (a preemption
/// between the two readings of an anchor) makes no anchor.
const ANCHOR_SLACK: u64 = 1 << 14;

impl Default for LoopClock {
    fn default() -> Self {
        LoopClock { anchor: std::cell::Cell::new(Anchor::default()) }
    }
}

impl LoopClock {
    /// The clock now.
    pub fn now(&self) -> Tick {
        let a = self.anchor.get();
        if a.rate != 0 {
            let elapsed = counter().wrapping_sub(a.tsc);
            if elapsed < ANCHOR_EVERY {
                return Tick::from_nanos(a.ns + ((elapsed as u128 * a.rate as u128) >> 32) as u64);
            }
        }
        self.anchor_again(a)
    }

    /// Reads the clock and, if the counter can be trusted, makes it the new anchor.
    #[cold]
    fn anchor_again(&self, last: Anchor) -> Tick {
        if !counter_is_trusted() {
            return Tick::now();
        }
        let before = counter();
        let now = Tick::now();
        let after = counter();
        let ns = now.0.get();
        if after.wrapping_sub(before) >= ANCHOR_SLACK {
            return now;
        }
        let rate = match (after.checked_sub(last.tsc), ns.checked_sub(last.ns)) {
            // The first anchor, or the counter went back (it should not): start over.
            _ if last.tsc == 0 => 0,
            (None, _) | (_, None) => 0,
            // Too soon after the first anchor for a precise rate: keep it.
            (Some(counts), _) if counts < ANCHOR_EVERY => return now,
            (Some(counts), Some(nanos)) => (((nanos as u128) << 32) / counts as u128).min(u64::MAX as u128) as u64,
        };
        self.anchor.set(Anchor { tsc: after, ns, rate });
        now
    }
}

/// The time-stamp counter (0 where there is none).
fn counter() -> u64 {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: rdtsc only reads the counter; every x86_64 CPU has it.
    return unsafe { core::arch::x86_64::_rdtsc() };
    #[cfg(not(target_arch = "x86_64"))]
    return 0;
}

/// Whether the kernel keeps its own time with the counter (see [`LoopClock`]).
fn counter_is_trusted() -> bool {
    static TRUSTED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *TRUSTED.get_or_init(|| {
        cfg!(target_arch = "x86_64")
            && std::fs::read_to_string("/sys/devices/system/clocksource/clocksource0/current_clocksource")
                .is_ok_and(|s| s.trim() == "tsc")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_follow_the_monotonic_clock() {
        let a = Tick::now();
        let started = std::time::Instant::now();
        std::thread::sleep(Duration::from_millis(20));
        let b = Tick::now();
        let took = started.elapsed();
        assert!(b > a);
        let measured = b.since(a);
        assert!(measured >= Duration::from_millis(20), "{measured:?}");
        // Both clocks are CLOCK_MONOTONIC: they agree to well within a millisecond.
        assert!(measured <= took + Duration::from_millis(1), "{measured:?} vs {took:?}");
        assert_eq!(a.nanos_since(b), 0, "an earlier tick minus a later one is zero");
    }

    #[test]
    fn deadlines_saturate_and_far_ones_never_come() {
        let now = Tick::now();
        assert_eq!(now.after(Duration::MAX), Tick::NEVER);
        assert_eq!(now.after(Duration::from_millis(5)).nanos_since(now), 5_000_000);
        assert!(Tick::after_ms(1e300).is_none());
        assert!(Tick::after_ms(f64::INFINITY).is_none());
        let soon = Tick::after_ms(-3.0).unwrap();
        assert!(soon.nanos_since(now) < 1_000_000_000, "a negative delay is no delay");
        let later = Tick::after_ms(1500.0).unwrap();
        assert!(later.nanos_since(now) >= 1_500_000_000);
        assert!(Tick::after_ms(f64::NAN).unwrap().nanos_since(now) < 1_000_000_000, "NaN is no delay");
    }

    #[test]
    fn timespec_splits_seconds_and_nanoseconds() {
        assert_eq!(std::mem::size_of::<Option<Tick>>(), 8);
        let ts = Tick::from_nanos(3_000_000_123).as_timespec();
        assert_eq!((ts.tv_sec, ts.tv_nsec), (3, 123));
    }

    #[test]
    fn the_loop_clock_keeps_to_the_monotonic_clock() {
        let clock = LoopClock::default();
        let start = Tick::now();
        // Long enough for several anchors, so that the counter path is taken
        // where it is trusted.
        while Tick::now().since(start) < Duration::from_millis(30) {
            let before = Tick::now();
            let ours = clock.now();
            let after = Tick::now();
            let slack = 2_000; // ns: a reading may be off by tens; this is far more
            assert!(ours.0.get() + slack >= before.0.get(), "{ours:?} before {before:?}");
            assert!(ours.0.get() <= after.0.get() + slack, "{ours:?} after {after:?}");
        }
    }
}
