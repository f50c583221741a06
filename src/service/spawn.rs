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
    package_path: String,
    package_cpath: String,
    /// The wrapped arguments of `main`.
    args: Vec<u8>,
}

/// Turns a user's module name into the dotted form `require` uses:
/// `/` and `\` become `.`, a trailing `.lua` goes.
pub fn module_name(name: &str) -> String {
    let name = name.strip_suffix(".lua").unwrap_or(name);
    name.replace(['/', '\\'], ".")
}

/// Asks the least-loaded worker to start module `name` (found at `path`)
/// as a child of `parent`, with wrapped arguments `args`; the child finds
/// its modules through the parent's `package.path` and `package.cpath`.
/// Returns the session the answer will come on and the child's shared info;
/// the child is the parent's job from now on.
pub fn request(parent: &Service, name: &str, path: String, args: Vec<u8>) -> Result<(Session, Arc<ServiceInfo>), Error> {
    let rt = runtime::get();
    if rt.stopping.load(Ordering::Relaxed) {
        return Err(Error::ShuttingDown);
    }
    let worker = rt.least_loaded();
    let info = rt.registry.register(name, worker).ok_or(Error::TooManyServices)?;
    rt.live[worker].fetch_add(1, Ordering::Relaxed);
    let package: Option<mlua::Table> = parent.lua.globals().get("package").ok();
    let package_field = |field: &str| package.as_ref().and_then(|p| p.get(field).ok()).unwrap_or_default();
    let session = parent.new_session();
    let request = SpawnRequest {
        id: info.id,
        parent: parent.id,
        session,
        name: name.to_owned(),
        path,
        package_path: package_field("path"),
        package_cpath: package_field("cpath"),
        args,
    };
    let create = move |worker: &Rc<Worker>| create_here(worker, request);
    rt.send(Message::signal(info.id, 0, Kind::Spawn(Box::new(create))));
    parent.add_job(info.clone());
    Ok((session, info))
}

/// The standard libraries a new service state opens at once. `io`, `math`,
/// `utf8` and `debug` are left for the Lua API installer to open on first
/// use: each costs time and memory in every new service, and most services
/// never touch them.
pub fn std_libs_at_start() -> mlua::StdLib {
    use mlua::StdLib;
    StdLib::COROUTINE | StdLib::TABLE | StdLib::OS | StdLib::STRING | StdLib::PACKAGE
}

/// A fresh state with the standard libraries of [`std_libs_at_start`].
pub fn new_state() -> Lua {
    // SAFETY: `unsafe_new_with` only allows the `debug` library, which the
    // installer opens later on demand; stock lua5.4 scripts have it too.
    unsafe { Lua::unsafe_new_with(std_libs_at_start(), LuaOptions::default()) }
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
    if let Err(e) = start_main(&svc, &request) {
        runtime::log(&format!("[{}] {}", svc.label(), super::scheduler::error_message(&e)));
        svc.end(Some(super::scheduler::error_message(&e)));
    }
}

fn start_main(svc: &Rc<Service>, request: &SpawnRequest) -> mlua::Result<()> {
    let lua = &svc.lua;
    let package: mlua::Table = lua.globals().get("package")?;
    package.set("path", request.package_path.as_str())?;
    package.set("cpath", request.package_cpath.as_str())?;
    let install = INSTALLER.get().ok_or_else(|| mlua::Error::runtime("skynet: no Lua API installer"))?;
    install(lua)?;
    let chunk = lua.load(std::path::Path::new(&request.path)).into_function()?;
    // Setting up leaves garbage that an idle service would keep for good.
    lua.gc_collect()?;
    let run_main: Function = svc.prelude_table()?.get("run_main")?;
    let mut call = MultiValue::new();
    call.push_back(mlua::Value::Function(chunk));
    call.push_back(mlua::Value::String(lua.create_string(&request.name)?));
    call.extend(wrap::decode(lua, &request.args)?);
    svc.start(run_main, Ctx::new(CtxKind::Main), call);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names_are_normalised() {
        assert_eq!(module_name("cluster/adapter.lua"), "cluster.adapter");
        assert_eq!(module_name("a\\b"), "a.b");
        assert_eq!(module_name("plain"), "plain");
    }
}
