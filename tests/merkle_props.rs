//! Properties of inclusion proofs and multiproofs over trees of every awkward size: powers of two
//! and their neighbours (where the left-full tree promotes nodes) plus random sizes.
//!
//! Proof lengths are checked against an independent model of the RFC 6962 path (the
//! `fn`/`sn` walk of RFC 9162 section 2.1.3.2), multiproof lengths against a set computation.

use pouw::merkle::{
    leaf_hash, prove, prove_many, verify_inclusion, verify_multiproof, MerkleTree, MultiProof,
};
use pouw::{Digest, Error};
use proptest::prelude::*;
use std::collections::BTreeSet;

/// 1, 2, 3 and 2^k - 1, 2^k, 2^k + 1 for k up to 7.
fn boundary_sizes() -> Vec<u64> {
    let mut sizes: BTreeSet<u64> = [1, 2, 3].into_iter().collect();
    for k in 1..=7 {
        let p = 1u64 << k;
        sizes.extend([p - 1, p, p + 1]);
    }
    sizes.into_iter().collect()
}

fn size_strategy() -> impl Strategy<Value = u64> {
    prop_oneof![proptest::sample::select(boundary_sizes()), 1u64..=300]
}

/// Distinct records per tree (the salt keeps trees of different tests apart).
fn record(salt: u64, i: u64) -> Vec<u8> {
    let mut r = salt.to_le_bytes().to_vec();
    r.extend_from_slice(&i.to_le_bytes());
    r
}

fn leaves(n: u64) -> Vec<Digest> {
    (0..n).map(|i| leaf_hash(&record(0, i))).collect()
}

fn tree(n: u64) -> MerkleTree {
    MerkleTree::from_leaves(leaves(n))
}

/// For each hash on the path of leaf `index` in a tree of `size` leaves, whether the sibling is on
/// the left. Levels where the node is promoted (no sibling) hash nothing and add no entry.
fn path_shape(size: u64, index: u64) -> Vec<bool> {
    let (mut fn_, mut sn) = (index, size - 1);
    let mut shape = Vec::new();
    while sn > 0 {
        if fn_ & 1 == 1 {
            shape.push(true);
        } else if fn_ != sn {
            shape.push(false);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    shape
}

/// The number of nodes a multiproof needs: siblings of path nodes that are not path nodes.
fn multiproof_nodes_needed(size: u64, indices: &[u64]) -> usize {
    let mut path = BTreeSet::new();
    let mut siblings = BTreeSet::new();
    let mut width = size;
    let mut level = 0u32;
    while width > 1 {
        for &i in indices {
            let node = i >> level;
            path.insert((level, node));
            if (node ^ 1) < width {
                siblings.insert((level, node ^ 1));
            }
        }
        width = width.div_ceil(2);
        level += 1;
    }
    siblings.difference(&path).count()
}

fn flip(d: &Digest, bit: usize) -> Digest {
    let mut d = *d;
    d[bit / 8] ^= 1 << (bit % 8);
    d
}

/// Checks every inclusion proof of a tree of `n` leaves, and their lengths against the model.
fn check_all_inclusions(n: u64) {
    let t = tree(n);
    let root = t.root();
    for i in 0..n {
        let p = prove(&t, i).unwrap();
        assert_eq!(p.nodes.len(), path_shape(n, i).len(), "size {n} index {i}");
        verify_inclusion(&root, n, i, &t.leaves()[i as usize], &p)
            .unwrap_or_else(|e| panic!("size {n} index {i}: {e}"));
    }
}

/// Flips every bit of every node of the proof of `index`: each flip must give RootMismatch.
fn check_every_bit_flip(t: &MerkleTree, index: u64) {
    let (n, root, leaf) = (t.len(), t.root(), t.leaves()[index as usize]);
    let p = prove(t, index).unwrap();
    for node in 0..p.nodes.len() {
        for bit in 0..256 {
            let mut bad = p.clone();
            bad.nodes[node] = flip(&bad.nodes[node], bit);
            let r = verify_inclusion(&root, n, index, &leaf, &bad);
            assert!(
                matches!(r, Err(Error::RootMismatch)),
                "size {n} index {index} node {node} bit {bit}: {r:?}"
            );
        }
    }
}

#[test]
fn every_inclusion_proof_verifies_at_boundary_sizes() {
    for n in boundary_sizes() {
        check_all_inclusions(n);
    }
}

#[test]
fn root_is_a_leaf_for_size_one_and_proofs_are_empty() {
    let t = tree(1);
    assert_eq!(t.root(), t.leaves()[0]);
    let p = prove(&t, 0).unwrap();
    assert!(p.nodes.is_empty());
    verify_inclusion(&t.root(), 1, 0, &t.leaves()[0], &p).unwrap();
    let other = leaf_hash(b"other");
    assert!(matches!(
        verify_inclusion(&t.root(), 1, 0, &other, &p),
        Err(Error::RootMismatch)
    ));
}

#[test]
fn every_bit_flip_fails_exhaustively_for_small_trees() {
    for n in boundary_sizes().into_iter().filter(|&n| n <= 17) {
        let t = tree(n);
        for i in 0..n {
            check_every_bit_flip(&t, i);
        }
    }
}

#[test]
fn proving_all_leaves_needs_no_nodes() {
    for n in boundary_sizes() {
        let t = tree(n);
        let all: Vec<u64> = (0..n).collect();
        let p = prove_many(&t, &all).unwrap();
        assert!(p.nodes.is_empty(), "size {n}: {} nodes", p.nodes.len());
        verify_multiproof(&t.root(), n, &all, t.leaves(), &p).unwrap();
        // And one node more is refused by length, before any hashing.
        let extra = MultiProof {
            nodes: vec![[0u8; 32]],
        };
        assert!(matches!(
            verify_multiproof(&t.root(), n, &all, t.leaves(), &extra),
            Err(Error::ProofLength {
                found: 1,
                expected: 0
            })
        ));
    }
}

#[test]
fn siblings_share_their_parent_path() {
    // Leaves 2k and 2k+1 together need exactly what their parent needs one level up.
    let t = tree(64);
    for k in 0..32u64 {
        let pair = prove_many(&t, &[2 * k, 2 * k + 1]).unwrap();
        let single = prove(&t, 2 * k).unwrap();
        assert_eq!(pair.nodes.len(), single.nodes.len() - 1);
        assert_eq!(pair.nodes[..], single.nodes[1..]);
    }
}

#[test]
fn empty_or_mismatched_index_lists_are_refused() {
    let t = tree(10);
    let root = t.root();
    let empty = MultiProof::default();
    assert!(matches!(
        verify_multiproof(&root, 10, &[], &[], &empty),
        Err(Error::InvalidField { .. })
    ));
    let p = prove_many(&t, &[1, 2]).unwrap();
    assert!(matches!(
        verify_multiproof(&root, 10, &[1, 2], &t.leaves()[1..2], &p),
        Err(Error::InvalidField { .. })
    ));
}

#[test]
fn prove_many_refuses_bad_indices() {
    let t = tree(10);
    assert!(matches!(
        prove_many(&t, &[3, 3]),
        Err(Error::IndicesNotAscending { position: 1 })
    ));
    assert!(matches!(
        prove_many(&t, &[1, 5, 4]),
        Err(Error::IndicesNotAscending { position: 2 })
    ));
    assert!(matches!(
        prove_many(&t, &[1, 10]),
        Err(Error::IndexOutOfRange {
            index: 10,
            size: 10
        })
    ));
    assert!(matches!(
        prove(&t, 10),
        Err(Error::IndexOutOfRange {
            index: 10,
            size: 10
        })
    ));
}

/// A size and a non-empty set of distinct indices below it.
fn size_and_subset() -> impl Strategy<Value = (u64, Vec<u64>)> {
    size_strategy().prop_flat_map(|n| {
        let max = (n as usize).min(48);
        (
            Just(n),
            proptest::collection::btree_set(0..n, 1..=max)
                .prop_map(|s| s.into_iter().collect::<Vec<_>>()),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn inclusion_proofs_verify(n in size_strategy()) {
        check_all_inclusions(n);
    }

    #[test]
    fn every_bit_flip_of_one_proof_fails(n in size_strategy(), pick in any::<u64>()) {
        let t = tree(n);
        check_every_bit_flip(&t, pick % n);
    }

    #[test]
    fn wrong_leaf_index_size_and_node_count_fail((n, i) in size_strategy().prop_flat_map(|n| (Just(n), 0..n)), pick in any::<u64>()) {
        let t = tree(n);
        let root = t.root();
        let leaf = t.leaves()[i as usize];
        let p = prove(&t, i).unwrap();
        let len = p.nodes.len() as u64;

        // A wrong leaf: another record's leaf, or one that is in no tree.
        let stranger = leaf_hash(b"not a record");
        prop_assert!(matches!(verify_inclusion(&root, n, i, &stranger, &p), Err(Error::RootMismatch)));
        if n > 1 {
            let other = t.leaves()[((i + 1 + pick % (n - 1)) % n) as usize];
            prop_assert!(matches!(verify_inclusion(&root, n, i, &other, &p), Err(Error::RootMismatch)));
        }

        // A wrong index in range: wrong length if the path shape has another length, else the
        // hashes go a different way.
        if n > 1 {
            let j = (i + 1 + pick % (n - 1)) % n;
            let expected = path_shape(n, j).len() as u64;
            let r = verify_inclusion(&root, n, j, &leaf, &p);
            if expected != len {
                prop_assert!(matches!(r, Err(Error::ProofLength { found, expected: e }) if found == len && e == expected), "{:?}", r);
            } else {
                prop_assert!(matches!(r, Err(Error::RootMismatch)), "{:?}", r);
            }
        }
        // An index out of range.
        for j in [n, n + 1 + pick % 1000, u64::MAX] {
            let r = verify_inclusion(&root, n, j, &leaf, &p);
            prop_assert!(matches!(r, Err(Error::IndexOutOfRange { index, size }) if index == j && size == n), "{:?}", r);
        }

        // A wrong size. The proof does not carry the size (the verifier knows it): when the
        // path of `i` hashes the same way under the wrong size, the same nodes rebuild the same
        // root and the proof is accepted. Otherwise the length or the root gives it away.
        for m in [n - 1, n + 1, 2 * n, n + 1 + pick % 300] {
            if m == 0 || m == n {
                continue;
            }
            let r = verify_inclusion(&root, m, i, &leaf, &p);
            if i >= m {
                prop_assert!(matches!(r, Err(Error::IndexOutOfRange { index, size }) if index == i && size == m), "{:?}", r);
            } else if path_shape(m, i).len() as u64 != len {
                prop_assert!(matches!(r, Err(Error::ProofLength { found, expected }) if found == len && expected == path_shape(m, i).len() as u64), "{:?}", r);
            } else if path_shape(m, i) == path_shape(n, i) {
                prop_assert!(r.is_ok(), "same path shape under size {} yet {:?}", m, r);
            } else {
                prop_assert!(matches!(r, Err(Error::RootMismatch)), "{:?}", r);
            }
        }

        // An extra node anywhere, or a missing one.
        for at in [0, len as usize / 2, len as usize] {
            let mut longer = p.clone();
            longer.nodes.insert(at, t.leaves()[0]);
            let r = verify_inclusion(&root, n, i, &leaf, &longer);
            prop_assert!(matches!(r, Err(Error::ProofLength { found, expected }) if found == len + 1 && expected == len), "{:?}", r);
        }
        if len > 0 {
            for at in [0, len as usize - 1] {
                let mut shorter = p.clone();
                shorter.nodes.remove(at);
                let r = verify_inclusion(&root, n, i, &leaf, &shorter);
                prop_assert!(matches!(r, Err(Error::ProofLength { found, expected }) if found == len - 1 && expected == len), "{:?}", r);
            }
            // Reordered nodes (when they differ) fail on the root.
            if len > 1 {
                let mut swapped = p.clone();
                swapped.nodes.swap(0, len as usize - 1);
                prop_assert!(matches!(verify_inclusion(&root, n, i, &leaf, &swapped), Err(Error::RootMismatch)));
            }
        }
    }

    #[test]
    fn multiproofs_verify_and_share_nodes((n, indices) in size_and_subset()) {
        let t = tree(n);
        let root = t.root();
        let ls: Vec<Digest> = indices.iter().map(|&i| t.leaves()[i as usize]).collect();
        let p = prove_many(&t, &indices).unwrap();
        verify_multiproof(&root, n, &indices, &ls, &p).unwrap();

        // Each shared node once, and nothing the verifier computes itself.
        prop_assert_eq!(p.nodes.len(), multiproof_nodes_needed(n, &indices));
        let single_total: usize = indices.iter().map(|&i| prove(&t, i).unwrap().nodes.len()).sum();
        prop_assert!(p.nodes.len() <= single_total);
        let distinct: BTreeSet<Digest> = p.nodes.iter().copied().collect();
        prop_assert_eq!(distinct.len(), p.nodes.len(), "a node is sent twice");
        if indices.len() as u64 == n {
            prop_assert!(p.nodes.is_empty());
        }
        // The multiproof of one index is the inclusion proof.
        if indices.len() == 1 {
            prop_assert_eq!(&p, &prove(&t, indices[0]).unwrap());
        }
    }

    #[test]
    fn tampered_multiproofs_fail((n, indices) in size_and_subset(), pick in any::<u64>()) {
        let t = tree(n);
        let root = t.root();
        let ls: Vec<Digest> = indices.iter().map(|&i| t.leaves()[i as usize]).collect();
        let p = prove_many(&t, &indices).unwrap();
        let len = p.nodes.len() as u64;
        let k = indices.len();

        // A flipped bit in a random node.
        if len > 0 {
            let mut bad = p.clone();
            let node = (pick % len) as usize;
            bad.nodes[node] = flip(&bad.nodes[node], (pick >> 32) as usize % 256);
            prop_assert!(matches!(verify_multiproof(&root, n, &indices, &ls, &bad), Err(Error::RootMismatch)));
        }
        // A wrong leaf.
        let mut wrong = ls.clone();
        wrong[(pick % k as u64) as usize] = leaf_hash(b"forged");
        prop_assert!(matches!(verify_multiproof(&root, n, &indices, &wrong, &p), Err(Error::RootMismatch)));
        // Leaves in the wrong order.
        if k > 1 {
            let mut swapped = ls.clone();
            swapped.swap(0, k - 1);
            prop_assert!(matches!(verify_multiproof(&root, n, &indices, &swapped, &p), Err(Error::RootMismatch)));
        }
        if k > 1 {
            // Two indices swapped, or one repeated.
            let a = (pick % (k as u64 - 1)) as usize;
            let mut sw = indices.clone();
            sw.swap(a, a + 1);
            let r = verify_multiproof(&root, n, &sw, &ls, &p);
            prop_assert!(matches!(r, Err(Error::IndicesNotAscending { position }) if position == a + 1), "{:?}", r);
            let mut dup = indices.clone();
            dup[a + 1] = dup[a];
            let r = verify_multiproof(&root, n, &dup, &ls, &p);
            prop_assert!(matches!(r, Err(Error::IndicesNotAscending { position }) if position == a + 1), "{:?}", r);
        }
        // An index out of range.
        let mut oor = indices.clone();
        *oor.last_mut().unwrap() = n + pick % 7;
        let r = verify_multiproof(&root, n, &oor, &ls, &p);
        prop_assert!(matches!(r, Err(Error::IndexOutOfRange { index, size }) if index == n + pick % 7 && size == n), "{:?}", r);
        // Another valid index set of the same size: wrong length or wrong root.
        if (k as u64) < n {
            let missing: Vec<u64> = (0..n).filter(|i| !indices.contains(i)).collect();
            let mut moved: BTreeSet<u64> = indices.iter().copied().collect();
            moved.remove(&indices[(pick % k as u64) as usize]);
            moved.insert(missing[((pick >> 16) % missing.len() as u64) as usize]);
            let moved: Vec<u64> = moved.into_iter().collect();
            let expected = multiproof_nodes_needed(n, &moved) as u64;
            let r = verify_multiproof(&root, n, &moved, &ls, &p);
            if expected != len {
                prop_assert!(matches!(r, Err(Error::ProofLength { found, expected: e }) if found == len && e == expected), "{:?}", r);
            } else {
                prop_assert!(matches!(r, Err(Error::RootMismatch)), "{:?}", r);
            }
        }
        // An extra node, or a missing one.
        let mut longer = p.clone();
        longer.nodes.push([7u8; 32]);
        let r = verify_multiproof(&root, n, &indices, &ls, &longer);
        prop_assert!(matches!(r, Err(Error::ProofLength { found, expected }) if found == len + 1 && expected == len), "{:?}", r);
        if len > 0 {
            let mut shorter = p.clone();
            shorter.nodes.remove((pick % len) as usize);
            let r = verify_multiproof(&root, n, &indices, &ls, &shorter);
            prop_assert!(matches!(r, Err(Error::ProofLength { found, expected }) if found == len - 1 && expected == len), "{:?}", r);
        }
    }
}
