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
pub mod debug;
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
    core.set("block", lua.create_function(|lua, session: u32| crate::service::of(lua)?.block(session))?)?;
    core.set("stock", stock_functions(lua)?)?;
    let main = crate::service::of(lua)?.is_main;
    os::install(lua, &core)?;
    rpc::install(lua, &core)?;
    globals::install(lua)?;
    let prelude: Table = lua.load(prelude_bytecode(lua)?).set_name("=skynet.prelude").call(&core)?;
    if main {
        // Code that kept the stock pcall sees raised error objects; in the
        // user's script, make them read as their message too.
        globals::plain_error_objects(lua, &core.get("error_message")?)?;
    }
    let key = lua.create_registry_value(prelude)?;
    crate::service::of(lua)?.prelude.replace(Some(key));
    if lua.globals().raw_get::<Option<Table>>("io")?.is_some() {
        io::install(lua)?; // the main state: `io` is there already (it needs the prelude's `suspend`)
    }
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

/// The stock functions the prelude wraps, as they were before the first
/// install in this state (busted, for one, installs us again per spec file).
fn stock_functions(lua: &Lua) -> Result<Table> {
    const KEY: &str = "skynet.stock";
    if let Some(stock) = lua.named_registry_value::<Option<Table>>(KEY)? {
        return Ok(stock);
    }
    let globals = lua.globals();
    let coroutine: Table = globals.get("coroutine")?;
    let stock = lua.create_table()?;
    stock.set("pcall", globals.get::<mlua::Value>("pcall")?)?;
    stock.set("xpcall", globals.get::<mlua::Value>("xpcall")?)?;
    for name in ["create", "resume", "yield", "close", "isyieldable"] {
        stock.set(name, coroutine.get::<mlua::Value>(name)?)?;
    }
    lua.set_named_registry_value(KEY, &stock)?;
    Ok(stock)
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
