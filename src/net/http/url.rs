//! Splitting a URL into its parts, as `http_parser_parse_url` does.
//!
//! Accepted forms (RFC 7230 §5.3): absolute URLs `schema://[userinfo@]host[:port][/path][?query][#fragment]`,
//! origin form `/path[?query][#fragment]` (and the asterisk form `*`) as found
//! in request lines, and with `is_connect` the authority form `host:port` of
//! a CONNECT request. Anything else — control bytes or spaces anywhere, an
//! empty host, a port that is not 1..=5 digits up to 65535 — is invalid. The
//! parts come back as slices of the input: nothing is decoded.

/// The parts present in a URL; absent parts are `None`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Url<'a> {
    pub schema: Option<&'a [u8]>,
    pub userinfo: Option<&'a [u8]>,
    pub host: Option<&'a [u8]>,
    pub port: Option<u16>,
    pub path: Option<&'a [u8]>,
    pub query: Option<&'a [u8]>,
    pub fragment: Option<&'a [u8]>,
}

/// Splits `url`; `None` if it is not a valid URL of the accepted forms.
pub fn parse(url: &[u8], is_connect: bool) -> Option<Url<'_>> {
    if url.is_empty() || url.iter().any(|&b| b <= b' ' || b == 0x7f) {
        return None;
    }
    if is_connect {
        // Authority form: host and port are both required, nothing else allowed.
        let mut parts = Url::default();
        parse_authority(url, &mut parts)?;
        if parts.userinfo.is_some() || parts.port.is_none() {
            return None;
        }
        return Some(parts);
    }
    let mut parts = Url::default();
    let rest = if url[0] == b'/' || url == b"*" {
        url
    } else {
        let colon = url.iter().position(|&b| b == b':')?;
        let schema = &url[..colon];
        let valid_schema = schema.first().is_some_and(u8::is_ascii_alphabetic)
            && schema.iter().all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
        if !valid_schema || !url[colon..].starts_with(b"://") {
            return None;
        }
        parts.schema = Some(schema);
        let after = &url[colon + 3..];
        let end = after.iter().position(|&b| matches!(b, b'/' | b'?' | b'#')).unwrap_or(after.len());
        parse_authority(&after[..end], &mut parts)?;
        &after[end..]
    };
    split_path(rest, &mut parts)?;
    Some(parts)
}

/// Parses `[userinfo@]host[:port]` into `parts`.
fn parse_authority<'a>(authority: &'a [u8], parts: &mut Url<'a>) -> Option<()> {
    let host_port = match authority.iter().rposition(|&b| b == b'@') {
        Some(at) => {
            let userinfo = &authority[..at];
            if !userinfo.iter().all(|&b| is_unreserved_or_sub_delim(b) || matches!(b, b':' | b'%')) {
                return None;
            }
            parts.userinfo = Some(userinfo);
            &authority[at + 1..]
        }
        None => authority,
    };
    let (host, port) = if host_port.first() == Some(&b'[') {
        // IP literal: the host is what is inside the brackets.
        let close = host_port.iter().position(|&b| b == b']')?;
        let inner = &host_port[1..close];
        if inner.is_empty() || !inner.iter().all(|&b| b.is_ascii_hexdigit() || matches!(b, b':' | b'.' | b'%')) {
            return None;
        }
        let after = &host_port[close + 1..];
        let port = match after {
            [] => None,
            [b':', port @ ..] => Some(port),
            _ => return None,
        };
        (inner, port)
    } else {
        match host_port.iter().position(|&b| b == b':') {
            Some(colon) => (&host_port[..colon], Some(&host_port[colon + 1..])),
            None => (host_port, None),
        }
    };
    if host.is_empty() || !host.iter().all(|&b| is_unreserved_or_sub_delim(b) || b == b'%' || b >= 0x80 || b == b':') {
        return None;
    }
    parts.host = Some(host);
    if let Some(port) = port {
        if port.is_empty() || port.len() > 5 || !port.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let value: u32 = port.iter().fold(0, |n, &d| n * 10 + u32::from(d - b'0'));
        parts.port = Some(u16::try_from(value).ok()?);
    }
    Some(())
}

fn is_unreserved_or_sub_delim(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=".contains(&b)
}

/// Splits `/path?query#fragment` (each part optional) into `parts`.
fn split_path<'a>(rest: &'a [u8], parts: &mut Url<'a>) -> Option<()> {
    let (before_fragment, fragment) = match rest.iter().position(|&b| b == b'#') {
        Some(hash) => (&rest[..hash], Some(&rest[hash + 1..])),
        None => (rest, None),
    };
    let (path, query) = match before_fragment.iter().position(|&b| b == b'?') {
        Some(q) => (&before_fragment[..q], Some(&before_fragment[q + 1..])),
        None => (before_fragment, None),
    };
    if !path.is_empty() {
        parts.path = Some(path);
    }
    parts.query = query;
    parts.fragment = fragment;
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn absolute_url_with_every_part() {
        let u = parse(b"https://user:pw@example.com:8443/a/b?x=1&y=2#top", false).unwrap();
        assert_eq!(u.schema, Some(&b"https"[..]));
        assert_eq!(u.userinfo, Some(&b"user:pw"[..]));
        assert_eq!(u.host, Some(&b"example.com"[..]));
        assert_eq!(u.port, Some(8443));
        assert_eq!(u.path, Some(&b"/a/b"[..]));
        assert_eq!(u.query, Some(&b"x=1&y=2"[..]));
        assert_eq!(u.fragment, Some(&b"top"[..]));
    }

    #[test]
    fn minimal_and_relative_forms() {
        let u = parse(b"http://h", false).unwrap();
        assert_eq!((u.host, u.port, u.path), (Some(&b"h"[..]), None, None));
        let u = parse(b"/a?b=1", false).unwrap();
        assert_eq!((u.schema, u.host, u.path, u.query), (None, None, Some(&b"/a"[..]), Some(&b"b=1"[..])));
        let u = parse(b"http://h?q#f", false).unwrap();
        assert_eq!((u.path, u.query, u.fragment), (None, Some(&b"q"[..]), Some(&b"f"[..])));
        assert_eq!(parse(b"*", false).unwrap().path, Some(&b"*"[..]));
        let u = parse(b"http://[::1]:80/", false).unwrap();
        assert_eq!((u.host, u.port), (Some(&b"::1"[..]), Some(80)));
    }

    #[test]
    fn connect_form() {
        let u = parse(b"example.com:443", true).unwrap();
        assert_eq!((u.host, u.port, u.path), (Some(&b"example.com"[..]), Some(443), None));
        assert!(parse(b"example.com", true).is_none());
        assert!(parse(b"http://example.com:443/", true).is_none());
    }

    #[test]
    fn invalid_urls() {
        for bad in [
            &b""[..], b"a b", b"http://", b"http:/x", b"ht tp://x", b"1http://x", b"relative/path",
            b"http://h:99999/", b"http://h:/", b"http://h:8x/", b"http://[::1/", b"/a\nb", b"?q",
        ] {
            assert!(parse(bad, false).is_none(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..60), connect: bool) {
            let _ = parse(&data, connect);
        }
    }
}
