//! What an operator does inside a live service (console `gc` and `inject`).
//!
//! Both must run on the service's own state, hence on its worker and in its
//! turn: the operator's service sends it a `Kind::Run` message and waits
//! on a session for the answer, which comes back as a reply. If the target
//! ends first, the wait ends with the operator's call timeout.

use super::scheduler::{Ctx, CtxKind, error_message, success_payload};
use super::{Service, run_on};
use crate::codec::wrap;
use crate::runtime::message::{Message, ServiceId, Session};
use mlua::{Function, MultiValue};
use std::rc::Rc;

/// Turns the injected chunk's results into strings, so that anything it
/// returns (a function, a userdata) can be shown.
const AS_STRINGS: &str = "local f = ...
return function()
  local r = table.pack(f())
  for i = 1, r.n do r[i] = tostring(r[i]) end
  return table.unpack(r, 1, r.n)
end";

impl Service {
    /// A full garbage collection of this service's heap; returns the bytes freed.
    pub fn collect_garbage(&self) -> u64 {
        let before = self.lua.used_memory();
        // Twice: objects with finalizers are freed by the second cycle.
        let _ = self.lua.gc_collect();
        let _ = self.lua.gc_collect();
        let after = self.lua.used_memory();
        self.info.stats.memory.set(after as u64);
        before.saturating_sub(after) as u64
    }

    /// Asks service `target` for a full collection. The answer, `true, bytes
    /// freed`, comes on the returned session.
    pub fn request_gc(&self, target: ServiceId) -> Session {
        let (me, session) = (self.id, self.new_session());
        run_on(target, move |svc| {
            let freed = mlua::Value::Integer(svc.collect_garbage() as i64);
            svc.send(Message::reply(me, svc.id, session, success_payload([&freed])));
        });
        session
    }

    /// Asks service `target` to run the Lua file `path` (a hot fix). The
    /// answer comes on the returned session: `true, results...` (as
    /// strings) or `false, error`.
    pub fn request_inject(&self, target: ServiceId, path: String) -> Session {
        let (me, session) = (self.id, self.new_session());
        run_on(target, move |svc| svc.inject(me, session, &path));
        session
    }

    /// Runs the Lua file `path` on this state as an event of its own,
    /// answering `session` of `caller` as a call is answered.
    fn inject(self: &Rc<Self>, caller: ServiceId, session: Session, path: &str) {
        self.count_event();
        self.expect_answer(caller, session);
        let runner = self
            .lua
            .load(std::path::Path::new(path))
            .into_function()
            .and_then(|chunk| self.lua.load(AS_STRINGS).set_name("=skynet.inject").call::<Function>(chunk));
        match runner {
            Ok(runner) => {
                let ctx = Ctx { kind: CtxKind::Handler, caller, session, deferred: false };
                self.start(runner, ctx, MultiValue::new());
            }
            Err(e) => {
                self.answer(caller, session, wrap::failure(&error_message(&e)));
            }
        }
    }
}
