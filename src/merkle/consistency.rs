//! Consistency proofs (RFC 9162 section 2.1.4): the tree of `old_size` leaves is a prefix of the
//! tree of `new_size` leaves.

use super::{range_node, Nodes};
use crate::error::{Error, Result};
use crate::hash::Digest;

/// The nodes proving that the first `old_size` leaves of `src` form a prefix of all of them
/// (`0 < old_size <= src.size()`; empty when the sizes are equal).
pub fn consistency_proof(src: &impl Nodes, old_size: u64) -> Result<Vec<Digest>> {
    let new_size = src.size();
    if old_size == 0 || old_size > new_size {
        return Err(Error::ConsistencyMismatch { old_size, new_size });
    }
    let mut out = Vec::new();
    subproof(src, old_size, 0, new_size, true, &mut out)?;
    Ok(out)
}

/// RFC 9162 `SUBPROOF(m, D[start:start+n], b)`.
fn subproof(
    src: &impl Nodes,
    m: u64,
    start: u64,
    n: u64,
    b: bool,
    out: &mut Vec<Digest>,
) -> Result<()> {
    if m == n {
        if !b {
            out.push(range_node(src, start, n)?);
        }
        return Ok(());
    }
    let k = 1u64 << (u64::BITS - 1 - (n - 1).leading_zeros());
    if m <= k {
        subproof(src, m, start, k, b, out)?;
        out.push(range_node(src, start + k, n - k)?);
    } else {
        subproof(src, m - k, start + k, n - k, false, out)?;
        out.push(range_node(src, start, k)?);
    }
    Ok(())
}

/// Verifies a consistency proof between the tree of `old_size` leaves with root `old_root` and
/// the tree of `new_size` leaves with root `new_root` (RFC 9162 section 2.1.4.2).
pub fn verify_consistency(
    old_size: u64,
    old_root: &Digest,
    new_size: u64,
    new_root: &Digest,
    proof: &[Digest],
) -> Result<()> {
    let fail = || Error::ConsistencyMismatch { old_size, new_size };
    if old_size == 0 || old_size > new_size || proof.len() > 2 * 64 {
        return Err(fail());
    }
    if old_size == new_size {
        return if proof.is_empty() && old_root == new_root {
            Ok(())
        } else {
            Err(fail())
        };
    }
    let mut path: Vec<&Digest> = Vec::with_capacity(proof.len() + 1);
    if old_size.is_power_of_two() {
        path.push(old_root);
    }
    path.extend(proof.iter());
    let (mut fn_, mut sn) = (old_size - 1, new_size - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let mut iter = path.into_iter();
    let first = iter.next().ok_or_else(fail)?;
    let (mut fr, mut sr) = (*first, *first);
    for c in iter {
        if sn == 0 {
            return Err(fail());
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = super::node_hash(c, &fr);
            sr = super::node_hash(c, &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = super::node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if fr == *old_root && sr == *new_root && sn == 0 {
        Ok(())
    } else {
        Err(fail())
    }
}
