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

use mlua::{Error, Lua, MultiValue, Result, Table, Value};

use super::args::Args;
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
    crypto.set(
        "hash32",
        lua.create_function(|lua, mv: MultiValue| {
            let args = Args::with_lua(lua, "hash32", mv);
            Ok(i64::from(murmur::hash32(&args.string(1)?.as_bytes())))
        })?,
    )?;
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

/// A raised error: `"<what> error: <why>"`, the original's message shape.
fn raise(what: &str, e: core::Error) -> Error {
    Error::runtime(format!("{what} error: {e}"))
}

/// `nil, msg` for bad data, a raised error for anything else.
fn fail_or_raise(lua: &Lua, what: &str, e: core::Error) -> Result<MultiValue> {
    match e {
        core::Error::BadLength | core::Error::BadPadding => {
            let msg = lua.create_string(format!("{what} error: {e}"))?;
            Ok(MultiValue::from_vec(vec![Value::Nil, Value::String(msg)]))
        }
        e => Err(raise(what, e)),
    }
}

fn one(lua: &Lua, bytes: &[u8]) -> Result<MultiValue> {
    Ok(MultiValue::from_vec(vec![Value::String(lua.create_string(bytes)?)]))
}

fn aes_table(lua: &Lua) -> Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "encrypt",
        lua.create_function(|lua, mv: MultiValue| {
            let args = Args::with_lua(lua, "encrypt", mv);
            let (data, key) = (args.string(1)?, args.string(2)?);
            let out = aes::encrypt(&data.as_bytes(), &key.as_bytes()).map_err(|e| raise("AES encrypt", e))?;
            lua.create_string(out)
        })?,
    )?;
    t.set(
        "decrypt",
        lua.create_function(|lua, mv: MultiValue| {
            let args = Args::with_lua(lua, "decrypt", mv);
            let (data, key) = (args.string(1)?, args.string(2)?);
            match aes::decrypt(&data.as_bytes(), &key.as_bytes()) {
                Ok(out) => one(lua, &out),
                Err(e) => fail_or_raise(lua, "AES decrypt", e),
            }
        })?,
    )?;
    Ok(t)
}

/// The PEM text of argument `n` (PEM is ASCII; other bytes cannot make a key valid).
fn pem(args: &Args, n: usize) -> Result<String> {
    Ok(String::from_utf8_lossy(&args.string(n)?.as_bytes()).into_owned())
}

/// The optional password argument `n`, as bytes.
fn password(args: &Args, n: usize) -> Result<Option<Vec<u8>>> {
    if args.is_none(n) {
        return Ok(None);
    }
    Ok(Some(args.string(n)?.as_bytes().to_vec()))
}

fn rsa_table(lua: &Lua) -> Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "sign",
        lua.create_function(|lua, mv: MultiValue| {
            let args = Args::with_lua(lua, "sign", mv);
            let data = args.string(1)?;
            let (pem, password) = (pem(&args, 2)?, password(&args, 3)?);
            let key = rsa::private_key(&pem, password.as_deref()).map_err(|e| raise("RSA sign", e))?;
            let sig = rsa::sign(&key, &data.as_bytes()).map_err(|e| raise("RSA sign", e))?;
            lua.create_string(sig)
        })?,
    )?;
    t.set(
        "verify",
        lua.create_function(|lua, mv: MultiValue| {
            let args = Args::with_lua(lua, "verify", mv);
            let (data, sig, pem) = (args.string(1)?, args.string(2)?, pem(&args, 3)?);
            let key = rsa::public_key(&pem).map_err(|e| raise("RSA verify", e))?;
            Ok(rsa::verify(&key, &data.as_bytes(), &sig.as_bytes()))
        })?,
    )?;
    t.set(
        "encrypt",
        lua.create_function(|lua, mv: MultiValue| {
            let args = Args::with_lua(lua, "encrypt", mv);
            let data = args.string(1)?;
            let (pem, password) = (pem(&args, 2)?, password(&args, 3)?);
            let key = rsa::parse_key(&pem, password.as_deref()).map_err(|e| raise("RSA encrypt", e))?;
            let out = rsa::encrypt(&key, &data.as_bytes()).map_err(|e| raise("RSA encrypt", e))?;
            lua.create_string(out)
        })?,
    )?;
    t.set(
        "decrypt",
        lua.create_function(|lua, mv: MultiValue| {
            let args = Args::with_lua(lua, "decrypt", mv);
            let data = args.string(1)?;
            let (pem, password) = (pem(&args, 2)?, password(&args, 3)?);
            let key = rsa::parse_key(&pem, password.as_deref()).map_err(|e| raise("RSA decrypt", e))?;
            match rsa::decrypt(&key, &data.as_bytes()) {
                Ok(out) => one(lua, &out),
                Err(e) => fail_or_raise(lua, "RSA decrypt", e),
            }
        })?,
    )?;
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
