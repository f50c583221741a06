//! `crypto.aes`: AES-128-ECB with PKCS#7 padding, as the original.
//!
//! ECB encrypts equal blocks to equal ciphertext and has no IV or MAC: it is
//! weak and kept only so data exchanged with the original still decrypts.
//! The key is the first 16 bytes of the given key (the original passed the
//! string straight to OpenSSL, which read 16 bytes); a shorter key is an
//! error instead of the original's read past the end.
//!
//! The `aes` crate gives the block cipher; ECB is just one call per block, and
//! PKCS#7 is done here so that a bad pad is a plain [`Error`], checked the way
//! OpenSSL's `EVP_DecryptFinal_ex` checks it.

use aes::Aes128;
use aes::cipher::{BlockDecrypt, BlockEncrypt, KeyInit, generic_array::GenericArray};

use super::Error;

const BLOCK: usize = 16;

fn cipher(key: &[u8]) -> Result<Aes128, Error> {
    let key = key.get(..BLOCK).ok_or(Error::KeyTooShort)?;
    Ok(Aes128::new(GenericArray::from_slice(key)))
}

/// Encrypts `data`: PKCS#7 pads to a whole number of blocks (a full block of
/// 16s when already aligned), then encrypts each block on its own.
pub fn encrypt(data: &[u8], key: &[u8]) -> Result<Vec<u8>, Error> {
    let cipher = cipher(key)?;
    let pad = BLOCK - data.len() % BLOCK;
    let mut out = Vec::with_capacity(data.len() + pad);
    out.extend_from_slice(data);
    out.resize(data.len() + pad, pad as u8);
    for block in out.chunks_exact_mut(BLOCK) {
        cipher.encrypt_block(GenericArray::from_mut_slice(block));
    }
    Ok(out)
}

/// Decrypts `data`; fails with [`Error::BadLength`] unless it is a non-empty
/// multiple of 16 bytes and [`Error::BadPadding`] if the PKCS#7 pad is wrong
/// (the usual sign of a wrong key).
pub fn decrypt(data: &[u8], key: &[u8]) -> Result<Vec<u8>, Error> {
    let cipher = cipher(key)?;
    if data.is_empty() || !data.len().is_multiple_of(BLOCK) {
        return Err(Error::BadLength);
    }
    let mut out = data.to_vec();
    for block in out.chunks_exact_mut(BLOCK) {
        cipher.decrypt_block(GenericArray::from_mut_slice(block));
    }
    let pad = usize::from(out[out.len() - 1]);
    if pad == 0 || pad > BLOCK || !out[out.len() - pad..].iter().all(|&b| usize::from(b) == pad) {
        return Err(Error::BadPadding);
    }
    out.truncate(out.len() - pad);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::to_hex;

    const KEY: &[u8] = b"0123456789abcdef";

    // Vectors: printf '<data>' | openssl enc -aes-128-ecb
    //   -K 30313233343536373839616263646566 -nosalt | xxd -p
    #[test]
    fn matches_openssl_enc() {
        let cases: [(&[u8], &str); 3] = [
            (b"hello world", "8169bed4ef49a8874559c5b200daade7"),
            (b"", "377222e061a924c591cd9c27ea163ed4"),
            (b"0123456789abcdef", "72727e881edcfd0100a718687909b565377222e061a924c591cd9c27ea163ed4"),
        ];
        for (plain, want) in cases {
            let enc = encrypt(plain, KEY).unwrap();
            assert_eq!(to_hex(&enc), want);
            assert_eq!(decrypt(&enc, KEY).unwrap(), plain);
        }
    }

    #[test]
    fn only_the_first_16_key_bytes_count() {
        let long = b"0123456789abcdefIGNORED";
        assert_eq!(encrypt(b"x", long).unwrap(), encrypt(b"x", KEY).unwrap());
        assert_eq!(encrypt(b"x", b"short"), Err(Error::KeyTooShort));
        assert_eq!(decrypt(&[0; 16], b""), Err(Error::KeyTooShort));
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert_eq!(decrypt(b"", KEY), Err(Error::BadLength));
        assert_eq!(decrypt(&[1; 17], KEY), Err(Error::BadLength));
        let enc = encrypt(b"secret message", KEY).unwrap();
        assert_eq!(decrypt(&enc, b"fedcba9876543210"), Err(Error::BadPadding));
        // A block decrypting to a pad of 0 or > 16 is rejected too.
        for last in [0u8, 17, 255] {
            let mut plain = [1u8; 16];
            plain[15] = last;
            let mut block = GenericArray::clone_from_slice(&plain);
            cipher(KEY).unwrap().encrypt_block(&mut block);
            assert_eq!(decrypt(&block, KEY), Err(Error::BadPadding), "pad {last}");
        }
    }
}
