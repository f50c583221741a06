//! Networking cores (API.md §9): the Rust side of `io.socket`, `io.server`,
//! `io.context` and `io.http`. Bindings live in `lua_api/io.rs`.

pub mod stream;
pub mod tls;
pub mod ws;
pub mod socket;
