//! The Lua face of skynet: one binding file per Lua table.
//!
//! Each file converts arguments, calls the Rust core and converts the result;
//! logic that can be tested without a Lua state lives in `runtime/`,
//! `service/`, `codec/` and friends. Big tables (`json`, `crypto`, `std`,
//! ...) are built lazily on first use (see [`lazy`]) so that an idle service
//! stays small. `prelude.lua` holds the Lua half of the blocking functions.

pub mod args;
pub mod base64;
pub mod cluster;
pub mod compress;
pub mod coroutine;
pub mod crypto;
pub mod globals;
pub mod http;
pub mod io;
pub mod json;
pub mod lazy;
pub mod main_state;
pub mod os;
pub mod raw;
pub mod returns;
pub mod rpc;
pub mod std_lib;
pub mod storage;
pub mod string_ext;
pub mod table_ext;
pub mod timer;

use mlua::{Lua, Result, Table};

/// Installs the whole API into the state of a service (already registered
/// as the state's app data) and returns the `skynet` module table.
pub fn install(lua: &Lua) -> Result<Table> {
    install_data_helpers(lua)?;
    let core = lua.create_table()?;
    core.set("error_message", lua.create_function(globals::error_message)?)?;
    let main = crate::service::of(lua)?.is_main;
    os::install(lua, &core)?;
    rpc::install(lua, &core)?;
    globals::install(lua)?;
    if lua.globals().raw_get::<Option<Table>>("io")?.is_some() {
        io::install(lua)?; // the main state: `io` is there already
    }
    let prelude: Table = lua.load(prelude_bytecode(lua)?).set_name("=skynet.prelude").call(&core)?;
    if main {
        // Services log and answer errors as plain text themselves; the
        // user's script is where raised error objects are seen and printed.
        globals::plain_error_objects(lua, &core.get("error_message")?)?;
    }
    let key = lua.create_registry_value(prelude)?;
    crate::service::of(lua)?.prelude.replace(Some(key));
    // One module table per state, even when busted makes us install twice.
    let module = match lua.named_registry_value::<Option<Table>>("skynet.module")? {
        Some(module) => module,
        None => {
            let module = lua.create_table()?;
            module.set("version", env!("CARGO_PKG_VERSION"))?;
            lua.set_named_registry_value("skynet.module", &module)?;
            module
        }
    };
    let loaded: Table = lua.globals().get::<Table>("package")?.get("loaded")?;
    loaded.set("skynet", &module)?;
    Ok(module)
}

/// `prelude.lua`, compiled once per process: loading bytecode costs a
/// fraction of parsing it again in every new service.
fn prelude_bytecode(lua: &Lua) -> Result<&'static [u8]> {
    static BYTECODE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    if let Some(b) = BYTECODE.get() {
        return Ok(b);
    }
    let compiled = lua.load(include_str!("prelude.lua")).set_name("=skynet.prelude").into_function()?.dump(false);
    Ok(BYTECODE.get_or_init(|| compiled))
}

/// Installs the data helpers (pure functions and data structures) into `lua`:
/// `string`/`table` extras and `compress` at once, the rest on first use.
pub fn install_data_helpers(lua: &Lua) -> Result<()> {
    string_ext::install(lua)?;
    table_ext::install(lua)?;
    compress::install(lua)?;
    lazy::preload_std_libs(lua)?;
    lazy::install(
        lua,
        &lua.globals(),
        &[
            ("io", lazy::io),
            ("math", lazy::math),
            ("utf8", lazy::utf8),
            ("debug", lazy::debug),
            ("json", json::create),
            ("base64", base64::create),
            ("crypto", crypto::create),
            ("std", std_lib::create),
            ("storage", storage::create),
        ],
    )
}
