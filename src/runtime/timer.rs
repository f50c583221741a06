//! A worker's timers: a min-heap of deadlines.
//!
//! Each worker owns one queue for all its services' sleeps and `os.timer`
//! objects, so firing a timer is a local push, never a thread hop. An entry
//! is never removed early: cancelling is done by the owner, which ignores a
//! fired entry whose generation or waiter is gone (cheaper than searching the
//! heap). Entries with equal deadlines fire in the order they were pushed.
//! The worker loop sleeps until [`TimerQueue::next_deadline`]; see
//! `worker.rs` for how it keeps lateness under a millisecond.

use crate::runtime::clock::Tick;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

struct Entry<T> {
    deadline: Tick,
    seq: u64,
    event: T,
}

impl<T> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        self.deadline == other.deadline && self.seq == other.seq
    }
}
impl<T> Eq for Entry<T> {}
impl<T> PartialOrd for Entry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Entry<T> {
    /// Reversed, so that `BinaryHeap` (a max-heap) pops the earliest entry first.
    fn cmp(&self, other: &Self) -> Ordering {
        other.deadline.cmp(&self.deadline).then(other.seq.cmp(&self.seq))
    }
}

pub struct TimerQueue<T> {
    heap: BinaryHeap<Entry<T>>,
    seq: u64,
}

impl<T> Default for TimerQueue<T> {
    fn default() -> Self {
        TimerQueue { heap: BinaryHeap::new(), seq: 0 }
    }
}

impl<T> TimerQueue<T> {
    pub fn push(&mut self, deadline: Tick, event: T) {
        self.seq += 1;
        self.heap.push(Entry { deadline, seq: self.seq, event });
    }

    pub fn next_deadline(&self) -> Option<Tick> {
        self.heap.peek().map(|e| e.deadline)
    }

    /// Takes the earliest event due at `now`, if any.
    pub fn pop_due(&mut self, now: Tick) -> Option<T> {
        if self.heap.peek()?.deadline <= now { self.heap.pop().map(|e| e.event) } else { None }
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn fires_in_deadline_order_then_push_order() {
        let t0 = Tick::now();
        let mut q = TimerQueue::default();
        q.push(t0.after(ms(30)), "c");
        q.push(t0.after(ms(10)), "a");
        q.push(t0.after(ms(10)), "b");
        q.push(t0.after(ms(50)), "late");
        assert_eq!(q.next_deadline(), Some(t0.after(ms(10))));
        assert_eq!(q.pop_due(t0), None, "never early");
        let now = t0.after(ms(40));
        let fired: Vec<_> = std::iter::from_fn(|| q.pop_due(now)).collect();
        assert_eq!(fired, vec!["a", "b", "c"]);
        assert_eq!(q.len(), 1);
    }

    #[test]
    fn many_random_timers_come_out_sorted() {
        let t0 = Tick::now();
        let mut q = TimerQueue::default();
        let mut x: u64 = 42;
        for i in 0..10_000u64 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            q.push(t0.after(Duration::from_micros(x % 1_000_000)), i);
        }
        let end = t0.after(Duration::from_secs(2));
        let mut last = t0;
        let mut n = 0;
        while let Some(d) = q.next_deadline() {
            assert!(d >= last);
            last = d;
            q.pop_due(end).unwrap();
            n += 1;
        }
        assert_eq!(n, 10_000);
        assert!(q.is_empty());
    }
}
