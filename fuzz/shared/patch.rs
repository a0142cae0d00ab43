//! The input convention of the template targets: first byte even, the rest is the input as it
//! is; odd, a valid encoding (`template`) patched by (u16 offset, xor) triples from the rest, so
//! that the fuzzer reaches the checks behind the magic and the CIDs from the first run.

/// The bytes a target decodes.
pub fn input(data: &[u8], template: &[u8]) -> Vec<u8> {
    match data.split_first() {
        Some((mode, rest)) if mode % 2 == 1 && !template.is_empty() => {
            let mut p = template.to_vec();
            for t in rest.chunks_exact(3) {
                let at = u16::from_le_bytes([t[0], t[1]]) as usize % p.len();
                p[at] ^= t[2];
            }
            p
        }
        Some((_, rest)) => rest.to_vec(),
        None => Vec::new(),
    }
}
