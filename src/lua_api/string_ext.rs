//! `string.split/trim/icmp/isalpha/isalnum` (docs/API.md §11).
//!
//! They go into the global `string` table, which stock Lua also uses as the
//! string metatable's `__index`, so `s:split(",")` works with no extra step.
//! All of them work on bytes: strings are byte strings in Lua, and "letter",
//! "digit" and "whitespace" mean ASCII only, whatever the locale.
//! The byte logic is in plain functions at the top so it is tested without Lua.

use mlua::{Lua, LuaString, MultiValue, Result, Table, Value};

use super::args::{Args, bad_argument, string_function};
use super::lazy;

/// `isspace` in the C locale: space, `\t`, `\n`, `\v`, `\f`, `\r`.
/// (`u8::is_ascii_whitespace` leaves out `\v`.)
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Pieces of `s` between occurrences of `sep` (non-empty, taken literally);
/// empty pieces are kept, so there is always one more piece than separators.
pub fn split<'a>(s: &'a [u8], sep: &[u8]) -> Vec<&'a [u8]> {
    debug_assert!(!sep.is_empty());
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i + sep.len() <= s.len() {
        if &s[i..i + sep.len()] == sep {
            pieces.push(&s[start..i]);
            i += sep.len();
            start = i;
        } else {
            i += 1;
        }
    }
    pieces.push(&s[start..]);
    pieces
}

pub fn trim(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| !is_space(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|&b| !is_space(b)).map_or(start, |e| e + 1);
    &s[start..end]
}

pub fn is_alpha(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(u8::is_ascii_alphabetic)
}

pub fn is_alnum(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(u8::is_ascii_alphanumeric)
}


/// Adds the functions to the global `string` table, each made on first
/// read (`lazy`): most services split or trim nothing.
pub fn install(lua: &Lua) -> Result<()> {
    let string: Table = lua.globals().get("string")?;
    lazy::install(
        lua,
        &string,
        &[
            ("split", |lua| lua.create_function(split_binding).map(Value::Function)),
            ("trim", |lua| string_function(lua, "trim", trim_binding).map(Value::Function)),
            ("icmp", |lua| lua.create_function(icmp_binding).map(Value::Function)),
            ("isalpha", |lua| string_function(lua, "isalpha", |_, s| Ok(is_alpha(&s.as_bytes()))).map(Value::Function)),
            ("isalnum", |lua| string_function(lua, "isalnum", |_, s| Ok(is_alnum(&s.as_bytes()))).map(Value::Function)),
        ],
    )
}

/// `string.split(s, sep)`.
fn split_binding(lua: &Lua, args: MultiValue) -> Result<Table> {
    let args = Args::with_lua(lua, "split", args);
    let s = args.string(1)?;
    let sep = args.string(2)?;
    let (s, sep) = (s.as_bytes(), sep.as_bytes());
    if sep.is_empty() {
        return Err(bad_argument(2, "split", "separator is empty"));
    }
    let pieces = split(&s, &sep);
    let t = lua.create_table_with_capacity(pieces.len(), 0)?;
    for (i, p) in pieces.into_iter().enumerate() {
        t.raw_set(i + 1, lua.create_string(p)?)?;
    }
    Ok(t)
}

/// `string.trim(s)`.
fn trim_binding(lua: &Lua, s: LuaString) -> Result<LuaString> {
    let bytes = s.as_bytes();
    let t = trim(&bytes);
    // Avoid a copy (and an interning) when nothing is trimmed.
    if t.len() == bytes.len() { Ok(s.clone()) } else { lua.create_string(t) }
}

/// `string.icmp(a, b)`.
fn icmp_binding(lua: &Lua, args: MultiValue) -> Result<bool> {
    let args = Args::with_lua(lua, "icmp", args);
    let (a, b) = (args.string(1)?, args.string(2)?);
    Ok(a.as_bytes().eq_ignore_ascii_case(&b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_keeps_empty_pieces() {
        let s = |x: &str, sep: &str| -> Vec<String> {
            split(x.as_bytes(), sep.as_bytes()).iter().map(|p| String::from_utf8_lossy(p).into_owned()).collect()
        };
        assert_eq!(s("a,,b", ","), ["a", "", "b"]);
        assert_eq!(s("", ","), [""]);
        assert_eq!(s(",", ","), ["", ""]);
        assert_eq!(s("a::b::", "::"), ["a", "b", ""]);
        assert_eq!(s("a:::b", "::"), ["a", ":b"]);
        assert_eq!(s("a.b", "."), ["a", "b"]);
        assert_eq!(s("abc", "abcd"), ["abc"]);
    }

    #[test]
    fn trim_and_classes() {
        assert_eq!(trim(b" \t\x0b\x0c\r\n x y \n"), b"x y");
        assert_eq!(trim(b"   "), b"");
        assert_eq!(trim(b""), b"");
        assert!(is_alpha(b"abcXYZ"));
        assert!(!is_alpha(b"abc1"));
        assert!(!is_alpha(b""));
        assert!(is_alnum(b"abc123"));
        assert!(!is_alnum(b"abc 123"));
        assert!(!is_alnum("é".as_bytes()));
    }

    #[test]
    fn installed_as_string_methods() {
        let lua = Lua::new();
        install(&lua).unwrap();
        let n: i64 = lua.load(r#"return #("a,b,c"):split(",")"#).eval().unwrap();
        assert_eq!(n, 3);
        let e = lua.load(r#"return string.split("a", "")"#).exec().unwrap_err().to_string();
        assert!(e.contains("bad argument #2 to 'split' (separator is empty)"), "{e}");
        let ok: bool = lua.load(r#"return ("Hello"):icmp("hELLO")"#).eval().unwrap();
        assert!(ok);
    }
}
