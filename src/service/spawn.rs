//! Starting a service: `os.pload` on the parent's side, state creation on
//! the chosen worker's side.
//!
//! A `Lua` cannot move between threads (mlua module mode has no `send`), so
//! the parent never builds the child's state: it resolves the module file,
//! reserves an id on the least-loaded worker and sends that worker a spawn
//! request. The worker creates the state, runs the module chunk and `main`
//! in one coroutine, and answers the parent's session when the child is
//! ready (first `os.wait`), has returned, or has failed.

use super::{Ctx, CtxKind, Service};
use crate::codec::wrap;
use crate::error::Error;
use crate::runtime::message::{Kind, Message, ServiceId, Session};
use crate::runtime::registry::ServiceInfo;
use crate::runtime::worker::Worker;
use crate::runtime;
use mlua::{Function, Lua, LuaOptions, MultiValue};
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};

/// Puts the Lua API into a new service's state (registered by the
/// bindings, which sit above this layer).
pub type ApiInstaller = fn(&Lua) -> mlua::Result<()>;

static INSTALLER: OnceLock<ApiInstaller> = OnceLock::new();

/// Registers the installer of the Lua API (once per process).
pub fn set_api_installer(install: ApiInstaller) {
    let _ = INSTALLER.set(install);
}

/// Everything a worker needs to create a service.
struct SpawnRequest {
    id: ServiceId,
    parent: ServiceId,
    /// The parent's session to answer when the child is ready.
    session: Session,
    name: String,
    /// The file that holds the module (found by the parent through its `package.path`).
    path: String,
    /// Where the child's `require` looks: the parent's paths.
    paths: Arc<PackagePaths>,
    /// The wrapped arguments of `main`.
    args: Vec<u8>,
}

/// A service's `package.path` and `package.cpath`. A new service opens its
/// `package` library on first use (see `lua_api::lazy::package`), with the
/// paths its parent had when it spawned it; until then they are kept here,
/// shared with its siblings, rather than in a library every service would
/// build.
#[derive(Debug, PartialEq, Eq)]
pub struct PackagePaths {
    pub path: String,
    pub cpath: String,
}

/// The paths `svc` finds its modules on and hands to its children: those of
/// its `package` table if it opened one, else those it was given.
pub fn paths_of(svc: &Service) -> Arc<PackagePaths> {
    let given = svc.package_paths.borrow().clone();
    let package = svc.lua.globals().raw_get::<Option<mlua::Table>>("package").ok().flatten();
    let Some(package) = package else {
        return given.unwrap_or_else(|| Arc::new(PackagePaths { path: String::new(), cpath: String::new() }));
    };
    let field = |name: &str| package.get::<Option<String>>(name).ok().flatten().unwrap_or_default();
    let current = PackagePaths { path: field("path"), cpath: field("cpath") };
    match given {
        Some(given) if *given == current => given,
        _ => Arc::new(current),
    }
}

/// Finds module `name` along `templates` (`package.path`'s form: templates
/// separated by `;`, `?` standing for the name with its dots made `/`), as
/// `package.searchpath` does: the first file that can be read, or the list
/// of those tried (`no file '...'` lines, as `require` reports them).
pub fn search_path(name: &str, templates: &str) -> Result<String, String> {
    let name = name.replace('.', "/");
    let mut tried = String::new();
    for template in templates.split(';').filter(|t| !t.is_empty()) {
        let file = template.replace('?', &name);
        if std::fs::File::open(&file).is_ok() {
            return Ok(file);
        }
        tried.push_str(&format!("\n\tno file '{file}'"));
    }
    Err(tried)
}

/// Turns a user's module name into the dotted form `require` uses:
/// `/` and `\` become `.`, a trailing `.lua` goes.
pub fn module_name(name: &str) -> String {
    let name = name.strip_suffix(".lua").unwrap_or(name);
    name.replace(['/', '\\'], ".")
}

/// Asks the least-loaded worker to start module `name` (found at `path`)
/// as a child of `parent`, with wrapped arguments `args`; the child finds
/// its modules along `paths` (the parent's, see [`paths_of`]).
/// Returns the session the answer will come on and the child's shared info;
/// the child is the parent's job from now on.
pub fn request(
    parent: &Service,
    name: &str,
    path: String,
    paths: Arc<PackagePaths>,
    args: Vec<u8>,
) -> Result<(Session, Arc<ServiceInfo>), Error> {
    let rt = runtime::get();
    if rt.stopping.load(Ordering::Relaxed) {
        return Err(Error::ShuttingDown);
    }
    let worker = rt.least_loaded();
    let info = rt.registry.register(name, worker).ok_or(Error::TooManyServices)?;
    rt.live[worker].fetch_add(1, Ordering::Relaxed);
    let session = parent.new_session();
    let request = SpawnRequest {
        id: info.id,
        parent: parent.id,
        session,
        name: name.to_owned(),
        path,
        paths,
        args,
    };
    let create = move |worker: &Rc<Worker>| create_here(worker, request);
    rt.send(Message::signal(info.id, 0, Kind::Spawn(Box::new(create))));
    if worker != parent.worker.index {
        parent.worker.await_spawn();
    }
    parent.add_job(info.clone());
    Ok((session, info))
}

/// The standard libraries a new service state opens at once: the base
/// library alone. `string`, `table` and `os` are given by the Lua API
/// installer as tables whose functions are made on first read, and `io`,
/// `math`, `utf8`, `debug`, `coroutine` and `package` are opened on first
/// use: each costs time and memory in every new service, and many services
/// never touch most of them.
pub fn std_libs_at_start() -> mlua::StdLib {
    mlua::StdLib::NONE
}

/// A fresh state with the standard libraries of [`std_libs_at_start`], its
/// collector stopped: [`start_main`] restarts it once the state is set up.
///
/// Why: a new state owes the collector from its first allocation, so while
/// it is built (the Lua API, the stock tables, the module's chunk) the
/// incremental collector would run step after step over a heap that only
/// grows, about a twentieth of a spawn's work; a full collection once it is
/// ready frees the garbage of setting up instead.
pub fn new_state() -> Lua {
    // SAFETY: `unsafe_new_with` only allows the `debug` library, which the
    // installer opens later on demand; stock lua5.4 scripts have it too.
    let lua = unsafe { Lua::unsafe_new_with(std_libs_at_start(), LuaOptions::default()) };
    lua.gc_stop();
    lua
}

/// On the chosen worker: creates the service of a spawn request and runs it
/// until its first blocking point.
fn create_here(worker: &Rc<Worker>, request: SpawnRequest) {
    let Some(info) = runtime::get().registry.info(request.id) else { return };
    let svc = match Service::new(info.clone(), new_state(), request.parent, false, worker.clone()) {
        Ok(svc) => svc,
        Err(e) => {
            runtime::log(&format!("[{}:{}] {e}", info.name, info.id));
            let rt = runtime::get();
            rt.send(Message::reply(request.parent, info.id, request.session, wrap::failure(&e.to_string())));
            super::monitor::tell(&info, Some(&e.to_string()));
            rt.registry.unregister(info.id);
            rt.live[worker.index].fetch_sub(1, Ordering::Relaxed);
            return;
        }
    };
    svc.set_ready_reply(request.session);
    worker.add_service(svc.clone());
    worker.await_spawn();
    if let Err(e) = start_main(&svc, &request) {
        runtime::log(&format!("[{}] {}", svc.label(), super::scheduler::error_message(&e)));
        svc.end(Some(super::scheduler::error_message(&e)));
    }
}

fn start_main(svc: &Rc<Service>, request: &SpawnRequest) -> mlua::Result<()> {
    let lua = &svc.lua;
    svc.package_paths.replace(Some(request.paths.clone()));
    let install = INSTALLER.get().ok_or_else(|| mlua::Error::runtime("skynet: no Lua API installer"))?;
    install(lua)?;
    let chunk = lua.load(std::path::Path::new(&request.path)).into_function()?;
    let run_main: Function = svc.prelude_table()?.get("run_main")?;
    let mut call = MultiValue::new();
    call.push_back(mlua::Value::Function(chunk));
    call.push_back(mlua::Value::String(lua.create_string(&request.name)?));
    call.extend(wrap::decode(lua, &request.args)?);
    // The collector was stopped while the state was set up (see
    // `new_state`). An idle service would keep the garbage of its start for
    // good (its collector waits for its heap to double), so a full
    // collection is made before `main` runs, which frees what setting up
    // left and sets the collector's next goal (restarted alone, it would
    // begin a cycle at once, a third slower spawn), and another once `main`
    // first waits, for what starting left.
    lua.gc_restart();
    lua.gc_collect()?;
    svc.start(run_main, Ctx::new(CtxKind::Main), call);
    lua.gc_collect()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_state_has_its_libraries_and_its_collector_stopped() {
        let lua = new_state();
        assert!(!lua.gc_is_running(), "start_main restarts it once the state is set up");
        assert_eq!(lua.load("return tostring(1) .. type(print)").eval::<String>().unwrap(), "1function");
        assert!(lua.load("return math or string").eval::<mlua::Value>().unwrap().is_nil(), "the installer gives the rest");
    }

    #[test]
    fn module_names_are_normalised() {
        assert_eq!(module_name("cluster/adapter.lua"), "cluster.adapter");
        assert_eq!(module_name("a\\b"), "a.b");
        assert_eq!(module_name("plain"), "plain");
    }

    #[test]
    fn modules_are_searched_like_package_searchpath() {
        let dir = std::env::temp_dir().join(format!("skynet-search-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("a")).unwrap();
        std::fs::write(dir.join("a/b.lua"), "").unwrap();
        let d = dir.to_str().unwrap();
        let templates = format!("{d}/?.x;;{d}/?.lua;{d}/?/init.lua");
        assert_eq!(search_path("a.b", &templates), Ok(format!("{d}/a/b.lua")));
        assert_eq!(
            search_path("c", &templates),
            Err(format!("\n\tno file '{d}/c.x'\n\tno file '{d}/c.lua'\n\tno file '{d}/c/init.lua'"))
        );
        assert_eq!(search_path("c", ""), Err(String::new()));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
