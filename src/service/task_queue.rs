//! Serial task queues (`os.coroutine()` objects): tasks run one after
//! another, each in a coroutine of the service; a task that blocks holds up
//! the next one. When a task's coroutine finishes, the scheduler calls
//! [`TaskQueue::next`] (its context is `CtxKind::Queued`).

use super::{Ctx, CtxKind, Service};
use mlua::{Function, MultiValue};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

#[derive(Default)]
pub struct TaskQueue {
    tasks: RefCell<VecDeque<Function>>,
    busy: Cell<bool>,
    closed: Cell<bool>,
}

impl TaskQueue {
    /// Queues `task`; false if the queue is closed.
    pub fn dispatch(self: &Rc<Self>, svc: &Rc<Service>, task: Function) -> bool {
        if self.closed.get() {
            return false;
        }
        self.tasks.borrow_mut().push_back(task);
        self.run_next(svc);
        true
    }

    /// Closes the queue, after a last task `last` if given (once only).
    pub fn close(self: &Rc<Self>, svc: &Rc<Service>, last: Option<Function>) {
        if self.closed.replace(true) {
            return;
        }
        self.tasks.borrow_mut().extend(last);
        self.run_next(svc);
    }

    /// The running task finished: start the next one.
    pub fn next(self: &Rc<Self>, svc: &Rc<Service>) {
        self.busy.set(false);
        self.run_next(svc);
    }

    fn run_next(self: &Rc<Self>, svc: &Rc<Service>) {
        if self.busy.get() {
            return;
        }
        let Some(task) = self.tasks.borrow_mut().pop_front() else { return };
        self.busy.set(true);
        svc.start(task, Ctx::new(CtxKind::Queued(self.clone())), MultiValue::new());
    }
}
