//! A socket's "closed" signal, for the tasks that serve the socket.
//!
//! Every task of a socket runs on its owner's thread (see `socket.rs`), so
//! a flag and the wakers of the futures waiting on it do. tokio's `watch`
//! channel, used before, is made for waiters on any thread: polling a
//! waiting receiver takes a lock, and a socket's read and write loops poll
//! the signal in every `select!`. On an echo that cost more than the rest
//! of the read and the write together.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// Set once by [`CloseSignal::close`]; [`CloseSignal::wait`] ends then.
#[derive(Default)]
pub struct CloseSignal {
    closed: Cell<bool>,
    /// The wakers of the waiting futures, each in its own slot (`None`: a
    /// free slot), so that a future dropped before the close takes its
    /// waker out and a long-lived socket does not pile them up.
    waiting: RefCell<Vec<Option<Waker>>>,
}

impl CloseSignal {
    pub fn is_closed(&self) -> bool {
        self.closed.get()
    }

    /// Sets the signal and wakes every waiting future (idempotent).
    pub fn close(&self) {
        if self.closed.replace(true) {
            return;
        }
        let waiting = std::mem::take(&mut *self.waiting.borrow_mut());
        for waker in waiting.into_iter().flatten() {
            waker.wake();
        }
    }

    /// A future that ends once the signal is set.
    pub fn wait(self: &Rc<Self>) -> Closed {
        Closed { signal: self.clone(), slot: None }
    }
}

/// See [`CloseSignal::wait`].
pub struct Closed {
    signal: Rc<CloseSignal>,
    /// Where this future's waker is, once it waited.
    slot: Option<usize>,
}

impl Future for Closed {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.signal.closed.get() {
            return Poll::Ready(());
        }
        let mut waiting = this.signal.waiting.borrow_mut();
        match this.slot {
            Some(i) => match &mut waiting[i] {
                Some(waker) if waker.will_wake(cx.waker()) => {}
                entry => *entry = Some(cx.waker().clone()),
            },
            None => {
                let i = match waiting.iter().position(Option::is_none) {
                    Some(i) => i,
                    None => {
                        waiting.push(None);
                        waiting.len() - 1
                    }
                };
                waiting[i] = Some(cx.waker().clone());
                this.slot = Some(i);
            }
        }
        Poll::Pending
    }
}

impl Drop for Closed {
    fn drop(&mut self) {
        // After the close the list is empty and stays so: nothing to take.
        if let Some(i) = self.slot
            && let Ok(mut waiting) = self.signal.waiting.try_borrow_mut()
            && let Some(entry) = waiting.get_mut(i)
        {
            *entry = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn poll(f: &mut Closed, waker: &Waker) -> Poll<()> {
        Pin::new(f).poll(&mut Context::from_waker(waker))
    }

    #[test]
    fn waiters_are_woken_once_by_the_close_and_then_ready() {
        let signal = Rc::new(CloseSignal::default());
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let (mut a, mut b) = (signal.wait(), signal.wait());
        assert!(poll(&mut a, &waker).is_pending());
        assert!(poll(&mut a, &waker).is_pending(), "polled again: keeps its slot");
        assert!(poll(&mut b, &waker).is_pending());
        assert_eq!(signal.waiting.borrow().len(), 2);
        signal.close();
        signal.close();
        assert_eq!(count.0.load(Ordering::SeqCst), 2, "each waiter once");
        assert!(poll(&mut a, &waker).is_ready());
        assert!(signal.is_closed());
        assert!(poll(&mut signal.wait(), &waker).is_ready(), "a later wait ends at once");
    }

    #[test]
    fn a_dropped_waiter_frees_its_slot_for_the_next() {
        let signal = Rc::new(CloseSignal::default());
        let waker = Waker::from(Arc::new(Count(AtomicUsize::new(0))));
        for _ in 0..100 {
            let mut f = signal.wait();
            assert!(poll(&mut f, &waker).is_pending());
        }
        assert_eq!(signal.waiting.borrow().len(), 1, "one slot, reused");
        assert!(signal.waiting.borrow()[0].is_none());
    }
}
