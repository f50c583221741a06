//! The main thread's event loop.
//!
//! The main service is the user's own script: its code runs on the
//! interpreter's thread, outside any coroutine we schedule. So the main
//! thread gets a worker of its own (mailbox index N) and a tokio runtime
//! that run only while the script blocks ([`block_on`]); local tasks of the
//! main service (sockets, ...) are queued on it and make progress then.

use crate::error::{Error, Result};
use crate::runtime::worker::Worker;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

struct MainLoop {
    tokio: tokio::runtime::Runtime,
    local: tokio::task::LocalSet,
}

thread_local! {
    static MAIN_LOOP: RefCell<Option<MainLoop>> = const { RefCell::new(None) };
    static BLOCKING: Cell<bool> = const { Cell::new(false) };
}

/// Creates the calling thread's loop (once, when the script requires us).
pub fn create() -> Result<()> {
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::other(format!("skynet: cannot start the main loop: {e}")))?;
    MAIN_LOOP.with(|m| *m.borrow_mut() = Some(MainLoop { tokio, local: tokio::task::LocalSet::new() }));
    Ok(())
}

/// Runs the main thread's worker loop until `until()` holds.
pub fn block_on(worker: &Rc<Worker>, until: &dyn Fn() -> bool) -> Result<()> {
    if BLOCKING.with(|b| b.replace(true)) {
        return Err(Error::other("skynet: blocking call inside a blocking call of the main thread"));
    }
    let result = MAIN_LOOP.with(|m| {
        let m = m.borrow();
        let Some(m) = m.as_ref() else { return Err(Error::other("skynet: the runtime has stopped")) };
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| m.local.block_on(&m.tokio, worker.run(until))))
            .map_err(|_| Error::other("skynet: internal error in the main loop"))
    });
    BLOCKING.with(|b| b.set(false));
    result
}

/// Queues a local task on the main thread's loop: it runs whenever the
/// script blocks (like every other event of the main service).
/// `None` once the runtime has stopped.
pub fn spawn_local(task: impl std::future::Future<Output = ()> + 'static) -> Option<tokio::task::AbortHandle> {
    MAIN_LOOP.with(|m| {
        let m = m.borrow();
        let m = m.as_ref()?;
        let _inside = m.tokio.enter();
        Some(m.local.spawn_local(task).abort_handle())
    })
}

/// Runs `f` inside the main thread's tokio runtime when called on the main
/// thread (sockets need a runtime to register with); elsewhere just runs `f`.
pub fn in_runtime<R>(f: impl FnOnce() -> R) -> R {
    MAIN_LOOP.with(|m| match m.borrow().as_ref() {
        Some(m) => {
            let _inside = m.tokio.enter();
            f()
        }
        None => f(),
    })
}

/// Whether the main thread is inside a blocking call (running its loop).
pub fn blocking() -> bool {
    BLOCKING.with(|b| b.get())
}

/// Whether the calling thread has the main loop.
pub fn exists() -> bool {
    MAIN_LOOP.with(|m| m.borrow().is_some())
}

/// Drops the loop (at shutdown, after every worker has been joined), once
/// the closes still under way have had their moment (see `linger`).
pub fn destroy() {
    if let Some(m) = MAIN_LOOP.with(|m| m.borrow_mut().take()) {
        m.local.block_on(&m.tokio, super::linger::settle(super::linger::SETTLE));
        drop(m.local);
        m.tokio.shutdown_timeout(std::time::Duration::from_millis(500));
    }
}
