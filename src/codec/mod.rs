//! Byte encodings of Lua data.
//!
//! * [`wrap`]: the MessagePack codec every copy between services goes through.

pub mod wrap;
