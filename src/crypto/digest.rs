//! Message digests and HMACs: md5, sha1, sha224, sha256, sha384, sha512.
//!
//! One [`Algorithm`] enum names the six hashes so the binding can build both
//! `crypto.<name>` and `crypto.hmac.<name>` from the same list, and so the
//! generic RustCrypto types appear in exactly one `match`.

use sha2::Digest;
use hmac::{Hmac, Mac};

/// A hash function offered by `crypto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl Algorithm {
    /// Every algorithm, in the order the API lists them.
    pub const ALL: [Algorithm; 6] = [
        Algorithm::Md5,
        Algorithm::Sha1,
        Algorithm::Sha224,
        Algorithm::Sha256,
        Algorithm::Sha384,
        Algorithm::Sha512,
    ];

    /// The Lua field name (`crypto.sha256`).
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "md5",
            Algorithm::Sha1 => "sha1",
            Algorithm::Sha224 => "sha224",
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha384 => "sha384",
            Algorithm::Sha512 => "sha512",
        }
    }

    /// The digest of `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Algorithm::Md5 => md5::Md5::digest(data).to_vec(),
            Algorithm::Sha1 => sha1::Sha1::digest(data).to_vec(),
            Algorithm::Sha224 => sha2::Sha224::digest(data).to_vec(),
            Algorithm::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Algorithm::Sha384 => sha2::Sha384::digest(data).to_vec(),
            Algorithm::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }

    /// HMAC of `data` under `key` (any key length, as RFC 2104 allows).
    pub fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        match self {
            Algorithm::Md5 => mac::<Hmac<md5::Md5>>(key, data),
            Algorithm::Sha1 => mac::<Hmac<sha1::Sha1>>(key, data),
            Algorithm::Sha224 => mac::<Hmac<sha2::Sha224>>(key, data),
            Algorithm::Sha256 => mac::<Hmac<sha2::Sha256>>(key, data),
            Algorithm::Sha384 => mac::<Hmac<sha2::Sha384>>(key, data),
            Algorithm::Sha512 => mac::<Hmac<sha2::Sha512>>(key, data),
        }
    }
}

fn mac<M: Mac + hmac::digest::KeyInit>(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC takes keys of every length (long ones are hashed first), so
    // `new_from_slice` cannot fail here; the fallback only keeps us panic-free.
    match <M as Mac>::new_from_slice(key) {
        Ok(mut m) => {
            m.update(data);
            m.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::to_hex;

    // Vectors: python3 -c 'import hashlib; print(hashlib.<name>(b"abc").hexdigest())'
    #[test]
    fn digests_of_abc_match_hashlib() {
        let want = [
            "900150983cd24fb0d6963f7d28e17f72",
            "a9993e364706816aba3e25717850c26c9cd0d89d",
            "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7",
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed\
             8086072ba1e7cc2358baeca134c825a7",
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a\
             2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
        ];
        for (alg, want) in Algorithm::ALL.iter().zip(want) {
            assert_eq!(to_hex(&alg.digest(b"abc")), want, "{}", alg.name());
        }
    }

    // Vectors: python3 -c 'import hmac; print(hmac.new(b"key", b"The quick brown fox
    // jumps over the lazy dog", "<name>").hexdigest())'
    #[test]
    fn hmacs_match_python_hmac() {
        let msg = b"The quick brown fox jumps over the lazy dog";
        assert_eq!(to_hex(&Algorithm::Md5.hmac(b"key", msg)), "80070713463e7749b90c2dc24911e275");
        assert_eq!(
            to_hex(&Algorithm::Sha1.hmac(b"key", msg)),
            "de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9"
        );
        assert_eq!(
            to_hex(&Algorithm::Sha256.hmac(b"key", msg)),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }

    #[test]
    fn digest_lengths() {
        let lens: Vec<usize> = Algorithm::ALL.iter().map(|a| a.digest(b"").len()).collect();
        assert_eq!(lens, [16, 20, 28, 32, 48, 64]);
        let lens: Vec<usize> = Algorithm::ALL.iter().map(|a| a.hmac(&[7; 300], b"x").len()).collect();
        assert_eq!(lens, [16, 20, 28, 32, 48, 64]);
    }
}
