//! What travels between services.
//!
//! Everything a service reacts to arrives as a [`Message`] in its worker's
//! queues: rpc calls, replies, timer expiries, posted functions, spawn and
//! stop requests. One path for all of them keeps ordering simple: messages
//! from one sender to one receiver are handled in send order, because every
//! queue on the way is FIFO.

use crate::codec::wrap;
use crate::error::Error;
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
    /// The answer to one of the receiver's sessions: `payload` = wrap(ok,
    /// values...). `Some` when the runtime failed the call rather than its
    /// handler answering it.
    Reply(Option<Failure>),
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

/// Why a call was failed by the runtime instead of answered by a handler.
/// The reply carries it beside its payload (`false, "<the error's text>"`),
/// so that whoever counts how calls end (`runtime::stats::Outcome`) never
/// has to read the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// No handler of that name, or none the caller may reach.
    NotFound,
    /// The caller stopped waiting.
    Timeout,
    /// The callee ended, or was stopping, before it answered.
    Cancel,
    /// The way to a remote callee is gone.
    Disconnected,
}

impl Failure {
    /// The error the caller sees.
    pub fn error(self) -> Error {
        match self {
            Failure::NotFound => Error::NoHandler,
            Failure::Timeout => Error::Timeout,
            Failure::Cancel => Error::Cancel,
            Failure::Disconnected => Error::Disconnected,
        }
    }

    /// Its number on the wire (cluster frames); never 0.
    pub fn code(self) -> u8 {
        match self {
            Failure::NotFound => 1,
            Failure::Timeout => 2,
            Failure::Cancel => 3,
            Failure::Disconnected => 4,
        }
    }

    pub fn from_code(code: u8) -> Option<Failure> {
        [Failure::NotFound, Failure::Timeout, Failure::Cancel, Failure::Disconnected].into_iter().find(|f| f.code() == code)
    }
}

impl Message {
    /// A reply to `session` of service `to`.
    pub fn reply(to: ServiceId, from: ServiceId, session: Session, payload: Vec<u8>) -> Self {
        Message { to, from, session, kind: Kind::Reply(None), payload }
    }

    /// The runtime's answer `false, why` to call `session` of service `to`.
    pub fn failure(to: ServiceId, from: ServiceId, session: Session, why: Failure) -> Self {
        Message { to, from, session, kind: Kind::Reply(Some(why)), payload: wrap::failure(&why.error().to_string()) }
    }

    /// A payload-less message of `kind` to `to`.
    pub fn signal(to: ServiceId, session: Session, kind: Kind) -> Self {
        Message { to, from: 0, session, kind, payload: Vec::new() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_reply_says_why_in_its_kind_and_its_payload() {
        for why in [Failure::NotFound, Failure::Timeout, Failure::Cancel, Failure::Disconnected] {
            let m = Message::failure(2, 3, 9, why);
            assert!(matches!(m.kind, Kind::Reply(Some(w)) if w == why));
            assert_eq!(m.payload, wrap::failure(&why.error().to_string()));
            assert_eq!(Failure::from_code(why.code()), Some(why));
        }
        assert_eq!(Failure::from_code(0), None);
        assert!(matches!(Message::reply(2, 3, 9, vec![wrap::TRUE]).kind, Kind::Reply(None)));
    }
}
