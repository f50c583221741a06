//! Percent-encoding for URL components (RFC 3986 §2.1).
//!
//! `escape` keeps only the unreserved set (`A-Z a-z 0-9 - _ . ~`) so that its
//! output is safe in any component; `unescape` is strict about malformed
//! escapes (a `%` not followed by two hex digits) rather than passing them
//! through, and leaves `+` alone: `+` means space only in form bodies, which
//! is not what a URL path or query component says.

/// Whether `b` is in RFC 3986's unreserved set.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

/// Percent-encodes every byte outside the unreserved set as `%XX` (upper-case hex).
pub fn escape(s: &[u8]) -> Vec<u8> {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = Vec::with_capacity(s.len());
    for &b in s {
        if is_unreserved(b) {
            out.push(b);
        } else {
            out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        }
    }
    out
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes `%XX` escapes (either case); `None` if a `%` is not followed by two hex digits.
pub fn unescape(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' {
            let hi = hex_value(*s.get(i + 1)?)?;
            let lo = hex_value(*s.get(i + 2)?)?;
            out.push(hi << 4 | lo);
            i += 3;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn escapes_everything_but_unreserved() {
        assert_eq!(escape(b"AZaz09-_.~"), b"AZaz09-_.~");
        assert_eq!(escape(b"a b+c/d?e=f&g"), b"a%20b%2Bc%2Fd%3Fe%3Df%26g");
        assert_eq!(escape(&[0, 0xff, b'%']), b"%00%FF%25");
        assert_eq!(escape(b""), b"");
    }

    #[test]
    fn unescapes_and_refuses_malformed() {
        assert_eq!(unescape(b"a%20b+c%2f%2F").unwrap(), b"a b+c//");
        assert_eq!(unescape(b"").unwrap(), b"");
        for bad in [&b"%"[..], b"%2", b"%zz", b"a%g1", b"%%20", b"abc%"] {
            assert!(unescape(bad).is_none(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn round_trip(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            prop_assert_eq!(unescape(&escape(&data)).unwrap(), data);
        }

        #[test]
        fn unescape_never_panics(data in proptest::collection::vec(any::<u8>(), 0..50)) {
            let _ = unescape(&data);
        }
    }
}
