//! PLACEHOLDER: the `io.http` table.

use mlua::{Lua, Result, Table};

pub fn create(lua: &Lua) -> Result<Table> {
    lua.create_table()
}
