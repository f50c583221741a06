//! The process-wide cap on open connections, `SKYNET_MAX_CONNECTIONS`
//! (default 65,536).
//!
//! Every connection holds a [`Slot`] from the moment it is accepted (or
//! starts connecting) until it is closed; listening sockets hold none. An
//! accept over the cap is closed at once, so a flood of connections costs
//! file descriptors only briefly and never memory.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

static OPEN: AtomicUsize = AtomicUsize::new(0);

/// The cap of this process.
pub fn max() -> usize {
    static MAX: OnceLock<usize> = OnceLock::new();
    *MAX.get_or_init(|| {
        let n = std::env::var("SKYNET_MAX_CONNECTIONS").ok().and_then(|s| s.trim().parse::<usize>().ok());
        n.unwrap_or(65_536)
    })
}

/// Connections open now.
pub fn open() -> usize {
    OPEN.load(Ordering::Relaxed)
}

/// One open connection's share of the cap; given back when dropped.
#[derive(Debug)]
pub struct Slot(&'static AtomicUsize);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A slot, if the cap allows one more connection.
pub fn take() -> Option<Slot> {
    take_from(&OPEN, max())
}

fn take_from(open: &'static AtomicUsize, max: usize) -> Option<Slot> {
    open.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| (n < max).then_some(n + 1)).ok().map(|_| Slot(open))
}

/// Whether a refusal may be logged now: at most once a second.
pub fn may_log_refusal() -> bool {
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    LAST.swap(now, Ordering::Relaxed) != now
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_counted_capped_and_given_back() {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let a = take_from(&COUNT, 2).unwrap();
        let b = take_from(&COUNT, 2).unwrap();
        assert!(take_from(&COUNT, 2).is_none(), "over the cap");
        drop(a);
        let c = take_from(&COUNT, 2).expect("a closed connection frees its slot");
        drop((b, c));
        assert_eq!(COUNT.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn refusals_are_logged_at_most_once_a_second() {
        may_log_refusal();
        assert!(!may_log_refusal());
    }
}
