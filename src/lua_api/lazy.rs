//! Lazily built globals.
//!
//! Every service gets `json`, `crypto`, `std`, ... without `require`, but most
//! services never touch most of them. Building them all in each new state
//! would cost memory per idle service, so `_G` gets an `__index` metamethod
//! that builds a table the first time its name is read and stores it as a
//! plain global (later reads never reach the metamethod again). The standard
//! libraries a new state lacks (see `service::spawn::std_libs_at_start`) are built
//! the same way.

use mlua::{Function, Lua, Result, Table, Value};

/// Builds one lazy global (a table, or a function).
pub type Creator = fn(&Lua) -> Result<Value>;

fn std_lib(lua: &Lua, lib: mlua::StdLib, name: &str) -> Result<Table> {
    match lua.globals().raw_get::<Option<Table>>(name)? {
        Some(t) => Ok(t),
        None => {
            lua.load_std_libs(lib)?;
            lua.globals().raw_get(name)
        }
    }
}

pub fn math(lua: &Lua) -> Result<Table> {
    std_lib(lua, mlua::StdLib::MATH, "math")
}

pub fn utf8(lua: &Lua) -> Result<Table> {
    std_lib(lua, mlua::StdLib::UTF8, "utf8")
}

pub fn debug(lua: &Lua) -> Result<Table> {
    std_lib(lua, mlua::StdLib::DEBUG, "debug")
}

/// `coroutine`, with waits passing through user coroutines.
pub fn coroutine(lua: &Lua) -> Result<Table> {
    let coroutine = std_lib(lua, mlua::StdLib::COROUTINE, "coroutine")?;
    crate::lua_api::user_coroutines(lua, coroutine)
}

/// `io`, with our additions (`io.socket`, `io.http`, ...).
pub fn io(lua: &Lua) -> Result<Table> {
    let io = std_lib(lua, mlua::StdLib::IO, "io")?;
    crate::lua_api::io::install(lua)?;
    Ok(io)
}

/// Lets `require "math"` find a lazy standard library too (`require`
/// passes the name to the loader, so one loader serves them all).
pub fn preload_std_libs(lua: &Lua) -> Result<()> {
    let globals = lua.globals();
    let preload: Table = globals.get::<Table>("package")?.get("preload")?;
    let loader = lua.create_function(|lua, name: String| lua.globals().get::<Value>(name))?;
    for name in ["io", "math", "utf8", "debug", "coroutine"] {
        if globals.raw_get::<Value>(name)?.is_nil() {
            preload.raw_set(name, &loader)?;
        }
    }
    Ok(())
}

/// Makes each `(name, creator)` a field of `target` created on first read.
pub fn install(lua: &Lua, target: &Table, entries: &[(&'static str, Creator)]) -> Result<()> {
    let creators: Vec<(&'static str, Creator)> = entries.to_vec();
    let index: Function = lua.create_function(move |lua, (g, key): (Table, Value)| {
        let Value::String(key) = key else { return Ok(Value::Nil) };
        let key = key.to_str()?;
        match creators.iter().find(|(name, _)| *name == &*key) {
            Some((name, create)) => {
                let value = create(lua)?;
                g.raw_set(*name, &value)?;
                Ok(value)
            }
            None => Ok(Value::Nil),
        }
    })?;
    let meta = lua.create_table()?;
    meta.raw_set("__index", index)?;
    target.set_metatable(Some(meta))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn make(lua: &Lua) -> Result<Value> {
        let t = lua.create_table()?;
        t.set("answer", 42)?;
        Ok(Value::Table(t))
    }

    #[test]
    fn builds_on_first_read_then_is_a_plain_global() {
        let lua = Lua::new();
        install(&lua, &lua.globals(), &[("thing", make)]).unwrap();
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
