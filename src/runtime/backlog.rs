//! What waits in each service's queue, and the senders waiting for room.
//!
//! A service's messages sit in its worker's queues, mixed with those of the
//! worker's other services, so each service's share is counted here, as two
//! running totals per id, each packing a message count (high 24 bits) and
//! payload bytes (low 40 bits): what senders ever queued for it, and what
//! its worker ever took; the queue is the difference.
//!
//! Two totals instead of one counter taken from by the receiver keep the
//! count off the message path's cache traffic: a sender adds to a total
//! only senders write, the receiving worker to one only it writes, so in a
//! conversation between services of two workers no line of these arrays
//! moves between their cores. For the same reason neighbouring ids (made
//! one after the other, often talking to each other) get slots 128 bytes
//! apart (see [`slot`]).
//!
//! Over the high-water mark (65,536 messages or 64 MiB, the message count
//! overridden by `SKYNET_MAILBOX_LIMIT`) a service sender parks until the
//! queue is back under half the mark: it registers here with a session and
//! is woken by a message for that session when the worker drains the queue
//! that far. Nothing is ever dropped: the message that crossed the mark was
//! queued; only its sender slows down.
//!
//! Messages to remote ids wait in queues the runtime cannot see (the
//! cluster's links); whoever owns them plugs in a [`RemoteRoom`], and
//! `Runtime::crowded` / `Runtime::wait_for_room` ask it for those ids.

use crate::runtime::message::{ServiceId, Session};
use crate::runtime::registry::MAX_ID;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

const COUNT_SHIFT: u32 = 40;
const BYTES_MASK: u64 = (1 << COUNT_SHIFT) - 1;

/// The high-water mark of a service's queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark {
    pub messages: u64,
    pub bytes: u64,
}

impl Mark {
    /// The mark of this process: `SKYNET_MAILBOX_LIMIT` messages (default
    /// 65,536) or 64 MiB.
    pub fn get() -> Mark {
        static MARK: OnceLock<Mark> = OnceLock::new();
        *MARK.get_or_init(|| {
            let messages = std::env::var("SKYNET_MAILBOX_LIMIT").ok().and_then(|s| s.trim().parse::<u64>().ok());
            Mark { messages: messages.filter(|&n| n >= 2).unwrap_or(65_536).min((1 << 23) - 1), bytes: 64 << 20 }
        })
    }

    fn over(&self, (messages, bytes): (u64, u64)) -> bool {
        messages >= self.messages || bytes >= self.bytes
    }

    fn under_half(&self, (messages, bytes): (u64, u64)) -> bool {
        messages < self.messages / 2 && bytes < self.bytes / 2
    }

    /// Every how many messages sent to one id a sender looks at its queue
    /// (see [`Backlog::over_mark_after_send`]): a 64th of the mark, at most 64.
    fn look_every(&self) -> u64 {
        (self.messages / 64).clamp(1, 64)
    }
}

/// Room in the queues towards remote ids, with the same rules as the local
/// ones: a sender waits after the send that crossed the mark, and is woken
/// by a `Kind::Wake` message for its session.
pub trait RemoteRoom: Send + Sync {
    /// Whether the queue towards remote id `to` is over its mark.
    fn over_mark(&self, to: ServiceId) -> bool;
    /// Registers `sender`'s wait (on `session`) for room towards `to`.
    /// Returns false, registering nothing, when no wake-up would come (the
    /// queue drained meanwhile, or is gone).
    fn wait_for_room(&self, to: ServiceId, sender: ServiceId, session: Session) -> bool;
}

pub struct Backlog {
    /// Per slot: messages and bytes ever queued for the id (senders add).
    sent: Box<[AtomicU64]>,
    /// Per slot: messages and bytes its worker ever took from its queues.
    taken: Box<[AtomicU64]>,
    /// Senders waiting for room in a queue: target -> (sender, session).
    waiting: Mutex<HashMap<ServiceId, Vec<(ServiceId, Session)>>>,
    /// How many senders wait, so that the worker looks at `waiting` only then.
    waiters: AtomicUsize,
}

impl Default for Backlog {
    fn default() -> Self {
        Backlog {
            sent: (0..=MAX_ID).map(|_| AtomicU64::new(0)).collect(),
            taken: (0..=MAX_ID).map(|_| AtomicU64::new(0)).collect(),
            waiting: Mutex::new(HashMap::new()),
            waiters: AtomicUsize::new(0),
        }
    }
}

fn unpack(v: u64) -> (u64, u64) {
    (v >> COUNT_SHIFT, v & BYTES_MASK)
}

fn pack(messages: u64, bytes: usize) -> u64 {
    (messages << COUNT_SHIFT) + (bytes as u64 & BYTES_MASK)
}

/// The slot of local id `id` (`None` for a remote one): ids spread so that
/// the 16 slots of one 128-byte stretch belong to ids 4,096 apart.
fn slot(id: ServiceId) -> Option<usize> {
    (id <= MAX_ID).then(|| (id as usize % 4096) * 16 + id as usize / 4096)
}

impl Backlog {
    /// A message of `bytes` was queued for local service `id`.
    pub fn queued(&self, id: ServiceId, bytes: usize) {
        if let Some(i) = slot(id) {
            self.sent[i].fetch_add(pack(1, bytes), Ordering::Relaxed);
        }
    }

    /// A message of `bytes` for `id` was taken from its queue. True if
    /// senders may wait for room in it and it is back under half the mark:
    /// then [`release`](Self::release) them.
    pub fn taken(&self, id: ServiceId, bytes: usize) -> bool {
        let Some(i) = slot(id) else { return false };
        // Release: whoever reads this total then sees the sends it counts
        // (see `len`).
        self.taken[i].fetch_add(pack(1, bytes), Ordering::Release);
        self.waiters.load(Ordering::Acquire) != 0 && Mark::get().under_half(self.len(id))
    }

    /// Messages and payload bytes queued for `id` now.
    pub fn len(&self, id: ServiceId) -> (u64, u64) {
        let Some(i) = slot(id) else { return (0, 0) };
        // The taken total first: every message it counts was counted as
        // sent before, so the difference cannot go below zero. (Wrapping
        // subtraction of the packed totals is exact while fewer than 2^24
        // messages and 2^40 bytes wait.)
        let taken = self.taken[i].load(Ordering::Acquire);
        let sent = self.sent[i].load(Ordering::Relaxed);
        unpack(sent.wrapping_sub(taken))
    }

    /// Whether `id`'s queue is over the high-water mark.
    pub fn over_mark(&self, id: ServiceId) -> bool {
        id <= MAX_ID && Mark::get().over(self.len(id))
    }

    /// [`over_mark`](Self::over_mark) as a sender asks it right after
    /// sending `bytes` to `id`: it looks at the queue only after every
    /// [`Mark::look_every`]-th message sent to `id` or after a big one, since
    /// reading the receiver's total on every one-way message would pull its
    /// cache line over to the sender each time. A sender so overshoots the
    /// mark by at most a 64th of it before it waits.
    pub fn over_mark_after_send(&self, id: ServiceId, bytes: usize) -> bool {
        let Some(i) = slot(id) else { return false };
        let mark = Mark::get();
        let (sent, _) = unpack(self.sent[i].load(Ordering::Relaxed));
        let big = bytes as u64 >= mark.bytes / 64;
        (big || sent % mark.look_every() == 0) && mark.over(self.len(id))
    }

    /// For Rust-side senders (socket readers, ...): returns at once if `id`'s
    /// queue is under its mark, else once it is back under half the mark
    /// (looking every millisecond: such waits are rare and short).
    pub async fn room(&self, id: ServiceId) {
        if !self.over_mark(id) {
            return;
        }
        while !Mark::get().under_half(self.len(id)) {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }

    /// Registers `sender`'s wait (on `session`) for room in `target`'s queue.
    /// Returns false, registering nothing, if the queue is under half the
    /// mark already (it drained meanwhile: no wake-up would come).
    pub fn wait_for_room(&self, target: ServiceId, sender: ServiceId, session: Session) -> bool {
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        if Mark::get().under_half(self.len(target)) {
            return false;
        }
        waiting.entry(target).or_default().push((sender, session));
        self.waiters.fetch_add(1, Ordering::Release);
        true
    }

    /// Takes the senders waiting for room in `target`'s queue.
    pub fn release(&self, target: ServiceId) -> Vec<(ServiceId, Session)> {
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        let released = waiting.remove(&target).unwrap_or_default();
        self.waiters.fetch_sub(released.len(), Ordering::Release);
        released
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_messages_and_bytes_per_service_even_where_the_totals_wrap() {
        // From zero, and from totals just below where the packed value wraps.
        for start in [0, u64::MAX - pack(2, 10) + 1] {
            let b = Backlog::default();
            for id in [3, 4] {
                b.sent[slot(id).unwrap()].store(start, Ordering::Relaxed);
                b.taken[slot(id).unwrap()].store(start, Ordering::Relaxed);
            }
            b.queued(3, 100);
            b.queued(3, 20);
            b.queued(4, 1);
            assert_eq!(b.len(3), (2, 120));
            b.taken(3, 100);
            assert_eq!(b.len(3), (1, 20));
            assert_eq!(b.len(4), (1, 1));
            assert_eq!(b.len(MAX_ID + 1), (0, 0), "remote ids are not counted");
        }
    }

    #[test]
    fn every_local_id_has_a_slot_of_its_own_away_from_its_neighbours() {
        let mut seen = vec![false; MAX_ID as usize + 1];
        for id in 0..=MAX_ID {
            let i = slot(id).unwrap();
            assert!(!seen[i], "slot {i} given twice");
            seen[i] = true;
        }
        assert_eq!(slot(MAX_ID + 1), None);
        let apart = slot(8).unwrap().abs_diff(slot(7).unwrap()) * std::mem::size_of::<AtomicU64>();
        assert!(apart >= 128, "ids 7 and 8 are {apart} bytes apart");
    }

    #[test]
    fn a_waiting_sender_is_released_when_the_queue_is_back_under_half() {
        let b = Backlog::default();
        let mark = Mark::get().messages;
        for _ in 0..mark {
            b.queued(7, 1);
        }
        assert!(b.over_mark(7));
        assert!(b.wait_for_room(7, 2, 99));
        let mut released = Vec::new();
        for _ in 0..mark {
            if b.taken(7, 1) {
                released.extend(b.release(7));
            }
        }
        assert_eq!(released, vec![(2, 99)], "released once, at half");
        assert!(!b.over_mark(7));
    }

    #[test]
    fn no_wait_is_registered_for_a_queue_already_drained() {
        let b = Backlog::default();
        b.queued(5, 1);
        assert!(!b.wait_for_room(5, 2, 1));
        assert!(b.release(5).is_empty());
    }

    #[test]
    fn a_sender_looks_at_the_queue_now_and_then_or_after_a_big_message() {
        let b = Backlog::default();
        let mark = Mark::get();
        for _ in 0..mark.messages {
            b.queued(12, 1);
        }
        assert!(b.over_mark(12));
        let mut looked = 0;
        for _ in 0..mark.look_every() {
            b.queued(12, 1);
            looked += usize::from(b.over_mark_after_send(12, 1));
        }
        assert_eq!(looked, 1, "one look in {} sends", mark.look_every());
        b.queued(12, (mark.bytes / 64) as usize);
        let (sent, _) = unpack(b.sent[slot(12).unwrap()].load(Ordering::Relaxed));
        assert!(sent % mark.look_every() != 0 || mark.look_every() == 1);
        assert!(b.over_mark_after_send(12, (mark.bytes / 64) as usize), "a big message is always looked after");
        assert!(!b.over_mark_after_send(MAX_ID + 1, 1));
    }

    #[test]
    fn bytes_count_towards_the_mark() {
        let b = Backlog::default();
        b.queued(9, (64 << 20) as usize);
        assert!(b.over_mark(9));
    }
}
