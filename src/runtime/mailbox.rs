//! A worker's inbox: the queue other threads push messages into.
//!
//! Pushing must be cheap under load: a lock-free queue plus an `idle` flag,
//! so a sender only pays for a wake-up (a `Notify`, which may end in a
//! syscall) when the worker is actually waiting. The worker sets `idle`,
//! checks the queue once more and only then waits; with both sides using
//! sequentially consistent operations, either the sender sees `idle` and
//! wakes it, or the worker sees the message. `Notify` keeps a permit, so a
//! wake-up sent just before the worker starts waiting is not lost either.

use crate::runtime::message::Message;
use crossbeam::queue::SegQueue;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::Notify;

#[derive(Default)]
pub struct Mailbox {
    queue: SegQueue<Message>,
    idle: AtomicBool,
    notify: Notify,
}

impl Mailbox {
    /// Queues `msg` and wakes the worker if it sleeps.
    pub fn push(&self, msg: Message) {
        self.queue.push(msg);
        if self.idle.load(Ordering::SeqCst) && self.idle.swap(false, Ordering::SeqCst) {
            self.notify.notify_one();
        }
    }

    /// Wakes the worker without a message (its own tasks have local work).
    /// Called for every message a worker queues for itself, so, as in
    /// [`push`](Self::push), a load first: a running worker is not idle, and
    /// the swap (a locked instruction) is only paid when it may be.
    pub fn wake(&self) {
        if self.idle.load(Ordering::SeqCst) && self.idle.swap(false, Ordering::SeqCst) {
            self.notify.notify_one();
        }
    }

    pub fn pop(&self) -> Option<Message> {
        self.queue.pop()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Marks the worker idle; returns `false` (and stays busy) if messages are waiting.
    pub fn go_idle(&self) -> bool {
        self.idle.store(true, Ordering::SeqCst);
        if !self.queue.is_empty() {
            self.idle.store(false, Ordering::SeqCst);
            return false;
        }
        true
    }

    /// Waits until [`push`](Self::push) or [`wake`](Self::wake) is called after [`go_idle`](Self::go_idle).
    pub async fn wait(&self) {
        self.notify.notified().await;
        self.idle.store(false, Ordering::SeqCst);
    }

    pub fn end_idle(&self) {
        self.idle.store(false, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::message::Kind;
    use std::sync::Arc;

    fn msg(n: u32) -> Message {
        Message::signal(n, 0, Kind::Wake)
    }

    #[test]
    fn fifo_order() {
        let m = Mailbox::default();
        for i in 0..10 {
            m.push(msg(i));
        }
        let got: Vec<u32> = std::iter::from_fn(|| m.pop()).map(|m| m.to).collect();
        assert_eq!(got, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn idle_refused_when_not_empty() {
        let m = Mailbox::default();
        m.push(msg(1));
        assert!(!m.go_idle());
        m.pop();
        assert!(m.go_idle());
    }

    #[test]
    fn a_push_from_another_thread_wakes_the_waiter() {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let m = Arc::new(Mailbox::default());
        let m2 = m.clone();
        rt.block_on(async move {
            assert!(m.go_idle());
            let t = std::thread::spawn(move || {
                for i in 0..1000 {
                    m2.push(msg(i));
                }
            });
            let mut n = 0;
            while n < 1000 {
                while let Some(_) = m.pop() {
                    n += 1;
                }
                if n < 1000 && m.go_idle() {
                    m.wait().await;
                }
            }
            t.join().unwrap();
        });
    }
}
