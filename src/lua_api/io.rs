//! PLACEHOLDER: `io.context`, `io.socket`, `io.server` and (lazily) `io.http`.

use mlua::{Lua, Result};

pub fn install(lua: &Lua) -> Result<()> {
    let io: mlua::Table = lua.globals().get("io")?;
    super::lazy::install(lua, &io, &[("http", super::http::create)])
}
