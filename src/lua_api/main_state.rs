//! The main service: the user's own script, which required us.
//!
//! Its state belongs to the interpreter, not to us, and its code runs on the
//! interpreter's thread, outside any coroutine we schedule. So the main
//! thread gets a worker of its own (mailbox index N) that runs only while
//! the script blocks ([`block_on`]), and a sentinel userdata whose finalizer
//! runs the shutdown before `package` unloads `skynet.so` (docs/ARCHITECTURE.md §7).

use crate::runtime::worker::Worker;
use crate::runtime::{self, main_loop, shutdown};
use crate::service::Service;
use mlua::{Lua, Result, Table, UserData};
use std::sync::atomic::Ordering;

/// Its finalizer shuts the runtime down when the main state closes.
struct Sentinel;

impl UserData for Sentinel {}

impl Drop for Sentinel {
    fn drop(&mut self) {
        close();
    }
}

/// `luaopen_skynet`: starts the runtime and makes `lua` the main service.
pub fn open(lua: &Lua) -> Result<Table> {
    let Some(rt) = runtime::start() else {
        // A second `require` in the same state: busted, for one, restores
        // `package.loaded` and the globals (and `_G`'s metatable) between
        // spec files. Put the API back; the runtime goes on as it was.
        if crate::service::of(lua).is_ok_and(|s| s.is_main) {
            return crate::lua_api::install(lua);
        }
        return Err(mlua::Error::runtime("skynet: the runtime is already running in another Lua state"));
    };
    main_loop::create().map_err(mlua::Error::external)?;
    let index = rt.main_index();
    let worker = Worker::install(rt, index);
    let name = script_name(lua);
    let info = rt.registry.register(&name, index).ok_or_else(|| mlua::Error::runtime("skynet: no service id left"))?;
    rt.main_service.store(info.id, Ordering::SeqCst);
    rt.live[index].fetch_add(1, Ordering::Relaxed);
    let svc = Service::new(info, lua.clone(), 0, true, worker.clone());
    worker.add_service(svc);
    let module = crate::lua_api::install(lua)?;
    // Kept in the registry, so it is finalized when the state closes, before
    // `package` (created earlier) unloads this library.
    lua.set_named_registry_value("skynet.sentinel", lua.create_userdata(Sentinel)?)?;
    Ok(module)
}

/// `os.name()` of the main service: the script's base name without `.lua`.
fn script_name(lua: &Lua) -> String {
    let arg0: Option<String> = lua.globals().get::<Table>("arg").ok().and_then(|t| t.get(0).ok());
    arg0.as_deref()
        .and_then(|p| std::path::Path::new(p).file_name()?.to_str().map(str::to_owned))
        .map(|f| f.strip_suffix(".lua").map(str::to_owned).unwrap_or(f))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "main".to_owned())
}

/// The sentinel's finalizer: stop everything, then leave with the status a
/// service's `os.exit` asked for, if any.
fn close() {
    stop_runtime();
    if let Some(code) = runtime::try_get().and_then(|rt| rt.requested_exit()) {
        // `os.exit(code)` came from a service: the script has ended, so leave with its status.
        // SAFETY: every thread of ours has been joined; flushing stdio then exiting is what stock os.exit does.
        unsafe { libc::fflush(std::ptr::null_mut()) };
        std::process::exit(code);
    }
}

/// Ends the main service, stops every worker and joins every thread.
pub fn stop_runtime() {
    let Some(rt) = runtime::try_get() else { return };
    if let Some(worker) = crate::runtime::worker::current()
        && let Some(main) = worker.service(rt.main_service.load(Ordering::SeqCst))
    {
        main.end(None);
    }
    shutdown::shutdown(rt);
    Worker::uninstall();
    main_loop::destroy();
}
