//! The proof of the shared cluster key that opens every master connection
//! and every link (docs/cluster.md, "Trust").
//!
//! Mutual challenge-response: the accepting side sends a fresh random nonce
//! `A`, the connecting side answers with its own fresh nonce `C` and
//! `HMAC-SHA256(key, label | "connector" | A | C)`, and the acceptor, once
//! that checks, answers `HMAC-SHA256(key, label | "acceptor" | A | C)`.
//!
//! * The key never crosses the wire, only MACs of fresh nonces.
//! * Both nonces go into both proofs, so bytes recorded on another
//!   connection (another `A` or `C`) prove nothing here.
//! * The role is part of the MAC, so a peer cannot reflect our own proof
//!   back at us; equal nonces (a reflected challenge) are refused outright.
//!
//! Nonces and proofs travel as lower-case hex text, so the Lua master can
//! put them in `wrap`ped maps as plain strings. This module is only the
//! arithmetic; `transport.rs` (links) and `cluster.master`/`cluster.adapter`
//! (the master connection) run the exchange.

use crate::crypto::to_hex;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// Random bytes in a nonce (sent as twice as many hex digits).
pub const NONCE_BYTES: usize = 32;

/// A key shorter than this counts as no key.
pub const MIN_KEY_BYTES: usize = 16;

/// Binds the MACs to this protocol (a MAC made with the same key for
/// something else proves nothing here).
const LABEL: &[u8] = b"skynet-cluster-handshake-1";

/// The shared secret. Never printed (no `Debug` of the bytes).
#[derive(Clone)]
pub struct Key(Vec<u8>);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(..)")
    }
}

impl Key {
    /// The key, or `None` if it is too short to count as one.
    pub fn new(bytes: &[u8]) -> Option<Key> {
        (bytes.len() >= MIN_KEY_BYTES).then(|| Key(bytes.to_vec()))
    }
}

/// Which side of a connection proves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The side that accepted the connection (and sent the challenge).
    Acceptor,
    /// The side that opened it.
    Connector,
}

impl Role {
    fn label(self) -> &'static [u8] {
        match self {
            Role::Acceptor => b"acceptor",
            Role::Connector => b"connector",
        }
    }

    /// `"acceptor"` / `"connector"` (the Lua side names roles so).
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "acceptor" => Some(Role::Acceptor),
            "connector" => Some(Role::Connector),
            _ => None,
        }
    }
}

/// A fresh nonce from the operating system's random source, as hex.
pub fn nonce() -> String {
    let mut bytes = [0u8; NONCE_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    to_hex(&bytes)
}

/// Whether `s` has the form of a nonce: exactly `2 * NONCE_BYTES` lower-case hex digits.
fn well_formed(s: &str) -> bool {
    s.len() == 2 * NONCE_BYTES && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn mac(key: &Key, role: Role, acceptor_nonce: &str, connector_nonce: &str) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key.0).expect("HMAC takes keys of any length");
    for part in [LABEL, role.label(), acceptor_nonce.as_bytes(), connector_nonce.as_bytes()] {
        // Length-prefixed, so no two different inputs give the same bytes.
        mac.update(&(part.len() as u32).to_be_bytes());
        mac.update(part);
    }
    mac
}

/// The proof `role` sends for the nonces of one connection, as hex.
pub fn prove(key: &Key, role: Role, acceptor_nonce: &str, connector_nonce: &str) -> String {
    to_hex(&mac(key, role, acceptor_nonce, connector_nonce).finalize().into_bytes())
}

/// Whether `proof` (hex) is what `role` must send for these nonces. Both
/// nonces must be well formed and different; the comparison takes the same
/// time wherever the first wrong byte is.
pub fn check(key: &Key, role: Role, acceptor_nonce: &str, connector_nonce: &str, proof: &str) -> bool {
    if !well_formed(acceptor_nonce) || !well_formed(connector_nonce) || acceptor_nonce == connector_nonce {
        return false;
    }
    let Some(bytes) = from_hex(proof) else { return false };
    mac(key, role, acceptor_nonce, connector_nonce).verify_slice(&bytes).is_ok()
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> Key {
        Key::new(s.as_bytes()).unwrap()
    }

    #[test]
    fn short_keys_are_no_keys() {
        assert!(Key::new(b"fifteen bytes!!").is_none());
        assert!(Key::new(b"sixteen bytes!!!").is_some());
        assert_eq!(format!("{:?}", key("a secret of 16 b")), "Key(..)", "never printed");
    }

    #[test]
    fn nonces_are_fresh_hex() {
        let (a, b) = (nonce(), nonce());
        assert!(well_formed(&a) && well_formed(&b));
        assert_ne!(a, b);
        assert!(!well_formed("abc"));
        assert!(!well_formed(&"G".repeat(64)));
        assert!(!well_formed(&"A".repeat(64)), "lower case only");
    }

    #[test]
    fn a_proof_checks_with_the_same_key_role_and_nonces_only() {
        let k = key("0123456789abcdef-cluster");
        let (a, c) = (nonce(), nonce());
        let p = prove(&k, Role::Connector, &a, &c);
        assert_eq!(p.len(), 64);
        assert!(check(&k, Role::Connector, &a, &c, &p));
        // another key
        assert!(!check(&key("0123456789abcdef-clusteR"), Role::Connector, &a, &c, &p));
        // reflected: the connector's proof is not the acceptor's
        assert!(!check(&k, Role::Acceptor, &a, &c, &p));
        // replayed on another connection: a fresh challenge, or a fresh connector nonce
        assert!(!check(&k, Role::Connector, &nonce(), &c, &p));
        assert!(!check(&k, Role::Connector, &a, &nonce(), &p));
        // nonces swapped: the proof for (a, c) is not one for (c, a)
        assert!(!check(&k, Role::Connector, &c, &a, &p));
        // altered in one digit (the old form of this check, `replace('0', "1")`,
        // altered nothing when the proof held no '0': a 1.6% flake)
        let last = if p.ends_with('0') { "1" } else { "0" };
        assert!(!check(&k, Role::Connector, &a, &c, &format!("{}{last}", &p[..63])));
    }

    #[test]
    fn malformed_input_never_checks() {
        let k = key("0123456789abcdef-cluster");
        let a = nonce();
        let p = prove(&k, Role::Connector, &a, &a);
        assert!(!check(&k, Role::Connector, &a, &a, &p), "equal nonces: a reflected challenge");
        let c = nonce();
        let p = prove(&k, Role::Connector, &a, &c);
        for bad in ["", "zz", &p[..63], &p[..62], &format!("{p}00"), &p.to_uppercase().replace(char::is_numeric, "x")] {
            assert!(!check(&k, Role::Connector, &a, &c, bad), "{bad}");
        }
        assert!(!check(&k, Role::Connector, "short", &c, &prove(&k, Role::Connector, "short", &c)));
    }

    #[test]
    fn the_mac_is_hmac_sha256_of_the_length_prefixed_parts() {
        // Pinned so that another implementation (or a later version) can be checked against it.
        let k = key("0123456789abcdef");
        let (a, c) = ("1".repeat(64), "2".repeat(64));
        let mut data = Vec::new();
        for part in [LABEL, b"connector".as_slice(), a.as_bytes(), c.as_bytes()] {
            data.extend_from_slice(&(part.len() as u32).to_be_bytes());
            data.extend_from_slice(part);
        }
        let want = to_hex(&crate::crypto::digest::Algorithm::Sha256.hmac(b"0123456789abcdef", &data));
        assert_eq!(prove(&k, Role::Connector, &a, &c), want);
        assert_eq!(Role::parse("acceptor"), Some(Role::Acceptor));
        assert_eq!(Role::parse("x"), None);
    }
}
