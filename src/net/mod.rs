//! Networking cores, tested without Lua: each submodule is one protocol piece
//! that the `io` bindings in `lua_api` drive.

pub mod http;
