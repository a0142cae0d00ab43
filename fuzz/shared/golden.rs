//! The golden block of `tests/golden/` (a tiny GAN on the UCI digits): its parameters, proof and
//! the limits its decoder takes. Seeds built from the golden files decode under these.

use pouw::learning::gan::{CheckpointFormat, GanSpec};
use pouw::work::{BlockProof, ConsensusParams, ProofLimits};
use std::sync::OnceLock;

/// The golden parameters' bytes.
pub const PARAMS: &[u8] = include_bytes!("../../tests/golden/params.bin");
/// The golden genesis checkpoint's CID, as text.
#[allow(dead_code)]
pub const GENESIS: &[u8] = include_bytes!("../../tests/golden/genesis.cid");
/// The golden proof's bytes.
pub const PROOF: &[u8] = include_bytes!("../../tests/golden/proof.bin");

/// The golden parameters.
pub fn params() -> &'static ConsensusParams<GanSpec> {
    static P: OnceLock<ConsensusParams<GanSpec>> = OnceLock::new();
    P.get_or_init(|| ConsensusParams::from_bytes(PARAMS).expect("golden parameters decode"))
}

/// The limits a verifier of the golden parameters decodes proofs under.
#[allow(dead_code)]
pub fn limits() -> &'static ProofLimits {
    static L: OnceLock<ProofLimits> = OnceLock::new();
    L.get_or_init(|| ProofLimits::of(params()))
}

/// The golden proof, decoded.
#[allow(dead_code)]
pub fn proof() -> &'static BlockProof {
    static B: OnceLock<BlockProof> = OnceLock::new();
    B.get_or_init(|| BlockProof::from_bytes(PROOF, limits()).expect("golden proof decodes"))
}

/// The golden spec's checkpoint encoding.
#[allow(dead_code)]
pub fn checkpoint_format() -> &'static CheckpointFormat {
    static F: OnceLock<CheckpointFormat> = OnceLock::new();
    F.get_or_init(|| {
        params()
            .spec
            .checkpoint_format()
            .expect("golden spec has a format")
    })
}
