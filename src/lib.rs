//! skynet: an actor runtime for stock Lua 5.4.
//!
//! `require "skynet"` calls [`luaopen_skynet`], which starts the runtime and
//! turns the calling script into the main service.

pub mod codec;
pub mod lua_api;

use mlua::{Lua, Result, Table};

/// The module entry point (`luaopen_skynet`).
#[cfg_attr(feature = "module", mlua::lua_module(name = "skynet"))]
pub fn skynet(lua: &Lua) -> Result<Table> {
    lua_api::install_data_helpers(lua)?;
    let module = lua.create_table()?;
    module.set("version", env!("CARGO_PKG_VERSION"))?;
    Ok(module)
}
