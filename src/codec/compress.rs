//! `compress`/`uncompress` (docs/API.md §3.5): raw DEFLATE and gzip over flate2.
//!
//! * `Deflate` is a raw RFC 1951 stream (no zlib header), what the original
//!   wrote and what Python's `zlib.compress(data, wbits=-15)` reads.
//! * `Gzip` is RFC 1952; reading checks the CRC-32 and length trailer and
//!   accepts several concatenated members (as `gzip -d` and Python do).
//! * Reading refuses truncated streams and bytes after the end of the
//!   stream: silently returning a prefix would hide corruption.
//! * Decompression bombs: output is capped (by default at [`DEFAULT_MAX_OUTPUT`],
//!   64 MiB; `uncompress`'s third argument); past the cap `uncompress` fails,
//!   and the output buffer never grows beyond it, whatever the input claims.

use crate::error::{Error, Result};
use std::io::{Read, Write};

use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::{DeflateEncoder, GzEncoder};
use flate2::{Decompress, FlushDecompress, Status};

/// Largest output `uncompress` produces unless told otherwise.
pub const DEFAULT_MAX_OUTPUT: usize = 64 << 20;

/// A compression format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Deflate,
    Gzip,
}

impl Method {
    /// Parses a method name; `inflate` is accepted (as the original's
    /// `uncompress` spelled deflate) only where `allow_inflate` is set.
    pub fn parse(name: &[u8], allow_inflate: bool) -> Option<Method> {
        match name {
            b"deflate" => Some(Method::Deflate),
            b"inflate" if allow_inflate => Some(Method::Deflate),
            b"gzip" => Some(Method::Gzip),
            _ => None,
        }
    }
}

/// Compresses `data` at the default level (6, as zlib).
pub fn compress(data: &[u8], method: Method) -> Vec<u8> {
    let out = Vec::with_capacity(data.len() / 2 + 64);
    // Writing into a Vec cannot fail; the fallbacks only keep this panic-free.
    match method {
        Method::Deflate => {
            let mut enc = DeflateEncoder::new(out, Compression::default());
            let _ = enc.write_all(data);
            enc.finish().unwrap_or_default()
        }
        Method::Gzip => {
            let mut enc = GzEncoder::new(out, Compression::default());
            let _ = enc.write_all(data);
            enc.finish().unwrap_or_default()
        }
    }
}

/// Decompresses `data` into at most `max` bytes.
pub fn uncompress(data: &[u8], method: Method, max: usize) -> Result<Vec<u8>> {
    match method {
        Method::Deflate => inflate_raw(data, max),
        Method::Gzip => gunzip(data, max),
    }
}

/// An output buffer for at most `max` bytes: room for one byte more, to
/// tell "exactly `max`" from "over it", and never an allocation past that.
fn output_buffer(input_len: usize, max: usize) -> Vec<u8> {
    Vec::with_capacity((input_len.saturating_mul(3)).clamp(64, 1 << 20).min(max.saturating_add(1)))
}

/// Makes room in `out` (doubling, up to `max + 1` bytes); false when full at that size.
fn grow(out: &mut Vec<u8>, max: usize) -> bool {
    let limit = max.saturating_add(1);
    if out.len() >= limit {
        return false;
    }
    out.reserve_exact(out.len().max(64).min(limit - out.len()));
    true
}

fn inflate_raw(data: &[u8], max: usize) -> Result<Vec<u8>> {
    let mut inflater = Decompress::new(false);
    let mut out = output_buffer(data.len(), max);
    loop {
        if out.len() > max {
            return Err(Error::TooLarge(max));
        }
        if out.len() == out.capacity() && !grow(&mut out, max) {
            return Err(Error::TooLarge(max));
        }
        let consumed = inflater.total_in() as usize;
        let input = data.get(consumed..).unwrap_or(&[]);
        let before = (inflater.total_in(), inflater.total_out());
        let status = inflater
            .decompress_vec(input, &mut out, FlushDecompress::None)
            .map_err(|e| Error::Corrupt(e.to_string()))?;
        match status {
            Status::StreamEnd => {
                return if out.len() > max {
                    Err(Error::TooLarge(max))
                } else if (inflater.total_in() as usize) < data.len() {
                    Err(Error::TrailingData)
                } else {
                    Ok(out)
                };
            }
            Status::Ok | Status::BufError => {
                let progressed = before != (inflater.total_in(), inflater.total_out());
                let input_done = inflater.total_in() as usize >= data.len();
                // No progress with room left: with all input read the stream
                // is cut short; otherwise the inflater is stuck (never loop).
                if !progressed && out.len() < out.capacity() {
                    return Err(if input_done {
                        Error::Truncated
                    } else {
                        Error::Corrupt("inflater made no progress".to_owned())
                    });
                }
            }
        }
    }
}

fn gunzip(data: &[u8], max: usize) -> Result<Vec<u8>> {
    if data.is_empty() {
        return Err(Error::Truncated);
    }
    let mut decoder = MultiGzDecoder::new(data);
    let mut out = output_buffer(data.len(), max);
    loop {
        if out.len() == out.capacity() && !grow(&mut out, max) {
            return Err(Error::TooLarge(max));
        }
        let start = out.len();
        out.resize(out.capacity(), 0);
        let read = decoder.read(&mut out[start..]);
        out.truncate(start + *read.as_ref().unwrap_or(&0));
        match read {
            Ok(0) if out.len() > max => return Err(Error::TooLarge(max)),
            Ok(0) => return Ok(out),
            Ok(_) if out.len() > max => return Err(Error::TooLarge(max)),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Err(Error::Truncated),
            Err(e) => return Err(Error::Corrupt(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &[u8] = b"hello hello hello hello, skynet! hello hello hello";

    #[test]
    fn round_trips_both_methods() {
        for m in [Method::Deflate, Method::Gzip] {
            for data in [&b""[..], b"x", TEXT, &vec![7u8; 100_000]] {
                let c = compress(data, m);
                assert_eq!(uncompress(&c, m, DEFAULT_MAX_OUTPUT).unwrap(), data, "{m:?} {}", data.len());
            }
        }
    }

    fn m_for(n: usize) -> Method {
        if n % 2 == 0 { Method::Deflate } else { Method::Gzip }
    }

    #[test]
    fn the_cap_is_inclusive_and_never_allocated_past() {
        let data = vec![b'z'; 10_000];
        for m in [Method::Deflate, Method::Gzip] {
            let c = compress(&data, m);
            assert_eq!(uncompress(&c, m, 10_000).unwrap().len(), 10_000, "{m:?}: exactly max is fine");
            assert_eq!(uncompress(&c, m, 9_999), Err(Error::TooLarge(9_999)), "{m:?}");
            let out = uncompress(&c, m, 10_000).unwrap();
            assert!(out.capacity() <= 10_001, "{m:?}: capacity {}", out.capacity());
        }
        assert_eq!(Error::TooLarge(5).to_string(), "output exceeds 5 bytes");
        // Near the cap the buffer grows by what is left, however little.
        for max in [1, 63, 64, 65, 130] {
            let c = compress(&data[..max], m_for(max));
            assert_eq!(uncompress(&c, m_for(max), max).unwrap().len(), max);
            assert_eq!(uncompress(&c, m_for(max), max - 1), Err(Error::TooLarge(max - 1)));
        }
    }

    #[test]
    fn a_bomb_is_refused_at_the_default_cap() {
        let bomb = compress(&vec![0u8; DEFAULT_MAX_OUTPUT + 1], Method::Deflate);
        assert!(bomb.len() < 100_000);
        assert_eq!(uncompress(&bomb, Method::Deflate, DEFAULT_MAX_OUTPUT), Err(Error::TooLarge(DEFAULT_MAX_OUTPUT)));
    }

    #[test]
    fn deflate_is_raw_and_gzip_has_its_magic() {
        let d = compress(TEXT, Method::Deflate);
        assert_ne!(d[0] & 0x0f, 8, "no zlib header expected"); // zlib CMF would be 0x78
        let g = compress(TEXT, Method::Gzip);
        assert_eq!(&g[..2], &[0x1f, 0x8b]);
    }

    #[test]
    fn known_vector_from_python() {
        // python3 -c "import zlib; c = zlib.compressobj(6, zlib.DEFLATED, -15); print((c.compress(b'hello hello hello') + c.flush()).hex())"
        let data = [0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0x57, 0xc8, 0x40, 0x90, 0x00];
        assert_eq!(uncompress(&data, Method::Deflate, DEFAULT_MAX_OUTPUT).unwrap(), b"hello hello hello");
    }

    #[test]
    fn truncation_and_garbage_fail() {
        for m in [Method::Deflate, Method::Gzip] {
            let c = compress(TEXT, m);
            for cut in [0, 1, c.len() / 2, c.len() - 1] {
                assert!(uncompress(&c[..cut], m, DEFAULT_MAX_OUTPUT).is_err(), "{m:?} cut at {cut}");
            }
            let mut extra = c.clone();
            extra.extend_from_slice(b"junk");
            assert!(uncompress(&extra, m, DEFAULT_MAX_OUTPUT).is_err(), "{m:?} with trailing junk");
        }
        assert!(uncompress(b"\xff\xff\xff", Method::Deflate, DEFAULT_MAX_OUTPUT).is_err());
    }

    #[test]
    fn gzip_crc_and_length_are_checked() {
        let c = compress(TEXT, Method::Gzip);
        let n = c.len();
        let mut bad_crc = c.clone();
        bad_crc[n - 8] ^= 1;
        assert!(matches!(uncompress(&bad_crc, Method::Gzip, DEFAULT_MAX_OUTPUT), Err(Error::Corrupt(_))));
        let mut bad_len = c.clone();
        bad_len[n - 4] ^= 1;
        assert!(matches!(uncompress(&bad_len, Method::Gzip, DEFAULT_MAX_OUTPUT), Err(Error::Corrupt(_))));
    }

    #[test]
    fn concatenated_gzip_members_are_read() {
        let mut c = compress(b"ab", Method::Gzip);
        c.extend(compress(b"cd", Method::Gzip));
        assert_eq!(uncompress(&c, Method::Gzip, DEFAULT_MAX_OUTPUT).unwrap(), b"abcd");
    }

    #[test]
    fn method_names() {
        assert_eq!(Method::parse(b"deflate", false), Some(Method::Deflate));
        assert_eq!(Method::parse(b"gzip", false), Some(Method::Gzip));
        assert_eq!(Method::parse(b"inflate", false), None);
        assert_eq!(Method::parse(b"inflate", true), Some(Method::Deflate));
        assert_eq!(Method::parse(b"zip", true), None);
    }

    mod fuzz {
        //! Never-panic properties; `PROPTEST_CASES` sets the number of cases (256 by default).
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn uncompress_never_panics_on_arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..512)) {
                let _ = uncompress(&data, Method::Deflate, DEFAULT_MAX_OUTPUT);
                let _ = uncompress(&data, Method::Gzip, DEFAULT_MAX_OUTPUT);
            }

            #[test]
            fn damaged_streams_fail_or_decode_but_never_panic(
                data in proptest::collection::vec(any::<u8>(), 0..2048),
                gzip in any::<bool>(),
                flip in any::<(usize, u8)>(),
                cut in any::<usize>(),
            ) {
                let m = if gzip { Method::Gzip } else { Method::Deflate };
                let mut c = compress(&data, m);
                let back = uncompress(&c, m, DEFAULT_MAX_OUTPUT);
                prop_assert_eq!(back.as_deref(), Ok(&data[..]));
                let i = flip.0 % c.len();
                c[i] ^= flip.1 | 1;
                let _ = uncompress(&c, m, DEFAULT_MAX_OUTPUT);
                c.truncate(cut % (c.len() + 1));
                let _ = uncompress(&c, m, DEFAULT_MAX_OUTPUT);
            }
        }
    }
}
