//! What travels between services.
//!
//! Everything a service reacts to arrives as a [`Message`] in its worker's
//! queues: rpc calls, replies, timer expiries, posted functions, spawn and
//! stop requests. One path for all of them keeps ordering simple: messages
//! from one sender to one receiver are handled in send order, because every
//! queue on the way is FIFO.

use crate::runtime::worker::Worker;
use std::any::Any;
use std::rc::Rc;
use std::sync::Arc;

/// A service id: `1..=0xFFFF` for local services (ids above denote remote callers).
pub type ServiceId = u32;

/// A session number, unique per service; 0 means "no reply wanted".
pub type Session = u32;

/// One message to one service.
pub struct Message {
    /// The service that handles it.
    pub to: ServiceId,
    /// The sender (0 for the runtime itself).
    pub from: ServiceId,
    /// For a call: the caller's session to answer (0: none). For a reply or
    /// a wake-up: the session of the receiver that waits for it.
    pub session: Session,
    pub kind: Kind,
    /// `wrap`ped values: call arguments, or reply values (status first).
    pub payload: Vec<u8>,
}

/// What a message asks of its receiver.
pub enum Kind {
    /// Run the handler registered under this name.
    Call(Arc<str>),
    /// The answer to one of the receiver's sessions: `payload` = wrap(ok, values...).
    Reply,
    /// A local wait of the receiver ended (a sleep, a yield to queued events).
    Wake,
    /// The receiver's `os.timer` object `key` fired (for its arming `arm`).
    Timer { key: u64, arm: u64 },
    /// Run the receiver's posted functions.
    Post,
    /// Create the service `to` on the receiving worker: the layer that asked
    /// for it knows how (the runtime only delivers the request to the worker).
    Spawn(Box<dyn FnOnce(&Rc<Worker>) + Send>),
    /// Stop the receiver (as `os.stop` inside it).
    Stop,
    /// Run this on the receiver (given as `Any`, see [`Actor::into_any`]):
    /// how a local task (socket I/O, ...) hands its result to its service.
    /// Never crosses a process boundary.
    ///
    /// [`Actor::into_any`]: crate::runtime::actor::Actor::into_any
    Run(Box<dyn FnOnce(Rc<dyn Any>) + Send>),
    /// The worker itself must stop all its services and exit (`to` is ignored).
    Shutdown,
}

impl Message {
    /// A reply to `session` of service `to`.
    pub fn reply(to: ServiceId, from: ServiceId, session: Session, payload: Vec<u8>) -> Self {
        Message { to, from, session, kind: Kind::Reply, payload }
    }

    /// A payload-less message of `kind` to `to`.
    pub fn signal(to: ServiceId, session: Session, kind: Kind) -> Self {
        Message { to, from: 0, session, kind, payload: Vec::new() }
    }
}
