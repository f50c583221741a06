//! `crypto.hash32`: MurmurHash2 (Austin Appleby) with the original's seed 97.
//!
//! Keys hashed with it may shard data across versions, so it must match the
//! original bit for bit: 32-bit arithmetic with wrap-around, little-endian
//! 4-byte blocks (the original read native `unsigned int`s on x86), the
//! classic fall-through tail and final avalanche. No crate ships this exact
//! variant with this seed, hence the ~20 lines below. The test vectors come
//! from an independent C implementation compiled with gcc (see the tests).

const M: u32 = 0x5bd1e995;
const R: u32 = 24;
const SEED: u32 = 97;

/// MurmurHash2 of `data` with seed 97, as the original `crypto.hash32`.
pub fn hash32(data: &[u8]) -> u32 {
    // The original mixes the length in as a C `int`: only its low 32 bits count.
    let mut h = SEED ^ (data.len() as u32);
    let mut blocks = data.chunks_exact(4);
    for block in &mut blocks {
        let mut k = u32::from_le_bytes([block[0], block[1], block[2], block[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        // The C switch falls through 3 -> 2 -> 1, then multiplies once.
        if tail.len() == 3 {
            h ^= u32::from(tail[2]) << 16;
        }
        if tail.len() >= 2 {
            h ^= u32::from(tail[1]) << 8;
        }
        h ^= u32::from(tail[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors from Appleby's reference MurmurHash2 in C (seed 97), built with
    // `gcc -O2 murmur2.c` at vector-generation time; the program is kept in
    // spec/tools/murmur2.c and the busted spec recomputes vectors in Python.
    #[test]
    fn matches_the_c_reference_on_strings() {
        let cases: [(&str, u32); 9] = [
            ("", 3397915750),
            ("a", 3914231485),
            ("ab", 1753992090),
            ("abc", 1834890600),
            ("abcd", 1413426909),
            ("abcde", 2466488910),
            ("hello", 867496620),
            ("hello world", 1923318524),
            ("The quick brown fox jumps over the lazy dog", 2822025249),
        ];
        for (s, want) in cases {
            assert_eq!(hash32(s.as_bytes()), want, "{s:?}");
        }
    }

    #[test]
    fn matches_the_c_reference_on_high_bytes() {
        // The last n bytes of 0x00..=0xff: exercises every tail length with
        // bytes >= 0x80 (where a signed-char port would go wrong).
        let all: Vec<u8> = (0..=255u8).collect();
        let want = [3397915750, 1381613397, 1141328259, 3078154415, 692652445, 1915707623, 866712554, 2018001556];
        for (n, want) in want.into_iter().enumerate() {
            assert_eq!(hash32(&all[256 - n..]), want, "last {n} bytes");
        }
        assert_eq!(hash32(&all), 2673451384);
    }
}
