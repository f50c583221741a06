//! JSON text writing helpers that need no Lua state.
//!
//! The `json` binding walks Lua values on the raw Lua stack (see
//! `lua_api/json/`) and calls these functions to write each scalar into one
//! output buffer. They live here so that the exact output bytes (escapes,
//! number forms, pretty layout) are unit-tested without Lua:
//!
//! * strings: UTF-8 checked (so whatever we encode, `json.decode` can read
//!   back), and escaped like Python's `json.dumps(ensure_ascii=False)`: `"`,
//!   `\` and control characters only; `/` and non-ASCII are written as is;
//! * integers: decimal; floats: the shortest form that reads back to the same
//!   bits and still reads as a float (`1.0`, `1e+300`, `-0.0`), as written by
//!   serde_json; NaN and infinities are errors because JSON has no spelling
//!   for them;
//! * pretty layout: 4-space indent and `": "`, the layout of rapidjson's
//!   `PrettyWriter` (the original's) and of Python's `json.dumps(indent=4)`.

use std::fmt;

/// Deepest table nesting `json.encode` writes and `json.decode` reads (the
/// outermost array/object is level 1). Deeper input is an error, so a cycle
/// in a Lua table ends here instead of overflowing the stack.
pub const MAX_DEPTH: usize = 1000;

/// Why a value cannot be written as JSON.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum EncodeError {
    /// NaN or an infinity (as a value or as a table key).
    NotFinite(f64),
    /// A string that is not valid UTF-8.
    InvalidUtf8,
    /// A Lua value JSON has no form for (`"function"`, `"thread"`, ...).
    Unsupported(&'static str),
    /// A table key that is not a string or a number.
    BadKey(&'static str),
    /// Tables nested deeper than [`MAX_DEPTH`] (or a cycle).
    TooDeep,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::NotFinite(x) => write!(f, "json.encode: cannot encode {} (JSON has no NaN or infinity)", lua_float_name(*x)),
            EncodeError::InvalidUtf8 => f.write_str("json.encode: cannot encode a string that is not valid UTF-8"),
            EncodeError::Unsupported(t) => write!(f, "json.encode: cannot encode a {t}"),
            EncodeError::BadKey(t) => write!(f, "json.encode: cannot encode a table key of type {t} (only strings and numbers)"),
            EncodeError::TooDeep => write!(f, "json.encode: nesting deeper than {MAX_DEPTH} (cycle?)"),
        }
    }
}

impl std::error::Error for EncodeError {}

fn lua_float_name(x: f64) -> &'static str {
    if x.is_nan() {
        "nan"
    } else if x > 0.0 {
        "inf"
    } else {
        "-inf"
    }
}

/// What a byte becomes inside a JSON string: 0 = itself, else the escape letter
/// (`u` for `\u00XX`).
static ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[0x08] = b'b';
    t[0x09] = b't';
    t[0x0a] = b'n';
    t[0x0c] = b'f';
    t[0x0d] = b'r';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

/// Writes `s` as a quoted JSON string.
pub fn write_str(out: &mut Vec<u8>, s: &[u8]) -> Result<(), EncodeError> {
    if std::str::from_utf8(s).is_err() {
        return Err(EncodeError::InvalidUtf8);
    }
    out.reserve(s.len() + 2);
    out.push(b'"');
    let mut start = 0;
    for (i, &b) in s.iter().enumerate() {
        let esc = ESCAPE[b as usize];
        if esc == 0 {
            continue;
        }
        out.extend_from_slice(&s[start..i]);
        start = i + 1;
        if esc == b'u' {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
        } else {
            out.extend_from_slice(&[b'\\', esc]);
        }
    }
    out.extend_from_slice(&s[start..]);
    out.push(b'"');
    Ok(())
}

/// Writes an integer in decimal.
pub fn write_integer(out: &mut Vec<u8>, n: i64) {
    // A 20-byte stack buffer: i64::MIN has 20 characters.
    let mut buf = [0u8; 20];
    let mut pos = buf.len();
    let negative = n < 0;
    let mut u = n.unsigned_abs();
    loop {
        pos -= 1;
        buf[pos] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    if negative {
        out.push(b'-');
    }
    out.extend_from_slice(&buf[pos..]);
}

/// Writes a float in the shortest form that reads back as the same float.
pub fn write_float(out: &mut Vec<u8>, x: f64) -> Result<(), EncodeError> {
    if !x.is_finite() {
        return Err(EncodeError::NotFinite(x));
    }
    // serde_json writes finite floats with a '.' or an exponent (1.0, 1e300)
    // into a Vec, which cannot fail.
    serde_json::to_writer(&mut *out, &x).map_err(|_| EncodeError::NotFinite(x))
}

/// Starts a new line indented for `depth` levels (pretty mode only).
pub fn write_newline_indent(out: &mut Vec<u8>, depth: usize) {
    out.push(b'\n');
    out.resize(out.len() + depth * 4, b' ');
}

/// Formats a numeric table key as the string JSON needs (`1`, `2.5`).
pub fn number_key(out: &mut Vec<u8>, key: NumberKey) -> Result<(), EncodeError> {
    out.push(b'"');
    match key {
        NumberKey::Integer(n) => write_integer(out, n),
        NumberKey::Float(x) => write_float(out, x)?,
    }
    out.push(b'"');
    Ok(())
}

/// A Lua number used as a table key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NumberKey {
    Integer(i64),
    Float(f64),
}

/// The message for a decode failure: serde_json's text (which names the line
/// and column) behind our prefix.
pub fn decode_error_message(e: &serde_json::Error) -> String {
    format!("json.decode: {e}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(b: &[u8]) -> String {
        let mut out = Vec::new();
        write_str(&mut out, b).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn f(x: f64) -> String {
        let mut out = Vec::new();
        write_float(&mut out, x).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn strings_escape_like_python_ensure_ascii_false() {
        assert_eq!(s(b"plain"), r#""plain""#);
        assert_eq!(s(b"a\"b\\c/d"), r#""a\"b\\c/d""#);
        assert_eq!(s(b"\n\r\t\x08\x0c"), r#""\n\r\t\b\f""#);
        assert_eq!(s(b"\x00\x1f\x7f"), "\"\\u0000\\u001f\x7f\"");
        assert_eq!(s("é😀".as_bytes()), "\"é😀\"");
        assert_eq!(s(b""), "\"\"");
    }

    #[test]
    fn invalid_utf8_is_refused() {
        let mut out = Vec::new();
        assert_eq!(write_str(&mut out, b"\xff"), Err(EncodeError::InvalidUtf8));
        assert_eq!(write_str(&mut out, b"\xed\xa0\x80"), Err(EncodeError::InvalidUtf8));
    }

    #[test]
    fn integers_cover_the_whole_range() {
        for n in [0i64, 7, -7, 10, 1234567890, i64::MAX, i64::MIN] {
            let mut out = Vec::new();
            write_integer(&mut out, n);
            assert_eq!(String::from_utf8(out).unwrap(), n.to_string());
        }
    }

    #[test]
    fn floats_stay_floats_and_round_trip() {
        assert_eq!(f(1.0), "1.0");
        assert_eq!(f(-0.0), "-0.0");
        assert_eq!(f(0.1), "0.1");
        assert_eq!(f(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(f(1e300), "1e+300");
        for x in [1e300, 5e-324, f64::MAX, f64::MIN_POSITIVE, 123456.789e10, 1e16, 1e15] {
            let text = f(x);
            assert!(text.contains('.') || text.contains('e'), "{text}");
            assert_eq!(text.parse::<f64>().unwrap().to_bits(), x.to_bits(), "{text}");
        }
    }

    #[test]
    fn nan_and_infinities_are_errors() {
        let mut out = Vec::new();
        for x in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(matches!(write_float(&mut out, x), Err(EncodeError::NotFinite(_))));
        }
        assert!(out.is_empty());
        assert!(EncodeError::NotFinite(f64::NEG_INFINITY).to_string().contains("-inf"));
    }

    #[test]
    fn number_keys_are_quoted() {
        let mut out = Vec::new();
        number_key(&mut out, NumberKey::Integer(-3)).unwrap();
        number_key(&mut out, NumberKey::Float(2.5)).unwrap();
        assert_eq!(out, br#""-3""2.5""#);
    }

    #[test]
    fn indent_is_four_spaces_per_level() {
        let mut out = Vec::new();
        write_newline_indent(&mut out, 2);
        assert_eq!(out, b"\n        ");
    }
}
