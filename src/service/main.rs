//! The main service: the user's own script, which required us.
//!
//! Its state belongs to the interpreter, not to us, and its code runs on the
//! interpreter's thread, outside any coroutine we schedule. So the main
//! thread gets a worker of its own (mailbox index N) whose loop runs only
//! while the script blocks (`runtime::main_loop`); [`Service::suspend`]
//! drives it. [`stop_runtime`] ends it all when the script's state closes.

use super::Service;
use crate::error::{Error, Result};
use crate::runtime::worker::{self, Worker};
use crate::runtime::{self, main_loop, shutdown};
use mlua::Lua;
use std::rc::Rc;
use std::sync::atomic::Ordering;

/// Makes `lua`, the calling thread's script, the main service `name`.
pub fn adopt(lua: &Lua, name: &str) -> Result<Rc<Service>> {
    let rt = runtime::get();
    main_loop::create()?;
    let index = rt.main_index();
    let worker = Worker::install(rt, index);
    let info = rt.registry.register(name, index).ok_or(Error::TooManyServices)?;
    rt.main_service.store(info.id, Ordering::SeqCst);
    rt.live[index].fetch_add(1, Ordering::Relaxed);
    let svc = Service::new(info, lua.clone(), 0, true, worker.clone()).map_err(|e| Error::other(e.to_string()))?;
    worker.add_service(svc.clone());
    Ok(svc)
}

/// Ends the main service, stops every worker and joins every thread.
pub fn stop_runtime() {
    let Some(rt) = runtime::try_get() else { return };
    let main = worker::current().and_then(|w| w.service(rt.main_service.load(Ordering::SeqCst)));
    if let Some(main) = main.and_then(|m| m.into_any().downcast::<Service>().ok()) {
        main.end(None);
    }
    shutdown::shutdown(rt);
    Worker::uninstall();
    main_loop::destroy();
}
