//! Consistency proofs between every pair of tree sizes up to 64, and their failures.

use pouw::merkle::{consistency_proof, leaf_hash, prefix_root, verify_consistency, MerkleTree};
use pouw::{Digest, Error};

const MAX: u64 = 64;

fn leaves(n: u64) -> Vec<Digest> {
    (0..n)
        .map(|i| leaf_hash(format!("record {i}").as_bytes()))
        .collect()
}

/// Trees of every size 1..=MAX over the same leaf sequence (index 0 unused).
fn trees() -> Vec<MerkleTree> {
    let all = leaves(MAX);
    (0..=MAX)
        .map(|n| MerkleTree::from_leaves(all[..n as usize].to_vec()))
        .collect()
}

fn flip(d: &Digest, bit: usize) -> Digest {
    let mut d = *d;
    d[bit / 8] ^= 1 << (bit % 8);
    d
}

fn is_mismatch(r: &pouw::Result<()>, old: u64, new: u64) -> bool {
    matches!(r, Err(Error::ConsistencyMismatch { old_size, new_size }) if *old_size == old && *new_size == new)
}

#[test]
fn prefix_roots_are_the_roots_of_smaller_trees() {
    let ts = trees();
    for n in 1..=MAX {
        for m in 1..=n {
            assert_eq!(
                prefix_root(&ts[n as usize], m).unwrap(),
                ts[m as usize].root(),
                "prefix {m} of {n}"
            );
        }
    }
}

#[test]
fn every_pair_of_sizes_is_consistent() {
    let ts = trees();
    for n in 1..=MAX {
        let new = &ts[n as usize];
        for m in 1..=n {
            let proof = consistency_proof(new, m).unwrap();
            if m == n {
                assert!(proof.is_empty());
            }
            // The proof is O(log n): at most one node per level plus one.
            assert!(
                proof.len() <= 2 * (64 - n.leading_zeros()) as usize,
                "{m}->{n}: {} nodes",
                proof.len()
            );
            let old_root = prefix_root(new, m).unwrap();
            verify_consistency(m, &old_root, n, &new.root(), &proof)
                .unwrap_or_else(|e| panic!("{m} -> {n}: {e}"));
        }
    }
}

#[test]
fn bad_sizes_are_refused_by_the_prover_and_the_verifier() {
    let ts = trees();
    let t = &ts[10];
    assert!(is_mismatch(&consistency_proof(t, 0).map(|_| ()), 0, 10));
    assert!(is_mismatch(&consistency_proof(t, 11).map(|_| ()), 11, 10));
    let root = t.root();
    assert!(is_mismatch(
        &verify_consistency(0, &root, 10, &root, &[]),
        0,
        10
    ));
    assert!(is_mismatch(
        &verify_consistency(11, &root, 10, &root, &[]),
        11,
        10
    ));
    // Equal sizes: only the empty proof of equal roots.
    verify_consistency(10, &root, 10, &root, &[]).unwrap();
    assert!(is_mismatch(
        &verify_consistency(10, &root, 10, &ts[9].root(), &[]),
        10,
        10
    ));
    assert!(is_mismatch(
        &verify_consistency(10, &root, 10, &root, &[root]),
        10,
        10
    ));
    // An absurdly long proof is refused before any hashing.
    let long = vec![root; 200];
    assert!(is_mismatch(
        &verify_consistency(3, &ts[3].root(), 10, &root, &long),
        3,
        10
    ));
}

#[test]
fn wrong_roots_swapped_sizes_and_wrong_lengths_fail() {
    let ts = trees();
    for n in 2..=MAX {
        let new_root = ts[n as usize].root();
        for m in 1..n {
            let old_root = ts[m as usize].root();
            let proof = consistency_proof(&ts[n as usize], m).unwrap();
            // Wrong old root: a neighbouring size's root, and a flipped bit.
            let other_old = ts[(m % (n - 1)) as usize + 1].root();
            if other_old != old_root {
                assert!(
                    is_mismatch(
                        &verify_consistency(m, &other_old, n, &new_root, &proof),
                        m,
                        n
                    ),
                    "{m}->{n}"
                );
            }
            assert!(
                is_mismatch(
                    &verify_consistency(m, &flip(&old_root, 0), n, &new_root, &proof),
                    m,
                    n
                ),
                "{m}->{n}"
            );
            // Wrong new root: the next size's root (a tree that does extend the old one), and a
            // flipped bit.
            if n < MAX {
                let r = verify_consistency(m, &old_root, n, &ts[n as usize + 1].root(), &proof);
                assert!(is_mismatch(&r, m, n), "{m}->{n}");
            }
            assert!(
                is_mismatch(
                    &verify_consistency(m, &old_root, n, &flip(&new_root, 255), &proof),
                    m,
                    n
                ),
                "{m}->{n}"
            );
            // Roots exchanged, and sizes swapped (with the roots or without them).
            assert!(
                is_mismatch(
                    &verify_consistency(m, &new_root, n, &old_root, &proof),
                    m,
                    n
                ),
                "{m}->{n}"
            );
            assert!(
                is_mismatch(
                    &verify_consistency(n, &new_root, m, &old_root, &proof),
                    n,
                    m
                ),
                "{m}->{n}"
            );
            assert!(
                is_mismatch(
                    &verify_consistency(n, &old_root, m, &new_root, &proof),
                    n,
                    m
                ),
                "{m}->{n}"
            );
            // A node more or less.
            let mut longer = proof.clone();
            longer.push(new_root);
            assert!(
                is_mismatch(
                    &verify_consistency(m, &old_root, n, &new_root, &longer),
                    m,
                    n
                ),
                "{m}->{n}"
            );
            let mut earlier = proof.clone();
            earlier.insert(0, old_root);
            if !(m.is_power_of_two()) {
                assert!(
                    is_mismatch(
                        &verify_consistency(m, &old_root, n, &new_root, &earlier),
                        m,
                        n
                    ),
                    "{m}->{n}"
                );
            }
            if !proof.is_empty() {
                for at in [0, proof.len() - 1] {
                    let mut shorter = proof.clone();
                    shorter.remove(at);
                    assert!(
                        is_mismatch(
                            &verify_consistency(m, &old_root, n, &new_root, &shorter),
                            m,
                            n
                        ),
                        "{m}->{n}"
                    );
                }
            }
        }
    }
}

#[test]
fn the_proof_for_one_old_size_does_not_prove_another() {
    let ts = trees();
    for n in 2..=32u64 {
        let new = &ts[n as usize];
        for m in 1..n {
            let proof = consistency_proof(new, m).unwrap();
            for other in 1..n {
                if other == m {
                    continue;
                }
                let r =
                    verify_consistency(other, &ts[other as usize].root(), n, &new.root(), &proof);
                assert!(
                    is_mismatch(&r, other, n),
                    "proof {m}->{n} accepted as {other}->{n}"
                );
            }
        }
    }
}

#[test]
fn a_bigger_tree_cannot_claim_the_old_root() {
    // The new root given as the old one, with the proof cut short (down to empty): the path
    // consumed fewer levels than the new size has, which the verifier must notice.
    let ts = trees();
    for n in 2..=MAX {
        for m in 1..n {
            let old_root = ts[m as usize].root();
            let proof = consistency_proof(&ts[n as usize], m).unwrap();
            for len in 0..proof.len() {
                let r = verify_consistency(m, &old_root, n, &old_root, &proof[..len]);
                assert!(is_mismatch(&r, m, n), "{m}->{n} with {len} nodes");
            }
        }
    }
}

#[test]
fn every_bit_flip_fails_exhaustively_up_to_size_16() {
    let ts = trees();
    for n in 2..=16u64 {
        let new_root = ts[n as usize].root();
        for m in 1..n {
            let old_root = ts[m as usize].root();
            let proof = consistency_proof(&ts[n as usize], m).unwrap();
            assert!(!proof.is_empty());
            for node in 0..proof.len() {
                for bit in 0..256 {
                    let mut bad = proof.clone();
                    bad[node] = flip(&bad[node], bit);
                    let r = verify_consistency(m, &old_root, n, &new_root, &bad);
                    assert!(is_mismatch(&r, m, n), "{m}->{n} node {node} bit {bit}");
                }
            }
        }
    }
}

#[test]
fn a_tree_that_rewrites_history_is_not_consistent() {
    // Change one leaf inside the old prefix: the new tree does not extend the old one.
    let ts = trees();
    for n in 2..=MAX {
        for m in 1..n {
            let mut forged = leaves(n);
            forged[(m - 1) as usize] = leaf_hash(b"rewritten");
            let forged = MerkleTree::from_leaves(forged);
            let proof = consistency_proof(&forged, m).unwrap();
            let r = verify_consistency(m, &ts[m as usize].root(), n, &forged.root(), &proof);
            assert!(is_mismatch(&r, m, n), "{m}->{n}");
        }
    }
}
