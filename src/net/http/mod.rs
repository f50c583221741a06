//! HTTP/1.x without I/O: the incremental message [`parser`], [`url`] splitting
//! and percent-[`escape`]s. The `io.http` binding (`lua_api/http.rs`) is a thin
//! layer over these; sockets feed the parser whatever bytes they read.

pub mod escape;
pub mod parser;
pub mod url;
