//! The handle registry: which service ids exist and on which worker each lives.
//!
//! Lookups happen on every send, so the id -> worker map is a flat array of
//! atomics (no lock). Ids are small (`1..=0xFFFF`, as the original) and reused
//! late: fresh ids are handed out first, and only when they run out are freed
//! ids taken back, oldest first, so a stale id rarely reaches a new service.
//! Names and life states (for `job:state()` and log lines) sit in
//! [`ServiceInfo`], shared with the job objects that outlive the service.
//!
//! The registry also counts what waits in each service's queue (messages
//! and payload bytes, one packed atomic per id) against the high-water mark,
//! and keeps the senders that wait for a queue to drain ([`Backlog`]).

use crate::runtime::backlog::Backlog;
use crate::runtime::message::ServiceId;
use crate::runtime::stats::ServiceStats;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, Weak};

/// The largest local service id.
pub const MAX_ID: ServiceId = 0xFFFF;

/// Life state of a service as seen from outside.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Life {
    Running = 0,
    Dead = 1,
    Error = 2,
}

/// What other threads may know about one service.
#[derive(Debug)]
pub struct ServiceInfo {
    pub id: ServiceId,
    pub name: String,
    life: AtomicU8,
    /// Set by whoever asks the service to stop, before the stop message is
    /// sent: the calls queued ahead of that message are then discarded
    /// instead of handled, so a stop never waits behind a backlog.
    stop_requested: AtomicBool,
    /// The stop came from an operator (console `kill`).
    killed: AtomicBool,
    /// Who wants to hear of this service's end; `None` once it has ended.
    monitors: Mutex<Option<Vec<Monitor>>>,
    /// What operators see of it (written by its worker only).
    pub stats: ServiceStats,
}

/// A service waiting to hear that another one has ended (`os.monitor`).
#[derive(Debug)]
pub struct Monitor {
    /// The watcher (weak: a watcher that ends first must not be kept, and
    /// its id may go to a new service that must not get the news).
    pub watcher: Weak<ServiceInfo>,
    /// What the watcher's callback is kept under.
    pub key: i64,
}

impl ServiceInfo {
    pub fn life(&self) -> Life {
        match self.life.load(Ordering::Acquire) {
            0 => Life::Running,
            1 => Life::Dead,
            _ => Life::Error,
        }
    }

    pub fn set_life(&self, life: Life) {
        self.life.store(life as u8, Ordering::Release);
    }

    pub fn request_stop(&self) {
        self.stop_requested.store(true, Ordering::Release);
    }

    pub fn stop_requested(&self) -> bool {
        self.stop_requested.load(Ordering::Acquire)
    }

    /// Marks the coming stop as an operator's kill (before it is requested).
    pub fn mark_killed(&self) {
        self.killed.store(true, Ordering::Release);
    }

    pub fn killed(&self) -> bool {
        self.killed.load(Ordering::Acquire)
    }

    /// Adds a monitor; gives it back if the service has ended already.
    pub fn add_monitor(&self, monitor: Monitor) -> Result<(), Monitor> {
        match &mut *self.monitors.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(list) => {
                list.push(monitor);
                Ok(())
            }
            None => Err(monitor),
        }
    }

    /// The service has ended: takes its monitors (later ones are refused).
    pub fn take_monitors(&self) -> Vec<Monitor> {
        self.monitors.lock().unwrap_or_else(|e| e.into_inner()).take().unwrap_or_default()
    }

    /// A service's shared info, on its own (for tests of the layers above).
    pub fn new(id: ServiceId, name: &str) -> ServiceInfo {
        ServiceInfo {
            id,
            name: name.to_owned(),
            life: AtomicU8::new(Life::Running as u8),
            stop_requested: AtomicBool::new(false),
            killed: AtomicBool::new(false),
            monitors: Mutex::new(Some(Vec::new())),
            stats: ServiceStats::default(),
        }
    }
}

struct IdPool {
    next_fresh: ServiceId,
    freed: VecDeque<ServiceId>,
}

pub struct Registry {
    /// `worker index + 1` per id; 0 = no such service.
    worker_of: Box<[AtomicU32]>,
    pool: Mutex<IdPool>,
    infos: Mutex<HashMap<ServiceId, Arc<ServiceInfo>>>,
    /// What waits in each service's queue.
    pub backlog: Backlog,
}

impl Default for Registry {
    fn default() -> Self {
        Registry {
            worker_of: (0..=MAX_ID).map(|_| AtomicU32::new(0)).collect(),
            pool: Mutex::new(IdPool { next_fresh: 1, freed: VecDeque::new() }),
            infos: Mutex::new(HashMap::new()),
            backlog: Backlog::default(),
        }
    }
}

impl Registry {
    /// Reserves an id for a service `name` that will live on `worker`.
    pub fn register(&self, name: &str, worker: usize) -> Option<Arc<ServiceInfo>> {
        let id = {
            let mut pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
            if pool.next_fresh <= MAX_ID {
                pool.next_fresh += 1;
                pool.next_fresh - 1
            } else {
                pool.freed.pop_front()?
            }
        };
        let info = Arc::new(ServiceInfo::new(id, name));
        self.infos.lock().unwrap_or_else(|e| e.into_inner()).insert(id, info.clone());
        self.worker_of[id as usize].store(worker as u32 + 1, Ordering::Release);
        Some(info)
    }

    /// Forgets service `id`; its id goes to the back of the reuse queue.
    pub fn unregister(&self, id: ServiceId) {
        if id == 0 || id > MAX_ID {
            return;
        }
        if self.worker_of[id as usize].swap(0, Ordering::AcqRel) == 0 {
            return;
        }
        self.infos.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
        self.pool.lock().unwrap_or_else(|e| e.into_inner()).freed.push_back(id);
    }

    /// The worker that runs service `id`, if it exists.
    pub fn worker_of(&self, id: ServiceId) -> Option<usize> {
        let slot = self.worker_of.get(id as usize)?;
        match slot.load(Ordering::Acquire) {
            0 => None,
            w => Some(w as usize - 1),
        }
    }

    pub fn info(&self, id: ServiceId) -> Option<Arc<ServiceInfo>> {
        self.infos.lock().unwrap_or_else(|e| e.into_inner()).get(&id).cloned()
    }

    /// Ids of every live service.
    pub fn ids(&self) -> Vec<ServiceId> {
        self.infos.lock().unwrap_or_else(|e| e.into_inner()).keys().copied().collect()
    }

    /// `name:id` of a service, for log lines.
    pub fn label(&self, id: ServiceId) -> String {
        match self.info(id) {
            Some(info) => format!("{}:{}", info.name, id),
            None => format!("?:{id}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_fresh_then_reused_oldest_first() {
        let r = Registry::default();
        let a = r.register("a", 0).unwrap();
        let b = r.register("b", 1).unwrap();
        assert_eq!((a.id, b.id), (1, 2));
        assert_eq!(r.worker_of(1), Some(0));
        assert_eq!(r.worker_of(2), Some(1));
        r.unregister(1);
        assert_eq!(r.worker_of(1), None);
        // Freed ids wait until the fresh ones are gone.
        assert_eq!(r.register("c", 0).unwrap().id, 3);
        assert_eq!(r.label(2), "b:2");
        assert!(r.info(1).is_none());
    }

    #[test]
    fn exhausting_fresh_ids_reuses_freed_ones() {
        let r = Registry::default();
        for _ in 1..=MAX_ID {
            r.register("x", 0).unwrap();
        }
        assert!(r.register("full", 0).is_none());
        r.unregister(7);
        r.unregister(3);
        assert_eq!(r.register("y", 0).unwrap().id, 7);
        assert_eq!(r.register("z", 0).unwrap().id, 3);
        r.unregister(0);
        r.unregister(MAX_ID + 5);
    }

    #[test]
    fn life_is_shared_with_holders() {
        let r = Registry::default();
        let info = r.register("a", 0).unwrap();
        assert_eq!(info.life(), Life::Running);
        info.set_life(Life::Error);
        assert_eq!(r.info(info.id).unwrap().life(), Life::Error);
    }

    #[test]
    fn monitors_are_taken_once_and_refused_after_the_end() {
        let watched = ServiceInfo::new(5, "w");
        let watcher = Arc::new(ServiceInfo::new(6, "x"));
        assert!(watched.add_monitor(Monitor { watcher: Arc::downgrade(&watcher), key: 1 }).is_ok());
        assert!(watched.add_monitor(Monitor { watcher: Arc::downgrade(&watcher), key: 2 }).is_ok());
        let keys: Vec<i64> = watched.take_monitors().iter().map(|m| m.key).collect();
        assert_eq!(keys, vec![1, 2]);
        let refused = watched.add_monitor(Monitor { watcher: Arc::downgrade(&watcher), key: 3 });
        assert_eq!(refused.map_err(|m| m.key), Err(3));
        assert!(watched.take_monitors().is_empty());
        assert!(!watched.killed());
        watched.mark_killed();
        assert!(watched.killed());
    }
}
