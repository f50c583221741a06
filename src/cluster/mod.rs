//! Cluster mode: rpc across processes (docs/API.md §18).
//!
//! Remote handlers are ordinary members of the name registry whose ids are
//! above 0xFFFF: `(remote service id << 16) | link id`. A message to such an
//! id is handed to the route the cluster registers with the runtime
//! ([`plug_in`]), which frames it and queues it on the link to that node; a
//! public name bound or unbound by a local service reaches the observer it
//! registers, which tells every linked node. The Lua adapter
//! (`lua/cluster/adapter.lua`) only talks to the master and asks for links;
//! calls and replies never run Lua outside the two services involved.
//!
//! * [`frame`]: the messages on a link and their bytes.
//! * [`handshake`]: the proof of the shared key that opens every connection.
//! * [`trust`]: the key, TLS material and protected mode of this process.
//! * [`links`]: the process-wide tables (links, public names, pending calls).
//! * [`transport`]: the listener, the handshakes and the reader/writer tasks of each link.
//! * [`nats`]: the other transport, nodes meeting through a NATS server
//!   (remote ids whose low 16 bits, the mesh's link id, are zero).

pub mod frame;
pub mod handshake;
pub mod links;
pub mod nats;
pub mod transport;
pub mod trust;

use crate::runtime::Runtime;
use links::Cluster;
use std::sync::OnceLock;

/// The process's cluster tables (empty until a node joins).
pub fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(Cluster::default)
}

/// Plugs the cluster into the runtime: messages to remote ids go to their
/// link, or to NATS for its reserved ids (without a way there the caller is
/// answered `false, "disconnected"` by the runtime), and public names bound
/// or unbound by local services are announced to linked nodes and to NATS;
/// a sender to a remote id whose link's queue is over its mark waits for
/// room; a call that timed out is no longer pending on its link or on NATS.
pub fn plug_in(rt: &Runtime) {
    rt.route_remote(Box::new(|msg| if nats::owns(msg.to) { nats::nats().route(msg) } else { cluster().route(msg) }));
    rt.room_remote(cluster());
    rt.on_call_expired(Box::new(|caller, session| {
        cluster().forget(caller, session);
        nats::nats().forget(caller, session);
    }));
    rt.names.observe_public(Box::new(|name, id, bound| {
        cluster().announce(name, id, bound);
        nats::nats().announce(name, id, bound);
    }));
}
