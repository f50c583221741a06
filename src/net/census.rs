//! The open sockets of the process, for operators (console `netstat`, the
//! `skynet_sockets` metric): each connection of `io.socket`/`io.server`
//! and each listening server, with the bytes it moved.
//!
//! A socket enters when its connection opens (or its server starts
//! listening) and leaves when it is closed or dropped. The byte counts are
//! bumped by its reader and writer tasks, once per chunk, which is noise
//! next to the system call that moved the chunk.

use crate::runtime::message::ServiceId;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// One open socket as operators see it.
#[derive(Debug)]
pub struct Entry {
    pub id: u64,
    /// `tcp`, `ssl`, `ws`, `wss`; a listening server: `tcp listen`, ...
    pub kind: String,
    /// The service that owns it.
    pub owner: ServiceId,
    /// The remote address (a listener: its own address).
    pub peer: String,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
}

impl Entry {
    pub fn received(&self, n: usize) {
        self.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub fn sent(&self, n: usize) {
        self.bytes_out.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub fn bytes_in(&self) -> u64 {
        self.bytes_in.load(Ordering::Relaxed)
    }

    pub fn bytes_out(&self) -> u64 {
        self.bytes_out.load(Ordering::Relaxed)
    }
}

static OPEN: Mutex<BTreeMap<u64, Arc<Entry>>> = Mutex::new(BTreeMap::new());

fn open() -> std::sync::MutexGuard<'static, BTreeMap<u64, Arc<Entry>>> {
    OPEN.lock().unwrap_or_else(|e| e.into_inner())
}

/// Socket `id` is open: enters it (replacing an entry of the same id).
pub fn enter(id: u64, kind: String, owner: ServiceId, peer: String) -> Arc<Entry> {
    let entry = Arc::new(Entry { id, kind, owner, peer, bytes_in: AtomicU64::new(0), bytes_out: AtomicU64::new(0) });
    open().insert(id, entry.clone());
    entry
}

/// Socket `id` is closed (nothing happens if it had not entered).
pub fn leave(id: u64) {
    open().remove(&id);
}

/// Every open socket, by id.
pub fn list() -> Vec<Arc<Entry>> {
    open().values().cloned().collect()
}

/// How many sockets are open.
pub fn count() -> usize {
    open().len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockets_enter_count_bytes_and_leave() {
        // Ids far above those the process hands out, so that other tests do not interfere.
        let base = u64::MAX - 10;
        let a = enter(base, "tcp".into(), 3, "127.0.0.1:9".into());
        enter(base + 1, "ws".into(), 4, "[::1]:8".into());
        a.received(10);
        a.received(5);
        a.sent(7);
        let ours: Vec<_> = list().into_iter().filter(|e| e.id >= base).collect();
        assert_eq!(ours.len(), 2);
        assert_eq!((ours[0].bytes_in(), ours[0].bytes_out()), (15, 7));
        assert!(count() >= 2);
        leave(base);
        leave(base);
        leave(base + 1);
        assert!(list().iter().all(|e| e.id < base));
    }
}
