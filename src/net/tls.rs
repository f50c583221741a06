//! TLS contexts: certificates and keys (PEM text or a file path) turned
//! into rustls client and server configurations.
//!
//! A context only collects material; the rustls configs are built when a
//! socket or server is created from it, so `key` and `password` can come in
//! any order. TLS 1.2 and 1.3 only (rustls' safe defaults, ring provider).
//! Clients do not verify the server unless asked (`verify(true)`), as the
//! original never did; then they trust the certificates given to the
//! context, or the system's roots when it was given none.
//!
//! Mutual TLS (the cluster's links and master connection): a context with a
//! CA (`set_ca`) makes servers demand a client certificate signed by it and
//! clients verify the server against it and present their own certificate.

use crate::error::{Error, Result};
use std::sync::{Arc, OnceLock};
use tokio_rustls::rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use tokio_rustls::rustls::crypto::{CryptoProvider, ring, verify_tls12_signature, verify_tls13_signature};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{self, ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme};

const ENCRYPTED_BEGIN: &str = "-----BEGIN ENCRYPTED PRIVATE KEY-----";
const ENCRYPTED_END: &str = "-----END ENCRYPTED PRIVATE KEY-----";

/// What `io.context()` holds.
#[derive(Default, Clone)]
pub struct Context {
    chain: Vec<CertificateDer<'static>>,
    /// The key's PEM text, kept because an encrypted key waits for its password.
    key_pem: Option<Vec<u8>>,
    password: Option<Vec<u8>>,
    pub verify: bool,
    /// Mutual TLS: the only authority both sides accept (empty: not mutual).
    ca: Vec<CertificateDer<'static>>,
}

/// PEM text as given, or the content of the file it names.
pub fn load(text: &[u8]) -> Result<Vec<u8>> {
    if text.windows(10).any(|w| w == b"-----BEGIN") {
        return Ok(text.to_vec());
    }
    let path = String::from_utf8_lossy(text).into_owned();
    std::fs::read(&path).map_err(|e| Error::Io(format!("{path}: {e}")))
}

/// Every certificate in `pem`; an error if there is none.
pub fn parse_certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>> {
    let mut certs = Vec::new();
    for item in rustls_pemfile::certs(&mut &pem[..]) {
        certs.push(item.map_err(|e| Error::other(format!("bad certificate: {e}")))?);
    }
    if certs.is_empty() {
        return Err(Error::other("no certificate found"));
    }
    Ok(certs)
}

/// A key parsed from PEM, or `Ok(None)` for an encrypted PKCS#8 key when
/// no password is known yet.
pub fn parse_key(pem: &[u8], password: Option<&[u8]>) -> Result<Option<PrivateKeyDer<'static>>> {
    let bad_key = |e: &dyn std::fmt::Display| Error::other(format!("bad key: {e}"));
    let text = String::from_utf8_lossy(pem);
    if let (Some(start), Some(end)) = (text.find(ENCRYPTED_BEGIN), text.find(ENCRYPTED_END)) {
        let Some(password) = password else { return Ok(None) };
        let block = &text[start..end + ENCRYPTED_END.len()];
        let (_, der) = pkcs8::der::pem::decode_vec(block.as_bytes()).map_err(|e| bad_key(&e))?;
        let info = pkcs8::EncryptedPrivateKeyInfo::try_from(der.as_slice()).map_err(|e| bad_key(&e))?;
        let plain = info.decrypt(password).map_err(|_| Error::other("bad password"))?;
        return Ok(Some(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(plain.as_bytes().to_vec()))));
    }
    match rustls_pemfile::private_key(&mut &pem[..]) {
        Ok(Some(key)) => Ok(Some(key)),
        Ok(None) => Err(Error::other("no private key found")),
        Err(e) => Err(bad_key(&e)),
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(ring::default_provider())
}

fn tls_error(e: rustls::Error) -> Error {
    Error::other(e.to_string())
}

/// The system's trusted roots: `SSL_CERT_FILE` / `SSL_CERT_DIR` when set,
/// else the distribution's store. Read once per process, on first use (a
/// store holds a few hundred certificates: too many to parse per socket).
fn system_roots() -> Arc<RootCertStore> {
    static ROOTS: OnceLock<Arc<RootCertStore>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let found = rustls_native_certs::load_native_certs();
            for e in &found.errors {
                crate::runtime::debug(|| format!("tls: system roots: {e}"));
            }
            let mut roots = RootCertStore::empty();
            let (_, unusable) = roots.add_parsable_certificates(found.certs);
            crate::runtime::debug(|| format!("tls: {} system roots ({unusable} unusable)", roots.len()));
            Arc::new(roots)
        })
        .clone()
}

impl Context {
    /// `ctx:certificate(pem)`.
    pub fn set_certificate(&mut self, text: &[u8]) -> Result<()> {
        self.chain = parse_certificates(&load(text)?)?;
        Ok(())
    }

    /// `ctx:key(pem)`: checked at once unless it waits for a password.
    pub fn set_key(&mut self, text: &[u8]) -> Result<()> {
        let pem = load(text)?;
        parse_key(&pem, self.password.as_deref())?;
        self.key_pem = Some(pem);
        Ok(())
    }

    /// `ctx:password(pwd)`: checked against an encrypted key already given.
    pub fn set_password(&mut self, password: &[u8]) -> Result<()> {
        if let Some(pem) = &self.key_pem {
            parse_key(pem, Some(password))?;
        }
        self.password = Some(password.to_vec());
        Ok(())
    }

    /// Mutual TLS with `text` (PEM or a path) as the certificate authority of both sides.
    pub fn set_ca(&mut self, text: &[u8]) -> Result<()> {
        self.ca = parse_certificates(&load(text)?)?;
        Ok(())
    }

    fn ca_roots(&self) -> Result<RootCertStore> {
        let mut roots = RootCertStore::empty();
        for cert in &self.ca {
            roots.add(cert.clone()).map_err(|e| Error::other(format!("bad CA certificate: {e}")))?;
        }
        Ok(roots)
    }

    fn key(&self) -> Result<PrivateKeyDer<'static>> {
        let pem = self.key_pem.as_ref().ok_or_else(|| Error::other("no private key"))?;
        parse_key(pem, self.password.as_deref())?.ok_or_else(|| Error::other("the key needs a password"))
    }

    /// The configuration of a server using this context.
    pub fn server_config(&self) -> Result<Arc<ServerConfig>> {
        if self.chain.is_empty() {
            return Err(Error::other("no certificate"));
        }
        let key = self.key()?;
        let builder =
            ServerConfig::builder_with_provider(provider()).with_safe_default_protocol_versions().map_err(tls_error)?;
        let builder = if self.ca.is_empty() {
            builder.with_no_client_auth()
        } else {
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(self.ca_roots()?), provider())
                .build()
                .map_err(|e| Error::other(e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        };
        let config = builder.with_single_cert(self.chain.clone(), key).map_err(tls_error)?;
        Ok(Arc::new(config))
    }

    /// The configuration of a client using this context.
    pub fn client_config(&self) -> Result<Arc<ClientConfig>> {
        let builder =
            ClientConfig::builder_with_provider(provider()).with_safe_default_protocol_versions().map_err(tls_error)?;
        if !self.ca.is_empty() {
            let config = builder
                .with_root_certificates(self.ca_roots()?)
                .with_client_auth_cert(self.chain.clone(), self.key()?)
                .map_err(tls_error)?;
            return Ok(Arc::new(config));
        }
        let config = if self.verify {
            builder.with_root_certificates(self.trusted()?).with_no_client_auth()
        } else {
            builder.dangerous().with_custom_certificate_verifier(Arc::new(AnyServer(provider()))).with_no_client_auth()
        };
        Ok(Arc::new(config))
    }

    /// What a verifying client trusts: the context's certificates, or the
    /// system's roots when it was given none.
    fn trusted(&self) -> Result<Arc<RootCertStore>> {
        if self.chain.is_empty() {
            return Ok(system_roots());
        }
        let mut roots = RootCertStore::empty();
        for cert in &self.chain {
            roots.add(cert.clone()).map_err(tls_error)?;
        }
        Ok(Arc::new(roots))
    }
}

/// A client that verifies its server against the certificates of `ca`
/// (PEM text or a file; the system's roots when `None`) and, given an
/// `identity` (certificate chain, key), presents it for mutual TLS.
pub fn verifying_client_config(ca: Option<&[u8]>, identity: Option<(&[u8], &[u8])>) -> Result<Arc<ClientConfig>> {
    let mut trusted = Context { verify: true, ..Context::default() };
    if let Some(ca) = ca {
        trusted.set_certificate(ca)?;
    }
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?
        .with_root_certificates(trusted.trusted()?);
    let config = match identity {
        Some((cert, key)) => {
            let mut own = Context::default();
            own.set_certificate(cert)?;
            own.set_key(key)?;
            builder.with_client_auth_cert(own.chain.clone(), own.key()?).map_err(tls_error)?
        }
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// The client config of `ssl`/`wss` sockets created without a context.
pub fn default_client_config() -> Result<Arc<ClientConfig>> {
    Context::default().client_config()
}

/// The name a client presents (SNI) and checks: a DNS name or an IP address
/// (for which rustls sends no SNI).
pub fn server_name(host: &str) -> Result<ServerName<'static>> {
    ServerName::try_from(host.to_owned()).map_err(|_| Error::other(format!("invalid host name: {host}")))
}

/// The result of a signature check, as rustls wants it.
type Signature = std::result::Result<HandshakeSignatureValid, rustls::Error>;

/// Accepts any server certificate but still checks the handshake
/// signatures (the `verify(false)` default).
#[derive(Debug)]
struct AnyServer(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyServer {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(&self, msg: &[u8], cert: &CertificateDer<'_>, dss: &DigitallySignedStruct) -> Signature {
        verify_tls12_signature(msg, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(&self, msg: &[u8], cert: &CertificateDer<'_>, dss: &DigitallySignedStruct) -> Signature {
        verify_tls13_signature(msg, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_without_pem_marker_is_a_path() {
        assert!(load(b"/nonexistent/cert.pem").unwrap_err().to_string().contains("/nonexistent/cert.pem"));
        assert_eq!(load(b"-----BEGIN X-----").unwrap(), b"-----BEGIN X-----");
    }

    #[test]
    fn garbage_is_refused() {
        assert!(parse_certificates(b"-----BEGIN nothing").is_err());
        let none = parse_certificates(b"-----BEGIN X-----\nAAAA\n-----END X-----\n").unwrap_err();
        assert_eq!(none.to_string(), "no certificate found");
        assert!(parse_key(b"-----BEGIN nothing", None).is_err());
        let ctx = Context::default();
        assert_eq!(ctx.server_config().unwrap_err().to_string(), "no certificate");
    }

    #[test]
    fn encrypted_key_waits_for_its_password() {
        let pem = format!("{ENCRYPTED_BEGIN}\nAAAA\n{ENCRYPTED_END}\n");
        assert!(parse_key(pem.as_bytes(), None).unwrap().is_none());
        assert!(parse_key(pem.as_bytes(), Some(b"x")).is_err());
    }

    #[test]
    fn client_configs_build_with_and_without_verification() {
        assert!(default_client_config().is_ok());
        let ctx = Context { verify: true, ..Context::default() };
        assert!(ctx.client_config().is_ok());
        // No certificate given: the system's roots, read once for the process.
        assert!(Arc::ptr_eq(&ctx.trusted().unwrap(), &ctx.trusted().unwrap()));
        assert!(server_name("127.0.0.1").is_ok());
        assert!(server_name("localhost").is_ok());
        assert!(server_name("bad host").is_err());
    }
}
