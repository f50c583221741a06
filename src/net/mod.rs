//! Networking cores (docs/API.md §9), tested without Lua: the Rust side of `io.socket`,
//! `io.server`, `io.context` and `io.http`, and the listener the cluster
//! shares. Bindings live in `lua_api/io.rs` and `lua_api/http.rs`.

pub mod census;
pub mod close_signal;
pub mod http;
pub mod limit;
pub mod listener;
pub mod socket;
pub mod stream;
pub mod tls;
pub mod write_batch;
pub mod ws;
