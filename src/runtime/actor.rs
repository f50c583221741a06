//! What a worker drives: the [`Actor`] trait.
//!
//! The runtime moves messages and keeps time; what a message *means* belongs
//! to the layer above (`service::Service`, a Lua state, or a Rust actor in
//! tests). A worker holds its actors as `Rc<dyn Actor>` and knows nothing
//! else about them, so this layer needs no Lua and no service type.

use crate::runtime::message::{Message, ServiceId};
use crate::runtime::registry::ServiceInfo;
use std::any::Any;
use std::rc::Rc;
use crate::runtime::clock::Tick;

pub trait Actor {
    /// Its id and name, as registered.
    fn info(&self) -> &ServiceInfo;

    fn id(&self) -> ServiceId {
        self.info().id
    }

    /// `name:id`, for log lines.
    fn label(&self) -> String {
        format!("{}:{}", self.info().name, self.info().id)
    }

    /// Handles one message addressed to this actor, in its worker's turn.
    fn handle(self: Rc<Self>, msg: Message);

    /// Asks the actor to stop (shutdown); it leaves its worker when it has ended.
    fn stop(&self);

    /// Fails the calls whose deadline passed; true if some deadlines remain.
    fn expire_calls(&self, now: Tick) -> bool;

    /// Gives up on an actor that did not stop in time at shutdown.
    fn abandon(self: Rc<Self>);

    /// Bytes of memory the actor holds, if it knows (a service: its Lua
    /// heap), for the operators' reports.
    fn heap_bytes(&self) -> Option<usize> {
        None
    }

    /// The actor as `Any`, for the closures of `Kind::Run` messages.
    fn into_any(self: Rc<Self>) -> Rc<dyn Any>;
}
