//! Where checkpoints live between the miner and the verifier, addressed by CID. Stores are
//! untrusted: [`CheckpointStore::get`] checks that the bytes hash to the CID asked for.

use crate::error::{Error, Result};
use crate::fsutil::{read_bounded, write_atomic};
use crate::ident::{cid_of, verify_cid, Cid, CidProfile};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Content-addressed checkpoint storage: a local directory, memory, an IPFS node
/// (`ipfs::IpfsStore`), or an embedder's own (the C API's callback store).
pub trait CheckpointStore: Send + Sync {
    /// Stores bytes; returns their CID.
    fn put(&self, bytes: &[u8]) -> Result<Cid>;

    /// Raw bytes stored under `cid`, at most `limit` bytes ([`Error::NotFound`] when absent).
    fn get_unchecked(&self, cid: &Cid, limit: u64) -> Result<Vec<u8>>;

    /// The bytes named by `cid`, checked against it: bytes with another CID are
    /// [`Error::BadBlock`] (the store misbehaves or is corrupt).
    fn get(&self, cid: &Cid, limit: u64) -> Result<Vec<u8>> {
        let bytes = self.get_unchecked(cid, limit)?;
        if let Err(e) = verify_cid(cid, &bytes) {
            return Err(Error::BadBlock {
                cid: cid.to_string(),
                detail: format!("{} bytes: {e}", bytes.len()),
            });
        }
        Ok(bytes)
    }

    /// A hint that [`get`](Self::get)s of `cids` (each at most `limit` bytes) follow: a network
    /// store may start fetching them all at once. Best effort (errors surface in the `get`s);
    /// local stores ignore it.
    fn prefetch(&self, cids: &[Cid], limit: u64) {
        let _ = (cids, limit);
    }
}

/// [`CheckpointStore::get`] of an object a proof names: `cid` must also have the form `names`
/// (the proof's protocol version) gives these bytes, so that an object has one name under a
/// version and a proof one encoding ([`Error::InvalidField`] `what` otherwise). The store
/// accepts either version's name of the bytes; this makes it canonical without hashing again.
pub(crate) fn get_named(
    store: &dyn CheckpointStore,
    cid: &Cid,
    limit: u64,
    names: CidProfile,
    what: &'static str,
) -> Result<Vec<u8>> {
    let bytes = store.get(cid, limit)?;
    if !names.has_form(cid, bytes.len() as u64) {
        return Err(Error::InvalidField {
            what,
            detail: format!("{cid} is not named as this protocol version names it"),
        });
    }
    Ok(bytes)
}

/// A directory of files named by CID, written atomically.
#[derive(Clone, Debug)]
pub struct DirStore {
    dir: PathBuf,
}

impl DirStore {
    /// Uses (and creates) `dir`.
    pub fn new(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        Ok(DirStore { dir })
    }

    /// The path a CID is stored at.
    pub fn path_of(&self, cid: &Cid) -> PathBuf {
        self.dir.join(format!("{cid}.safetensors"))
    }
}

impl CheckpointStore for DirStore {
    fn put(&self, bytes: &[u8]) -> Result<Cid> {
        let cid = cid_of(bytes);
        let path = self.path_of(&cid);
        if !path.exists() {
            write_atomic(&path, bytes)?;
        }
        Ok(cid)
    }

    fn get_unchecked(&self, cid: &Cid, limit: u64) -> Result<Vec<u8>> {
        let path = self.path_of(cid);
        if !path.exists() {
            return Err(Error::NotFound {
                cid: cid.to_string(),
            });
        }
        read_bounded(path, limit)
    }
}

/// An in-memory store (tests, and verifiers that receive checkpoints inline).
#[derive(Default, Debug)]
pub struct MemStore {
    map: Mutex<HashMap<Cid, Vec<u8>>>,
}

impl CheckpointStore for MemStore {
    fn put(&self, bytes: &[u8]) -> Result<Cid> {
        let cid = cid_of(bytes);
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(cid, bytes.to_vec());
        Ok(cid)
    }

    fn get_unchecked(&self, cid: &Cid, limit: u64) -> Result<Vec<u8>> {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        let bytes = map.get(cid).ok_or_else(|| Error::NotFound {
            cid: cid.to_string(),
        })?;
        if bytes.len() as u64 > limit {
            return Err(Error::LimitExceeded {
                what: "checkpoint size",
                found: bytes.len() as u64,
                limit,
            });
        }
        Ok(bytes.clone())
    }
}
