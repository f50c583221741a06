//! The shape of a soft failure: a binding that can fail on bad data returns
//! its value alone on success and `nil, msg` on failure. "Alone" matters:
//! a trailing `nil` after the value is a second result that
//! `select("#", ...)` counts and that `table.pack` and varargs keep.
//!
//! Also the shape of an answer given at once by the Rust half of a blocking
//! function ([`at_once`]).

use mlua::{IntoLuaMulti, Lua, MultiValue, Result, Value};

/// The Rust half of a blocking function answering at once: `nil` (no
/// session to wait on) then the values, which the prelude's `suspend` returns.
pub fn at_once(lua: &Lua, values: impl IntoLuaMulti) -> Result<MultiValue> {
    let mut out = values.into_lua_multi(lua)?;
    out.push_front(Value::Nil);
    Ok(out)
}

/// `value` alone, or `nil, msg`.
pub fn value_or_failure(lua: &Lua, result: std::result::Result<Value, impl AsRef<[u8]>>) -> Result<MultiValue> {
    Ok(match result {
        Ok(value) => MultiValue::from_vec(vec![value]),
        Err(msg) => MultiValue::from_vec(vec![Value::Nil, Value::String(lua.create_string(msg)?)]),
    })
}

/// A string of `bytes` alone, or `nil, msg`.
pub fn bytes_or_failure(
    lua: &Lua,
    result: std::result::Result<impl AsRef<[u8]>, impl AsRef<[u8]>>,
) -> Result<MultiValue> {
    match result {
        Ok(bytes) => value_or_failure(lua, Ok::<_, &str>(Value::String(lua.create_string(bytes)?))),
        Err(msg) => value_or_failure(lua, Err(msg)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_is_one_value_and_failure_two() {
        let lua = Lua::new();
        let ok = bytes_or_failure(&lua, Ok::<_, &str>(b"x")).unwrap().into_vec();
        assert_eq!(ok.len(), 1);
        assert_eq!(ok[0].as_string().unwrap().as_bytes().as_ref(), b"x");
        let failed = bytes_or_failure(&lua, Err::<&[u8], _>("bad")).unwrap().into_vec();
        assert_eq!(failed.len(), 2);
        assert!(failed[0].is_nil());
        assert_eq!(failed[1].as_string().unwrap().to_str().unwrap(), "bad");
        let table = value_or_failure(&lua, Ok::<_, String>(Value::Table(lua.create_table().unwrap()))).unwrap();
        assert_eq!(table.len(), 1);
    }
}
