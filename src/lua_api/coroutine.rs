//! Coroutine objects (`os.coroutine()`, docs/API.md §6): a serial task queue.
//!
//! Tasks run one after another, each in a coroutine of the service; a task
//! that blocks holds up the next one. When a task's coroutine finishes, the
//! scheduler calls [`TaskQueue::next`] (its context is `CtxKind::Queued`).

use crate::lua_api::args::Args;
use crate::service::{self, Ctx, CtxKind, Service};
use mlua::{AnyUserData, Function, Lua, MultiValue, Result, UserData, UserDataMethods};
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

struct Queue(Rc<TaskQueue>);

pub fn new(lua: &Lua) -> Result<AnyUserData> {
    lua.create_userdata(Queue(Rc::new(TaskQueue::default())))
}

impl UserData for Queue {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("dispatch", |lua, q, args: MultiValue| {
            let func = Args::new("dispatch", args).function(1)?;
            if q.0.closed.get() {
                return Ok(false);
            }
            q.0.tasks.borrow_mut().push_back(func);
            q.0.run_next(&service::of(lua)?);
            Ok(true)
        });
        methods.add_method("close", |lua, q, args: MultiValue| {
            let func = Args::new("close", args).opt_function(1)?;
            if q.0.closed.replace(true) {
                return Ok(());
            }
            if let Some(func) = func {
                q.0.tasks.borrow_mut().push_back(func);
            }
            q.0.run_next(&service::of(lua)?);
            Ok(())
        });
    }
}
