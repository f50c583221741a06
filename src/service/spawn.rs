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
use crate::runtime::message::{Kind, Message, Session, SpawnRequest};
use crate::runtime::registry::ServiceInfo;
use crate::runtime::worker::Worker;
use crate::runtime;
use mlua::{Function, Lua, LuaOptions, MultiValue};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Turns a user's module name into the dotted form `require` uses:
/// `/` and `\` become `.`, a trailing `.lua` goes.
pub fn module_name(name: &str) -> String {
    let name = name.strip_suffix(".lua").unwrap_or(name);
    name.replace(['/', '\\'], ".")
}

/// Asks a worker to start module `name` (found at `path`) as a child of
/// `parent`, with wrapped arguments `args`. Returns the session the answer
/// will come on and the child's shared info.
pub fn request(
    parent: &Service,
    name: &str,
    path: String,
    args: Vec<u8>,
) -> Result<(Session, Arc<ServiceInfo>), String> {
    let rt = runtime::get();
    if rt.stopping.load(Ordering::Relaxed) {
        return Err("runtime is shutting down".into());
    }
    let worker = rt.least_loaded();
    let info = rt.registry.register(name, worker).ok_or("too many services")?;
    rt.live[worker].fetch_add(1, Ordering::Relaxed);
    let lua = &parent.lua;
    let package: mlua::Table = lua.globals().get("package").map_err(|e| e.to_string())?;
    let request = SpawnRequest {
        name: name.to_owned(),
        path,
        package_path: package.get("path").unwrap_or_default(),
        package_cpath: package.get("cpath").unwrap_or_default(),
    };
    let session = parent.new_session();
    rt.send(Message { to: info.id, from: parent.id, session, kind: Kind::Spawn(Box::new(request)), payload: args });
    Ok((session, info))
}

/// A fresh state with the stock libraries; `math`, `utf8` and `debug` are
/// opened on first use (see `lua_api::lazy`).
pub fn new_state() -> Lua {
    // SAFETY: the `debug` library (opened later, on demand) is the only
    // unsafe one; stock lua5.4 scripts have it too.
    unsafe { Lua::unsafe_new_with(crate::lua_api::lazy::eager_std_libs(), LuaOptions::default()) }
}

/// On the chosen worker: creates the service of a spawn request and runs it
/// until its first blocking point.
pub fn create_here(worker: &Worker, msg: Message) {
    let rt = runtime::get();
    let Kind::Spawn(request) = msg.kind else { return };
    let Some(info) = rt.registry.info(msg.to) else { return };
    let Some(worker) = crate::runtime::worker::current().filter(|w| w.index == worker.index) else { return };
    let svc = Service::new(info, new_state(), msg.from, false, worker.clone());
    svc.set_ready_reply(msg.session);
    worker.add_service(svc.clone());
    if let Err(e) = start_main(&svc, &request, &msg.payload) {
        runtime::log(&format!("[{}] {}", svc.label(), super::scheduler::error_message(&e)));
        svc.end(Some(super::scheduler::error_message(&e)));
    }
}

fn start_main(svc: &Rc<Service>, request: &SpawnRequest, args: &[u8]) -> mlua::Result<()> {
    let lua = &svc.lua;
    let package: mlua::Table = lua.globals().get("package")?;
    package.set("path", request.package_path.as_str())?;
    package.set("cpath", request.package_cpath.as_str())?;
    crate::lua_api::install(lua)?;
    let chunk = lua.load(std::path::Path::new(&request.path)).into_function()?;
    // Setting up leaves garbage that an idle service would keep for good.
    lua.gc_collect()?;
    let run_main: Function = svc.prelude_table()?.get("run_main")?;
    let mut call = MultiValue::new();
    call.push_back(mlua::Value::Function(chunk));
    call.push_back(mlua::Value::String(lua.create_string(&request.name)?));
    call.extend(wrap::decode(lua, args)?);
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
