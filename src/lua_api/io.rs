//! PLACEHOLDER: `io.context`, `io.socket`, `io.server` and (lazily) `io.http`.

use mlua::{Lua, Result};

pub fn install(lua: &Lua) -> Result<()> {
    lua.globals().get::<mlua::Table>("io")?.set("http", super::http::create(lua)?)?; // TEMPORARY (http helper): the lead wires io.http lazily
    Ok(())
}
