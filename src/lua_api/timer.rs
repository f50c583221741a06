//! Timer objects (`os.timer()`, docs/API.md §10).
//!
//! The object is only a key: the armed callback lives in the service
//! (`Service::timers`), so an armed timer keeps working when the script
//! drops the object, and the repeat rule is applied where the callback's
//! result is seen (`service::scheduler`).

use crate::lua_api::args::Args;
use crate::service;
use mlua::{AnyUserData, Lua, MultiValue, Result, UserData, UserDataMethods};

pub struct Timer {
    key: u64,
}

pub fn new(lua: &Lua) -> Result<AnyUserData> {
    let key = service::of(lua)?.new_timer_key();
    lua.create_userdata(Timer { key })
}

impl UserData for Timer {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("expires", |lua, timer, args: MultiValue| {
            let a = Args::new("expires", args);
            let ms = a.number(1)?;
            if !(ms >= 0.0) || !ms.is_finite() {
                return Err(crate::lua_api::args::bad_argument(1, "expires", "non-negative number expected"));
            }
            let func = a.function(2)?;
            service::of(lua)?.arm_timer(timer.key, ms, func)?;
            Ok(true)
        });
        methods.add_method("cancel", |lua, timer, ()| {
            service::of(lua)?.cancel_timer(timer.key);
            Ok(())
        });
    }
}
