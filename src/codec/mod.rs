//! Data codecs that need no Lua state: each is a pure Rust core under a thin
//! binding in `lua_api/`, unit-tested on its own.

pub mod compress;
pub mod json;
