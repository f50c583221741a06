//! The main service: the user's own script, which required us.
//!
//! Its state belongs to the interpreter, not to us, and its code runs on the
//! interpreter's thread, outside any coroutine we schedule. So the main
//! thread gets a worker of its own (mailbox index N) that runs only while
//! the script blocks ([`block_on`]), and a sentinel userdata whose finalizer
//! runs the shutdown before `package` unloads `skynet.so` (DESIGN.md §7).

use crate::runtime::worker::Worker;
use crate::runtime::{self, shutdown};
use crate::service::Service;
use mlua::{Lua, Result, Table, UserData};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::Ordering;

/// The main thread's event loop, used only inside blocking calls.
struct MainLoop {
    tokio: tokio::runtime::Runtime,
    local: tokio::task::LocalSet,
}

thread_local! {
    static MAIN_LOOP: RefCell<Option<MainLoop>> = const { RefCell::new(None) };
    static BLOCKING: Cell<bool> = const { Cell::new(false) };
}

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
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| mlua::Error::runtime(format!("skynet: cannot start the main loop: {e}")))?;
    MAIN_LOOP.with(|m| *m.borrow_mut() = Some(MainLoop { tokio, local: tokio::task::LocalSet::new() }));
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

/// Runs the main thread's worker loop until `until()` holds.
pub fn block_on(worker: &Rc<Worker>, until: &dyn Fn() -> bool) -> Result<()> {
    if BLOCKING.with(|b| b.replace(true)) {
        return Err(mlua::Error::runtime("skynet: blocking call inside a blocking call of the main thread"));
    }
    let result = MAIN_LOOP.with(|m| {
        let m = m.borrow();
        let Some(m) = m.as_ref() else { return Err(mlua::Error::runtime("skynet: the runtime has stopped")) };
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| m.local.block_on(&m.tokio, worker.run(until))))
            .map_err(|_| mlua::Error::runtime("skynet: internal error in the main loop"))
    });
    BLOCKING.with(|b| b.set(false));
    result
}

/// Queues a local task on the main thread's loop: it runs whenever the
/// script blocks (like every other event of the main service).
/// `None` once the runtime has stopped.
pub fn spawn_local(task: impl std::future::Future<Output = ()> + 'static) -> Option<tokio::task::AbortHandle> {
    MAIN_LOOP.with(|m| {
        let m = m.borrow();
        let m = m.as_ref()?;
        let _inside = m.tokio.enter();
        Some(m.local.spawn_local(task).abort_handle())
    })
}

/// Runs `f` inside the main thread's tokio runtime (sockets need one to register with).
pub fn in_runtime<R>(f: impl FnOnce() -> R) -> R {
    MAIN_LOOP.with(|m| match m.borrow().as_ref() {
        Some(m) => {
            let _inside = m.tokio.enter();
            f()
        }
        None => f(),
    })
}

/// Whether the main thread is inside a blocking call (running its loop).
pub fn blocking() -> bool {
    BLOCKING.with(|b| b.get())
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
    if let Some(m) = MAIN_LOOP.with(|m| m.borrow_mut().take()) {
        drop(m.local);
        m.tokio.shutdown_timeout(std::time::Duration::from_millis(500));
    }
}
