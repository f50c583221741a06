//! skynet: an actor runtime for stock Lua 5.4.
//!
//! `require "skynet"` calls `luaopen_skynet`, which starts the runtime
//! ([`runtime`]: threads, queues, timers; no Lua) and turns the calling
//! script into the main service ([`lua_api::main_state`]). Services
//! ([`service`]) talk through messages whose payloads are [`codec::wrap`]ped
//! Lua values; [`lua_api`] is the thin layer of Lua bindings on top, and
//! [`cluster`] plugs into the runtime with hooks. Layers import only
//! downward (docs/ARCHITECTURE.md §3). The data helpers ([`crypto`], ...)
//! are plain Rust cores under thin bindings.

mod allocator;
pub mod cluster;
pub mod codec;
pub mod collections;
pub mod crypto;
pub mod error;
pub mod lua_api;
pub mod metrics;
pub mod net;
pub mod runtime;
pub mod service;
pub mod shared;

use mlua::{Lua, Result, Table};

/// The module entry point (`luaopen_skynet`).
///
/// `skip_memory_check`: mlua cannot know the allocator of the interpreter
/// that loaded us, so by default it wraps every value it makes in the main
/// script's state (a string, a table) in a protected call, in case the
/// allocation fails, about 600 instructions each time. That allocator is
/// the stock `realloc`, with no limit (`os.memlimit` is refused there), so
/// a failure means the process is out of memory anyway, which in a
/// service's state (mlua's allocator) aborts the process all the same.
#[cfg_attr(feature = "module", mlua::lua_module(name = "skynet", skip_memory_check))]
pub fn skynet(lua: &Lua) -> Result<Table> {
    lua_api::main_state::open(lua)
}

/// mimalloc, see `allocator.rs`.
#[global_allocator]
static ALLOCATOR: allocator::Allocator = allocator::Allocator;
