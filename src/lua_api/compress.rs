//! The globals `compress(str [, method])` and `uncompress(str [, method [, max]])`
//! (docs/API.md §3.5). Thin: argument checks here, the codecs in
//! [`crate::codec::compress`].

use mlua::{Lua, LuaString, MultiValue, Result, Value};

use crate::codec::compress::{self, Method};
use crate::lua_api::args::{Args, bad_argument};
use crate::lua_api::returns::bytes_or_failure;

/// The global `compress` (made on first read, see `lua_api::lazy`).
pub fn compress_function(lua: &Lua) -> Result<Value> {
    let f = lua.create_function(|lua, args: MultiValue| {
        let (data, method) = data_and_method(Args::new("compress", args), false)?;
        lua.create_string(compress::compress(&data.as_bytes(), method))
    })?;
    Ok(Value::Function(f))
}

/// The global `uncompress` (made on first read).
pub fn uncompress_function(lua: &Lua) -> Result<Value> {
    let f = lua.create_function(|lua, args: MultiValue| {
        let args = Args::new("uncompress", args);
        let max = match args.opt_integer(3)? {
            None => compress::DEFAULT_MAX_OUTPUT,
            Some(n) => usize::try_from(n).map_err(|_| bad_argument(3, "uncompress", "non-negative integer expected"))?,
        };
        let (data, method) = data_and_method(args, true)?;
        bytes_or_failure(lua, compress::uncompress(&data.as_bytes(), method, max).map_err(|e| e.to_string()))
    })?;
    Ok(Value::Function(f))
}

/// Argument 1, the data, and argument 2, the method name (`deflate` when
/// absent; unknown names raise).
fn data_and_method(args: Args, allow_inflate: bool) -> Result<(LuaString, Method)> {
    let data = args.string(1)?;
    let Some(name) = args.opt_string(2)? else { return Ok((data, Method::Deflate)) };
    let name = name.as_bytes();
    let method = Method::parse(&name, allow_inflate)
        .ok_or_else(|| mlua::Error::runtime(format!("unknown type: {}", String::from_utf8_lossy(&name))))?;
    Ok((data, method))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globals_round_trip_and_fail_softly() {
        let lua = Lua::new();
        lua.globals().set("compress", compress_function(&lua).unwrap()).unwrap();
        lua.globals().set("uncompress", uncompress_function(&lua).unwrap()).unwrap();
        let ok: bool = lua
            .load("return uncompress(compress('abc')) == 'abc' and uncompress(compress('abc', 'gzip'), 'gzip') == 'abc' and uncompress(compress('x'), 'inflate') == 'x'")
            .eval()
            .unwrap();
        assert!(ok);
        let (v, msg): (mlua::Value, String) = lua.load("return uncompress('garbage')").eval().unwrap();
        assert!(v.is_nil() && !msg.is_empty());
        let n: i64 = lua.load("return select('#', uncompress(compress('abc')))").eval().unwrap();
        assert_eq!(n, 1);
        let e = lua.load("compress('x', 'zip')").exec().unwrap_err().to_string();
        assert!(e.contains("unknown type: zip"), "{e}");
        let e = lua.load("uncompress('x', 'inflate2')").exec().unwrap_err().to_string();
        assert!(e.contains("unknown type: inflate2"), "{e}");
        let e = lua.load("compress(nil)").exec().unwrap_err().to_string();
        assert!(e.contains("bad argument #1 to 'compress' (string expected, got nil)"), "{e}");
    }
}
