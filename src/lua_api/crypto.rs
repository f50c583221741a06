//! The `crypto` global (docs/API.md §16): digests, HMACs, `hash32`, AES and RSA.
//!
//! A thin layer over `crate::crypto`. It decides how each failure reaches
//! Lua: wrong argument types, short AES keys, unreadable or wrong-kind RSA
//! keys and too-long RSA plaintext raise (they are programming errors, as in
//! the original); undecryptable data (bad length or padding) returns
//! `nil, msg`, because it usually arrives from outside.
//!
//! RSA private keys may be encrypted PKCS#8; their password is an optional
//! extra argument after the key (`sign`, `encrypt`, `decrypt`).

use mlua::{Error, Function, Lua, MultiValue, Result, Table, Value};

use super::args::{Args, string_function};
use super::returns::bytes_or_failure;
use crate::crypto::digest::Algorithm;
use crate::crypto::{self as core, aes, murmur, rsa, to_hex};

pub fn create(lua: &Lua) -> Result<Table> {
    let crypto = lua.create_table()?;
    let hmac = lua.create_table()?;
    for alg in Algorithm::ALL {
        let name = alg.name();
        crypto.set(
            name,
            lua.create_function(move |lua, mv: MultiValue| {
                let args = Args::with_lua(lua, name, mv);
                let data = args.string(1)?;
                digest_result(lua, &alg.digest(&data.as_bytes()), args.flag(2))
            })?,
        )?;
        hmac.set(
            name,
            lua.create_function(move |lua, mv: MultiValue| {
                let args = Args::with_lua(lua, name, mv);
                let data = args.string(1)?;
                let key = args.string(2)?;
                digest_result(lua, &alg.hmac(&key.as_bytes(), &data.as_bytes()), args.flag(3))
            })?,
        )?;
    }
    crypto.set("hmac", hmac)?;
    crypto.set("hash32", string_function(lua, "hash32", |_, s| Ok(i64::from(murmur::hash32(&s.as_bytes()))))?)?;
    crypto.set("aes", aes_table(lua)?)?;
    crypto.set("rsa", rsa_table(lua)?)?;
    Ok(crypto)
}

/// Hex (default) or raw bytes of a digest.
fn digest_result(lua: &Lua, bytes: &[u8], raw: bool) -> Result<Value> {
    if raw {
        Ok(Value::String(lua.create_string(bytes)?))
    } else {
        Ok(Value::String(lua.create_string(to_hex(bytes))?))
    }
}

/// A binding `fname(...)` whose work, `op`, makes bytes. What `op` returns
/// reaches Lua as the module docs say: the bytes alone, `nil, msg` for
/// undecryptable data, a raised error for anything else; both messages
/// read `"<what> error: <why>"`, the original's shape.
fn bytes_function(
    lua: &Lua,
    fname: &'static str,
    what: &'static str,
    op: impl Fn(&Args) -> Result<std::result::Result<Vec<u8>, core::Error>> + 'static,
) -> Result<Function> {
    lua.create_function(move |lua, mv: MultiValue| {
        let result = match op(&Args::with_lua(lua, fname, mv))? {
            Err(e) if !matches!(e, core::Error::BadLength | core::Error::BadPadding) => {
                return Err(Error::runtime(format!("{what} error: {e}")));
            }
            result => result.map_err(|e| format!("{what} error: {e}")),
        };
        bytes_or_failure(lua, result)
    })
}

fn aes_table(lua: &Lua) -> Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "encrypt",
        bytes_function(lua, "encrypt", "AES encrypt", |args| {
            Ok(aes::encrypt(&args.string(1)?.as_bytes(), &args.string(2)?.as_bytes()))
        })?,
    )?;
    t.set(
        "decrypt",
        bytes_function(lua, "decrypt", "AES decrypt", |args| {
            Ok(aes::decrypt(&args.string(1)?.as_bytes(), &args.string(2)?.as_bytes()))
        })?,
    )?;
    Ok(t)
}

/// An RSA binding `fname(str, key_pem [, password])`: reads the key with
/// `key` (a PEM text is ASCII; other bytes cannot make a key valid) and
/// runs `op` with it on `str`.
fn rsa_function<K: 'static>(
    lua: &Lua,
    fname: &'static str,
    what: &'static str,
    key: fn(&str, Option<&[u8]>) -> std::result::Result<K, core::Error>,
    op: fn(&K, &[u8]) -> std::result::Result<Vec<u8>, core::Error>,
) -> Result<Function> {
    bytes_function(lua, fname, what, move |args| {
        let data = args.string(1)?;
        let pem = String::from_utf8_lossy(&args.string(2)?.as_bytes()).into_owned();
        let password = args.opt_string(3)?.map(|p| p.as_bytes().to_vec());
        Ok(key(&pem, password.as_deref()).and_then(|key| op(&key, &data.as_bytes())))
    })
}

fn rsa_table(lua: &Lua) -> Result<Table> {
    let t = lua.create_table()?;
    t.set("sign", rsa_function(lua, "sign", "RSA sign", rsa::private_key, rsa::sign)?)?;
    t.set(
        "verify",
        lua.create_function(|lua, mv: MultiValue| {
            let args = Args::with_lua(lua, "verify", mv);
            let (data, sig) = (args.string(1)?, args.string(2)?);
            let pem = String::from_utf8_lossy(&args.string(3)?.as_bytes()).into_owned();
            let key = rsa::public_key(&pem).map_err(|e| Error::runtime(format!("RSA verify error: {e}")))?;
            Ok(rsa::verify(&key, &data.as_bytes(), &sig.as_bytes()))
        })?,
    )?;
    t.set("encrypt", rsa_function(lua, "encrypt", "RSA encrypt", rsa::parse_key, rsa::encrypt)?)?;
    t.set("decrypt", rsa_function(lua, "decrypt", "RSA decrypt", rsa::parse_key, rsa::decrypt)?)?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lua() -> Lua {
        let lua = Lua::new();
        lua.globals().set("crypto", create(&lua).unwrap()).unwrap();
        lua
    }

    // Vectors: python3 -c 'import hashlib,hmac; print(hashlib.md5(b"abc").hexdigest(),
    //   hmac.new(b"k", b"abc", "sha1").hexdigest())'
    #[test]
    fn digests_hex_and_raw() {
        let lua = lua();
        let (hex, raw_len): (String, i64) =
            lua.load(r#"return crypto.md5("abc"), #crypto.md5("abc", true)"#).eval().unwrap();
        assert_eq!(hex, "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(raw_len, 16);
        let hex: String = lua.load(r#"return crypto.hmac.sha1("abc", "k")"#).eval().unwrap();
        assert_eq!(hex, "f9bef091fe00d9f5128593836dba99e193f08174");
    }

    #[test]
    fn wrong_types_raise_and_bad_data_returns_nil_msg() {
        let lua = lua();
        let e = lua.load("return crypto.sha256()").exec().unwrap_err().to_string();
        assert!(e.contains("bad argument #1 to 'sha256' (string expected, got no value)"), "{e}");
        let e = lua.load("return crypto.hmac.md5('x', {})").exec().unwrap_err().to_string();
        assert!(e.contains("bad argument #2 to 'md5' (string expected, got table)"), "{e}");
        let (v, msg): (Value, String) =
            lua.load("return crypto.aes.decrypt('short', '0123456789abcdef')").eval().unwrap();
        assert!(v.is_nil());
        assert!(msg.contains("data length invalid"), "{msg}");
        let e = lua.load("return crypto.aes.encrypt('x', 'short')").exec().unwrap_err().to_string();
        assert!(e.contains("16 bytes"), "{e}");
        let e = lua.load("return crypto.rsa.encrypt('x', 'no key here')").exec().unwrap_err().to_string();
        assert!(e.contains("key type invalid"), "{e}");
        let h: i64 = lua.load("return crypto.hash32('hello')").eval().unwrap();
        assert_eq!(h, 867496620);
        // A lone number argument is converted like luaL_checklstring does.
        let same: bool = lua.load("return crypto.md5(12) == crypto.md5('12')").eval().unwrap();
        assert!(same);
    }
}
