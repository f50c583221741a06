//! What operators see of a running node: a reading of every figure the
//! runtime keeps (`runtime::stats`, the registry, the open sockets, the
//! cluster links), for the console service and for `/metrics`.
//!
//! * [`prometheus`]: a reading in the Prometheus text format.

pub mod prometheus;

use crate::runtime::message::ServiceId;
use crate::runtime::registry::Life;
use crate::runtime::stats::{HistogramSnapshot, Outcome};
use crate::runtime::{self, Runtime};
use std::time::Duration;

/// One live service.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceRow {
    pub id: ServiceId,
    pub name: String,
    /// Its worker's index; `None` for the main script's own thread.
    pub worker: Option<usize>,
    /// `"running"`, or `"stopping"` once asked to stop.
    pub state: &'static str,
    /// Bytes of its Lua heap.
    pub memory: u64,
    /// Messages waiting in its queue.
    pub queue: u64,
    /// Messages handled since it started.
    pub messages: u64,
    /// Time spent handling them.
    pub cpu: Duration,
}

/// The whole process.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Process {
    pub services: usize,
    pub workers: usize,
    /// Messages handled by every service, ended ones included.
    pub messages: u64,
    /// Open sockets (connections and listening servers).
    pub sockets: usize,
    /// Armed `os.timer` objects.
    pub timers: i64,
    /// Open mesh links, plus one for a connected NATS server.
    pub links: usize,
    /// Calls made, by outcome (indexed by `Outcome as usize`).
    pub calls: [u64; 5],
    pub call_durations: HistogramSnapshot,
    /// Busy time of each worker (the main thread excluded).
    pub busy: Vec<Duration>,
}

/// Every live service, by id.
pub fn services() -> Vec<ServiceRow> {
    let rt = runtime::get();
    let mut ids = rt.registry.ids();
    ids.sort_unstable();
    ids.into_iter().filter_map(|id| service(rt, id)).collect()
}

fn service(rt: &Runtime, id: ServiceId) -> Option<ServiceRow> {
    let info = rt.registry.info(id)?;
    if info.life() != Life::Running {
        return None;
    }
    let worker = rt.registry.worker_of(id)?;
    Some(ServiceRow {
        id,
        name: info.name.clone(),
        worker: (worker != rt.main_index()).then_some(worker),
        state: if info.stop_requested() { "stopping" } else { "running" },
        memory: info.stats.memory.get(),
        queue: rt.registry.backlog.len(id).0,
        messages: info.stats.messages.get(),
        cpu: Duration::from_nanos(info.stats.cpu_ns.get()),
    })
}

/// The process-wide figures.
pub fn process() -> Process {
    let rt = runtime::get();
    let mut p = Process {
        services: rt.registry.ids().len(),
        workers: rt.workers,
        sockets: crate::net::census::count(),
        links: crate::cluster::cluster().link_count() + crate::cluster::nats::nats().link_count(),
        ..Process::default()
    };
    for (index, w) in rt.stats.iter().enumerate() {
        p.messages += w.messages.get();
        p.timers += w.timers.get();
        for outcome in Outcome::ALL {
            p.calls[outcome as usize] += w.calls[outcome as usize].get();
        }
        w.call_durations.add_to(&mut p.call_durations);
        if index < rt.workers {
            p.busy.push(Duration::from_nanos(w.busy_ns.get()));
        }
    }
    p
}
