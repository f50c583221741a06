//! `socket:send`'s C front. An echo server makes one `send` per chunk, and
//! through mlua's safe API and a Lua wrapper (a blocking method must be
//! able to yield) that call cost more than the rest of the server's
//! user-space work per chunk: about 4,000 instructions, for an mlua value
//! per argument, the userdata borrow, the conversion of the answer and two
//! vararg frames. The front is the method itself. It reads the plain case
//! (a socket object and a string, nothing more) straight off the stack and
//! hands it to the socket; any other case (a callback, a number to
//! convert, a wrong argument) goes to the binding `send` (`io.rs`), which
//! also makes the errors. Either way it waits in C, as the prelude's
//! `suspend` would (`raw::call_then_suspend`).
//!
//! The front cannot reach the socket inside mlua's userdata, so a socket
//! object carries its socket's id in user value 1, stamped by
//! [`new_object`]: the front checks the object's metatable, reads the id
//! and finds the socket with `net::socket::find`. The debug library can
//! rewrite a user value; the front then reaches another socket of the same
//! service at most (it checks the owner), as the debug library can break
//! a service's own objects in many other ways.

use super::{Handle, events};
use crate::lua_api::{calling_service, raw};
use crate::net::socket::{self, Shared};
use crate::net::stream::Kind;
use crate::service::WaitKind;
use mlua::{AnyUserData, Function, Lua, Result};
use std::ffi::c_int;
use std::rc::Rc;

/// The user value of a socket object that holds its socket's id.
const ID_SLOT: c_int = 1;

/// A socket object for `shared`.
pub fn new_object(lua: &Lua, shared: Rc<Shared>) -> Result<AnyUserData> {
    let id = shared.id as i64;
    let object = lua.create_userdata(Handle(shared))?;
    // Without the slot (it is always there: mlua gives userdata one) the
    // front would send this object's calls to the binding.
    raw::set_user_value(lua, &object, ID_SLOT, id)?;
    Ok(object)
}

/// The socket method `send`: the front, in front of `binding`.
pub fn send(lua: &Lua, binding: Function) -> Result<Function> {
    // The metatable mlua gives socket objects, from an object made for it.
    let probe = lua.create_userdata(Handle(Shared::new(Kind::Tcp, 0, None)))?;
    let meta = raw::metatable_of(lua, &probe)?.ok_or_else(|| mlua::Error::runtime("socket objects have no metatable"))?;
    let (wait_marker, block) = crate::lua_api::wait_upvalues(lua)?;
    raw::c_closure(lua, send_front, (binding, wait_marker, block, meta))
}

/// What [`send_from_stack`] returns when the stack holds `[nil, session]`.
const WAIT: c_int = -1;

/// Upvalues: the binding, then those of `raw::call_then_wait` (the wait
/// marker, `block` or nil), then the socket objects' metatable.
///
/// # Safety
/// Only Lua calls it, as a C closure made by [`send`].
unsafe extern "C-unwind" fn send_front(l: *mut raw::State) -> c_int {
    // SAFETY: as in rpc.rs's fronts: `c_function_body` drops every Rust
    // value of the fast path before it returns, so this frame owns none
    // when the binding raises an error or the wait longjmps.
    unsafe {
        match raw::c_function_body(l, send_from_stack) {
            0 => raw::call_then_suspend(l),
            WAIT => raw::wait_if_told(l),
            n => n,
        }
    }
}

/// The fast path of [`send_front`], with `send`'s answers: `true`
/// (queued), `false, why`, or [`WAIT`] with the session to wait on (for
/// room in the write budget); `Ok(0)`, the stack untouched, for the
/// binding to judge.
fn send_from_stack(stack: raw::Stack<'_>) -> std::result::Result<c_int, String> {
    // SAFETY: slots 1 and 2 are read only once the top says they exist;
    // each push of a metatable or user value is popped before the next
    // (20 free slots on entry); the string's bytes are copied before the
    // truncate; the answer's pushes have room, the stack having been emptied.
    unsafe {
        if stack.top() != 2 || stack.type_of(1) != raw::Type::UserData || stack.type_of(2) != raw::Type::String {
            return Ok(0);
        }
        if !stack.push_metatable(1) {
            return Ok(0);
        }
        let ours = stack.raw_equal(-1, raw::upvalue(4));
        stack.pop(1);
        if !ours {
            return Ok(0);
        }
        stack.push_user_value(1, ID_SLOT);
        let id = stack.integer(-1);
        stack.pop(1);
        let Some(shared) = id.and_then(|id| socket::find(id as u64)) else { return Ok(0) };
        let Some(svc) = calling_service(stack) else { return Ok(0) };
        // Other services' sockets on this thread are in the table too: a
        // user value rewritten with `debug.setuservalue` must not reach them.
        if shared.owner != svc.id {
            return Ok(0);
        }
        let data = stack.bytes(2).to_vec();
        let room = svc.new_session();
        let queued = shared.enqueue(&svc, data, None, Some(events::wake_status(room)));
        stack.truncate(0);
        match queued {
            Ok(true) => {
                stack.push_boolean(true);
                Ok(1)
            }
            Ok(false) => {
                svc.park(room, WaitKind::Op, None);
                stack.push_nil();
                stack.push_integer(room as i64);
                Ok(WAIT)
            }
            Err(e) => {
                stack.push_boolean(false);
                stack.push_bytes(e.to_string().as_bytes());
                Ok(2)
            }
        }
    }
}
