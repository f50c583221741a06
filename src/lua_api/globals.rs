//! Global functions written in Rust: `wrap` and `unwrap` (docs/API.md §3.4).
//! (`pcall` lives in `prelude.lua`; `bind`, `trace` and `throw` in `utilities.lua`.)

use crate::codec::wrap;
use crate::lua_api::args::Args;
use mlua::{Function, Lua, MultiValue, Result, Table};

/// The global `wrap` (made on first read, see `lua_api::lazy`).
pub fn wrap_function(lua: &Lua) -> Result<mlua::Value> {
    let f = lua.create_function(|lua, values: MultiValue| lua.create_string(wrap::encode(values.iter())?))?;
    Ok(mlua::Value::Function(f))
}

/// The global `unwrap` (made on first read).
pub fn unwrap_function(lua: &Lua) -> Result<mlua::Value> {
    let f = lua.create_function(|lua, args: MultiValue| {
        let a = Args::new("unwrap", args);
        let data = match a.value(1) {
            mlua::Value::String(s) => s,
            _ => return Err(crate::lua_api::args::bad_argument(1, "unwrap", format!("string expected, got {}", crate::lua_api::args::type_name(Some(&a.value(1)))))),
        };
        wrap::decode(lua, &data.as_bytes())
    })?;
    Ok(mlua::Value::Function(f))
}

/// Makes the error objects raised by Rust functions behave like the string
/// a C library would raise: `tostring(e)` is the message and its traceback
/// (without mlua's `runtime error:` label), string methods and `..` work on
/// them. mlua keeps one metatable for these objects per state and offers no
/// way to reach it, so we raise one error and change its metatable. Done
/// for the main state only: services never show raised error objects
/// (their handler errors are logged and answered as text), and every byte
/// of set-up counts there.
pub fn plain_error_objects(lua: &Lua, error_message: &Function) -> Result<()> {
    let report = lua.create_function(|_, e: mlua::Value| match e {
        mlua::Value::Error(e) => Ok(crate::service::scheduler::error_report(&e)),
        other => other.to_string(),
    })?;
    let (tostring, index, concat): (Function, Function, Function) = lua
        .load(
            r#"local report, message, string_lib, tostring = ...
            return function(e) return report(e) end,
              function(e, k)
                local f = string_lib[k]
                if f then return function(self, ...) return f(message(self), ...) end end
              end,
              function(a, b) return tostring(a) .. tostring(b) end"#,
        )
        .set_name("=skynet.errors")
        .call((report, error_message.clone(), lua.globals().get::<Table>("string")?, lua.globals().get::<Function>("tostring")?))?;
    let probe = lua.create_function(|_, ()| Err::<(), _>(mlua::Error::runtime("probe")))?;
    if let Some(metatable) = crate::lua_api::raw::error_object_metatable(lua, probe)? {
        metatable.raw_set("__tostring", tostring)?;
        metatable.raw_set("__index", index)?;
        metatable.raw_set("__concat", concat)?;
    }
    Ok(())
}

/// `core.error_message(e)`: the plain message (with the caller's position)
/// of an error object raised by Rust code; any other value is returned as it is.
pub fn error_message(lua: &Lua, e: mlua::Value) -> Result<mlua::Value> {
    match e {
        mlua::Value::Error(e) => {
            Ok(mlua::Value::String(lua.create_string(crate::service::scheduler::raised_message(&e))?))
        }
        other => Ok(other),
    }
}
