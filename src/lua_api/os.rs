//! `os` additions (docs/API.md §4, §2.3-2.4, §8): services, waiting, clocks,
//! files. `os.wait` and `os.pload` have a Lua half in `prelude.lua`; here
//! are their Rust halves (`core.wait`, `core.pload`), which return a session
//! to yield on or `nil, results...`.

use crate::codec::wrap;
use crate::lua_api::args::{Args, binding};
use crate::lua_api::lazy;
use crate::lua_api::returns::at_once;
use crate::runtime::registry::Life;
use crate::runtime;
use crate::service::{self, JobHandle, WaitKind, spawn};
use mlua::{Function, IntoLuaMulti, Lua, MultiValue, Result, Table, UserData, UserDataMethods, Value};
use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

pub fn install(lua: &Lua, core: &Table) -> Result<()> {
    let os: Table = lua.globals().get("os")?;
    // The stock exit, for `os.exit` in the main service once the runtime is down.
    // (Kept once: busted installs us again per spec file.)
    if service::of(lua)?.is_main && lua.named_registry_value::<Option<Function>>("skynet.stock_exit")?.is_none() {
        lua.set_named_registry_value("skynet.stock_exit", os.raw_get::<Function>("exit")?)?;
    }
    // Ours replaces it, made on first read like the rest below.
    os.raw_set("exit", Value::Nil)?;
    core.set("wait", binding(lua, wait, "wait")?)?;
    core.set("pload", binding(lua, pload, "pload")?)?;
    core.set("job_state", binding(lua, job_state, "state")?)?;
    core.set("job_close", binding(lua, job_close, "close")?)?;
    // Most services call few of these, so each is made on first read (a
    // Rust function costs about 150 bytes in every state that has it).
    lazy::install(
        lua,
        &os,
        &[
            ("version", |lua| function(lua, |_, ()| Ok(env!("CARGO_PKG_VERSION")))),
            ("id", |lua| function(lua, |lua, ()| Ok(service::of(lua)?.id))),
            ("name", |lua| function(lua, |lua, ()| Ok(service::of(lua)?.info.name.clone()))),
            ("stop", |lua| function(lua, |lua, ()| Ok(service::of(lua)?.stop()))),
            ("stopped", |lua| function(lua, |lua, ()| Ok(service::of(lua)?.stopped()))),
            ("debugging", |lua| function(lua, |_, ()| Ok(runtime::debugging()))),
            ("dirsep", |lua| function(lua, |_, ()| Ok(std::path::MAIN_SEPARATOR_STR))),
            ("processors", |lua| function(lua, |_, ()| Ok(processors()))),
            ("memory", |lua| function(lua, |lua, ()| Ok(lua.used_memory()))),
            ("timer", |lua| function(lua, |lua, ()| crate::lua_api::timer::new(lua))),
            ("coroutine", |lua| function(lua, |lua, ()| crate::lua_api::coroutine::new(lua))),
            ("post", |lua| binding(lua, post, "post").map(Value::Function)),
            ("monitor", |lua| binding(lua, monitor, "monitor").map(Value::Function)),
            ("memlimit", |lua| binding(lua, memlimit, "memlimit").map(Value::Function)),
            ("exit", |lua| binding(lua, exit, "exit").map(Value::Function)),
            ("getcwd", |lua| binding(lua, getcwd, "getcwd").map(Value::Function)),
            ("mkdir", |lua| binding(lua, mkdir, "mkdir").map(Value::Function)),
            ("opendir", |lua| binding(lua, opendir, "opendir").map(Value::Function)),
            ("compile", |lua| binding(lua, compile, "compile").map(Value::Function)),
            ("system_clock", |lua| binding(lua, system_clock, "system_clock").map(Value::Function)),
            ("steady_clock", |lua| binding(lua, steady_clock, "steady_clock").map(Value::Function)),
        ],
    )
}

/// A plain Rust function as a Lua value.
fn function<A, R>(lua: &Lua, func: impl Fn(&Lua, A) -> Result<R> + mlua::MaybeSend + 'static) -> Result<Value>
where
    A: mlua::FromLuaMulti,
    R: mlua::IntoLuaMulti,
{
    lua.create_function(func).map(Value::Function)
}

pub fn processors() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// `core.wait(ms)`: nil/negative = until stopped, 0 = after queued events, > 0 = sleep.
fn wait(lua: &Lua, a: Args) -> Result<MultiValue> {
    let svc = service::of(lua)?;
    let ms = a.opt_number(1)?;
    if ms.is_some_and(f64::is_nan) {
        return Err(crate::lua_api::args::bad_argument(1, "wait", "number is NaN"));
    }
    if svc.stopped() && svc.is_main {
        return at_once(lua, 0);
    }
    let kind = WaitKind::Sleep { events_before: svc.events() };
    let session = svc.sleep(ms);
    svc.suspend(session, kind, None)
}

/// `core.pload(name, ...)`.
fn pload(lua: &Lua, a: Args) -> Result<MultiValue> {
    let svc = service::of(lua)?;
    let name = match a.value(1) {
        Value::String(s) if !s.as_bytes().is_empty() => s.to_str()?.to_string(),
        _ => return Err(mlua::Error::runtime("no name")),
    };
    let name = spawn::module_name(&name);
    let paths = spawn::paths_of(&svc);
    let path = match spawn::search_path(&name, &paths.path) {
        Ok(path) => path,
        Err(tried) => return at_once(lua, (false, format!("module '{name}' not found:\n\t{}", tried.trim_start()))),
    };
    let payload = wrap::encode(a.tail(2))?;
    match spawn::request(&svc, &name, path, paths, payload) {
        Ok((session, info)) => svc.suspend(session, WaitKind::Spawn(info), None),
        Err(e) => at_once(lua, (false, e.to_string())),
    }
}

fn job_info(a: &Args) -> Result<std::sync::Arc<runtime::registry::ServiceInfo>> {
    let handle = a.userdata::<JobHandle>(1, "job")?;
    Ok(handle.borrow::<JobHandle>()?.0.clone())
}

fn job_state(lua: &Lua, a: Args) -> Result<MultiValue> {
    let state = match job_info(&a)?.life() {
        Life::Running => "running",
        Life::Dead => "dead",
        Life::Error => "error",
    };
    state.into_lua_multi(lua)
}

/// `core.job_close(handle)`: stop the child and wait until it has ended.
fn job_close(lua: &Lua, a: Args) -> Result<MultiValue> {
    let svc = service::of(lua)?;
    let info = job_info(&a)?;
    if info.life() != Life::Running {
        return at_once(lua, ());
    }
    let session = svc.stop_job(info.id);
    svc.suspend(session, WaitKind::Close, None)
}

fn post(lua: &Lua, a: Args) -> Result<MultiValue> {
    let func = a.function(1)?;
    service::of(lua)?.post(func, a.rest(2))?;
    Ok(MultiValue::new())
}

/// `os.monitor(id, func)`: `func(id, how [, msg])` runs here once service
/// `id` has ended (`"dead"` on the next turn if it has already).
fn monitor(lua: &Lua, a: Args) -> Result<MultiValue> {
    let id = a.integer(1)?;
    let func = a.function(2)?;
    service::of(lua)?.monitor(id, func)?;
    Ok(MultiValue::new())
}

/// `os.exit([code])`: from a service, stop everything and let the main
/// script end with `code`; from the main service, stop everything now and
/// exit as stock `os.exit` does.
fn exit(lua: &Lua, a: Args) -> Result<MultiValue> {
    let code = match a.value(1) {
        Value::Nil | Value::Boolean(true) => 0,
        Value::Boolean(false) => 1,
        _ => a.integer(1)? as i32,
    };
    let svc = service::of(lua)?;
    if !svc.is_main || runtime::main_loop::blocking() {
        // The main script is not the one running here: it ends on its own
        // once everything is stopped, then the process exits with `code`.
        runtime::get().request_exit(code);
        return Ok(MultiValue::new());
    }
    runtime::get().set_exit_code(code);
    crate::service::main::stop_runtime();
    let stock: Function = lua.named_registry_value("skynet.stock_exit")?;
    stock.call::<()>((code, a.value(2)))?;
    Ok(MultiValue::new())
}

/// `os.memlimit([bytes])`: sets this service's Lua heap ceiling (0 = none);
/// returns the previous one (without `bytes`: only returns it). The main script's state belongs to the
/// interpreter, whose allocator we do not control: `nil, msg` there.
fn memlimit(lua: &Lua, a: Args) -> Result<MultiValue> {
    let bytes = match a.opt_integer(1)? {
        None => None,
        Some(n) => match usize::try_from(n) {
            Ok(n) => Some(n),
            Err(_) => return Err(crate::lua_api::args::bad_argument(1, "memlimit", "non-negative integer expected")),
        },
    };
    // mlua reads the limit only by setting it: without `bytes`, put it back.
    let set = lua.set_memory_limit(bytes.unwrap_or(0)).and_then(|previous| {
        if bytes.is_none() {
            lua.set_memory_limit(previous)?;
        }
        Ok(previous)
    });
    match set {
        Ok(previous) => previous.into_lua_multi(lua),
        Err(mlua::Error::MemoryControlNotAvailable) => {
            (Value::Nil, "memory limits are not available in the main script").into_lua_multi(lua)
        }
        Err(e) => Err(e),
    }
}

fn getcwd(lua: &Lua, _: Args) -> Result<MultiValue> {
    match std::env::current_dir() {
        Ok(p) => p.to_string_lossy().into_owned().into_lua_multi(lua),
        Err(e) => (Value::Nil, e.to_string()).into_lua_multi(lua),
    }
}

fn mkdir(lua: &Lua, a: Args) -> Result<MultiValue> {
    let path = a.string(1)?.to_str()?.to_string();
    match std::fs::create_dir(&path) {
        Ok(()) => true.into_lua_multi(lua),
        Err(e) => (false, format!("{path}: {e}")).into_lua_multi(lua),
    }
}

/// A directory being listed by `os.opendir`.
struct Dir(RefCell<Option<std::fs::ReadDir>>);

impl Dir {
    fn next_entry(&self) -> Option<(String, bool)> {
        let mut dir = self.0.borrow_mut();
        let entry = dir.as_mut()?.next();
        match entry {
            Some(Ok(e)) => Some((e.file_name().to_string_lossy().into_owned(), e.file_type().is_ok_and(|t| t.is_dir()))),
            Some(Err(_)) | None => {
                *dir = None;
                None
            }
        }
    }
}

impl UserData for Dir {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("close", |_, dir, ()| {
            dir.0.borrow_mut().take();
            Ok(())
        });
        methods.add_meta_function(mlua::MetaMethod::Pairs, |lua, ud: mlua::AnyUserData| {
            let next = lua.create_function(|_, (ud, _): (mlua::AnyUserData, Value)| {
                let dir = ud.borrow::<Dir>()?;
                Ok(match dir.next_entry() {
                    Some((name, is_dir)) => (Some(name), Some(is_dir)),
                    None => (None, None),
                })
            })?;
            Ok((next, ud, Value::Nil))
        });
    }
}

fn opendir(lua: &Lua, a: Args) -> Result<MultiValue> {
    let path = match a.opt_string(1)? {
        Some(s) => s.to_str()?.to_string(),
        None => ".".to_owned(),
    };
    match std::fs::read_dir(&path) {
        Ok(rd) => lua.create_userdata(Dir(RefCell::new(Some(rd))))?.into_lua_multi(lua),
        Err(e) => (Value::Nil, format!("{path}: {e}")).into_lua_multi(lua),
    }
}

/// `os.compile(fname [, oname])`: bytecode of a Lua file, returned or written.
fn compile(lua: &Lua, a: Args) -> Result<MultiValue> {
    let fname = a.string(1)?.to_str()?.to_string();
    let oname = a.opt_string(2)?.map(|s| s.to_str().map(|s| s.to_string())).transpose()?;
    let fail = |msg: String| match oname {
        Some(_) => (false, msg).into_lua_multi(lua),
        None => (Value::Nil, msg).into_lua_multi(lua),
    };
    let source = match std::fs::read(&fname) {
        Ok(s) => s,
        Err(e) => return fail(format!("{fname}: {e}")),
    };
    let func = match lua.load(source).set_name(format!("@{fname}")).into_function() {
        Ok(f) => f,
        Err(e) => return fail(e.to_string()),
    };
    let bytes = func.dump(false);
    match &oname {
        None => lua.create_string(bytes)?.into_lua_multi(lua),
        Some(out) => match std::fs::write(out, bytes) {
            Ok(()) => true.into_lua_multi(lua),
            Err(e) => fail(format!("{out}: {e}")),
        },
    }
}

/// A clock reading in `unit` (`"s"` float, `"ms"`/`"us"` integers).
fn clock_value(lua: &Lua, a: &Args, micros: u128) -> Result<MultiValue> {
    let unit = match a.opt_string(1)? {
        Some(s) => s.to_str()?.to_string(),
        None => "s".to_owned(),
    };
    match unit.as_str() {
        "s" => (micros as f64 / 1e6).into_lua_multi(lua),
        "ms" => ((micros / 1000) as i64).into_lua_multi(lua),
        "us" => (micros as i64).into_lua_multi(lua),
        other => Err(crate::lua_api::args::bad_argument(1, "clock", format!("unknown unit '{other}'"))),
    }
}

fn system_clock(lua: &Lua, a: Args) -> Result<MultiValue> {
    let micros = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros()).unwrap_or(0);
    clock_value(lua, &a, micros)
}

fn steady_clock(lua: &Lua, a: Args) -> Result<MultiValue> {
    clock_value(lua, &a, runtime::get().epoch.elapsed().as_micros())
}
