//! Cluster mode: rpc across processes (docs/API.md §18).
//!
//! Remote handlers are ordinary members of the name registry whose ids are
//! above 0xFFFF: `(remote service id << 16) | link id`. A message to such an
//! id is handed to [`route`], which frames it and queues it on the link to
//! that node; a public name registered or removed here is handed to
//! [`announce`], which tells every linked node. The Lua adapter
//! (`lua/cluster/adapter.lua`) only talks to the master and asks for links;
//! calls and replies never run Lua outside the two services involved.
//!
//! * [`frame`]: the messages on a link and their bytes.
//! * [`links`]: the process-wide tables (links, public names, pending calls).
//! * [`transport`]: the listener and the reader/writer tasks of each link.

pub mod frame;
pub mod links;
pub mod transport;

use crate::runtime::message::{Message, ServiceId};
use links::Cluster;
use std::sync::OnceLock;

/// The process's cluster tables (empty until a node joins).
pub fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(Cluster::default)
}

/// Sends `msg` (addressed to a remote id) over its link. Without a link to
/// that node the caller is answered `false, "disconnected"` at once.
pub fn route(msg: Message) {
    if let Err(msg) = cluster().route(msg) {
        crate::runtime::get().fail(msg, "disconnected");
    }
}

/// A public name was bound (`bound`) or unbound by local service `id`.
pub fn announce(name: &str, id: ServiceId, bound: bool) {
    cluster().announce(name, id, bound);
}
