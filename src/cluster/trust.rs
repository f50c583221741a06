//! What a cluster process trusts: the shared key, the TLS material, and the
//! rule of protected mode (no key: loopback only).
//!
//! Read once per join (the adapter) or start (the master) from the
//! environment: `SKYNET_CLUSTER_KEY` (the adapter's key argument wins), and
//! `SKYNET_CLUSTER_CA`, `SKYNET_CLUSTER_CERT`, `SKYNET_CLUSTER_CERTKEY` for
//! mutual TLS (all three or none).

use super::handshake::{Key, MIN_KEY_BYTES};
use crate::net::tls;
use std::net::IpAddr;
use std::sync::Arc;
use tokio_rustls::rustls::{ClientConfig, ServerConfig};

pub const KEY_VAR: &str = "SKYNET_CLUSTER_KEY";
const TLS_VARS: [&str; 3] = ["SKYNET_CLUSTER_CA", "SKYNET_CLUSTER_CERT", "SKYNET_CLUSTER_CERTKEY"];

/// Mutual TLS for every cluster connection.
pub struct Tls {
    /// For the Lua side (`io.server`/`io.socket` of the master connection).
    pub context: tls::Context,
    pub server: Arc<ServerConfig>,
    pub client: Arc<ClientConfig>,
}

#[derive(Default)]
pub struct Trust {
    pub key: Option<Key>,
    pub tls: Option<Tls>,
}

impl Trust {
    /// The settings of this process: `key` if given (then it must be long
    /// enough: a short explicit key is a mistake, not a wish for no key),
    /// else `SKYNET_CLUSTER_KEY` (shorter than 16 bytes: no key); TLS from
    /// the environment.
    pub fn from_env(key: Option<&[u8]>) -> Result<Trust, String> {
        let key = match key {
            Some(k) => Some(Key::new(k).ok_or_else(|| format!("the cluster key must have at least {MIN_KEY_BYTES} bytes"))?),
            None => std::env::var_os(KEY_VAR).and_then(|v| Key::new(v.as_encoded_bytes())),
        };
        let paths: Vec<Option<String>> = TLS_VARS.iter().map(|v| std::env::var(v).ok().filter(|p| !p.is_empty())).collect();
        let tls = match paths.as_slice() {
            [None, None, None] => None,
            [Some(ca), Some(cert), Some(certkey)] => Some(Tls::load(ca, cert, certkey)?),
            _ => return Err(format!("set all of {} or none", TLS_VARS.join(", "))),
        };
        Ok(Trust { key, tls })
    }

    /// Protected mode: without a key, only loopback addresses may be
    /// listened on or accepted from.
    pub fn allows(&self, ip: IpAddr) -> bool {
        self.key.is_some() || is_loopback(ip)
    }
}

/// Loopback, also as an IPv4-mapped IPv6 address (`::ffff:127.0.0.1`).
pub fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
    }
}

impl Tls {
    fn load(ca: &str, cert: &str, certkey: &str) -> Result<Tls, String> {
        let mut context = tls::Context::default();
        context.set_ca(ca.as_bytes()).map_err(|e| format!("SKYNET_CLUSTER_CA: {e}"))?;
        context.set_certificate(cert.as_bytes()).map_err(|e| format!("SKYNET_CLUSTER_CERT: {e}"))?;
        context.set_key(certkey.as_bytes()).map_err(|e| format!("SKYNET_CLUSTER_CERTKEY: {e}"))?;
        context.verify = true;
        let server = context.server_config().map_err(|e| e.to_string())?;
        let client = context.client_config().map_err(|e| e.to_string())?;
        Ok(Tls { context, server, client })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protected_mode_allows_loopback_only() {
        let open = Trust::default();
        for ip in ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"] {
            assert!(open.allows(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["0.0.0.0", "10.0.0.1", "::", "::ffff:10.0.0.1"] {
            assert!(!open.allows(ip.parse().unwrap()), "{ip}");
        }
        let keyed = Trust { key: Key::new(b"0123456789abcdef"), tls: None };
        assert!(keyed.allows("10.0.0.1".parse().unwrap()));
    }

    #[test]
    fn an_explicit_short_key_is_an_error() {
        assert!(Trust::from_env(Some(b"short")).err().unwrap().contains("at least 16 bytes"));
        assert!(Trust::from_env(Some(b"0123456789abcdef")).unwrap().key.is_some());
    }

    #[test]
    fn unreadable_tls_material_is_an_error() {
        assert!(Tls::load("/nonexistent/ca.pem", "x", "y").err().unwrap().starts_with("SKYNET_CLUSTER_CA: "));
    }
}
