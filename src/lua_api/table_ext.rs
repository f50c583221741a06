//! PLACEHOLDER: to be written.

use mlua::{Lua, Result};

pub fn install(_lua: &Lua) -> Result<()> {
    Ok(())
}
