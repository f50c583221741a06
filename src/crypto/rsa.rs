//! `crypto.rsa`: PKCS#1 v1.5 signatures and encryption with PEM keys.
//!
//! The original called OpenSSL's `RSA_*` functions; this file reproduces
//! their byte-level results with the `rsa` crate:
//!
//! * `sign`/`verify`: RSASSA-PKCS1-v1_5 over SHA-1 (`RSA_sign(NID_sha1)`).
//! * `encrypt` with a public key: type 2 (random) padding, `RSA_public_encrypt`.
//! * `encrypt` with a private key: type 1 padding (`00 01 ff.. 00 data`),
//!   `RSA_private_encrypt`; deterministic, byte-equal to
//!   `openssl pkeyutl -sign -pkeyopt rsa_padding_mode:pkcs1` on raw data.
//!   This is the crate's *unprefixed* PKCS#1 v1.5 signature.
//! * `decrypt` with a private key: type 2 unpadding (`RSA_private_decrypt`).
//! * `decrypt` with a public key: type 1 unpadding (`RSA_public_decrypt`,
//!   `openssl pkeyutl -verifyrecover`). The crate has no "recover" operation,
//!   so we apply the public exponent with `BigUint::modpow` (exactly what the
//!   crate's own `hazmat::rsa_encrypt` does) and strip the padding here.
//!
//! Key selection follows the original: a PEM text containing `PRIVATE KEY` is
//! a private key, else one containing `PUBLIC KEY` is a public key, else
//! [`Error::KeyTypeInvalid`]. The BEGIN label then picks the decoder:
//! `RSA PRIVATE KEY` (PKCS#1), `PRIVATE KEY` (PKCS#8), `ENCRYPTED PRIVATE KEY`
//! (PKCS#8 PBES2, needs a password), `RSA PUBLIC KEY` (PKCS#1) and
//! `PUBLIC KEY` (SPKI). Legacy OpenSSL-encrypted PKCS#1 PEM (`Proc-Type:
//! 4,ENCRYPTED` headers) is not supported: convert it with `openssl pkcs8 -topk8`.

use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, Pkcs1v15Encrypt, Pkcs1v15Sign, RsaPrivateKey, RsaPublicKey};
use sha1::{Digest, Sha1};

use super::Error;

/// DER prefix of a SHA-1 `DigestInfo` (RFC 8017 §9.2, note 1).
const SHA1_DIGEST_INFO: [u8; 15] =
    [0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14];

/// Bytes PKCS#1 v1.5 padding adds at least (`00 0x` + 8 pad bytes + `00`).
const PADDING_OVERHEAD: usize = 11;

/// A decoded PEM key.
#[derive(Debug, Clone)]
pub enum Key {
    /// Boxed: a private key with its CRT values is several times a public key's size.
    Private(Box<RsaPrivateKey>),
    Public(RsaPublicKey),
}

/// Decodes `pem` as whichever kind of key it names (see the module docs).
/// `password` is only used for `ENCRYPTED PRIVATE KEY`.
pub fn parse_key(pem: &str, password: Option<&[u8]>) -> Result<Key, Error> {
    if pem.contains("PRIVATE KEY") {
        private_key(pem, password).map(|k| Key::Private(Box::new(k)))
    } else if pem.contains("PUBLIC KEY") {
        public_key(pem).map(Key::Public)
    } else {
        Err(Error::KeyTypeInvalid)
    }
}

/// The PEM block in `text` (from `-----BEGIN` to the matching END line) and
/// its label; surrounding text is ignored, as OpenSSL ignores it.
fn pem_block(text: &str) -> Result<(&str, &str), Error> {
    let unreadable = || Error::UnreadableKey("no PEM block".into());
    let start = text.find("-----BEGIN ").ok_or_else(unreadable)?;
    let after = &text[start + "-----BEGIN ".len()..];
    let label = &after[..after.find("-----").ok_or_else(unreadable)?];
    let end_line = format!("-----END {label}-----");
    let end = text[start..].find(&end_line).ok_or_else(unreadable)? + start + end_line.len();
    Ok((label, &text[start..end]))
}

/// Decodes a private key in PKCS#1, PKCS#8 or encrypted PKCS#8 PEM.
pub fn private_key(pem: &str, password: Option<&[u8]>) -> Result<RsaPrivateKey, Error> {
    let (label, block) = pem_block(pem)?;
    let unreadable = |e: &dyn std::fmt::Display| Error::UnreadableKey(e.to_string());
    match label {
        "RSA PRIVATE KEY" => RsaPrivateKey::from_pkcs1_pem(block).map_err(|e| unreadable(&e)),
        "PRIVATE KEY" => RsaPrivateKey::from_pkcs8_pem(block).map_err(|e| unreadable(&e)),
        "ENCRYPTED PRIVATE KEY" => match password {
            Some(pw) => RsaPrivateKey::from_pkcs8_encrypted_pem(block, pw)
                .map_err(|e| Error::UnreadableKey(format!("{e} (wrong password?)"))),
            None => Err(Error::UnreadableKey("encrypted key needs a password".into())),
        },
        other => Err(Error::UnreadableKey(format!("'{other}' is not a private key"))),
    }
}

/// Decodes a public key in PKCS#1 (`RSA PUBLIC KEY`) or SPKI (`PUBLIC KEY`) PEM.
pub fn public_key(pem: &str) -> Result<RsaPublicKey, Error> {
    let (label, block) = pem_block(pem)?;
    let unreadable = |e: &dyn std::fmt::Display| Error::UnreadableKey(e.to_string());
    match label {
        "RSA PUBLIC KEY" => RsaPublicKey::from_pkcs1_pem(block).map_err(|e| unreadable(&e)),
        "PUBLIC KEY" => RsaPublicKey::from_public_key_pem(block).map_err(|e| unreadable(&e)),
        other => Err(Error::UnreadableKey(format!("'{other}' is not a public key"))),
    }
}

fn sha1_scheme() -> Pkcs1v15Sign {
    Pkcs1v15Sign { hash_len: Some(20), prefix: Box::new(SHA1_DIGEST_INFO) }
}

/// RSASSA-PKCS1-v1_5 signature of SHA-1(`data`).
pub fn sign(key: &RsaPrivateKey, data: &[u8]) -> Result<Vec<u8>, Error> {
    let hash = Sha1::digest(data);
    // The rng only blinds the private-key operation; the signature is deterministic.
    key.sign_with_rng(&mut rand::thread_rng(), sha1_scheme(), &hash)
        .map_err(|e| Error::Rsa(e.to_string()))
}

/// Whether `sig` is a valid signature of SHA-1(`data`) under `key`.
pub fn verify(key: &RsaPublicKey, data: &[u8], sig: &[u8]) -> bool {
    key.verify(sha1_scheme(), &Sha1::digest(data), sig).is_ok()
}

/// Encrypts one block: type 2 padding for a public key, type 1 for a private key.
pub fn encrypt(key: &Key, data: &[u8]) -> Result<Vec<u8>, Error> {
    let size = match key {
        Key::Private(k) => k.size(),
        Key::Public(k) => k.size(),
    };
    if data.len() + PADDING_OVERHEAD > size {
        return Err(Error::DataTooLong);
    }
    let mut rng = rand::thread_rng();
    let result = match key {
        Key::Public(k) => k.encrypt(&mut rng, Pkcs1v15Encrypt, data),
        Key::Private(k) => k.sign_with_rng(&mut rng, Pkcs1v15Sign::new_unprefixed(), data),
    };
    result.map_err(|e| Error::Rsa(e.to_string()))
}

/// Decrypts one block: type 2 unpadding for a private key, type 1 for a public key.
pub fn decrypt(key: &Key, data: &[u8]) -> Result<Vec<u8>, Error> {
    match key {
        Key::Private(k) => {
            check_ciphertext(k.as_ref(), data)?;
            k.decrypt_blinded(&mut rand::thread_rng(), Pkcs1v15Encrypt, data)
                .map_err(|_| Error::BadPadding)
        }
        Key::Public(k) => public_decrypt(k, data),
    }
}

/// A ciphertext must fit the key: at most `size` bytes and, as a number, below `n`.
fn check_ciphertext(key: &impl PublicKeyParts, data: &[u8]) -> Result<(), Error> {
    if data.len() > key.size() || &BigUint::from_bytes_be(data) >= key.n() {
        return Err(Error::BadLength);
    }
    Ok(())
}

/// `RSA_public_decrypt` with PKCS#1 padding: `data^e mod n`, then strip
/// `00 01 ff{8,} 00`. Only public values are involved, so no constant-time care.
fn public_decrypt(key: &RsaPublicKey, data: &[u8]) -> Result<Vec<u8>, Error> {
    check_ciphertext(key, data)?;
    let size = key.size();
    let c = BigUint::from_bytes_be(data);
    let m = c.modpow(key.e(), key.n()).to_bytes_be();
    let mut em = vec![0u8; size - m.len()];
    em.extend_from_slice(&m);
    unpad_type1(&em).map(<[u8]>::to_vec)
}

/// The message inside a PKCS#1 type 1 block `00 01 ff.. 00 msg`, with at
/// least 8 `ff` bytes as OpenSSL's `RSA_padding_check_PKCS1_type_1` demands.
fn unpad_type1(em: &[u8]) -> Result<&[u8], Error> {
    let body = match em {
        [0, 1, body @ ..] => body,
        _ => return Err(Error::BadPadding),
    };
    let pad = body.iter().take_while(|&&b| b == 0xff).count();
    match body.get(pad) {
        Some(0) if pad >= 8 => Ok(&body[pad + 1..]),
        _ => Err(Error::BadPadding),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Fixtures made with the openssl CLI: see testdata/README.md.
    const PKCS1: &str = include_str!("testdata/rsa_pkcs1.pem");
    const PKCS8: &str = include_str!("testdata/rsa_pkcs8.pem");
    const PKCS8_ENC: &str = include_str!("testdata/rsa_pkcs8_encrypted.pem");
    const SPKI: &str = include_str!("testdata/rsa_spki_pub.pem");
    const PKCS1_PUB: &str = include_str!("testdata/rsa_pkcs1_pub.pem");
    const SIG: &[u8] = include_bytes!("testdata/hello.sha1.sig");
    const PRIVENC: &[u8] = include_bytes!("testdata/hello.privenc");
    const PUBENC: &[u8] = include_bytes!("testdata/hello.pubenc");

    fn private() -> RsaPrivateKey {
        private_key(PKCS1, None).unwrap()
    }

    #[test]
    fn every_key_format_decodes_to_the_same_key() {
        let key = private();
        assert_eq!(private_key(PKCS8, None).unwrap(), key);
        assert_eq!(private_key(PKCS8_ENC, Some(b"secret")).unwrap(), key);
        assert_eq!(public_key(SPKI).unwrap(), key.to_public_key());
        assert_eq!(public_key(PKCS1_PUB).unwrap(), key.to_public_key());
        // Text around the PEM block is ignored.
        assert!(public_key(&format!("comment\n{SPKI}\ntrailer")).is_ok());
    }

    #[test]
    fn key_selection_and_bad_keys() {
        assert!(matches!(parse_key(PKCS8, None), Ok(Key::Private(_))));
        assert!(matches!(parse_key(PKCS1_PUB, None), Ok(Key::Public(_))));
        assert_eq!(parse_key("hello", None).unwrap_err(), Error::KeyTypeInvalid);
        let garbage = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
        assert!(matches!(parse_key(garbage, None), Err(Error::UnreadableKey(_))));
        assert!(matches!(parse_key("PRIVATE KEY", None), Err(Error::UnreadableKey(_))));
        assert!(matches!(private_key(PKCS8_ENC, None), Err(Error::UnreadableKey(_))));
        assert!(matches!(private_key(PKCS8_ENC, Some(b"wrong")), Err(Error::UnreadableKey(_))));
        assert!(matches!(private_key(SPKI, None), Err(Error::UnreadableKey(_))));
        assert!(matches!(public_key(PKCS1), Err(Error::UnreadableKey(_))));
        let truncated = &PKCS1[..PKCS1.len() - 10];
        assert!(matches!(private_key(truncated, None), Err(Error::UnreadableKey(_))));
    }

    #[test]
    fn sha1_signature_equals_openssl_dgst_sign() {
        let key = private();
        assert_eq!(sign(&key, b"hello").unwrap(), SIG);
        let public = key.to_public_key();
        assert!(verify(&public, b"hello", SIG));
        assert!(!verify(&public, b"hellO", SIG));
        assert!(!verify(&public, b"hello", &SIG[1..]));
        assert!(!verify(&public, b"hello", b""));
    }

    #[test]
    fn private_encrypt_equals_openssl_pkeyutl_sign() {
        let key = Key::Private(Box::new(private()));
        assert_eq!(encrypt(&key, b"hello").unwrap(), PRIVENC);
        let public = Key::Public(public_key(SPKI).unwrap());
        assert_eq!(decrypt(&public, PRIVENC).unwrap(), b"hello");
    }

    #[test]
    fn public_encrypt_round_trips_and_reads_openssl_output() {
        let private = Key::Private(Box::new(private()));
        let public = Key::Public(public_key(PKCS1_PUB).unwrap());
        assert_eq!(decrypt(&private, PUBENC).unwrap(), b"hello");
        let enc = encrypt(&public, b"hello").unwrap();
        assert_eq!(enc.len(), 128);
        assert_ne!(enc, encrypt(&public, b"hello").unwrap(), "type 2 padding is random");
        assert_eq!(decrypt(&private, &enc).unwrap(), b"hello");
    }

    #[test]
    fn size_limits_and_bad_ciphertext() {
        let private = Key::Private(Box::new(private()));
        let public = Key::Public(public_key(SPKI).unwrap());
        for key in [&private, &public] {
            assert!(encrypt(key, &[7; 128 - 11]).is_ok());
            assert_eq!(encrypt(key, &[7; 128 - 10]), Err(Error::DataTooLong));
            assert_eq!(decrypt(key, &[1; 129]), Err(Error::BadLength));
            assert_eq!(decrypt(key, &[0xff; 128]), Err(Error::BadLength));
        }
        // Swapped roles: a type 2 block read as type 1 and vice versa.
        assert_eq!(decrypt(&public, PUBENC), Err(Error::BadPadding));
        assert_eq!(decrypt(&private, PRIVENC), Err(Error::BadPadding));
        assert_eq!(decrypt(&private, b"short"), Err(Error::BadPadding));
    }

    #[test]
    fn type1_unpadding_rules() {
        let block = |pad: usize, sep: u8| {
            let mut v = vec![0, 1];
            v.extend(std::iter::repeat_n(0xff, pad));
            v.push(sep);
            v.extend_from_slice(b"msg");
            v
        };
        assert_eq!(unpad_type1(&block(8, 0)).unwrap(), b"msg");
        assert_eq!(unpad_type1(&block(7, 0)), Err(Error::BadPadding));
        assert_eq!(unpad_type1(&block(8, 1)), Err(Error::BadPadding));
        assert_eq!(unpad_type1(&[0, 2, 0xff]), Err(Error::BadPadding));
        assert_eq!(unpad_type1(&[0, 1]), Err(Error::BadPadding));
        assert_eq!(unpad_type1(&[]), Err(Error::BadPadding));
    }
}
