//! NATS subjects of a node: rpc names turned into subject tokens.
//!
//! A subject is dot-separated tokens of printable, non-space bytes; `*` and
//! `>` are wildcards. An rpc name may hold anything, so it is escaped: bytes
//! other than ASCII letters, digits, `_`, `-` and dots that separate two
//! non-empty parts become `%XX` (`%` itself included). The escape is
//! one-to-one, so two names never share a subject, and names made of plain
//! words (`orders.create`) keep their readable form.

/// `name` as subject tokens.
pub fn escape(name: &str) -> String {
    let bytes = name.as_bytes();
    let mut out = String::with_capacity(bytes.len());
    for (i, &b) in bytes.iter().enumerate() {
        let plain = b.is_ascii_alphanumeric()
            || b == b'_'
            || b == b'-'
            || (b == b'.' && i > 0 && i + 1 < bytes.len() && bytes[i - 1] != b'.' && bytes[i + 1] != b'.');
        if plain {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Where calls of `name` go: every node serving it subscribes in the queue
/// group of the same name, so the server hands each call to one node.
pub fn rpc(prefix: &str, name: &str) -> String {
    format!("{prefix}.rpc.{}", escape(name))
}

/// Where broadcasts of `name` go: every node serving it subscribes, no group.
pub fn all(prefix: &str, name: &str) -> String {
    format!("{prefix}.all.{}", escape(name))
}

/// Where node `id` sends its heartbeats.
pub fn node(prefix: &str, id: u64) -> String {
    format!("{prefix}.node.{id}")
}

/// The subscription that hears every node's heartbeats.
pub fn nodes(prefix: &str) -> String {
    format!("{prefix}.node.*")
}

/// The node id in a heartbeat subject (`None` for anything else).
pub fn node_id(prefix: &str, subject: &str) -> Option<u64> {
    subject.strip_prefix(prefix)?.strip_prefix(".node.")?.parse().ok()
}

/// Whether `prefix` can start subjects: non-empty tokens, no wildcard, no
/// space or control byte.
pub fn valid_prefix(prefix: &str) -> bool {
    !prefix.is_empty()
        && prefix.split('.').all(|t| !t.is_empty() && t != "*" && t != ">")
        && prefix.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_stay_readable() {
        for plain in ["orders.create", "a_b-C9"] {
            assert_eq!(escape(plain), plain);
        }
        assert_eq!(rpc("skynet", "echo"), "skynet.rpc.echo");
        assert_eq!(all("p.q", "x.y"), "p.q.all.x.y");
    }

    #[test]
    fn wildcards_spaces_and_empty_tokens_are_escaped() {
        assert_eq!(escape("*"), "%2A");
        assert_eq!(escape("a.>"), "a.%3E");
        assert_eq!(escape("a b"), "a%20b");
        assert_eq!(escape(".a..b."), "%2Ea%2E%2Eb%2E");
        assert_eq!(escape("50%"), "50%25");
        assert_eq!(escape("é"), "%C3%A9");
        assert_eq!(escape(""), "");
    }

    #[test]
    fn escaping_is_one_to_one() {
        let names = ["a.b", "a%2Eb", "a..b", "a.%2Eb", "a%2E.b", "%", "%25", "a b", "a%20b", "*", "%2A"];
        let mut seen = std::collections::HashSet::new();
        for n in names {
            let e = escape(n);
            assert!(e.split('.').all(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_graphic())), "{n} -> {e}");
            assert!(seen.insert(e), "{n} collides");
        }
    }

    #[test]
    fn node_subjects_round_trip() {
        assert_eq!(node("skynet", 42), "skynet.node.42");
        assert_eq!(node_id("skynet", "skynet.node.42"), Some(42));
        assert_eq!(node_id("skynet", "skynet.rpc.42"), None);
        assert_eq!(node_id("skynet", "skynet.node.x"), None);
        assert_eq!(nodes("a.b"), "a.b.node.*");
    }

    #[test]
    fn prefixes_are_checked() {
        assert!(valid_prefix("skynet"));
        assert!(valid_prefix("app.prod"));
        for bad in ["", "a..b", ".a", "a.*", ">", "a b", "a\tb"] {
            assert!(!valid_prefix(bad), "{bad:?}");
        }
    }
}
