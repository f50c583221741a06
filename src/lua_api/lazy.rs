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
use std::sync::Mutex;

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

/// `package`, with the paths the service was given (see
/// `service::spawn::PackagePaths`).
pub fn package(lua: &Lua) -> Result<Table> {
    if let Some(package) = lua.globals().raw_get::<Option<Table>>("package")? {
        return Ok(package);
    }
    let package = std_lib(lua, mlua::StdLib::PACKAGE, "package")?;
    preload_std_libs(lua)?;
    let paths = crate::service::of(lua).ok().and_then(|svc| svc.package_paths.borrow().clone());
    if let Some(paths) = paths {
        package.raw_set("path", paths.path.as_str())?;
        package.raw_set("cpath", paths.cpath.as_str())?;
    }
    Ok(package)
}

/// `require` (opens `package`).
pub fn require(lua: &Lua) -> Result<Value> {
    package(lua)?;
    lua.globals().raw_get("require")
}

/// A table of the registry that the `package` library uses once opened
/// (`package.loaded` is `_LOADED`, `package.preload` is `_PRELOAD`), made
/// now if it is not there yet.
pub fn registry_table(lua: &Lua, name: &str) -> Result<Table> {
    if let Some(t) = lua.named_registry_value::<Option<Table>>(name)? {
        return Ok(t);
    }
    let t = lua.create_table()?;
    lua.set_named_registry_value(name, &t)?;
    Ok(t)
}

/// Lets `require "math"` find a lazy standard library too (`require`
/// passes the name to the loader, so one loader serves them all).
pub fn preload_std_libs(lua: &Lua) -> Result<()> {
    let globals = lua.globals();
    let preload = registry_table(lua, "_PRELOAD")?;
    let loader = lua.create_function(|lua, name: String| lua.globals().get::<Value>(name))?;
    for name in ["io", "math", "utf8", "debug", "coroutine"] {
        if globals.raw_get::<Value>(name)?.is_nil() {
            preload.raw_set(name, &loader)?;
        }
    }
    Ok(())
}

/// The fields of one table that are built on first read: `(name, creator)`.
pub type Fields = [(&'static str, Creator)];

/// Every list of lazy fields installed in this process, numbered by their
/// place here: a table's metatable names its own list by that number
/// (`__lazy`), so that one `__index` and one `__pairs` function serve every
/// lazy table of a state and nothing is copied per state. (A number cannot
/// be forged into a bad pointer: a wrong one finds another list or none.)
static ALL_FIELDS: Mutex<Vec<&'static Fields>> = Mutex::new(Vec::new());

fn number_of(fields: &'static Fields) -> i64 {
    let mut all = ALL_FIELDS.lock().unwrap_or_else(|e| e.into_inner());
    let n = all.iter().position(|known| std::ptr::eq(*known, fields)).unwrap_or_else(|| {
        all.push(fields);
        all.len() - 1
    });
    n as i64
}

/// The lazy fields of `t`, if its metatable names a list.
fn fields_of(t: &Table) -> Result<Option<&'static Fields>> {
    let Some(meta) = t.metatable() else { return Ok(None) };
    let Value::Integer(n) = meta.raw_get::<Value>("__lazy")? else { return Ok(None) };
    let all = ALL_FIELDS.lock().unwrap_or_else(|e| e.into_inner());
    Ok(usize::try_from(n).ok().and_then(|n| all.get(n).copied()))
}

/// `__index` of every lazy table: builds the field, stores it as a plain
/// field (later reads never come here again) and returns it.
fn index(lua: &Lua, (t, key): (Table, Value)) -> Result<Value> {
    let Value::String(key) = key else { return Ok(Value::Nil) };
    let Some(fields) = fields_of(&t)? else { return Ok(Value::Nil) };
    let key = key.to_str()?;
    match fields.iter().find(|(name, _)| *name == &*key) {
        Some((name, create)) => {
            let value = create(lua)?;
            t.raw_set(*name, &value)?;
            Ok(value)
        }
        None => Ok(Value::Nil),
    }
}

/// `__pairs` of every lazy table but `_G`: builds the missing fields, then
/// iterates as `pairs` would.
fn pairs(lua: &Lua, t: Table) -> Result<(Function, Table, Value)> {
    if let Some(fields) = fields_of(&t)? {
        for (name, create) in fields {
            if t.raw_get::<Value>(*name)?.is_nil() {
                t.raw_set(*name, create(lua)?)?;
            }
        }
    }
    let next: Function = lua.globals().raw_get("next")?;
    Ok((next, t, Value::Nil))
}

/// One function of this state, made on first use and kept in the registry.
fn shared(lua: &Lua, key: &str, make: impl FnOnce() -> Result<Function>) -> Result<Function> {
    if let Some(f) = lua.named_registry_value::<Option<Function>>(key)? {
        return Ok(f);
    }
    let f = make()?;
    lua.set_named_registry_value(key, &f)?;
    Ok(f)
}

/// Makes each `(name, creator)` of `fields` a field of `target` created on
/// first read. A table other than `_G` also lists them all to `pairs` (its
/// `__pairs` creates the missing ones first), as if they had always been
/// there; `pairs(_G)` is left alone, since a loop over the globals
/// (busted's, for one) would build every lazy global.
pub fn install(lua: &Lua, target: &Table, fields: &'static Fields) -> Result<()> {
    let meta = lua.create_table()?;
    meta.raw_set("__lazy", number_of(fields))?;
    meta.raw_set("__index", shared(lua, "skynet.lazy.index", || lua.create_function(index))?)?;
    if target.to_pointer() != lua.globals().to_pointer() {
        meta.raw_set("__pairs", shared(lua, "skynet.lazy.pairs", || lua.create_function(pairs))?)?;
    }
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

    #[test]
    fn lazy_tables_share_their_functions_and_a_forged_list_number_is_harmless() {
        let lua = Lua::new();
        let (a, b) = (lua.create_table().unwrap(), lua.create_table().unwrap());
        install(&lua, &a, &[("thing", make)]).unwrap();
        install(&lua, &b, &[("other", make)]).unwrap();
        let index = |t: &Table| t.metatable().unwrap().raw_get::<Function>("__index").unwrap();
        assert_eq!(index(&a), index(&b), "one __index per state");
        lua.globals().set("a", &a).unwrap();
        lua.globals().set("b", &b).unwrap();
        assert_eq!(lua.load("return a.thing.answer").eval::<i64>().unwrap(), 42);
        assert!(lua.load("return b.thing").eval::<Value>().unwrap().is_nil(), "each table has its own fields");
        let forged: Value = lua
            .load("getmetatable(b).__lazy = 1e9 local x = b.nothing getmetatable(b).__lazy = 'x' return b.nothing2 or x")
            .eval()
            .unwrap();
        assert!(forged.is_nil());
    }

    #[test]
    fn pairs_lists_the_fields_not_built_yet() {
        let lua = Lua::new();
        let t = lua.create_table().unwrap();
        t.raw_set("plain", 1).unwrap();
        install(&lua, &t, &[("thing", make), ("other", make)]).unwrap();
        lua.globals().set("t", &t).unwrap();
        let names: String =
            lua.load("local n = {} for k in pairs(t) do n[#n + 1] = k end table.sort(n) return table.concat(n, ' ')").eval().unwrap();
        assert_eq!(names, "other plain thing");
        assert_eq!(lua.load("return t.thing.answer").eval::<i64>().unwrap(), 42);
    }
}
