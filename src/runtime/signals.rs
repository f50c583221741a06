//! SIGINT and SIGTERM: the first one stops the main service (a graceful end,
//! as the original); a second one ends the process at once (status 128+sig).
//!
//! A signal handler may do almost nothing, so ours writes the signal number
//! to a pipe and a thread of ours does the rest. The handler lives in our
//! shared library: [`stop`] puts the previous handlers back before the
//! library can be unloaded, and wakes the thread so that it can be joined.
//!
//! SIGPIPE is ignored while we run, unless the host handles it itself: a
//! write to a peer that has reset its end must fail with EPIPE, not kill
//! the process. Plain socket writes ask the kernel for no signal, but
//! vectored writes (`writev`, which TLS uses) cannot, and `lua5.4`, unlike
//! a Rust program, leaves SIGPIPE at its default action (terminate).

use crate::runtime::{self, Runtime};
use std::sync::Mutex;
use std::sync::atomic::{AtomicI32, Ordering};

static WRITE_FD: AtomicI32 = AtomicI32::new(-1);
static PREVIOUS: Mutex<Vec<(libc::c_int, libc::sigaction)>> = Mutex::new(Vec::new());

extern "C" fn on_signal(sig: libc::c_int) {
    let byte = sig as u8;
    let fd = WRITE_FD.load(Ordering::Relaxed);
    // SAFETY: write(2) is async-signal-safe; the byte lives on this stack.
    unsafe {
        libc::write(fd, &byte as *const u8 as *const libc::c_void, 1);
    }
}

/// Whether the signal thread runs (it ends at [`stop`]).
pub fn running() -> bool {
    WRITE_FD.load(Ordering::SeqCst) >= 0
}

pub fn start(rt: &Runtime) {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: plain libc calls on a local array and zero-initialised structs.
    unsafe {
        if libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) != 0 {
            return;
        }
        WRITE_FD.store(fds[1], Ordering::SeqCst);
        let mut previous = PREVIOUS.lock().unwrap_or_else(|e| e.into_inner());
        for sig in [libc::SIGINT, libc::SIGTERM] {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as *const () as usize;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(sig, &action, &mut old) == 0 {
                previous.push((sig, old));
            }
        }
        let mut old: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(libc::SIGPIPE, std::ptr::null(), &mut old) == 0 && old.sa_sigaction == libc::SIG_DFL {
            let mut ignore: libc::sigaction = std::mem::zeroed();
            ignore.sa_sigaction = libc::SIG_IGN;
            libc::sigemptyset(&mut ignore.sa_mask);
            if libc::sigaction(libc::SIGPIPE, &ignore, std::ptr::null_mut()) == 0 {
                previous.push((libc::SIGPIPE, old));
            }
        }
    }
    let read_fd = fds[0];
    let main_id = rt.main_service.load(Ordering::Relaxed);
    rt.threads.spawn("skynet-signals".into(), move || {
        let mut received = 0;
        loop {
            let mut byte = 0u8;
            // SAFETY: reading one byte into a local.
            let n = unsafe { libc::read(read_fd, &mut byte as *mut u8 as *mut libc::c_void, 1) };
            if n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            if n != 1 || byte == 0 {
                break;
            }
            received += 1;
            if received == 1 {
                let rt = runtime::get();
                let main = rt.main_service.load(Ordering::Relaxed).max(main_id);
                rt.stop_service(main, 0, 0);
            } else {
                // SAFETY: ending the process on the user's second request.
                unsafe { libc::_exit(128 + byte as i32) };
            }
        }
        // SAFETY: closing the pipe ends we own.
        unsafe {
            libc::close(read_fd);
        }
    });
}

/// Restores the previous handlers and lets the signal thread end.
pub fn stop() {
    let mut previous = PREVIOUS.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: reinstalling the handlers saved by `start`.
    unsafe {
        for (sig, old) in previous.drain(..) {
            libc::sigaction(sig, &old, std::ptr::null_mut());
        }
        let fd = WRITE_FD.swap(-1, Ordering::SeqCst);
        if fd >= 0 {
            let zero = 0u8;
            libc::write(fd, &zero as *const u8 as *const libc::c_void, 1);
            libc::close(fd);
        }
    }
}
