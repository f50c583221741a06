//! Lazily built globals.
//!
//! Every service gets `json`, `crypto`, `std`, ... without `require`, but most
//! services never touch most of them. Building them all in each new state
//! would cost memory per idle service, so `_G` gets an `__index` metamethod
//! that builds a table the first time its name is read and stores it as a
//! plain global (later reads never reach the metamethod again).

use mlua::{Function, Lua, Result, Table, Value};

/// Builds one lazy global table.
pub type Creator = fn(&Lua) -> Result<Table>;

/// Makes each `(name, creator)` a global that is created on first read.
pub fn install(lua: &Lua, entries: &[(&'static str, Creator)]) -> Result<()> {
    let globals = lua.globals();
    let creators: Vec<(&'static str, Creator)> = entries.to_vec();
    let index: Function = lua.create_function(move |lua, (g, key): (Table, Value)| {
        let Value::String(key) = key else { return Ok(Value::Nil) };
        let key = key.to_str()?;
        match creators.iter().find(|(name, _)| *name == &*key) {
            Some((name, create)) => {
                let table = create(lua)?;
                g.raw_set(*name, &table)?;
                Ok(Value::Table(table))
            }
            None => Ok(Value::Nil),
        }
    })?;
    let meta = lua.create_table()?;
    meta.raw_set("__index", index)?;
    globals.set_metatable(Some(meta))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn make(lua: &Lua) -> Result<Table> {
        let t = lua.create_table()?;
        t.set("answer", 42)?;
        Ok(t)
    }

    #[test]
    fn builds_on_first_read_then_is_a_plain_global() {
        let lua = Lua::new();
        install(&lua, &[("thing", make)]).unwrap();
        assert!(lua.globals().raw_get::<Value>("thing").unwrap().is_nil());
        let v: i64 = lua.load("return thing.answer").eval().unwrap();
        assert_eq!(v, 42);
        assert!(lua.globals().raw_get::<Value>("thing").unwrap().is_table());
        let same: bool = lua.load("return thing == thing").eval().unwrap();
        assert!(same);
        let missing: Value = lua.load("return not_a_global").eval().unwrap();
        assert!(missing.is_nil());
    }
}
