//! The watchdog: reports a service that keeps its worker busy.
//!
//! A lua_State cannot move to another thread, so a service stuck in a long
//! CPU loop holds up every service of its worker (services of other workers
//! go on). We cannot preempt it, but we can say so, as cloudwu/skynet does:
//! every 100 ms the watchdog looks at each worker's heartbeat; a worker that
//! has been inside the same message for over a second gets one log line
//! `service <name:id> busy for N ms`.

use crate::runtime::{self, Runtime};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// A worker inside one message for this long is reported.
pub const BUSY_REPORT: Duration = Duration::from_millis(1000);
const PERIOD: Duration = Duration::from_millis(100);

static STOPPED: Mutex<bool> = Mutex::new(false);
static WAKE: Condvar = Condvar::new();

struct Seen {
    service: u32,
    beats: u32,
    since: Instant,
    reported: bool,
}

pub fn start(rt: &Runtime) {
    let count = rt.heartbeats.len();
    rt.threads.spawn("skynet-watchdog".into(), move || {
        let mut seen: Vec<Seen> =
            (0..count).map(|_| Seen { service: 0, beats: 0, since: Instant::now(), reported: false }).collect();
        let mut stopped = STOPPED.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            stopped = WAKE.wait_timeout(stopped, PERIOD).unwrap_or_else(|e| e.into_inner()).0;
            if *stopped {
                return;
            }
            let rt = runtime::get();
            for (w, s) in seen.iter_mut().enumerate() {
                let (service, beats) = rt.heartbeats[w].read();
                if service == 0 || service != s.service || beats != s.beats {
                    *s = Seen { service, beats, since: Instant::now(), reported: false };
                    continue;
                }
                let busy = s.since.elapsed();
                if busy >= BUSY_REPORT && !s.reported {
                    s.reported = true;
                    runtime::log(&format!(
                        "skynet: service {} busy for {} ms",
                        rt.registry.label(service),
                        busy.as_millis()
                    ));
                }
            }
        }
    });
}

pub fn stop() {
    *STOPPED.lock().unwrap_or_else(|e| e.into_inner()) = true;
    WAKE.notify_all();
}
