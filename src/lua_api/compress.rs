//! The globals `compress(str [, method])` and `uncompress(str [, method])`
//! (docs/API.md §3.5). Thin: argument checks here, the codecs in
//! [`crate::codec::compress`].

use mlua::{Lua, MultiValue, Result, Value};

use crate::codec::compress::{self, Method};
use crate::lua_api::args::Args;

pub fn install(lua: &Lua) -> Result<()> {
    let globals = lua.globals();
    globals.raw_set(
        "compress",
        lua.create_function(|lua, args: MultiValue| {
            let args = Args::new("compress", args);
            let data = args.string(1)?;
            let method = method(&args, false)?;
            lua.create_string(compress::compress(&data.as_bytes(), method))
        })?,
    )?;
    globals.raw_set(
        "uncompress",
        lua.create_function(|lua, args: MultiValue| {
            let args = Args::new("uncompress", args);
            let data = args.string(1)?;
            let method = method(&args, true)?;
            let result = compress::uncompress(&data.as_bytes(), method);
            match result {
                Ok(out) => Ok((Value::String(lua.create_string(out)?), Value::Nil)),
                Err(e) => Ok((Value::Nil, Value::String(lua.create_string(e.to_string())?))),
            }
        })?,
    )?;
    Ok(())
}

/// Argument 2: the method name, `deflate` when absent; unknown names raise.
fn method(args: &Args, allow_inflate: bool) -> Result<Method> {
    let Some(name) = args.opt_string(2)? else { return Ok(Method::Deflate) };
    let name = name.as_bytes();
    Method::parse(&name, allow_inflate)
        .ok_or_else(|| mlua::Error::runtime(format!("unknown type: {}", String::from_utf8_lossy(&name))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globals_round_trip_and_fail_softly() {
        let lua = Lua::new();
        install(&lua).unwrap();
        let ok: bool = lua
            .load("return uncompress(compress('abc')) == 'abc' and uncompress(compress('abc', 'gzip'), 'gzip') == 'abc' and uncompress(compress('x'), 'inflate') == 'x'")
            .eval()
            .unwrap();
        assert!(ok);
        let (v, msg): (Value, String) = lua.load("return uncompress('garbage')").eval().unwrap();
        assert!(v.is_nil() && !msg.is_empty());
        let e = lua.load("compress('x', 'zip')").exec().unwrap_err().to_string();
        assert!(e.contains("unknown type: zip"), "{e}");
        let e = lua.load("uncompress('x', 'inflate2')").exec().unwrap_err().to_string();
        assert!(e.contains("unknown type: inflate2"), "{e}");
        let e = lua.load("compress(nil)").exec().unwrap_err().to_string();
        assert!(e.contains("bad argument #1 to 'compress' (string expected, got nil)"), "{e}");
    }
}
