//! Stopping everything before `skynet.so` is unloaded (docs/ARCHITECTURE.md §7).
//!
//! When the interpreter closes the main state, Lua finalizes objects in
//! reverse order of creation and, last of all, `package` unloads our shared
//! library. A thread of ours still running after that executes unmapped code.
//! So the module's sentinel finalizer (see `lua_api::main_state`) calls
//! [`shutdown`]: every worker is told to stop its services and exit, and
//! every thread we started is joined, with a bound. If a thread cannot be
//! joined in time (a service stuck in a CPU loop), returning would crash the
//! process a moment later, so we end the process ourselves instead.

use crate::runtime::message::{Kind, Message};
use crate::runtime::{self, Runtime};
use std::sync::atomic::Ordering;
use std::sync::{Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The whole shutdown may take this long before the process is ended by force.
pub const GRACE: Duration = Duration::from_secs(5);

/// Every thread the runtime started, with a count of those that finished.
#[derive(Default)]
pub struct Threads {
    handles: Mutex<Vec<JoinHandle<()>>>,
    finished: Mutex<usize>,
    changed: Condvar,
}

impl Threads {
    /// Starts a named thread that counts itself finished when it returns (or panics).
    pub fn spawn(&self, name: String, body: impl FnOnce() + Send + 'static) {
        let finished = move || {
            let threads = &runtime::get().threads;
            *threads.finished.lock().unwrap_or_else(|e| e.into_inner()) += 1;
            threads.changed.notify_all();
        };
        let handle = std::thread::Builder::new().name(name).spawn(move || {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body));
            finished();
        });
        match handle {
            Ok(h) => self.handles.lock().unwrap_or_else(|e| e.into_inner()).push(h),
            Err(e) => runtime::log(&format!("skynet: cannot start a thread: {e}")),
        }
    }

    /// Waits until every thread finished or `deadline` passed; true if all did.
    /// Waits until all threads but `left_running` have finished; false at `deadline`.
    fn wait_all_but(&self, left_running: usize, deadline: Instant) -> bool {
        let total = self.handles.lock().unwrap_or_else(|e| e.into_inner()).len();
        let mut done = self.finished.lock().unwrap_or_else(|e| e.into_inner());
        while *done + left_running < total {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            done = self.changed.wait_timeout(done, deadline - now).unwrap_or_else(|e| e.into_inner()).0;
        }
        true
    }

    fn join_all(&self) {
        for h in self.handles.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
            let _ = h.join();
        }
    }
}

/// Stops every worker and joins every thread (bounded by [`GRACE`]).
/// Runs once; later calls return at once. Never returns if threads hang:
/// the process exits with the requested status (or 1) instead.
pub fn shutdown(rt: &Runtime) {
    if rt.stopping.swap(true, Ordering::SeqCst) {
        return;
    }
    let deadline = Instant::now() + GRACE;
    for w in 0..rt.workers {
        rt.mailboxes[w].push(Message::signal(0, 0, Kind::Shutdown));
    }
    runtime::watchdog::stop();
    // The signal thread stays until the others are done: a second SIGINT
    // or SIGTERM during the grace still ends the process at once.
    let signal_thread = usize::from(runtime::signals::running());
    if rt.threads.wait_all_but(signal_thread, deadline) {
        runtime::signals::stop();
        rt.threads.join_all();
        return;
    }
    runtime::log("skynet: some services did not stop within 5 s; exiting");
    let code = rt.requested_exit().unwrap_or(1);
    // SAFETY: flushing C stdio and ending the process without running
    // finalizers is exactly what we want: returning would unload code that
    // other threads still execute.
    unsafe {
        libc::fflush(std::ptr::null_mut());
        libc::_exit(code);
    }
}
