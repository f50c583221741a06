//! PLACEHOLDER: to be written.

use mlua::{Lua, Result, Table};

pub fn create(lua: &Lua) -> Result<Table> {
    lua.create_table()
}
