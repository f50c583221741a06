//! Cluster mode: rpc across processes (API.md §18).
//!
//! Remote handlers are ordinary members of the name registry whose ids are
//! above 0xFFFF: `(remote service id << 16) | link id`. A message to such an
//! id is handed to [`route`], which passes it to the link to that node; a
//! public name registered or removed here is handed to [`announce`], which
//! tells every linked node.

use crate::runtime::message::{Message, ServiceId};

/// Sends `msg` (addressed to a remote id) over its link. Without a link to
/// that node the caller is answered `false, "disconnected"` at once.
pub fn route(msg: Message) {
    crate::runtime::get().fail(msg, "disconnected");
}

/// A public name was bound (`bound`) or unbound by local service `id`.
pub fn announce(_name: &str, _id: ServiceId, _bound: bool) {}
