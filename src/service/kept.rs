//! Lua values a service keeps for later: timer callbacks, posted functions
//! with their arguments, the callbacks of async calls.
//!
//! They live in one Lua table of the service's state, under integer keys,
//! rather than as values held from Rust: mlua keeps each value held from
//! Rust in a slot of an auxiliary Lua stack, which holds about a million, and
//! a service may have more than that pending (a timer per connection, ...).
//! Past that limit every later event of the service would fail.

use mlua::{FromLua, IntoLua, Lua, Table, Value};
use std::cell::Cell;

pub struct Kept {
    table: Table,
    next: Cell<i64>,
}

impl Kept {
    pub fn new(lua: &Lua) -> mlua::Result<Kept> {
        Ok(Kept { table: lua.create_table()?, next: Cell::new(0) })
    }

    /// Keeps `value`; returns its key.
    pub fn put(&self, value: impl IntoLua) -> mlua::Result<i64> {
        let key = self.next.get() + 1;
        self.next.set(key);
        self.table.raw_set(key, value)?;
        Ok(key)
    }

    /// The value kept under `key` (nil if none).
    pub fn get<V: FromLua>(&self, key: i64) -> mlua::Result<V> {
        self.table.raw_get(key)
    }

    /// Takes the value kept under `key` (nil if none).
    pub fn take<V: FromLua>(&self, key: i64) -> mlua::Result<V> {
        let value = self.table.raw_get(key)?;
        self.table.raw_set(key, Value::Nil)?;
        Ok(value)
    }

    pub fn remove(&self, key: i64) {
        let _ = self.table.raw_set(key, Value::Nil);
    }

    /// Forgets everything (the service is ending).
    pub fn clear(&self) {
        let _ = self.table.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn more_values_than_the_ref_stack_holds() {
        let lua = Lua::new();
        let kept = Kept::new(&lua).unwrap();
        let f = lua.create_function(|_, ()| Ok(1)).unwrap();
        let keys: Vec<i64> = (0..1_100_000).map(|_| kept.put(&f).unwrap()).collect();
        let g: mlua::Function = kept.take(keys[1_050_000]).unwrap();
        assert_eq!(g.call::<i64>(()).unwrap(), 1);
        assert!(kept.get::<Option<mlua::Function>>(keys[1_050_000]).unwrap().is_none());
        kept.clear();
        assert!(kept.get::<Option<mlua::Function>>(keys[0]).unwrap().is_none());
    }
}
