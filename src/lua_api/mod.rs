//! The Lua face of skynet: one binding file per Lua table.
//!
//! Each file converts arguments, calls the Rust core and converts the result;
//! logic that can be tested without a Lua state lives in `runtime/`, `codec/`,
//! `shared/` and friends. Big tables (`json`, `crypto`, `std`, ...) are built
//! lazily on first use (see [`lazy`]) so that an idle service stays small.

pub mod args;
pub mod base64;
pub mod compress;
pub mod crypto;
pub mod json;
pub mod lazy;
pub mod std_lib;
pub mod storage;
pub mod string_ext;
pub mod table_ext;

use mlua::{Lua, Result};

/// Installs the data helpers (pure functions and data structures) into `lua`:
/// `string`/`table` extras and `compress` at once, the rest on first use.
pub fn install_data_helpers(lua: &Lua) -> Result<()> {
    string_ext::install(lua)?;
    table_ext::install(lua)?;
    compress::install(lua)?;
    lazy::install(
        lua,
        &[
            ("json", json::create),
            ("base64", base64::create),
            ("crypto", crypto::create),
            ("std", std_lib::create),
            ("storage", storage::create),
        ],
    )
}
