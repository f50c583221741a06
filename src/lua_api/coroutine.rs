//! Coroutine objects (`os.coroutine()`, docs/API.md §6): a binding over
//! [`TaskQueue`](crate::service::task_queue::TaskQueue).

use crate::lua_api::args::Args;
use crate::service::{self, task_queue::TaskQueue};
use mlua::{AnyUserData, Lua, MultiValue, Result, UserData, UserDataMethods};
use std::rc::Rc;

struct Queue(Rc<TaskQueue>);

pub fn new(lua: &Lua) -> Result<AnyUserData> {
    lua.create_userdata(Queue(Rc::new(TaskQueue::default())))
}

impl UserData for Queue {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("dispatch", |lua, q, args: MultiValue| {
            let func = Args::new("dispatch", args).function(1)?;
            Ok(q.0.dispatch(&service::of(lua)?, func))
        });
        methods.add_method("close", |lua, q, args: MultiValue| {
            let func = Args::new("close", args).opt_function(1)?;
            q.0.close(&service::of(lua)?, func);
            Ok(())
        });
    }
}
