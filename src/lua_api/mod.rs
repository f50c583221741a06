//! The Lua face of skynet: one binding file per Lua table.
//!
//! Each file converts arguments, calls the Rust core and converts the result;
//! logic that can be tested without a Lua state lives in `runtime/`,
//! `service/`, `codec/` and friends. Big tables (`json`, `crypto`, `std`,
//! ...) are built lazily on first use (see [`lazy`]) so that an idle service
//! stays small. `prelude.lua` holds the Lua half of the blocking functions;
//! `user_coroutines.lua` and `utilities.lua` are Lua parts built on first use.

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

use mlua::{Lua, Result, Table, Value};
use std::rc::Rc;

/// The service whose Lua code runs the C function of `stack` (for the
/// raw C fronts of `rpc.rs` and `io/front.rs`).
pub fn calling_service(stack: raw::Stack<'_>) -> Option<Rc<crate::service::Service>> {
    use crate::service;
    let svc = service::running().or_else(|| service::of(stack.lua()).ok());
    debug_assert!(
        svc.as_ref().map(Rc::as_ptr) == service::of(stack.lua()).ok().as_ref().map(Rc::as_ptr),
        "the running service is the caller's"
    );
    svc
}

/// What a wait needs besides its session, as the prelude's `suspend` and
/// the C fronts that wait (`raw::call_then_wait`) take it: the marker of
/// the yields that carry a wait, and in the main state `block`, which
/// waits where nothing can yield: only the main script's own thread
/// blocks (nil in a service).
pub fn wait_upvalues(lua: &Lua) -> Result<(Value, Value)> {
    let marker = Value::LightUserData(mlua::LightUserData(WAIT_MARKER.as_ptr() as *mut std::ffi::c_void));
    let block = if crate::service::of(lua)?.is_main {
        Value::Function(lua.create_function(|lua, session: u32| crate::service::of(lua)?.block(session))?)
    } else {
        Value::Nil
    };
    Ok((marker, block))
}

/// Installs the whole API into the state of a service (already registered
/// as the state's app data) and returns the `skynet` module table.
pub fn install(lua: &Lua) -> Result<Table> {
    if lua.globals().raw_get::<Option<Table>>("string")?.is_none() {
        lazy::stock_libraries(lua)?; // a new service (the main state has them all)
    }
    install_data_helpers(lua)?;
    // Sized for what the installers below put in it: a growing table is
    // rehashed at every power of two, a cost every new service would pay.
    let core = lua.create_table_with_capacity(0, 16)?;
    let error_message = lua.create_function(globals::error_message)?;
    lua.set_named_registry_value("skynet.error_message", &error_message)?;
    core.set("error_message", error_message)?;
    core.set("stock", stock_functions(lua)?)?;
    let main = crate::service::of(lua)?.is_main;
    core.set("is_main", main)?;
    let (wait_marker, block) = wait_upvalues(lua)?;
    core.set("block", block)?;
    core.set("load_jobs", lua.create_function(|lua, args: mlua::MultiValue| load_compiled(lua, &JOBS)?.call::<mlua::Function>(args))?)?;
    core.set("wait_marker", wait_marker)?;
    os::install(lua, &core)?;
    rpc::install(lua, &core)?;
    let prelude: Table = load_compiled(lua, &PRELUDE)?.call(&core)?;
    if main {
        // Code that kept the stock pcall sees raised error objects; in the
        // user's script, make them read as their message too.
        globals::plain_error_objects(lua, &core.get("error_message")?)?;
    }
    let key = lua.create_registry_value(prelude)?;
    crate::service::of(lua)?.prelude.replace(Some(key));
    if let Some(coroutine) = lua.globals().raw_get::<Option<Table>>("coroutine")? {
        user_coroutines(lua, coroutine)?; // the main state: `coroutine` is there already
    }
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
    lazy::registry_table(lua, "_LOADED")?.set("skynet", &module)?;
    Ok(module)
}

/// Whose address is the prelude's wait marker (any unique address will do).
static WAIT_MARKER: [u8; 1] = [0];

/// The stock functions the prelude wraps, as they were before the first
/// install in this state (busted, for one, installs us again per spec file).
/// A service starts without `coroutine` (it is built when first read, see
/// [`lazy::coroutine`]): its functions come without the library.
fn stock_functions(lua: &Lua) -> Result<Table> {
    const KEY: &str = "skynet.stock";
    const COROUTINE: [&str; 5] = ["create", "resume", "yield", "close", "isyieldable"];
    if let Some(stock) = lua.named_registry_value::<Option<Table>>(KEY)? {
        return Ok(stock);
    }
    let globals = lua.globals();
    let stock = lua.create_table_with_capacity(0, 2 + COROUTINE.len())?;
    stock.set("pcall", globals.get::<mlua::Value>("pcall")?)?;
    stock.set("xpcall", globals.get::<mlua::Value>("xpcall")?)?;
    match globals.raw_get::<Option<Table>>("coroutine")? {
        Some(coroutine) => {
            for name in COROUTINE {
                stock.set(name, coroutine.get::<mlua::Value>(name)?)?;
            }
        }
        None => {
            let functions = lazy::stock_library(lua, lazy::Stock::Coroutine)?;
            for name in COROUTINE {
                if let Some((_, pointer)) = functions.iter().find(|(known, _)| known == name) {
                    stock.set(name, raw::light_function(lua, *pointer)?)?;
                }
            }
        }
    }
    lua.set_named_registry_value(KEY, &stock)?;
    Ok(stock)
}

/// A chunk of Lua shipped in the library, compiled once per process:
/// loading bytecode costs a fraction of parsing the source again in every
/// new state.
struct Compiled {
    name: &'static str,
    source: &'static str,
    /// Drop debug information. Done for the prelude, loaded in every
    /// service, where it saves 2 KiB per service; its errors are raised at
    /// the caller's level, so only a traceback shows `?` for its lines.
    strip: bool,
    bytecode: std::sync::OnceLock<Vec<u8>>,
}

static PRELUDE: Compiled = Compiled {
    name: "=skynet.prelude",
    source: include_str!("prelude.lua"),
    strip: true,
    bytecode: std::sync::OnceLock::new(),
};
static USER_COROUTINES: Compiled = Compiled {
    name: "=skynet.coroutines",
    source: include_str!("user_coroutines.lua"),
    strip: false,
    bytecode: std::sync::OnceLock::new(),
};
static JOBS: Compiled = Compiled {
    name: "=skynet.jobs",
    source: include_str!("jobs.lua"),
    strip: true,
    bytecode: std::sync::OnceLock::new(),
};
static UTILITIES: Compiled = Compiled {
    name: "=skynet.utilities",
    source: include_str!("utilities.lua"),
    strip: false,
    bytecode: std::sync::OnceLock::new(),
};

fn load_compiled(lua: &Lua, chunk: &'static Compiled) -> Result<mlua::Function> {
    let bytecode = match chunk.bytecode.get() {
        Some(b) => b,
        None => {
            let compiled = lua.load(chunk.source).set_name(chunk.name).into_function()?.dump(chunk.strip);
            chunk.bytecode.get_or_init(|| compiled)
        }
    };
    lua.load(&bytecode[..]).set_name(chunk.name).into_function()
}

/// Makes `coroutine.resume`, `wrap` and `close` of `coroutine` let waits
/// pass through (`user_coroutines.lua`).
pub fn user_coroutines(lua: &Lua, coroutine: Table) -> Result<Table> {
    let prelude = crate::service::of(lua)?.prelude_table()?;
    let stock = stock_functions(lua)?;
    let error_message: mlua::Function = lua.named_registry_value("skynet.error_message")?;
    load_compiled(lua, &USER_COROUTINES)?.call((coroutine, stock, prelude, error_message))
}

/// `bind`, `throw` and `trace` (`utilities.lua`), built once per state.
pub fn utility(lua: &Lua, name: &str) -> Result<mlua::Value> {
    const KEY: &str = "skynet.utilities";
    let table = match lua.named_registry_value::<Option<Table>>(KEY)? {
        Some(t) => t,
        None => {
            let t: Table = load_compiled(lua, &UTILITIES)?.call(())?;
            lua.set_named_registry_value(KEY, &t)?;
            t
        }
    };
    table.get(name)
}

/// Installs the data helpers (pure functions and data structures) into `lua`:
/// `string`/`table` extras and `compress` at once, the rest on first use.
pub fn install_data_helpers(lua: &Lua) -> Result<()> {
    string_ext::install(lua)?;
    table_ext::install(lua)?;
    if lua.globals().raw_get::<Option<Table>>("package")?.is_some() {
        lazy::preload_std_libs(lua)?; // the main state: `package` is there already
    }
    lazy::install(
        lua,
        &lua.globals(),
        &[
            ("io", |lua| lazy::io(lua).map(Value::Table)),
            ("math", |lua| lazy::math(lua).map(Value::Table)),
            ("utf8", |lua| lazy::utf8(lua).map(Value::Table)),
            ("debug", |lua| lazy::debug(lua).map(Value::Table)),
            ("coroutine", |lua| lazy::coroutine(lua).map(Value::Table)),
            ("package", |lua| lazy::package(lua).map(Value::Table)),
            ("require", lazy::require),
            ("json", |lua| json::create(lua).map(Value::Table)),
            ("wrap", globals::wrap_function),
            ("unwrap", globals::unwrap_function),
            ("compress", compress::compress_function),
            ("uncompress", compress::uncompress_function),
            ("base64", |lua| base64::create(lua).map(Value::Table)),
            ("crypto", |lua| crypto::create(lua).map(Value::Table)),
            ("std", |lua| std_lib::create(lua).map(Value::Table)),
            ("storage", |lua| storage::create(lua).map(Value::Table)),
            ("bind", |lua| utility(lua, "bind")),
            ("throw", |lua| utility(lua, "throw")),
            ("trace", |lua| utility(lua, "trace")),
        ],
    )
}
