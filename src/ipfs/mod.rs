//! Checkpoints and datasets on IPFS, through a node's HTTP RPC API (Kubo's `/api/v0`; js-ipfs
//! serves the same calls).
//!
//! The node is trusted for nothing. [`IpfsStore::put`] adds a file with pouw's CID options and
//! checks that the node names it with the CID computed here; [`IpfsStore::get`] fetches the
//! file block by block (`block/get`), checks every block against its CID, follows only the
//! DAG layout pouw's CIDs use, stops at the caller's size limit, and checks the reassembled file
//! against the CID asked for. Its failures say what the chain should do:
//! - [`Error::NotFound`](crate::Error::NotFound): the node does not have the object (fetch it
//!   elsewhere or later);
//! - [`Error::Timeout`](crate::Error::Timeout): no answer in time (fetch again);
//! - [`Error::BadBlock`](crate::Error::BadBlock): the node sent bytes that are not the block
//!   (ban the peer; fetching again from it does not help);
//! - [`Error::Store`](crate::Error::Store): the node is unreachable or refused the request.
//!
//! [`publish_dataset`] and [`fetch_dataset`] move a whole dataset by its manifest's CID.

mod dataset;
mod rpc;

pub use dataset::{fetch_dataset, fetch_file, publish_dataset, FetchReport};
pub use rpc::IpfsOptions;

use crate::error::Result;
use crate::ident::unixfs::{cid_of_file, read_file, walk_dag, BlockSource};
use crate::ident::{cid_of, Cid};
use crate::learning::BlobStore;
use rpc::Rpc;
use std::path::Path;

/// A [`BlobStore`] (and [`BlockSource`]) over an IPFS node's HTTP RPC API.
#[derive(Debug)]
pub struct IpfsStore {
    rpc: Rpc,
}

impl IpfsStore {
    /// A store over the node whose RPC API is at `endpoint` (e.g. `http://127.0.0.1:5001`),
    /// with [`IpfsOptions::new`]'s defaults.
    pub fn new(endpoint: &str) -> Result<Self> {
        Self::with_options(IpfsOptions::new(endpoint))
    }

    /// A store with the given options; options out of their domain are
    /// [`crate::Error::InvalidParameters`] (see [`IpfsOptions::validate`]).
    pub fn with_options(options: IpfsOptions) -> Result<Self> {
        Ok(IpfsStore {
            rpc: Rpc::new(options)?,
        })
    }

    /// The options in use.
    pub fn options(&self) -> &IpfsOptions {
        &self.rpc.options
    }

    /// Adds the file at `path` (streamed: memory stays flat) and pins it; checks the node's CID
    /// against the one computed here and returns it.
    pub fn add_file(&self, path: &Path) -> Result<Cid> {
        let (expected, len) = cid_of_file(path)?;
        let mut file = std::fs::File::open(path).map_err(|e| crate::Error::io(path, e))?;
        let got = self.rpc.add(&mut file, len)?;
        self.check_named(&expected, &got)?;
        Ok(expected)
    }

    fn check_named(&self, expected: &Cid, got: &Cid) -> Result<()> {
        if got != expected {
            return Err(crate::Error::Store {
                endpoint: self.rpc.options.endpoint.clone(),
                detail: format!(
                    "the node named the file {got}, pouw computes {expected} (is it adding \
                     with --cid-version 1 --raw-leaves --hash sha3-256 --chunker size-262144?)"
                ),
            });
        }
        Ok(())
    }
}

impl BlockSource for IpfsStore {
    fn block(&self, cid: &Cid, limit: usize) -> Result<Vec<u8>> {
        self.rpc.block_get(cid, limit)
    }

    fn parallel_fetches(&self) -> usize {
        self.rpc.options.parallel_fetches
    }
}

impl BlobStore for IpfsStore {
    fn put(&self, bytes: &[u8]) -> Result<Cid> {
        let expected = cid_of(bytes);
        let got = self.rpc.add(&mut &bytes[..], bytes.len() as u64)?;
        self.check_named(&expected, &got)?;
        Ok(expected)
    }

    fn get_unchecked(&self, cid: &Cid, limit: u64) -> Result<Vec<u8>> {
        read_file(self, cid, limit)
    }

    /// [`read_file`] already checked every block and the whole file against `cid`.
    fn get(&self, cid: &Cid, limit: u64) -> Result<Vec<u8>> {
        read_file(self, cid, limit)
    }

    /// Has the node fetch every block of the files (from its peers, where it lacks them) and
    /// keep them, so that the `get`s that follow are local reads and network round trips overlap
    /// instead of adding up. Nothing is sent here but the files' interior nodes (a few KiB a
    /// file, to find the leaves) and one size per leaf (`block/stat`): no leaf crosses the RPC
    /// twice and none is hashed here twice (the `get`s check every block). `parallel_fetches`
    /// requests in flight, the files' leaves in the order given. Best effort: it stops at the
    /// first failure, which the `get`s then report, and starts no request once `stop` is set
    /// (those in flight end within the RPC's deadline).
    fn prefetch(&self, cids: &[Cid], limit: u64, stop: &std::sync::atomic::AtomicBool) {
        use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
        let workers = self.rpc.options.parallel_fetches.max(1);
        let failed = AtomicBool::new(false);
        // Each file's leaves, by walking its interior nodes (files side by side).
        let next = std::sync::atomic::AtomicUsize::new(0);
        let walked: Vec<std::sync::Mutex<Vec<Cid>>> =
            cids.iter().map(|_| Default::default()).collect();
        std::thread::scope(|s| {
            for _ in 0..workers.min(cids.len()) {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, Relaxed);
                    let (Some(cid), Some(out), false) = (
                        cids.get(i),
                        walked.get(i),
                        failed.load(Relaxed) || stop.load(Relaxed),
                    ) else {
                        break;
                    };
                    let mut leaves = Vec::new();
                    let walk = walk_dag(self, cid, limit, &mut |refs| {
                        leaves.extend(refs.iter().map(|l| l.cid));
                        Ok(())
                    });
                    if walk.is_err() {
                        failed.store(true, Relaxed);
                    }
                    *out.lock().unwrap_or_else(|e| e.into_inner()) = leaves;
                });
            }
        });
        let leaves: Vec<Cid> = walked
            .into_iter()
            .flat_map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()))
            .collect();
        let next = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..workers.min(leaves.len()) {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, Relaxed);
                    let (Some(cid), false) =
                        (leaves.get(i), failed.load(Relaxed) || stop.load(Relaxed))
                    else {
                        break;
                    };
                    if self.rpc.block_stat(cid).is_err() {
                        failed.store(true, Relaxed);
                    }
                });
            }
        });
    }
}
