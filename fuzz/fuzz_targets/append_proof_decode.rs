//! Decodes arbitrary bytes (or a valid append proof with fuzzer-chosen byte flips, see
//! `patch.rs`) as an append proof: decoding and verifying never panic, whatever decodes
//! re-encodes to the same bytes, verification is deterministic and the honest proof verifies.
#![no_main]

use pouw_fuzz::patch;

use libfuzzer_sys::fuzz_target;
use pouw::growth::AppendProof;
use pouw::merkle::{consistency_proof, leaf_hash, MerkleTree};
use std::sync::OnceLock;

fn honest() -> &'static AppendProof {
    static P: OnceLock<AppendProof> = OnceLock::new();
    P.get_or_init(|| {
        let leaves: Vec<_> = (0u32..23).map(|i| leaf_hash(&i.to_le_bytes())).collect();
        let old = MerkleTree::from_leaves(leaves[..13].to_vec());
        let new = MerkleTree::from_leaves(leaves);
        let nodes = consistency_proof(&new, old.len()).expect("proof");
        let proof = AppendProof {
            old_size: old.len(),
            old_root: old.root(),
            new_size: new.len(),
            new_root: new.root(),
            nodes,
        };
        proof.verify().expect("honest proof verifies");
        proof
    })
}

fuzz_target!(|data: &[u8]| {
    let honest = honest();
    let bytes = patch::input(data, &honest.to_bytes());
    if let Ok(proof) = AppendProof::from_bytes(&bytes) {
        assert_eq!(
            proof.to_bytes(),
            bytes,
            "a decoded append proof re-encodes differently"
        );
        let verified = proof.verify().is_ok();
        assert_eq!(
            proof.verify().is_ok(),
            verified,
            "verification is not deterministic"
        );
        if proof == *honest {
            assert!(verified, "honest proof rejected");
        }
    }
});
