//! Lazily built globals.
//!
//! Every service gets `json`, `crypto`, `std`, ... without `require`, but most
//! services never touch most of them. Building them all in each new state
//! would cost memory per idle service, so `_G` gets an `__index` metamethod
//! that builds a table the first time its name is read and stores it as a
//! plain global (later reads never reach the metamethod again). The standard
//! libraries a new state lacks (see `service::spawn::std_libs_at_start`) are built
//! the same way.

use crate::lua_api::raw;
use mlua::{Function, Lua, Result, Table, Value};
use std::sync::{Mutex, OnceLock};

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
/// passes the name to the loader, so one loader serves them all), and
/// `require "string"` a service's `string`, `table` and `os` (see
/// [`stock_libraries`]: they go into `package.loaded` only now, since
/// nothing but `require` looks there).
pub fn preload_std_libs(lua: &Lua) -> Result<()> {
    let globals = lua.globals();
    let preload = registry_table(lua, "_PRELOAD")?;
    let loader = lua.create_function(|lua, name: String| lua.globals().get::<Value>(name))?;
    for name in ["io", "math", "utf8", "debug", "coroutine"] {
        if globals.raw_get::<Value>(name)?.is_nil() {
            preload.raw_set(name, &loader)?;
        }
    }
    let loaded = registry_table(lua, "_LOADED")?;
    for name in ["string", "table", "os"] {
        if loaded.raw_get::<Value>(name)?.is_nil() {
            loaded.raw_set(name, globals.raw_get::<Value>(name)?)?;
        }
    }
    Ok(())
}

/// A stock library a new service gets as a lazy table (see
/// [`stock_libraries`]); the number is its `__stock` in the table's
/// metatable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stock {
    String = 0,
    Table = 1,
    Os = 2,
    Coroutine = 3,
}

impl Stock {
    const ALL: [Stock; 4] = [Stock::String, Stock::Table, Stock::Os, Stock::Coroutine];

    fn opener(self) -> raw::Pointer {
        match self {
            Stock::String => mlua::ffi::luaopen_string,
            Stock::Table => mlua::ffi::luaopen_table,
            Stock::Os => mlua::ffi::luaopen_os,
            Stock::Coroutine => mlua::ffi::luaopen_coroutine,
        }
    }
}

/// Each stock library's functions, read off once per process.
static STOCK_FUNCTIONS: [OnceLock<Vec<(String, raw::Pointer)>>; 4] = [const { OnceLock::new() }; 4];
/// The stock metamethods of strings (`__add` and the other arithmetic ones,
/// which let `"10" + 1` work), read off with the `string` library.
static STRING_METAMETHODS: OnceLock<Vec<(String, raw::Pointer)>> = OnceLock::new();

/// The functions of the stock library `which`, by name.
pub fn stock_library(lua: &Lua, which: Stock) -> Result<&'static [(String, raw::Pointer)]> {
    let cell = &STOCK_FUNCTIONS[which as usize];
    if let Some(functions) = cell.get() {
        return Ok(functions);
    }
    let before = if which == Stock::String { raw::metatable_of(lua, "")? } else { None };
    let functions = raw::library_functions(lua, which.opener())?;
    if which == Stock::String {
        // luaopen_string just gave this state's strings a metatable of its
        // own: read it off, then put back what the state had.
        let meta = raw::metatable_of(lua, "")?.ok_or_else(|| mlua::Error::runtime("strings have no metatable"))?;
        let _ = STRING_METAMETHODS.set(raw::c_functions_in(lua, &meta)?);
        if let Some(before) = before {
            raw::set_string_metatable(lua, &before)?;
        }
    }
    Ok(cell.get_or_init(|| functions))
}

/// Gives a new service `string`, `table` and `os` as tables whose stock
/// functions are made when first read, like our own additions, and gives
/// strings their metatable (`__index` is `string`).
///
/// Why: the three libraries with the names of their 35 functions took
/// about 3 KiB of every service's heap, and most services call a handful
/// of them; a stock function is a light C function, so making one on first
/// read costs nothing but the field. `rawget(string, "format")` is nil until
/// `string.format` was read once; `pairs` lists them all.
pub fn stock_libraries(lua: &Lua) -> Result<()> {
    let globals = lua.globals();
    let mut string = None;
    for (name, which) in [("string", Stock::String), ("table", Stock::Table), ("os", Stock::Os)] {
        stock_library(lua, which)?;
        let t = lua.create_table()?;
        lazy_metatable(lua, &t)?.raw_set("__stock", which as i64)?;
        globals.raw_set(name, &t)?;
        if which == Stock::String {
            string = Some(t);
        }
    }
    let methods = STRING_METAMETHODS.get().map(Vec::as_slice).unwrap_or_default();
    let meta = lua.create_table_with_capacity(0, methods.len() + 1)?;
    for (name, pointer) in methods {
        meta.raw_set(name.as_str(), raw::light_function(lua, *pointer)?)?;
    }
    meta.raw_set("__index", string)?;
    raw::set_string_metatable(lua, &meta)
}

/// The stock library whose functions `t` makes on first read, if any.
fn stock_of(lua: &Lua, t: &Table) -> Result<Option<&'static [(String, raw::Pointer)]>> {
    let Some(meta) = t.metatable() else { return Ok(None) };
    let Value::Integer(n) = meta.raw_get::<Value>("__stock")? else { return Ok(None) };
    match Stock::ALL.iter().find(|which| **which as i64 == n) {
        Some(which) => stock_library(lua, *which).map(Some),
        None => Ok(None),
    }
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
    let key = key.to_str()?;
    let ours = fields_of(&t)?.and_then(|fields| fields.iter().find(|(name, _)| *name == &*key));
    let value = match ours {
        Some((_, create)) => create(lua)?,
        None => match stock_of(lua, &t)?.and_then(|stock| stock.iter().find(|(name, _)| name.as_str() == &*key)) {
            Some((_, pointer)) => Value::Function(raw::light_function(lua, *pointer)?),
            None => return Ok(Value::Nil),
        },
    };
    t.raw_set(&*key, &value)?;
    Ok(value)
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
    if let Some(stock) = stock_of(lua, &t)? {
        for (name, pointer) in stock {
            if t.raw_get::<Value>(name.as_str())?.is_nil() {
                t.raw_set(name.as_str(), raw::light_function(lua, *pointer)?)?;
            }
        }
    }
    let next: Function = lua.globals().raw_get("next")?;
    Ok((next, t, Value::Nil))
}

/// The `__index` and `__pairs` functions every lazy table of a state
/// shares, made on first use. They are kept in the state's app data: a
/// new service makes eight lazy tables, and a named registry lookup for
/// each cost more than the rest of making the metatable.
struct LazyFunctions {
    index: Function,
    pairs: Function,
}

fn shared(lua: &Lua) -> Result<mlua::AppDataRef<'_, LazyFunctions>> {
    if lua.app_data_ref::<LazyFunctions>().is_none() {
        lua.set_app_data(LazyFunctions { index: lua.create_function(index)?, pairs: lua.create_function(pairs)? });
    }
    lua.app_data_ref::<LazyFunctions>().ok_or_else(|| mlua::Error::runtime("lazy functions missing"))
}

/// Makes each `(name, creator)` of `fields` a field of `target` created on
/// first read. A table other than `_G` also lists them all to `pairs` (its
/// `__pairs` creates the missing ones first), as if they had always been
/// there; `pairs(_G)` is left alone, since a loop over the globals
/// (busted's, for one) would build every lazy global.
pub fn install(lua: &Lua, target: &Table, fields: &'static Fields) -> Result<()> {
    lazy_metatable(lua, target)?.raw_set("__lazy", number_of(fields))
}

/// `target`'s metatable, made lazy: its own if it has one (a stock library
/// of a service gets ours first), else a new one.
fn lazy_metatable(lua: &Lua, target: &Table) -> Result<Table> {
    let meta = match target.metatable() {
        Some(meta) => meta,
        None => {
            // __index, __pairs and the list's number: room for all three
            let meta = lua.create_table_with_capacity(0, 3)?;
            target.set_metatable(Some(meta.clone()))?;
            meta
        }
    };
    let shared = shared(lua)?;
    meta.raw_set("__index", &shared.index)?;
    if target.to_pointer() != lua.globals().to_pointer() {
        meta.raw_set("__pairs", &shared.pairs)?;
    }
    Ok(meta)
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
