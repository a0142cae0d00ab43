//! # pouw: proof of useful work
//!
//! A consensus work function whose work is useful: miners train a shared GAN (proof of learning)
//! on a dataset they must hold on their own disks (proof of capacity), and verifiers check the
//! training cheaply by re-executing a few sampled steps against Merkle-committed checkpoints.
//!
//! Modules:
//! - [`hash`]: domain-separated SHA3-256 and the SHAKE256 stream for indices and noise;
//! - [`ident`]: CIDs as IPFS names files (UnixFS, raw leaves, sha3-256), streamed;
//! - `ipfs` (feature `ipfs`): checkpoints and datasets on an IPFS node, nothing trusted;
//! - [`merkle`]: the RFC 6962-shaped Merkle tree, multiproofs and consistency proofs;
//! - [`dataset`]: datasets on disk (manifest, records, persisted tree) and importers;
//! - [`capacity`]: capacity challenges, responses and their verifier;
//! - [`growth`]: growing datasets: requests, submission checks, crash-safe appends with
//!   consistency proofs, submitter reputation;
//! - [`codec`]: the canonical, bounded binary encoding of everything untrusted;
//! - [`learning`]: the [`learning::ProofOfLearning`] seam, step seeds, checkpoint digests,
//!   trajectories, openings and the step verifier, and the libtorch GAN ([`learning::gan`]);
//! - [`work`]: the work function chains embed: [`work::mine`], [`work::verify`], a node's local
//!   segment check [`work::audit_segment`], audits and fraud proofs bound to the block identity,
//!   difficulty, consensus parameters and the block proof format.
//!
//! ## Cargo features
//! - `torch` (default): the libtorch GAN trainer. Without it the crate needs no libtorch.
//! - `ipfs` (default): `ipfs::IpfsStore` and datasets by CID over a node's HTTP RPC API.
//! - `cuda`: the CUDA test paths (implies `torch`).
//! - `large-benches`: benches at full size (1 GiB tree build).
//!
//! Untrusted bytes (proofs, checkpoint and dataset files) never panic the library: every
//! rejection is an [`Error`] variant.

#![deny(missing_docs)]
// Library code returns errors; `unwrap`/`expect` are for tests (clippy.toml allows them there).
// The few places where one is provably unreachable say why with a local `allow`.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod capacity;
pub mod codec;
pub mod dataset;
mod error;
mod fsutil;
pub mod growth;
pub mod hash;
pub mod ident;
#[cfg(feature = "ipfs")]
pub mod ipfs;
pub mod learning;
pub mod merkle;
mod version;
pub mod work;

pub use capacity::{CapacityChallenge, CapacityResponse};
pub use dataset::{Dataset, Manifest};
pub use error::{Error, Result};
pub use fsutil::write_atomic;
pub use hash::Digest;
pub use version::{CRATE_VERSION, PROTOCOL_VERSION};

/// The README's Rust snippets, compiled as doctests.
#[cfg(all(doctest, feature = "torch"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
