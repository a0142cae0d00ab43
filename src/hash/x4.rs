//! SHA3-256 of four equally long inputs at once: the Keccak-f[1600] permutation on four
//! states side by side in AVX2 registers (one 64-bit lane of each state per 256-bit register),
//! where the CPU has AVX2; four one-at-a-time hashes elsewhere. The digests are SHA3-256's
//! either way (tested against the `sha3` crate): only the speed depends on the CPU.

use super::{sha3_256_parts, Digest};

/// SHA3-256's rate: bytes absorbed per permutation.
const RATE: usize = 136;

/// SHA3-256 of `prefix || inputs[i]` for each `i`: the four inputs must be equally long (else
/// each is hashed on its own).
pub(super) fn sha3_256_x4(prefix: &[u8], inputs: [&[u8]; 4]) -> [Digest; 4] {
    #[cfg(target_arch = "x86_64")]
    if inputs.iter().all(|i| i.len() == inputs[0].len())
        && std::arch::is_x86_feature_detected!("avx2")
    {
        // SAFETY: AVX2 is present (checked just above).
        return unsafe { avx2::sha3_256_x4(prefix, inputs) };
    }
    inputs.map(|i| sha3_256_parts(&[prefix, i]))
}

/// The block `b` (of [`RATE`] bytes, padded when it is the last) of `prefix || input`, whose
/// whole length is `len`: borrowed from `input` when it lies inside it, else copied into `buf`.
fn block<'a>(
    prefix: &[u8],
    input: &'a [u8],
    b: usize,
    len: usize,
    buf: &'a mut [u8; RATE],
) -> &'a [u8; RATE] {
    let start = b * RATE;
    if start >= prefix.len() && start + RATE <= len {
        let at = start - prefix.len();
        if let Some(block) = input.get(at..at + RATE).and_then(|s| s.try_into().ok()) {
            return block;
        }
    }
    buf.fill(0);
    for (i, v) in buf.iter_mut().enumerate() {
        let pos = start + i;
        if pos >= len {
            break;
        }
        *v = if pos < prefix.len() {
            prefix[pos]
        } else {
            input[pos - prefix.len()]
        };
    }
    if start + RATE > len {
        // SHA3's padding: the domain bits 01, then 10*1.
        buf[len - start] ^= 0x06;
        buf[RATE - 1] ^= 0x80;
    }
    buf
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{block, Digest, RATE};
    use std::arch::x86_64::*;

    /// Keccak's round constants.
    const RC: [u64; 24] = [
        0x0000000000000001,
        0x0000000000008082,
        0x800000000000808A,
        0x8000000080008000,
        0x000000000000808B,
        0x0000000080000001,
        0x8000000080008081,
        0x8000000000008009,
        0x000000000000008A,
        0x0000000000000088,
        0x0000000080008009,
        0x000000008000000A,
        0x000000008000808B,
        0x800000000000008B,
        0x8000000000008089,
        0x8000000000008003,
        0x8000000000008002,
        0x8000000000000080,
        0x000000000000800A,
        0x800000008000000A,
        0x8000000080008081,
        0x8000000000008080,
        0x0000000080000001,
        0x8000000080008008,
    ];

    /// `v` rotated left by the constant `n` bits, in each 64-bit lane.
    macro_rules! rotl {
        ($v:expr, $n:literal) => {
            _mm256_or_si256(
                _mm256_slli_epi64::<$n>($v),
                _mm256_srli_epi64::<{ 64 - $n }>($v),
            )
        };
    }

    /// Keccak-f[1600] on four states, lane `x + 5 y` of state `i` in element `i` of `a[x + 5 y]`
    /// (written out lane by lane, so that every lane stays in a register or a fixed slot).
    #[target_feature(enable = "avx2")]
    fn keccak_f(s: &mut [__m256i; 25]) {
        let [mut a0, mut a1, mut a2, mut a3, mut a4, mut a5, mut a6, mut a7, mut a8, mut a9, mut a10, mut a11, mut a12, mut a13, mut a14, mut a15, mut a16, mut a17, mut a18, mut a19, mut a20, mut a21, mut a22, mut a23, mut a24] =
            *s;
        for rc in RC {
            let c0 = _mm256_xor_si256(
                _mm256_xor_si256(_mm256_xor_si256(a0, a5), a10),
                _mm256_xor_si256(a15, a20),
            );
            let c1 = _mm256_xor_si256(
                _mm256_xor_si256(_mm256_xor_si256(a1, a6), a11),
                _mm256_xor_si256(a16, a21),
            );
            let c2 = _mm256_xor_si256(
                _mm256_xor_si256(_mm256_xor_si256(a2, a7), a12),
                _mm256_xor_si256(a17, a22),
            );
            let c3 = _mm256_xor_si256(
                _mm256_xor_si256(_mm256_xor_si256(a3, a8), a13),
                _mm256_xor_si256(a18, a23),
            );
            let c4 = _mm256_xor_si256(
                _mm256_xor_si256(_mm256_xor_si256(a4, a9), a14),
                _mm256_xor_si256(a19, a24),
            );
            let d0 = _mm256_xor_si256(c4, rotl!(c1, 1));
            let d1 = _mm256_xor_si256(c0, rotl!(c2, 1));
            let d2 = _mm256_xor_si256(c1, rotl!(c3, 1));
            let d3 = _mm256_xor_si256(c2, rotl!(c4, 1));
            let d4 = _mm256_xor_si256(c3, rotl!(c0, 1));
            a0 = _mm256_xor_si256(a0, d0);
            a1 = _mm256_xor_si256(a1, d1);
            a2 = _mm256_xor_si256(a2, d2);
            a3 = _mm256_xor_si256(a3, d3);
            a4 = _mm256_xor_si256(a4, d4);
            a5 = _mm256_xor_si256(a5, d0);
            a6 = _mm256_xor_si256(a6, d1);
            a7 = _mm256_xor_si256(a7, d2);
            a8 = _mm256_xor_si256(a8, d3);
            a9 = _mm256_xor_si256(a9, d4);
            a10 = _mm256_xor_si256(a10, d0);
            a11 = _mm256_xor_si256(a11, d1);
            a12 = _mm256_xor_si256(a12, d2);
            a13 = _mm256_xor_si256(a13, d3);
            a14 = _mm256_xor_si256(a14, d4);
            a15 = _mm256_xor_si256(a15, d0);
            a16 = _mm256_xor_si256(a16, d1);
            a17 = _mm256_xor_si256(a17, d2);
            a18 = _mm256_xor_si256(a18, d3);
            a19 = _mm256_xor_si256(a19, d4);
            a20 = _mm256_xor_si256(a20, d0);
            a21 = _mm256_xor_si256(a21, d1);
            a22 = _mm256_xor_si256(a22, d2);
            a23 = _mm256_xor_si256(a23, d3);
            a24 = _mm256_xor_si256(a24, d4);
            let b0 = a0;
            let b1 = rotl!(a6, 44);
            let b2 = rotl!(a12, 43);
            let b3 = rotl!(a18, 21);
            let b4 = rotl!(a24, 14);
            let b5 = rotl!(a3, 28);
            let b6 = rotl!(a9, 20);
            let b7 = rotl!(a10, 3);
            let b8 = rotl!(a16, 45);
            let b9 = rotl!(a22, 61);
            let b10 = rotl!(a1, 1);
            let b11 = rotl!(a7, 6);
            let b12 = rotl!(a13, 25);
            let b13 = rotl!(a19, 8);
            let b14 = rotl!(a20, 18);
            let b15 = rotl!(a4, 27);
            let b16 = rotl!(a5, 36);
            let b17 = rotl!(a11, 10);
            let b18 = rotl!(a17, 15);
            let b19 = rotl!(a23, 56);
            let b20 = rotl!(a2, 62);
            let b21 = rotl!(a8, 55);
            let b22 = rotl!(a14, 39);
            let b23 = rotl!(a15, 41);
            let b24 = rotl!(a21, 2);
            a0 = _mm256_xor_si256(b0, _mm256_andnot_si256(b1, b2));
            a1 = _mm256_xor_si256(b1, _mm256_andnot_si256(b2, b3));
            a2 = _mm256_xor_si256(b2, _mm256_andnot_si256(b3, b4));
            a3 = _mm256_xor_si256(b3, _mm256_andnot_si256(b4, b0));
            a4 = _mm256_xor_si256(b4, _mm256_andnot_si256(b0, b1));
            a5 = _mm256_xor_si256(b5, _mm256_andnot_si256(b6, b7));
            a6 = _mm256_xor_si256(b6, _mm256_andnot_si256(b7, b8));
            a7 = _mm256_xor_si256(b7, _mm256_andnot_si256(b8, b9));
            a8 = _mm256_xor_si256(b8, _mm256_andnot_si256(b9, b5));
            a9 = _mm256_xor_si256(b9, _mm256_andnot_si256(b5, b6));
            a10 = _mm256_xor_si256(b10, _mm256_andnot_si256(b11, b12));
            a11 = _mm256_xor_si256(b11, _mm256_andnot_si256(b12, b13));
            a12 = _mm256_xor_si256(b12, _mm256_andnot_si256(b13, b14));
            a13 = _mm256_xor_si256(b13, _mm256_andnot_si256(b14, b10));
            a14 = _mm256_xor_si256(b14, _mm256_andnot_si256(b10, b11));
            a15 = _mm256_xor_si256(b15, _mm256_andnot_si256(b16, b17));
            a16 = _mm256_xor_si256(b16, _mm256_andnot_si256(b17, b18));
            a17 = _mm256_xor_si256(b17, _mm256_andnot_si256(b18, b19));
            a18 = _mm256_xor_si256(b18, _mm256_andnot_si256(b19, b15));
            a19 = _mm256_xor_si256(b19, _mm256_andnot_si256(b15, b16));
            a20 = _mm256_xor_si256(b20, _mm256_andnot_si256(b21, b22));
            a21 = _mm256_xor_si256(b21, _mm256_andnot_si256(b22, b23));
            a22 = _mm256_xor_si256(b22, _mm256_andnot_si256(b23, b24));
            a23 = _mm256_xor_si256(b23, _mm256_andnot_si256(b24, b20));
            a24 = _mm256_xor_si256(b24, _mm256_andnot_si256(b20, b21));
            a0 = _mm256_xor_si256(a0, _mm256_set1_epi64x(rc as i64));
        }
        *s = [
            a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, a17, a18,
            a19, a20, a21, a22, a23, a24,
        ];
    }

    /// A little-endian 64-bit word of `block` at word `j`.
    fn word(block: &[u8; RATE], j: usize) -> i64 {
        let mut w = [0u8; 8];
        w.copy_from_slice(&block[8 * j..8 * j + 8]);
        i64::from_le_bytes(w)
    }

    /// [`super::sha3_256_x4`] for equally long inputs.
    #[target_feature(enable = "avx2")]
    pub(super) fn sha3_256_x4(prefix: &[u8], inputs: [&[u8]; 4]) -> [Digest; 4] {
        let len = prefix.len() + inputs[0].len();
        let mut a = [_mm256_setzero_si256(); 25];
        let mut bufs = [[0u8; RATE]; 4];
        // Every input ends with a padded block (a whole one when the length is a multiple of
        // the rate).
        for b in 0..len / RATE + 1 {
            let [b0, b1, b2, b3] = &mut bufs;
            let blocks = [
                block(prefix, inputs[0], b, len, b0),
                block(prefix, inputs[1], b, len, b1),
                block(prefix, inputs[2], b, len, b2),
                block(prefix, inputs[3], b, len, b3),
            ];
            for (j, lane) in a.iter_mut().take(RATE / 8).enumerate() {
                let v = _mm256_set_epi64x(
                    word(blocks[3], j),
                    word(blocks[2], j),
                    word(blocks[1], j),
                    word(blocks[0], j),
                );
                *lane = _mm256_xor_si256(*lane, v);
            }
            keccak_f(&mut a);
        }
        let mut out = [[0u8; 32]; 4];
        for (j, lane) in a.iter().take(4).enumerate() {
            let mut words = [0u64; 4];
            // SAFETY: `words` is 32 bytes, the size of one unaligned 256-bit store.
            unsafe { _mm256_storeu_si256(words.as_mut_ptr().cast(), *lane) };
            for (digest, w) in out.iter_mut().zip(words) {
                digest[8 * j..8 * j + 8].copy_from_slice(&w.to_le_bytes());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::{sha3_256_chunks, Xof};

    /// Every length around the rate's multiples, with and without a prefix, gives SHA3-256's
    /// digests (on this CPU's path: AVX2 where present).
    #[test]
    fn four_at_a_time_is_sha3_256() {
        for prefix in [&b""[..], b"\x0apouw/chunk", &[7u8; 140][..]] {
            for len in (0..3 * RATE + 2).chain([4096, 262_144 + 5]) {
                let inputs: Vec<Vec<u8>> = (0..4)
                    .map(|i| {
                        let mut v = vec![0u8; len];
                        Xof::new("test", &[i as u8, len as u8]).fill(&mut v);
                        v
                    })
                    .collect();
                let four = [&inputs[0][..], &inputs[1], &inputs[2], &inputs[3]];
                let expected = four.map(|i| sha3_256_parts(&[prefix, i]));
                assert_eq!(sha3_256_x4(prefix, four), expected, "len {len}");
            }
        }
        // Unequal lengths fall back to one at a time.
        let four = [&b"a"[..], b"bc", b"", b"defg"];
        assert_eq!(
            sha3_256_x4(b"p", four),
            four.map(|i| sha3_256_parts(&[b"p", i]))
        );
    }

    #[test]
    fn chunks_are_hashed_in_order() {
        let mut bytes = vec![0u8; 9 * 1000 + 17];
        Xof::new("test", b"chunks").fill(&mut bytes);
        for chunk in [1, 1000, 4000, 10_000] {
            let expected: Vec<Digest> = bytes
                .chunks(chunk)
                .map(|c| sha3_256_parts(&[b"pre", c]))
                .collect();
            assert_eq!(sha3_256_chunks(b"pre", &bytes, chunk), expected, "{chunk}");
        }
        assert!(sha3_256_chunks(b"", &[], 8).is_empty());
    }
}
