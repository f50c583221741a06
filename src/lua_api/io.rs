//! PLACEHOLDER: `io.context`, `io.socket`, `io.server` and (lazily) `io.http`.

use mlua::{Lua, Result};

pub fn install(_lua: &Lua) -> Result<()> {
    Ok(())
}
