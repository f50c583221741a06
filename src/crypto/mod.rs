//! The crypto core behind the Lua `crypto` table (docs/API.md §16).
//!
//! Every primitive comes from a RustCrypto crate; this module only adds the
//! glue the original's OpenSSL calls had: hex output, PKCS#7 around raw AES
//! blocks, PEM key selection and OpenSSL's "private encrypt / public decrypt"
//! signature-style padding. The one hand-written algorithm is `hash32`
//! (MurmurHash2), which no crate provides with the original's fixed seed.
//!
//! Nothing here knows about Lua: the binding (`lua_api/crypto.rs`) decides
//! which [`Error`]s raise and which become `nil, msg`.

pub mod aes;
pub mod digest;
pub mod murmur;
pub mod rsa;

use std::fmt;

/// Why a crypto operation failed.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// An AES key shorter than 16 bytes.
    KeyTooShort,
    /// Ciphertext whose length is not what the cipher produces.
    BadLength,
    /// Decrypted data whose padding is wrong (wrong key or corrupt data).
    BadPadding,
    /// A PEM text that names neither a private nor a public key.
    KeyTypeInvalid,
    /// A PEM key that could not be decoded (the detail says why).
    UnreadableKey(String),
    /// More plaintext than one RSA block of this key can carry.
    DataTooLong,
    /// The RSA crate refused an operation (the detail says why).
    Rsa(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::KeyTooShort => f.write_str("key must be at least 16 bytes"),
            Error::BadLength => f.write_str("data length invalid"),
            Error::BadPadding => f.write_str("bad padding"),
            Error::KeyTypeInvalid => f.write_str("key type invalid"),
            Error::UnreadableKey(why) => write!(f, "read key error: {why}"),
            Error::DataTooLong => f.write_str("data too long for key size"),
            Error::Rsa(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for Error {}

/// Lower-case hex of `bytes`, two characters per byte.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_lower_case_and_two_chars_per_byte() {
        assert_eq!(to_hex(&[0x00, 0x0f, 0xa0, 0xff]), "000fa0ff");
        assert_eq!(to_hex(&[]), "");
    }
}
