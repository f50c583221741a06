//! `os.monitor(id, fn)`: a service hears that another one has ended.
//!
//! The watcher keeps `fn` (in `kept`) and leaves a [`Monitor`] in the
//! watched service's shared info. When the watched service ends, its
//! worker takes the monitors and sends each watcher a message that starts
//! `fn(id, how, msg)` there, as an event like any other (in a coroutine of
//! its own: it may block). A watched service that is gone already (or never
//! was) gets the same message at once, so `"dead"` arrives on the watcher's
//! next turn, never from inside `os.monitor` itself.

use super::{Service, run_on};
use crate::runtime::message::ServiceId;
use crate::runtime::registry::{MAX_ID, Monitor, ServiceInfo};
use crate::runtime;
use mlua::{Function, IntoLua, MultiValue};
use std::rc::Rc;
use std::sync::Arc;

/// How a service ended, as its monitors hear it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum How {
    /// `main` returned by itself.
    Exit,
    /// `main` raised (the message comes along).
    Error,
    /// It was asked to stop: `os.stop`, `job:close`, its parent ended, a signal, `os.exit`.
    Stopped,
    /// An operator killed it (console `kill`).
    Killed,
    /// It had ended before the monitor was set, or never existed.
    Dead,
}

impl How {
    pub fn name(self) -> &'static str {
        match self {
            How::Exit => "exit",
            How::Error => "error",
            How::Stopped => "stopped",
            How::Killed => "killed",
            How::Dead => "dead",
        }
    }

    /// How the service of `info` ended, `failure` being what its `main` raised.
    pub fn of(info: &ServiceInfo, failure: Option<&str>) -> How {
        match failure {
            Some(_) => How::Error,
            None if info.killed() => How::Killed,
            None if info.stop_requested() => How::Stopped,
            None => How::Exit,
        }
    }
}

impl Service {
    /// `os.monitor(id, func)` (an id no local service can have is one
    /// that has ended already).
    pub fn monitor(&self, id: i64, func: Function) -> mlua::Result<()> {
        let key = self.kept.put(func)?;
        let monitor = Monitor { watcher: Arc::downgrade(&self.info), key };
        let local = ServiceId::try_from(id).ok().filter(|&id| id <= MAX_ID);
        let watched = local.and_then(|id| runtime::get().registry.info(id));
        let refused = match watched {
            Some(info) => info.add_monitor(monitor).err(),
            None => Some(monitor),
        };
        if let Some(monitor) = refused {
            notify(monitor, id, How::Dead, None);
        }
        Ok(())
    }

    /// Runs the monitor callback kept under `key`: service `id` ended so.
    fn monitor_fired(self: &Rc<Self>, key: i64, id: i64, how: How, msg: Option<String>) {
        let Ok(Some(func)) = self.kept.take::<Option<Function>>(key) else { return };
        let lua = &self.lua;
        let mut args = MultiValue::new();
        args.push_back(mlua::Value::Integer(id));
        args.push_back(how.name().into_lua(lua).unwrap_or(mlua::Value::Nil));
        if let Some(msg) = msg {
            args.push_back(msg.into_lua(lua).unwrap_or(mlua::Value::Nil));
        }
        self.start_event(func, args);
    }
}

/// The service of `info` has ended (`failure`: what its `main` raised):
/// tells every watcher how.
pub fn tell(info: &ServiceInfo, failure: Option<&str>) {
    let how = How::of(info, failure);
    for monitor in info.take_monitors() {
        notify(monitor, info.id.into(), how, failure.map(str::to_owned));
    }
}

/// Sends the news to the watcher of `monitor`, if it still lives: a new
/// service that inherited its id is told nothing.
fn notify(monitor: Monitor, id: i64, how: How, msg: Option<String>) {
    let Some(watcher) = monitor.watcher.upgrade() else { return };
    run_on(watcher.id, move |svc| {
        if Arc::ptr_eq(&svc.info, &watcher) {
            svc.monitor_fired(monitor.key, id, how, msg);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn how_a_service_ended() {
        let info = ServiceInfo::new(9, "s");
        assert_eq!(How::of(&info, None), How::Exit);
        assert_eq!(How::of(&info, Some("boom")), How::Error);
        info.request_stop();
        assert_eq!(How::of(&info, None), How::Stopped);
        assert_eq!(How::of(&info, Some("boom")), How::Error, "raising is an error, stopped or not");
        info.mark_killed();
        assert_eq!(How::of(&info, None), How::Killed);
        let names: Vec<&str> = [How::Exit, How::Error, How::Stopped, How::Killed, How::Dead].iter().map(|h| h.name()).collect();
        assert_eq!(names, ["exit", "error", "stopped", "killed", "dead"]);
    }
}
