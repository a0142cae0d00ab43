//! Where the objects a proof names live between the miner and the verifier (checkpoints,
//! trajectory companions), addressed by CID. Stores are untrusted: [`BlobStore::get`] checks that
//! the bytes hash to the CID asked for.

use crate::error::{Error, Result};
use crate::fsutil::{read_bounded, write_atomic};
use crate::ident::{cid_of, verify_cid, Cid, CidProfile};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;

/// Content-addressed storage of opaque blobs (checkpoints, trajectory companions): a local
/// directory, memory, an IPFS node (`ipfs::IpfsStore`), or an embedder's own (the C API's
/// callback store).
pub trait BlobStore: Send + Sync {
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
    /// store may start fetching them all at once, and stops starting new fetches once `stop` is
    /// set (the caller no longer needs them: a verification that has failed). Best effort
    /// (errors surface in the `get`s); local stores ignore it.
    fn prefetch(&self, cids: &[Cid], limit: u64, stop: &AtomicBool) {
        let _ = (cids, limit, stop);
    }
}

/// [`BlobStore::get`] of an object a proof names: `cid` must also have the form `names`
/// (the proof's protocol version) gives these bytes, so that an object has one name under a
/// version and a proof one encoding ([`Error::InvalidField`] `what` otherwise). The store
/// accepts either version's name of the bytes; this makes it canonical without hashing again.
pub(crate) fn get_named(
    store: &dyn BlobStore,
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

/// A directory of files named by their CID (no extension: a blob is a checkpoint or a trajectory
/// companion), written atomically. Files an earlier version named `<cid>.safetensors` are still
/// read.
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
        self.dir.join(cid.to_string())
    }

    /// Where an earlier version stored `cid` (every file named `<cid>.safetensors`).
    fn legacy_path_of(&self, cid: &Cid) -> PathBuf {
        self.dir.join(format!("{cid}.safetensors"))
    }
}

impl BlobStore for DirStore {
    fn put(&self, bytes: &[u8]) -> Result<Cid> {
        let cid = cid_of(bytes);
        let path = self.path_of(&cid);
        if !path.exists() {
            write_atomic(&path, bytes)?;
        }
        Ok(cid)
    }

    fn get_unchecked(&self, cid: &Cid, limit: u64) -> Result<Vec<u8>> {
        let path = [self.path_of(cid), self.legacy_path_of(cid)]
            .into_iter()
            .find(|p| p.exists())
            .ok_or_else(|| Error::NotFound {
                cid: cid.to_string(),
            })?;
        read_bounded(path, limit)
    }
}

/// An in-memory store (tests, and verifiers that receive checkpoints inline).
#[derive(Default, Debug)]
pub struct MemStore {
    map: Mutex<HashMap<Cid, Vec<u8>>>,
}

impl BlobStore for MemStore {
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

#[cfg(test)]
mod tests {
    use super::{BlobStore, DirStore};
    use crate::error::Error;
    use crate::ident::cid_of;

    #[test]
    fn a_dir_store_names_files_by_cid_and_reads_the_older_names() {
        let dir = tempfile::tempdir().unwrap();
        let store = DirStore::new(dir.path()).unwrap();
        let cid = store.put(b"a blob").unwrap();
        assert_eq!(cid, cid_of(b"a blob"));
        assert!(dir.path().join(cid.to_string()).is_file());
        assert_eq!(store.get(&cid, 64).unwrap(), b"a blob");
        // A file an earlier version wrote.
        let older = cid_of(b"an older blob");
        std::fs::write(
            dir.path().join(format!("{older}.safetensors")),
            b"an older blob",
        )
        .unwrap();
        assert_eq!(store.get(&older, 64).unwrap(), b"an older blob");
        let absent = cid_of(b"absent");
        assert!(matches!(
            store.get(&absent, 64),
            Err(Error::NotFound { .. })
        ));
    }
}
