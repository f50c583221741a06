//! What a NATS node owes and is owed: the bookkeeping of calls, without
//! any network.
//!
//! * **Outgoing**: each call sent as a NATS request gets a token; its reply
//!   subject is `<inbox>.<token>`, so one inbox subscription hears every
//!   answer. The token leads back to the waiting `(caller, session)` and the
//!   name (for `"<name> not found"` when the server reports no responders).
//!   When the server goes away every outgoing call is failed at once.
//! * **Incoming**: a request from another node is handed to a local service
//!   as a call from [`super::CALLER_ID`] under a fresh session; the session
//!   leads back to the request's reply subject when the service answers.
//!   Every accepted call is answered exactly once by the runtime (an answer,
//!   or `"cancel"` when the service is gone), so this table empties itself.
//!
//! An outgoing call whose node died after taking it never gets an answer;
//! its caller times out, which forgets the entry at once ([`Calls::forget`],
//! through the runtime's expired-call hook); [`Calls::sweep`] forgets those
//! whose caller ended before its timeout.

use crate::codec::wrap;
use crate::error::Error;
use crate::runtime::message::{Failure, Kind, Message, ServiceId, Session};
use rustc_hash::FxHashMap as HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

struct Pending {
    caller: ServiceId,
    session: Session,
    name: Arc<str>,
    since: Instant,
}

/// Outgoing calls by token, and the token of each `(caller, session)`.
#[derive(Default)]
struct Outgoing {
    by_token: HashMap<u64, Pending>,
    by_caller: HashMap<(ServiceId, Session), u64>,
}

impl Outgoing {
    fn remove(&mut self, token: u64) -> Option<Pending> {
        let call = self.by_token.remove(&token)?;
        self.by_caller.remove(&(call.caller, call.session));
        Some(call)
    }
}

/// How an answer from the inbox ends an outgoing call.
pub enum Answer<'a> {
    Payload(&'a [u8]),
    /// The server's no-responders status: nobody serves the name.
    NoResponders,
}

#[derive(Default)]
pub struct Calls {
    outgoing: Mutex<Outgoing>,
    next_token: AtomicU64,
    incoming: Mutex<HashMap<Session, String>>,
    next_session: AtomicU32,
}

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Calls {
    /// Records a call of `name` by `(caller, session)`; returns its token.
    pub fn start(&self, caller: ServiceId, session: Session, name: Arc<str>) -> u64 {
        let token = self.next_token.fetch_add(1, Ordering::Relaxed) + 1;
        let mut outgoing = locked(&self.outgoing);
        outgoing.by_token.insert(token, Pending { caller, session, name, since: Instant::now() });
        outgoing.by_caller.insert((caller, session), token);
        token
    }

    /// Forgets the call of `token` (it could not be sent).
    pub fn abandon(&self, token: u64) {
        locked(&self.outgoing).remove(token);
    }

    /// Call `(caller, session)` timed out: its late answer will be dropped.
    pub fn forget(&self, caller: ServiceId, session: Session) {
        let mut outgoing = locked(&self.outgoing);
        if let Some(token) = outgoing.by_caller.get(&(caller, session)).copied() {
            outgoing.remove(token);
        }
    }

    /// The reply for the call of `token`, if it is still pending (an answer
    /// to a forgotten or unknown token is dropped).
    pub fn answer(&self, token: u64, answer: Answer<'_>) -> Option<Message> {
        let call = locked(&self.outgoing).remove(token)?;
        let (failed, payload) = match answer {
            Answer::Payload(bytes) => (None, bytes.to_vec()),
            Answer::NoResponders => {
                (Some(Failure::NotFound), wrap::failure(&Error::NotFound(call.name.to_string()).to_string()))
            }
        };
        Some(Message { to: call.caller, from: 0, session: call.session, kind: Kind::Reply(failed), payload })
    }

    /// Fails every outgoing call with `"disconnected"` (the server went away).
    pub fn fail_all(&self) -> Vec<Message> {
        let mut outgoing = locked(&self.outgoing);
        outgoing.by_caller.clear();
        outgoing.by_token.drain().map(|(_, c)| Message::failure(c.caller, 0, c.session, Failure::Disconnected)).collect()
    }

    /// Forgets outgoing calls older than `age` (their callers gave up long ago).
    pub fn sweep(&self, age: Duration) {
        let now = Instant::now();
        let mut outgoing = locked(&self.outgoing);
        let Outgoing { by_token, by_caller } = &mut *outgoing;
        by_token.retain(|_, c| {
            let keep = now.duration_since(c.since) < age;
            if !keep {
                by_caller.remove(&(c.caller, c.session));
            }
            keep
        });
    }

    pub fn outgoing(&self) -> usize {
        locked(&self.outgoing).by_token.len()
    }

    /// Accepts a request to be answered on `reply`; returns the session the
    /// local service is called with.
    pub fn accept(&self, reply: String) -> Session {
        let mut incoming = locked(&self.incoming);
        loop {
            let session = self.next_session.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
            if session != 0 && !incoming.contains_key(&session) {
                incoming.insert(session, reply);
                return session;
            }
        }
    }

    /// Where the answer for `session` goes (once).
    pub fn reply_subject(&self, session: Session) -> Option<String> {
        locked(&self.incoming).remove(&session)
    }

    pub fn incoming(&self) -> usize {
        locked(&self.incoming).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_reach_the_caller_once() {
        let c = Calls::default();
        let t = c.start(5, 9, Arc::from("echo"));
        let m = c.answer(t, Answer::Payload(b"\xc3\x01")).unwrap();
        assert_eq!((m.to, m.session, m.payload.as_slice()), (5, 9, &b"\xc3\x01"[..]));
        assert!(c.answer(t, Answer::Payload(b"")).is_none(), "answered once");
        assert!(c.answer(12345, Answer::Payload(b"")).is_none(), "unknown token");
        assert_eq!(c.outgoing(), 0);
    }

    #[test]
    fn no_responders_is_not_found() {
        let c = Calls::default();
        let t = c.start(5, 9, Arc::from("svc.x"));
        let m = c.answer(t, Answer::NoResponders).unwrap();
        assert_eq!(m.payload, wrap::failure("svc.x not found"));
        assert!(matches!(m.kind, Kind::Reply(Some(Failure::NotFound))));
    }

    #[test]
    fn tokens_are_distinct_and_abandon_forgets() {
        let c = Calls::default();
        let a = c.start(1, 1, Arc::from("n"));
        let b = c.start(1, 2, Arc::from("n"));
        assert_ne!(a, b);
        c.abandon(a);
        assert_eq!(c.outgoing(), 1);
    }

    #[test]
    fn fail_all_answers_every_pending_call() {
        let c = Calls::default();
        c.start(1, 1, Arc::from("n"));
        c.start(2, 7, Arc::from("m"));
        let mut failed = c.fail_all();
        failed.sort_by_key(|m| m.to);
        assert_eq!(failed.iter().map(|m| (m.to, m.session)).collect::<Vec<_>>(), vec![(1, 1), (2, 7)]);
        assert!(failed.iter().all(|m| m.payload == wrap::failure("disconnected")));
        assert!(failed.iter().all(|m| matches!(m.kind, Kind::Reply(Some(Failure::Disconnected)))));
        assert_eq!(c.outgoing(), 0);
    }

    #[test]
    fn a_timed_out_call_is_forgotten_and_its_late_answer_dropped() {
        let c = Calls::default();
        let t = c.start(5, 9, Arc::from("n"));
        let other = c.start(5, 10, Arc::from("n"));
        c.forget(5, 9);
        c.forget(6, 9);
        assert_eq!(c.outgoing(), 1, "only the call of (5, 9)");
        assert!(c.answer(t, Answer::Payload(b"\xc3")).is_none());
        assert!(c.answer(other, Answer::Payload(b"\xc3")).is_some());
        assert!(locked(&c.outgoing).by_caller.is_empty());
    }

    #[test]
    fn sweep_forgets_only_old_calls() {
        let c = Calls::default();
        c.start(1, 1, Arc::from("n"));
        c.sweep(Duration::from_secs(60));
        assert_eq!(c.outgoing(), 1);
        c.sweep(Duration::ZERO);
        assert_eq!(c.outgoing(), 0);
    }

    #[test]
    fn incoming_sessions_lead_back_to_reply_subjects_once() {
        let c = Calls::default();
        let a = c.accept("_INBOX.x.1".into());
        let b = c.accept("_INBOX.x.2".into());
        assert!(a != 0 && b != 0 && a != b);
        assert_eq!(c.reply_subject(b).as_deref(), Some("_INBOX.x.2"));
        assert_eq!(c.reply_subject(b), None);
        assert_eq!(c.incoming(), 1);
    }

    #[test]
    fn incoming_sessions_skip_zero_and_live_ones() {
        let c = Calls::default();
        c.next_session.store(u32::MAX - 1, Ordering::Relaxed);
        let last = c.accept("a".into());
        assert_eq!(last, u32::MAX);
        let wrapped = c.accept("b".into());
        assert_eq!(wrapped, 1, "0 is never a session");
        c.next_session.store(u32::MAX - 1, Ordering::Relaxed);
        assert_eq!(c.accept("c".into()), 2, "a live session is not reused");
    }
}
