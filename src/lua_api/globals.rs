//! Global functions written in Rust: `wrap` and `unwrap` (API.md §3.4).
//! (`pcall`, `bind`, `trace` and `throw` live in `prelude.lua`.)

use crate::codec::wrap;
use crate::lua_api::args::Args;
use mlua::{Lua, MultiValue, Result};

pub fn install(lua: &Lua) -> Result<()> {
    let globals = lua.globals();
    globals.set(
        "wrap",
        lua.create_function(|lua, values: MultiValue| lua.create_string(wrap::encode(values.iter())?))?,
    )?;
    globals.set(
        "unwrap",
        lua.create_function(|lua, args: MultiValue| {
            let a = Args::new("unwrap", args);
            let data = match a.value(1) {
                mlua::Value::String(s) => s,
                _ => return Err(crate::lua_api::args::bad_argument(1, "unwrap", format!("string expected, got {}", crate::lua_api::args::type_name(Some(&a.value(1)))))),
            };
            wrap::decode(lua, &data.as_bytes())
        })?,
    )?;
    Ok(())
}

/// `core.error_message(e)`: the plain message of an error object raised by
/// Rust code; any other value is returned as it is.
pub fn error_message(lua: &Lua, e: mlua::Value) -> Result<mlua::Value> {
    match e {
        mlua::Value::Error(e) => {
            Ok(mlua::Value::String(lua.create_string(crate::service::scheduler::error_message(&e))?))
        }
        other => Ok(other),
    }
}
