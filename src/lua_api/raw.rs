//! The raw Lua C API (`mlua::ffi`), fenced in one module.
//!
//! Everything else goes through mlua's safe API. Two places cannot afford
//! it: `json.encode`/`json.decode` walk values on the Lua stack directly,
//! because mlua's `Table`/`Value` handles cost a registry reference per
//! nested table and string, several times the cost of the JSON work itself
//! (see `json.rs`). The C fronts of `pcall`, `rpc.deliver` (`rpc.rs`) and
//! `socket:send` (`io/front.rs`) read their common case off the stack for
//! the same reason. And a few set-up steps need what mlua keeps to itself:
//! the metatable of its error objects ([`error_object_metatable`]) or of a
//! userdata type ([`metatable_of`]), a userdata's user value
//! ([`set_user_value`]). This module gives them a small, typed surface
//! over `*mut lua_State`:
//!
//! * [`c_closure`] makes a C closure of an `extern "C-unwind"` function,
//!   and [`c_function_body`] runs such a function's body so that neither a
//!   Rust panic nor a Lua error (a longjmp) crosses Rust frames that own
//!   values;
//! * [`Stack`] is the running C function's stack: reads, pushes and raw
//!   table access, one method per C call, nothing that can call Lua code
//!   (no metamethods), so the only Lua error possible inside is
//!   out-of-memory;
//! * [`Guard`] records the stack top and puts it back: on drop (an error
//!   path discards whatever was left), or checked with a debug assertion
//!   when a section ends normally ([`Guard::leave`]);
//! * [`call_then_wait`] and [`call_then_suspend`] run Lua code and yield:
//!   the fallbacks of `rpc.deliver`'s and `send`'s fronts, where a Lua
//!   wrapper would cost a vararg frame on every message.
//!
//! The contract of every `unsafe fn` on [`Stack`] is the C API's own: an
//! index argument names a live slot (or an upvalue pseudo-index, see
//! [`upvalue`]), a table argument holds a table, and a push has room
//! ([`Stack::reserve`]; Lua guarantees 20 free slots on entry to a C
//! function). Checking these at run time would double the cost of the
//! json walks; the callers keep them by construction and say how at each
//! `unsafe` block.

use std::ffi::{c_int, c_void};
use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind};

use mlua::{AnyUserData, Function, IntoLua, IntoLuaMulti, Lua, Result, Table, Value, ffi};

/// The C state type, for the signatures of `extern "C-unwind"` functions.
pub use ffi::lua_State as State;

/// A Lua C function. (`unsafe` to call: only Lua calls it, with its state.)
pub type CFunction = unsafe extern "C-unwind" fn(*mut State) -> c_int;

/// The pseudo-index of upvalue `n` (1-based) of the running C closure.
pub const fn upvalue(n: c_int) -> c_int {
    ffi::lua_upvalueindex(n)
}

/// A value's type, as `lua_type` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// An index past the top.
    None,
    Nil,
    Boolean,
    LightUserData,
    Number,
    String,
    Table,
    Function,
    UserData,
    Thread,
}

impl Type {
    #[inline]
    fn from_raw(t: c_int) -> Type {
        match t {
            ffi::LUA_TNIL => Type::Nil,
            ffi::LUA_TBOOLEAN => Type::Boolean,
            ffi::LUA_TLIGHTUSERDATA => Type::LightUserData,
            ffi::LUA_TNUMBER => Type::Number,
            ffi::LUA_TSTRING => Type::String,
            ffi::LUA_TTABLE => Type::Table,
            ffi::LUA_TFUNCTION => Type::Function,
            ffi::LUA_TUSERDATA => Type::UserData,
            ffi::LUA_TTHREAD => Type::Thread,
            _ => Type::None,
        }
    }

    /// The name Lua's `type()` gives it (`"no value"` for [`Type::None`],
    /// as in the stock `bad argument` messages).
    pub fn name(self) -> &'static str {
        match self {
            Type::None => "no value",
            Type::Nil => "nil",
            Type::Boolean => "boolean",
            Type::LightUserData | Type::UserData => "userdata",
            Type::Number => "number",
            Type::String => "string",
            Type::Table => "table",
            Type::Function => "function",
            Type::Thread => "thread",
        }
    }
}

/// Makes a C closure of `f` whose upvalues are `upvalues`, in order.
pub fn c_closure(lua: &Lua, f: CFunction, upvalues: impl IntoLuaMulti) -> Result<Function> {
    // SAFETY: exec_raw runs the closure in a protected call whose stack holds
    // exactly the pushed upvalues; lua_pushcclosure pops them all (gettop of
    // them) and leaves the closure, which exec_raw returns.
    unsafe { lua.exec_raw(upvalues, |l| ffi::lua_pushcclosure(l, f, ffi::lua_gettop(l))) }
}

/// A C closure's body: calls upvalue 1 with the closure's own arguments
/// and returns the first result, unless a second one comes back: that is
/// the session of a wait (see `Service::suspend`), waited for as the
/// prelude's `suspend` does it. The closure yields `(upvalue 2, session)`
/// (upvalue 2 is the wait marker) and returns whatever it is resumed with;
/// where nothing can yield and upvalue 3 is a function (the main script's
/// `core.block`), it calls that with the session and returns its results.
/// A service that cannot yield there gets the stock error of `lua_yield`.
///
/// # Safety
/// Only Lua calls it, as a C closure with those upvalues (see [`c_closure`]).
pub unsafe extern "C-unwind" fn call_then_wait(l: *mut State) -> c_int {
    // SAFETY: Lua calls it as such a closure, so upvalue 1 is the function
    // and this is the body's last act.
    unsafe {
        call_upvalue(l, 2);
        wait_if_told(l)
    }
}

/// Calls upvalue 1 of the running C closure with the closure's own
/// arguments, which it replaces with `nresults` results (`LUA_MULTRET`: all
/// of them); returns how many values the stack then holds. The fallback of
/// a front that handles the common case itself (`rpc.rs`).
///
/// # Safety
/// Only the body of a C closure whose upvalue 1 is a function calls it.
pub unsafe fn call_upvalue(l: *mut State, nresults: c_int) -> c_int {
    // SAFETY: the caller's contract. The caller's frame owns no Rust value
    // (its contract too), so the longjmp of an error raised by the call
    // crosses nothing that needs dropping; the arguments are moved, not
    // copied (20 free slots on entry).
    unsafe {
        let n = ffi::lua_gettop(l);
        ffi::lua_pushvalue(l, upvalue(1));
        ffi::lua_insert(l, 1);
        ffi::lua_call(l, n, nresults);
        ffi::lua_gettop(l)
    }
}

/// The fallback of a front whose upvalue 1 answers as the Rust half of a
/// blocking function does (`returns::at_once`): `nil` then the values, or
/// the session to wait on alone. Calls it with the closure's own arguments
/// and returns those values, or waits for the session as
/// [`call_then_wait`] does (same upvalues 2 and 3): the prelude's
/// `suspend`, in C, without a Lua wrapper's vararg frames.
///
/// # Safety
/// Only the body of a C closure with `call_then_wait`'s upvalues calls it,
/// as its last act.
pub unsafe fn call_then_suspend(l: *mut State) -> c_int {
    // SAFETY: the caller's contract; the stack holds the call's results,
    // with room for one more value (20 free slots on entry).
    unsafe {
        let n = call_upvalue(l, ffi::LUA_MULTRET);
        if n == 0 || ffi::lua_type(l, 1) == ffi::LUA_TNIL {
            if n > 0 {
                ffi::lua_remove(l, 1);
            }
            return (n - 1).max(0);
        }
        // [session] -> [nil, session]
        ffi::lua_settop(l, 1);
        ffi::lua_pushnil(l);
        ffi::lua_insert(l, 1);
        wait_if_told(l)
    }
}

/// The end of [`call_then_wait`], for a front that did the work itself:
/// with the stack holding exactly `[first, session or nil]`, returns
/// `first` if there is no session, else waits for it as `call_then_wait`
/// does (same upvalues).
///
/// # Safety
/// Only the body of a C closure with `call_then_wait`'s upvalues calls it,
/// as its last act, with the stack as said.
pub unsafe fn wait_if_told(l: *mut State) -> c_int {
    // SAFETY: the caller's contract. This frame owns no Rust value, so the
    // longjmp of an error raised by `block` (or by lua_yield where nothing
    // can yield) crosses nothing that needs dropping. At most one value is
    // pushed on top of the two.
    unsafe {
        if ffi::lua_type(l, -1) == ffi::LUA_TNIL {
            ffi::lua_settop(l, 1);
            return 1;
        }
        if ffi::lua_isyieldable(l) == 0 && ffi::lua_type(l, upvalue(3)) == ffi::LUA_TFUNCTION {
            ffi::lua_pushvalue(l, upvalue(3));
            ffi::lua_insert(l, 2);
            // [first, block, session] -> [first, results...]
            ffi::lua_call(l, 1, ffi::LUA_MULTRET);
            return ffi::lua_gettop(l) - 1;
        }
        ffi::lua_pushvalue(l, upvalue(2));
        ffi::lua_replace(l, 1);
        // [marker, session]: the values a wait yields
        ffi::lua_yield(l, 2)
    }
}

/// Runs the body of a C function called with state `l` and returns its
/// result count; a failure (`Err(message)` or a panic) becomes a Lua error
/// `"<where>: <message>"`. The body's Rust values are all dropped before the
/// error is raised (`lua_error` longjmps over this frame).
///
/// # Safety
/// `l` is the state Lua called the running C function with, and this is
/// called from that function, as its last act.
pub unsafe fn c_function_body(l: *mut State, body: impl FnOnce(Stack<'_>) -> std::result::Result<c_int, String>) -> c_int {
    // SAFETY: the caller's contract is the handle's.
    let stack = unsafe { Stack::new(l) };
    let msg = match catch_unwind(AssertUnwindSafe(|| body(stack))) {
        Ok(Ok(n)) => return n,
        Ok(Err(msg)) => msg,
        Err(_) => "internal error".to_owned(),
    };
    // SAFETY: `l` is live. Emptying the stack (lua_error would discard it
    // anyway) gives back the 20 slots a C function has on entry; luaL_where,
    // the message and lua_concat need two. `msg` is copied by
    // lua_pushlstring and dropped before the longjmp.
    unsafe {
        ffi::lua_settop(l, 0);
        ffi::luaL_where(l, 1);
        ffi::lua_pushlstring(l, msg.as_ptr().cast(), msg.len());
        drop(msg);
        ffi::lua_concat(l, 2);
        ffi::lua_error(l)
    }
}

/// A light C function: a bare pointer into the Lua library, no upvalues.
pub type Pointer = ffi::lua_CFunction;

/// The C functions of a stock library, by name: the library is built by its
/// `luaopen_*` function in `lua` (which registers nothing) and read off.
///
/// Why: a stock library's functions are light C functions, the same
/// pointers in every state. A process reads them once, and every later
/// state gets each one, when first read, without building the library
/// (see `lazy::stock_libraries`).
pub fn library_functions(lua: &Lua, open: Pointer) -> Result<Vec<(String, Pointer)>> {
    // SAFETY: `open` is a luaopen_* function of the linked library.
    let library: Table = unsafe { lua.create_c_function(open)? }.call(())?;
    c_functions_in(lua, &library)
}

/// The light C functions among the fields of `t`, by name.
pub fn c_functions_in(lua: &Lua, t: &Table) -> Result<Vec<(String, Pointer)>> {
    let mut found = Vec::new();
    for pair in t.pairs::<Value, Value>() {
        let (Value::String(name), Value::Function(function)) = pair? else { continue };
        let mut pointer = None;
        // SAFETY: exec_raw's stack holds `function` alone, which
        // lua_tocfunction only reads.
        unsafe { lua.exec_raw::<()>(function, |l| pointer = ffi::lua_tocfunction(l, -1))? };
        if let Some(pointer) = pointer {
            found.push((name.to_str()?.to_owned(), pointer));
        }
    }
    Ok(found)
}

/// A light C function of `lua` (it allocates nothing).
pub fn light_function(lua: &Lua, pointer: Pointer) -> Result<Function> {
    // SAFETY: every `Pointer` comes from lua_tocfunction on a function of
    // the linked library (see `library_functions`).
    unsafe { lua.create_c_function(pointer) }
}

/// The metatable `value` has, if any, whatever its type (the metatable
/// of a string is that of every string; mlua hands out neither that one
/// nor a userdata's as a plain table).
pub fn metatable_of(lua: &Lua, value: impl IntoLua) -> Result<Option<Table>> {
    // SAFETY: exec_raw's stack holds `value` alone; lua_getmetatable pushes
    // its metatable or nothing; keep only the metatable, which exec_raw
    // returns.
    unsafe {
        lua.exec_raw(value, |l| {
            if ffi::lua_getmetatable(l, -1) == 0 {
                ffi::lua_settop(l, 0);
            } else {
                ffi::lua_remove(l, -2);
            }
        })
    }
}

/// Sets user value `n` of userdata `ud` to the integer `value` (read
/// back with [`Stack::push_user_value`]); `false` if `ud` has no such slot.
pub fn set_user_value(lua: &Lua, ud: &AnyUserData, n: c_int, value: i64) -> Result<bool> {
    // SAFETY: exec_raw's stack holds `ud` then `value`; lua_setiuservalue
    // pops the value (whether or not the slot exists), leaving `ud`, which
    // is cleared so that nothing is returned.
    unsafe {
        lua.exec_raw::<bool>((ud, value), |l| {
            let set = ffi::lua_setiuservalue(l, 1, n) != 0;
            ffi::lua_settop(l, 0);
            ffi::lua_pushboolean(l, c_int::from(set));
        })
    }
}

/// Makes `meta` the metatable of every string in `lua`.
pub fn set_string_metatable(lua: &Lua, meta: &Table) -> Result<()> {
    // SAFETY: exec_raw's stack holds `meta` alone, a table; push a string,
    // then a copy of `meta`, which lua_setmetatable pops; clear the rest.
    unsafe {
        lua.exec_raw::<()>(meta, |l| {
            ffi::lua_pushstring(l, c"".as_ptr());
            ffi::lua_pushvalue(l, 1);
            ffi::lua_setmetatable(l, -2);
            ffi::lua_settop(l, 0);
        })
    }
}

/// The metatable mlua gives the error objects raised by Rust functions
/// (one per state), found by raising one with `probe`, which must fail.
pub fn error_object_metatable(lua: &Lua, probe: Function) -> Result<Option<Table>> {
    // SAFETY: exec_raw's stack holds `probe` alone; lua_pcall replaces it by
    // the error object, lua_getmetatable pushes its metatable or nothing.
    // Whatever is left above the error object is returned (none or one table).
    unsafe {
        lua.exec_raw(probe, |l| {
            if ffi::lua_pcall(l, 0, 1, 0) == ffi::LUA_OK || ffi::lua_getmetatable(l, -1) == 0 {
                ffi::lua_settop(l, 0);
            } else {
                ffi::lua_remove(l, -2);
            }
        })
    }
}

/// The stack of a running C function, as a handle: `Copy`, and bound to
/// the thread and the call by not being `Send` and by its lifetime.
#[derive(Clone, Copy)]
pub struct Stack<'a> {
    l: *mut State,
    _call: PhantomData<&'a mut State>,
}

impl<'a> Stack<'a> {
    /// # Safety
    /// `l` is the state of a C function that is running and outlives `'a`.
    unsafe fn new(l: *mut State) -> Self {
        Stack { l, _call: PhantomData }
    }

    /// The `Lua` handle of this state.
    pub fn lua(self) -> &'a Lua {
        // SAFETY: every state we run in was set up by mlua (a service's, or
        // the main script's when it required us), which keeps the handle in
        // the state's registry for the state's whole life, so past 'a. The
        // lookup pushes and pops one value (20 free slots on entry).
        unsafe { Lua::get_or_init_from_ptr(self.l) }
    }

    /// The index of the top slot (the number of values on the stack).
    #[inline]
    pub fn top(self) -> c_int {
        // SAFETY: `l` is live (the handle's contract); lua_gettop only reads.
        unsafe { ffi::lua_gettop(self.l) }
    }

    /// Makes room for `n` more values; `false` if the stack cannot grow so far.
    #[inline]
    pub fn reserve(self, n: c_int) -> bool {
        // SAFETY: `l` is live; lua_checkstack takes any `n` and only grows the stack.
        unsafe { ffi::lua_checkstack(self.l, n) != 0 }
    }

    /// # Safety
    /// `idx` is valid (module docs).
    #[inline]
    pub unsafe fn type_of(self, idx: c_int) -> Type {
        // SAFETY: the caller's contract.
        Type::from_raw(unsafe { ffi::lua_type(self.l, idx) })
    }

    /// # Safety
    /// `idx` is valid (module docs).
    #[inline]
    pub unsafe fn to_boolean(self, idx: c_int) -> bool {
        // SAFETY: the caller's contract.
        unsafe { ffi::lua_toboolean(self.l, idx) != 0 }
    }

    /// The integer at `idx` if it is one (a float with an integer value is not).
    ///
    /// # Safety
    /// `idx` is valid (module docs).
    #[inline]
    pub unsafe fn integer(self, idx: c_int) -> Option<i64> {
        // SAFETY: the caller's contract; both calls only read.
        unsafe {
            if ffi::lua_isinteger(self.l, idx) != 0 { Some(ffi::lua_tointegerx(self.l, idx, std::ptr::null_mut())) } else { None }
        }
    }

    /// The number at `idx` as a float.
    ///
    /// # Safety
    /// `idx` is valid (module docs).
    #[inline]
    pub unsafe fn float(self, idx: c_int) -> f64 {
        // SAFETY: the caller's contract; lua_tonumberx only reads.
        unsafe { ffi::lua_tonumberx(self.l, idx, std::ptr::null_mut()) }
    }

    /// The bytes of the string at `idx`; a number there is converted to a
    /// string in place, as `luaL_checklstring` does (which confuses
    /// `lua_next` if it is a table key: read number keys with
    /// [`integer`](Self::integer)/[`float`](Self::float)). Empty for other types.
    ///
    /// # Safety
    /// `idx` is valid (module docs), and the slice is not used after the
    /// string leaves that slot (Lua may then collect it).
    #[inline]
    pub unsafe fn bytes<'s>(self, idx: c_int) -> &'s [u8] {
        let mut len = 0usize;
        // SAFETY: the caller's contract; a non-null result points at `len`
        // bytes owned by the string, which stays alive while in its slot.
        unsafe {
            let p = ffi::lua_tolstring(self.l, idx, &mut len);
            if p.is_null() { &[] } else { std::slice::from_raw_parts(p.cast::<u8>(), len) }
        }
    }

    /// The address of the (light or full) userdata at `idx`; null for other types.
    ///
    /// # Safety
    /// `idx` is valid (module docs).
    #[inline]
    pub unsafe fn userdata(self, idx: c_int) -> *mut c_void {
        // SAFETY: the caller's contract; lua_touserdata only reads.
        unsafe { ffi::lua_touserdata(self.l, idx) }
    }

    /// Whether the values at `a` and `b` are primitively equal (no `__eq`).
    ///
    /// # Safety
    /// `a` and `b` are valid (module docs).
    #[inline]
    pub unsafe fn raw_equal(self, a: c_int, b: c_int) -> bool {
        // SAFETY: the caller's contract.
        unsafe { ffi::lua_rawequal(self.l, a, b) != 0 }
    }

    /// Pushes the metatable of the value at `idx` and returns `true`, or
    /// pushes nothing and returns `false`.
    ///
    /// # Safety
    /// `idx` is valid and there is room for one value (module docs).
    #[inline]
    pub unsafe fn push_metatable(self, idx: c_int) -> bool {
        // SAFETY: the caller's contract.
        unsafe { ffi::lua_getmetatable(self.l, idx) != 0 }
    }

    /// Pushes user value `n` of the full userdata at `idx` and returns its
    /// type ([`Type::None`], having pushed nil, if there is no such slot).
    ///
    /// # Safety
    /// `idx` holds a full userdata and there is room for one value (module docs).
    #[inline]
    pub unsafe fn push_user_value(self, idx: c_int, n: c_int) -> Type {
        // SAFETY: the caller's contract.
        Type::from_raw(unsafe { ffi::lua_getiuservalue(self.l, idx, n) })
    }

    /// Pushes `t[name]` (no metamethods) and returns its type.
    ///
    /// # Safety
    /// `t` holds a table and there is room for one value (module docs).
    #[inline]
    pub unsafe fn push_raw_field(self, t: c_int, name: &[u8]) -> Type {
        // SAFETY: the caller's contract; `name` is copied by lua_pushlstring,
        // whose result lua_rawget replaces by the value.
        unsafe {
            ffi::lua_pushlstring(self.l, name.as_ptr().cast(), name.len());
            Type::from_raw(ffi::lua_rawget(self.l, after_push(t)))
        }
    }

    /// Pops a key and pushes `t[key]` (no metamethods).
    ///
    /// # Safety
    /// `t` holds a table, a key is on top (module docs).
    #[inline]
    pub unsafe fn raw_get(self, t: c_int) {
        // SAFETY: the caller's contract.
        unsafe { ffi::lua_rawget(self.l, t) };
    }

    /// Pushes `t[i]` (no metamethods).
    ///
    /// # Safety
    /// `t` holds a table and there is room for one value (module docs).
    #[inline]
    pub unsafe fn push_raw_index(self, t: c_int, i: i64) {
        // SAFETY: the caller's contract.
        unsafe { ffi::lua_rawgeti(self.l, t, i) };
    }

    /// Pops a key and pushes the next key and its value (`true`), or pushes
    /// nothing at the end of the table (`false`); `nil` starts a walk.
    ///
    /// # Safety
    /// `t` holds a table, a key of it (or nil) is on top and there is room
    /// for one more value (module docs).
    #[inline]
    pub unsafe fn next(self, t: c_int) -> bool {
        // SAFETY: the caller's contract.
        unsafe { ffi::lua_next(self.l, t) != 0 }
    }

    /// Pops a value and sets `t[i]` to it (no metamethods).
    ///
    /// # Safety
    /// `t` holds a table and a value is on top (module docs).
    #[inline]
    pub unsafe fn raw_set_index(self, t: c_int, i: i64) {
        // SAFETY: the caller's contract.
        unsafe { ffi::lua_rawseti(self.l, t, i) };
    }

    /// Pops a value and a key below it and sets `t[key]` (no metamethods).
    ///
    /// # Safety
    /// `t` holds a table, a key and a value are on top (module docs).
    #[inline]
    pub unsafe fn raw_set(self, t: c_int) {
        // SAFETY: the caller's contract.
        unsafe { ffi::lua_rawset(self.l, t) };
    }

    /// Pops a table and makes it the metatable of the value at `idx`.
    ///
    /// # Safety
    /// `idx` is valid and a table is on top (module docs).
    #[inline]
    pub unsafe fn set_metatable(self, idx: c_int) {
        // SAFETY: the caller's contract.
        unsafe { ffi::lua_setmetatable(self.l, idx) };
    }

    /// Pushes a new table with room for `narr` array and `nrec` other entries.
    ///
    /// # Safety
    /// There is room for one value (module docs).
    #[inline]
    pub unsafe fn push_table(self, narr: c_int, nrec: c_int) {
        // SAFETY: the caller's contract.
        unsafe { ffi::lua_createtable(self.l, narr, nrec) };
    }

    /// Moves the top value down to `idx`, shifting the values above `idx` up.
    ///
    /// # Safety
    /// `idx` is a valid stack slot (not a pseudo-index; module docs).
    #[inline]
    pub unsafe fn insert(self, idx: c_int) {
        // SAFETY: the caller's contract.
        unsafe { ffi::lua_rotate(self.l, idx, 1) };
    }

    /// Pushes a copy of the value at `idx`.
    ///
    /// # Safety
    /// `idx` is valid and there is room for one value (module docs).
    #[inline]
    pub unsafe fn push_copy(self, idx: c_int) {
        // SAFETY: the caller's contract.
        unsafe { ffi::lua_pushvalue(self.l, idx) };
    }

    /// # Safety
    /// There is room for one value (module docs).
    #[inline]
    pub unsafe fn push_nil(self) {
        // SAFETY: the caller's contract.
        unsafe { ffi::lua_pushnil(self.l) };
    }

    /// # Safety
    /// There is room for one value (module docs).
    #[inline]
    pub unsafe fn push_boolean(self, b: bool) {
        // SAFETY: the caller's contract.
        unsafe { ffi::lua_pushboolean(self.l, c_int::from(b)) };
    }

    /// # Safety
    /// There is room for one value (module docs).
    #[inline]
    pub unsafe fn push_integer(self, n: i64) {
        // SAFETY: the caller's contract.
        unsafe { ffi::lua_pushinteger(self.l, n) };
    }

    /// # Safety
    /// There is room for one value (module docs).
    #[inline]
    pub unsafe fn push_float(self, x: f64) {
        // SAFETY: the caller's contract.
        unsafe { ffi::lua_pushnumber(self.l, x) };
    }

    /// Pushes a Lua string holding a copy of `s`.
    ///
    /// # Safety
    /// There is room for one value (module docs).
    #[inline]
    pub unsafe fn push_bytes(self, s: &[u8]) {
        // SAFETY: the caller's contract; Lua copies the bytes.
        unsafe { ffi::lua_pushlstring(self.l, s.as_ptr().cast(), s.len()) };
    }

    /// Pushes the NULL light userdata (`json.null`).
    ///
    /// # Safety
    /// There is room for one value (module docs).
    #[inline]
    pub unsafe fn push_null(self) {
        // SAFETY: the caller's contract; a light userdata is never dereferenced by Lua.
        unsafe { ffi::lua_pushlightuserdata(self.l, std::ptr::null_mut()) };
    }

    /// Pops `n` values.
    ///
    /// # Safety
    /// At least `n` values are on the stack (module docs).
    #[inline]
    pub unsafe fn pop(self, n: c_int) {
        // SAFETY: the caller's contract.
        unsafe { ffi::lua_settop(self.l, -n - 1) };
    }

    /// Drops the values above slot `top`.
    ///
    /// # Safety
    /// `top` is at most the current top (module docs).
    #[inline]
    pub unsafe fn truncate(self, top: c_int) {
        // SAFETY: the caller's contract.
        unsafe { ffi::lua_settop(self.l, top) };
    }
}

/// Where the value at `idx` is after one push: a relative (negative) index
/// moves one down, absolute and pseudo-indices stay.
#[inline]
fn after_push(idx: c_int) -> c_int {
    idx - c_int::from(idx < 0 && idx > ffi::LUA_REGISTRYINDEX)
}

/// Keeps a section of code from leaving the stack unbalanced: records the
/// top when made and, when dropped, truncates the stack back to it (so an
/// error path that returns with values still pushed gives them back). A
/// section that ends normally calls [`leave`](Self::leave), which checks,
/// in debug builds, that it left exactly the values it meant to.
pub struct Guard<'a> {
    stack: Stack<'a>,
    base: c_int,
}

impl<'a> Guard<'a> {
    pub fn new(stack: Stack<'a>) -> Self {
        Guard { stack, base: stack.top() }
    }

    /// The top when the guard was made.
    pub fn base(&self) -> c_int {
        self.base
    }

    /// Ends the section, which leaves `results` values above the base.
    #[inline]
    pub fn leave(self, results: c_int) {
        debug_assert_eq!(self.stack.top(), self.base + results, "unbalanced Lua stack");
        std::mem::forget(self);
    }
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        // SAFETY: `base` was the top once during this C call. Lua never takes
        // back stack room from a running C function, so truncating to it (or
        // filling up to it with nils, were the stack below it) stays in bounds.
        unsafe { self.stack.truncate(self.base) }
    }
}

/// The message of a wrong argument type, as `luaL_typeerror` words it.
pub fn bad_argument(stack: Stack<'_>, n: c_int, fname: &str, expected: &str) -> String {
    // SAFETY: `n` is an argument number (1 or 2 here): a positive index
    // within the 20 slots every C function has is acceptable for reading
    // (past the top it reads as none).
    let got = unsafe { stack.type_of(n) }.name();
    format!("bad argument #{n} to '{fname}' ({expected} expected, got {got})")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    /// `lua_typename`'s answer for type number `t`.
    fn typename_of(lua: &Lua, t: c_int) -> String {
        let mut name = String::new();
        // SAFETY: lua_typename only reads a static table; exec_raw gives a live state.
        unsafe { lua.exec_raw::<()>((), |l| name = CStr::from_ptr(ffi::lua_typename(l, t)).to_string_lossy().into_owned()) }.unwrap();
        name
    }

    #[test]
    fn a_stock_library_is_read_off_as_light_functions() {
        // SAFETY: a state with no library at all, so none of the unsafe ones.
        let lua = unsafe { Lua::unsafe_new_with(mlua::StdLib::NONE, mlua::LuaOptions::default()) };
        let functions = library_functions(&lua, ffi::luaopen_coroutine).unwrap();
        let co = lua.create_table().unwrap();
        for (name, pointer) in &functions {
            co.set(name.as_str(), light_function(&lua, *pointer).unwrap()).unwrap();
        }
        lua.globals().set("co", &co).unwrap();
        let got: (bool, i64, i64) = lua
            .load("local c = co.create(function(a) local b = co.yield(a + 1) return b * 2 end) local _, x = co.resume(c, 1) local ok, y = co.resume(c, 5) return ok, x, y")
            .eval()
            .unwrap();
        assert_eq!(got, (true, 2, 10));
        assert!(lua.globals().raw_get::<Value>("coroutine").unwrap().is_nil(), "the library is not registered");
    }

    #[test]
    fn strings_get_the_metatable_set() {
        let lua = Lua::new();
        let stock = metatable_of(&lua, "").unwrap().expect("the string library sets one");
        let meta = lua.create_table().unwrap();
        meta.set("__index", lua.create_table().unwrap()).unwrap();
        meta.set("__add", stock.get::<Function>("__add").unwrap()).unwrap();
        set_string_metatable(&lua, &meta).unwrap();
        assert_eq!(metatable_of(&lua, "x").unwrap().unwrap(), meta);
        assert!(metatable_of(&lua, 1).unwrap().is_none(), "numbers have none");
        assert_eq!(lua.load("return '2' + 3").eval::<i64>().unwrap(), 5);
        assert!(lua.load("return ('x').upper").eval::<Value>().unwrap().is_nil());
    }

    #[test]
    fn a_userdata_keeps_an_integer_user_value_the_stack_reads_back() {
        let lua = Lua::new();
        let ud = lua.create_any_userdata(()).unwrap();
        assert!(set_user_value(&lua, &ud, 1, 42).unwrap());
        assert!(!set_user_value(&lua, &ud, 2, 7).unwrap(), "mlua gives userdata one slot");
        // Read through a C closure, as the socket front does.
        unsafe extern "C-unwind" fn first_user_value(l: *mut State) -> c_int {
            // SAFETY: called with a userdata in slot 1 (the test's call).
            unsafe { c_function_body(l, |stack| Ok(if stack.push_user_value(1, 1) == Type::Number { 1 } else { 0 })) }
        }
        let f = c_closure(&lua, first_user_value, ()).unwrap();
        assert_eq!(f.call::<i64>(&ud).unwrap(), 42);
    }

    /// Runs global `front(5, true)` in a coroutine, which must yield
    /// `(marker, session)`; returns what it returns once resumed with
    /// `"a", "b"`, joined by spaces.
    fn resumed_after_wait(lua: &Lua, session: i64) -> String {
        lua.load(
            r#"
            local session = ...
            local co = coroutine.create(function() return front(5, true) end)
            local ok, m, s = coroutine.resume(co)
            assert(ok and m == marker and s == session, tostring(m))
            return table.concat({ select(2, coroutine.resume(co, "a", "b")) }, " ")
            "#,
        )
        .call(session)
        .unwrap()
    }

    #[test]
    fn call_then_wait_returns_at_once_yields_for_a_session_or_blocks_where_it_cannot_yield() {
        let lua = Lua::new();
        // upvalue 1: returns its argument, then a session when asked to wait
        let inner = lua
            .create_function(|_, (x, wait): (i64, bool)| Ok((x, if wait { Some(7) } else { None })))
            .unwrap();
        let marker = lua.create_table().unwrap();
        let front = c_closure(&lua, call_then_wait, (inner.clone(), marker.clone(), Value::Nil)).unwrap();
        lua.globals().set("front", &front).unwrap();
        lua.globals().set("marker", &marker).unwrap();
        // no wait: the first result only
        let (n, rest): (i64, Value) = lua.load("return select('#', front(3, false)), (select(2, front(3, false)))").eval().unwrap();
        assert_eq!((n, rest), (1, Value::Nil));
        // a wait, in a coroutine: yields (marker, session); returns what it is resumed with
        assert_eq!(resumed_after_wait(&lua, 7), "a b");
        // where nothing can yield: upvalue 3 (a block function) gets the session
        let block = lua.create_function(|_, session: i64| Ok(("blocked", session))).unwrap();
        let main_front = c_closure(&lua, call_then_wait, (inner, marker, block)).unwrap();
        let (a, b): (String, i64) = main_front.call((1, true)).unwrap();
        assert_eq!((a.as_str(), b), ("blocked", 7));
        // ...and without one, the stock error of a yield outside a coroutine
        let e = front.call::<Value>((1, true)).unwrap_err().to_string();
        assert!(e.contains("yield"), "{e}");
    }

    #[test]
    fn call_then_suspend_returns_the_values_after_nil_or_yields_for_a_lone_session() {
        let lua = Lua::new();
        // upvalue 1: `nil, x, x + 1`, or the session 9 alone when asked to wait
        let inner = lua
            .create_function(|lua, (x, wait): (i64, bool)| {
                if wait { 9.into_lua_multi(lua) } else { (Value::Nil, x, x + 1).into_lua_multi(lua) }
            })
            .unwrap();
        let marker = lua.create_table().unwrap();
        unsafe extern "C-unwind" fn suspend_front(l: *mut State) -> c_int {
            // SAFETY: Lua calls it as the closure made below.
            unsafe { call_then_suspend(l) }
        }
        let front = c_closure(&lua, suspend_front, (inner, marker.clone(), Value::Nil)).unwrap();
        lua.globals().set("front", &front).unwrap();
        lua.globals().set("marker", &marker).unwrap();
        let got: (i64, i64, i64) = lua.load("return select('#', front(3, false)), front(3, false)").eval().unwrap();
        assert_eq!(got, (2, 3, 4));
        assert_eq!(resumed_after_wait(&lua, 9), "a b");
    }

    #[test]
    fn type_names_match_lua() {
        let lua = Lua::new();
        for t in [ffi::LUA_TNIL, ffi::LUA_TBOOLEAN, ffi::LUA_TNUMBER, ffi::LUA_TSTRING, ffi::LUA_TTABLE, ffi::LUA_TFUNCTION, ffi::LUA_TUSERDATA, ffi::LUA_TTHREAD, ffi::LUA_TLIGHTUSERDATA] {
            assert_eq!(Type::from_raw(t).name(), typename_of(&lua, t));
        }
        assert_eq!(Type::from_raw(ffi::LUA_TNONE).name(), "no value");
    }

    /// `fields(t)` → `t.a` if an integer (else upvalue 2), `t[1]` as a string.
    /// `t[1] == "fail"` or `"panic"` fails that way.
    ///
    /// # Safety
    /// Called by Lua only, as a C function.
    unsafe extern "C-unwind" fn fields(l: *mut State) -> c_int {
        // SAFETY: Lua called this C function with state `l`.
        unsafe { c_function_body(l, fields_body) }
    }

    fn fields_body(stack: Stack<'_>) -> std::result::Result<c_int, String> {
        let guard = Guard::new(stack);
        // SAFETY: index 1 is within the 20 slots of a C function; it is read
        // as a table only once it is known to be one. Four pushes fit in those
        // 20 slots; `bytes` of slot -1 is copied before that slot is popped.
        unsafe {
                if stack.type_of(1) != Type::Table {
                    return Err(bad_argument(stack, 1, "fields", "table"));
                }
                let t = stack.push_raw_field(1, b"a");
                let first = if t == Type::Number { stack.integer(-1) } else { None };
                stack.push_raw_index(1, 1);
                let second = stack.bytes(-1).to_vec();
                if second == b"panic" {
                    panic!("as asked");
                }
                if second == b"fail" {
                    // The guard gives back the two pushed values.
                    return Err("failed as asked".to_owned());
                }
                stack.pop(2);
                guard.leave(0);
                stack.push_integer(first.or(stack.integer(upvalue(2))).unwrap_or(-1));
                stack.push_bytes(&second);
                Ok(2)
        }
    }

    #[test]
    fn c_functions_read_tables_and_turn_failures_into_errors() {
        let lua = Lua::new();
        let up = lua.create_table().unwrap();
        let f = c_closure(&lua, fields, (up.clone(), 7)).unwrap();
        lua.globals().set("f", f).unwrap();
        let (a, b): (i64, String) = lua.load("return f({a = 3, 'x'})").eval().unwrap();
        assert_eq!((a, b.as_str()), (3, "x"));
        let a: i64 = lua.load("return (f({a = 'no', 'x'}))").eval().unwrap();
        assert_eq!(a, 7);
        for (code, needle) in [
            ("f(1)", "bad argument #1 to 'fields' (table expected, got number)"),
            ("f()", "got no value"),
            ("f({'fail'})", "failed as asked"),
            ("f({'panic'})", "internal error"),
        ] {
            let e = lua.load(code).exec().unwrap_err().to_string();
            assert!(e.contains(needle), "{code}: {e}");
        }
        // The state is usable after the errors.
        let n: i64 = lua.load("return select('#', f({a = 1, 'y'}))").eval().unwrap();
        assert_eq!(n, 2);
    }

    #[test]
    fn error_metatable_is_found() {
        let lua = Lua::new();
        let probe = lua.create_function(|_, ()| Err::<(), _>(mlua::Error::runtime("probe"))).unwrap();
        let mt = error_object_metatable(&lua, probe).unwrap().expect("a metatable");
        let again = error_object_metatable(&lua, lua.create_function(|_, ()| Err::<(), _>(mlua::Error::runtime("x"))).unwrap()).unwrap().unwrap();
        assert_eq!(mt, again);
        let fine = lua.create_function(|_, ()| Ok(())).unwrap();
        assert!(error_object_metatable(&lua, fine).unwrap().is_none());
    }
}
