//! Byte encodings of Lua data.
//!
//! * [`wrap`]: the MessagePack codec every copy between services goes through.
//! * [`json`]: the Lua-free half of the `json` table (escaping, numbers, errors).
//! * [`compress`]: raw deflate and gzip for `compress`/`uncompress`.

pub mod compress;
pub mod json;
pub mod wrap;
