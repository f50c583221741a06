//! Byte encodings of Lua data.
//!
//! * [`wrap`]: the MessagePack codec every copy between services goes through.
//! * [`json`]: the Lua-free half of the `json` table (escaping, numbers, errors).
//! * [`compress`]: raw deflate and gzip for `compress`/`uncompress`.

pub mod compress;
pub mod json;
pub mod wrap;

use mlua::Value;

/// The Lua type name of `v`, `"no value"` for a missing argument (as stock
/// error messages spell it: both integers and floats are `"number"`).
pub fn type_name(v: Option<&Value>) -> &'static str {
    match v {
        None => "no value",
        Some(Value::Integer(_)) | Some(Value::Number(_)) => "number",
        Some(Value::LightUserData(_)) | Some(Value::UserData(_)) => "userdata",
        Some(v) => v.type_name(),
    }
}
