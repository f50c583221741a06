//! Local tasks that outlive the service that started them.
//!
//! A service's tasks are aborted when it ends, but the last words of a
//! connection must still go out: a script that calls `close()` and returns
//! expects the peer to see the WebSocket close frame (or the TLS
//! close_notify). So the task that writes to a connection is started here
//! instead: it holds no Lua value and ends by itself once the socket is
//! closed (by `close()`, or when the state holding the socket goes away),
//! with a bounded polite close. Before a thread stops, [`settle`] runs what
//! is left of these tasks for a short while.

use std::cell::Cell;
use std::time::Duration;

/// How long a stopping thread waits for its lingering tasks.
pub const SETTLE: Duration = Duration::from_secs(1);

thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
}

/// Counts a lingering task while it exists (dropped when it ends or is cancelled).
struct Live;

impl Live {
    fn enter() -> Live {
        LIVE.with(|n| n.set(n.get() + 1));
        Live
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        let _ = LIVE.try_with(|n| n.set(n.get() - 1));
    }
}

/// Lingering tasks of the calling thread not finished yet.
pub fn live() -> usize {
    LIVE.with(Cell::get)
}

/// Starts `task` on the calling thread's loop (the main loop on the main
/// thread, the worker's otherwise); it is not aborted with any service.
pub fn spawn(task: impl std::future::Future<Output = ()> + 'static) {
    let live = Live::enter();
    let task = async move {
        let _live = live;
        task.await
    };
    if super::main_loop::exists() {
        super::main_loop::spawn_local(task);
    } else {
        tokio::task::spawn_local(task);
    }
}

/// Waits until the calling thread's lingering tasks have ended, `limit` at most.
pub async fn settle(limit: Duration) {
    let _ = tokio::time::timeout(limit, async {
        while live() > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stopping_thread_lets_lingering_tasks_finish_and_stops_waiting_at_the_limit() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let local = tokio::task::LocalSet::new();
        let done = std::rc::Rc::new(Cell::new(false));
        let seen = done.clone();
        local.block_on(&rt, async {
            spawn(async move {
                tokio::time::sleep(Duration::from_millis(30)).await;
                seen.set(true);
            });
            assert_eq!(live(), 1);
        });
        local.block_on(&rt, settle(SETTLE));
        assert!(done.get());
        assert_eq!(live(), 0);
        local.block_on(&rt, async { spawn(std::future::pending()) });
        let start = std::time::Instant::now();
        local.block_on(&rt, settle(Duration::from_millis(50)));
        assert!(start.elapsed() < SETTLE);
        drop(local);
        assert_eq!(live(), 0);
    }
}
