//! Crash-safe appends: a dataset that grows by whole generations behind an atomic pointer,
//! and the consistency proof of each append.
//!
//! ## Layout
//! A growing dataset lives in a home directory:
//! - `CURRENT`: the pointer, naming the current generation and its manifest CID
//!   (magic `PWGC`, format version `u32`, generation name, manifest CID, both length-prefixed);
//! - `g<count>-<root prefix>/`: one complete dataset directory per generation
//!   (`manifest.bin`, `records.bin`, `tree.bin`, exactly as [`Dataset::open`] reads them);
//! - `.staging-*`: a generation being written (garbage after a crash; [`GrowingDataset::prune`]);
//! - `LOCK`: an empty file the one writer holds an exclusive `flock` on.
//!
//! ## Append protocol
//! 1. Write the new generation into a fresh staging directory: the old records file copied and
//!    the new records after it, the old tree extended with the new leaves ([`MerkleTree::push`]),
//!    the new manifest last; every file fsynced. The old generation is only ever read.
//! 2. Rename the staging directory to its generation name and fsync the home directory.
//! 3. Replace `CURRENT` atomically (temporary file, fsync, rename, fsync the directory): the
//!    commit point. Then remove the older generations.
//!
//! A crash anywhere before the rename of step 3 leaves `CURRENT` naming the old generation,
//! whose files were never opened for writing: the old dataset opens and scrubs as before, and
//! the leftovers are inert until pruned. After it, the new generation is complete (it was
//! fsynced before the pointer moved).
//!
//! ## One writer
//! A [`GrowingDataset`] is the writer: creating or opening one takes an exclusive advisory lock
//! (`flock`) on `LOCK`, held until it is dropped, so a second writer, in this process or another,
//! gets [`Error::Locked`] instead of racing the pointer. The kernel releases the lock when the
//! process dies, so a crash never leaves the dataset locked. Readers take no lock:
//! [`GrowingDataset::read_current`] opens the current generation, which a writer never changes
//! (an append makes a new one; a reader of an old generation keeps its open files after a prune
//! removes their names).
//!
//! The copy makes an append O(dataset size) in I/O (the tree is extended in O(log n) per record
//! and never rehashed); it is what keeps the old generation untouched.

use crate::codec::{Decoder, Encoder};
use crate::dataset::{Dataset, Manifest, MANIFEST_FILE, RECORDS_FILE, TREE_FILE};
use crate::error::{Error, Result};
use crate::fsutil::{read_bounded, sync_parent, write_atomic, AtomicFile};
use crate::hash::Digest;
use crate::ident::unixfs::cid_of_reader;
use crate::ident::{cid_from_bytes, Cid};
use crate::merkle::{consistency_proof, leaf_hash, verify_consistency, MerkleTree, TreeFile};
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The lock file of a growing dataset's home directory (see the module docs).
pub const LOCK_FILE: &str = "LOCK";

/// The pointer file of a growing dataset's home directory.
pub const CURRENT_FILE: &str = "CURRENT";
const POINTER_MAGIC: &[u8; 4] = b"PWGC";
const POINTER_VERSION: u32 = 1;
const MAX_POINTER_BYTES: u64 = 256;
const STAGING_PREFIX: &str = ".staging-";

const PROOF_MAGIC: &[u8; 4] = b"PWAP";
const PROOF_VERSION: u32 = 1;
/// The most nodes a consistency proof between trees of under 2^64 leaves can hold.
const MAX_PROOF_NODES: u64 = 128;

/// The steps of an append, in order, at which [`GrowingDataset::append_with`] can stop as if
/// the process had crashed there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppendStep {
    /// The staging directory exists.
    Staged,
    /// The old records are copied into the staging directory (the new ones not yet written).
    RecordsCopied,
    /// The new records are written and fsynced.
    RecordsWritten,
    /// The extended tree is written.
    TreeWritten,
    /// The new manifest is written: the staging directory holds a complete dataset.
    ManifestWritten,
    /// The staging directory is renamed to its generation name.
    GenerationRenamed,
    /// The new pointer is written to its temporary file, not yet renamed over `CURRENT`.
    PointerStaged,
    /// `CURRENT` names the new generation (committed); older generations not yet removed.
    Committed,
}

/// The proof that an append only added records: the sizes and roots before and after, and the
/// RFC 9162 consistency proof between them. Untrusted bytes when received; anyone holding the
/// two roots (or the two manifests) verifies it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppendProof {
    /// Records before.
    pub old_size: u64,
    /// Root before.
    pub old_root: Digest,
    /// Records after.
    pub new_size: u64,
    /// Root after.
    pub new_root: Digest,
    /// The consistency proof nodes.
    pub nodes: Vec<Digest>,
}

impl AppendProof {
    /// Checks that the tree of `old_size` leaves with `old_root` is a prefix of the tree of
    /// `new_size` leaves with `new_root`.
    pub fn verify(&self) -> Result<()> {
        if self.new_size <= self.old_size {
            return Err(Error::ConsistencyMismatch {
                old_size: self.old_size,
                new_size: self.new_size,
            });
        }
        verify_consistency(
            self.old_size,
            &self.old_root,
            self.new_size,
            &self.new_root,
            &self.nodes,
        )
    }

    /// Checks the proof against two manifests: the same record layout, provenance and licence,
    /// the manifests' counts and roots, and [`AppendProof::verify`].
    pub fn verify_manifests(&self, old: &Manifest, new: &Manifest) -> Result<()> {
        let same = old.shape == new.shape
            && old.dtype == new.dtype
            && old.value_max == new.value_max
            && old.record_size == new.record_size
            && old.source == new.source
            && old.licence == new.licence;
        if !same {
            return Err(Error::InvalidField {
                what: "appended manifest",
                detail: "record layout or provenance changed".into(),
            });
        }
        if old.count != self.old_size
            || old.root != self.old_root
            || new.count != self.new_size
            || new.root != self.new_root
        {
            return Err(Error::ConsistencyMismatch {
                old_size: old.count,
                new_size: new.count,
            });
        }
        self.verify()
    }

    /// The canonical encoding: magic `PWAP`, format version `u32`, old size `u64`, old root,
    /// new size `u64`, new root, node count `u32`, nodes (32 bytes each).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        e.raw(PROOF_MAGIC)
            .u32(PROOF_VERSION)
            .u64(self.old_size)
            .digest(&self.old_root);
        e.u64(self.new_size)
            .digest(&self.new_root)
            .len(self.nodes.len());
        for n in &self.nodes {
            e.digest(n);
        }
        e.finish()
    }

    /// Decodes a proof from untrusted bytes (at most 128 nodes; not verified).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut d = Decoder::new(bytes);
        d.magic(PROOF_MAGIC, "append proof")?;
        let version = d.u32("append proof version")?;
        if version != PROOF_VERSION {
            return Err(Error::UnsupportedVersion {
                what: "append proof",
                found: version,
                supported: PROOF_VERSION,
            });
        }
        let old_size = d.u64("old size")?;
        let old_root = d.digest("old root")?;
        let new_size = d.u64("new size")?;
        let new_root = d.digest("new root")?;
        let n = d.count("proof nodes", MAX_PROOF_NODES, 32)?;
        let nodes = (0..n)
            .map(|_| d.digest("proof node"))
            .collect::<Result<Vec<_>>>()?;
        d.finish()?;
        Ok(AppendProof {
            old_size,
            old_root,
            new_size,
            new_root,
            nodes,
        })
    }
}

/// The content of a growing dataset's `CURRENT` file: the current generation's directory name
/// and its manifest CID. Read from disk, so untrusted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenerationPointer {
    /// The generation's directory name in the home directory (`g<count, 16 digits>-<16 hex
    /// digits>`: never a path that leaves the home directory).
    pub generation: String,
    /// CID of the generation's manifest.
    pub manifest: Cid,
}

impl GenerationPointer {
    /// The encoding: magic `PWGC`, format version `u32`, generation name and manifest CID (both
    /// length-prefixed).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        e.raw(POINTER_MAGIC)
            .u32(POINTER_VERSION)
            .str(&self.generation)
            .bytes(&self.manifest.to_bytes());
        e.finish()
    }

    /// Decodes and validates a pointer from untrusted bytes (the generation must be a
    /// generation name).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut d = Decoder::new(bytes);
        d.magic(POINTER_MAGIC, "growing dataset pointer")?;
        let version = d.u32("pointer version")?;
        if version != POINTER_VERSION {
            return Err(Error::UnsupportedVersion {
                what: "growing dataset pointer",
                found: version,
                supported: POINTER_VERSION,
            });
        }
        let generation = d.str("generation", 64)?.to_owned();
        let manifest = cid_from_bytes(d.bytes("manifest cid", 64)?)?;
        d.finish()?;
        if !is_generation_name(&generation) {
            return Err(Error::InvalidField {
                what: "generation",
                detail: format!("{generation:?} is not a generation name"),
            });
        }
        Ok(GenerationPointer {
            generation,
            manifest,
        })
    }
}

/// A dataset that grows by appends, crash-safely (see the module docs for the protocol).
#[derive(Debug)]
pub struct GrowingDataset {
    home: PathBuf,
    generation: String,
    current: Dataset,
    /// The open `LOCK` file, locked exclusively; closing it releases the lock.
    _lock: File,
}

impl GrowingDataset {
    /// Makes `home` (created if missing; it must not hold a growing dataset yet) a growing
    /// dataset whose first generation is a copy of the dataset in `source`, and holds its
    /// writer's lock ([`Error::Locked`] if another writer holds it).
    pub fn create(home: impl AsRef<Path>, source: impl AsRef<Path>) -> Result<Self> {
        let home = home.as_ref().to_path_buf();
        let src = Dataset::open(source.as_ref())?;
        fs::create_dir_all(&home).map_err(|e| Error::io(&home, e))?;
        let lock = lock_home(&home)?;
        if home.join(CURRENT_FILE).exists() {
            return Err(Error::InvalidParameters(format!(
                "{} already holds a growing dataset",
                home.display()
            )));
        }
        let staging = new_staging(&home)?;
        for name in [MANIFEST_FILE, RECORDS_FILE, TREE_FILE] {
            let (from, to) = (src.dir().join(name), staging.join(name));
            fs::copy(&from, &to).map_err(|e| Error::io(&from, e))?;
            sync_file(&to)?;
        }
        sync_dir(&staging)?;
        let copy = Dataset::open(&staging)?;
        if copy.cid() != src.cid() {
            return Err(Error::DatasetMismatch {
                path: staging,
                detail: "copy differs from its source".into(),
            });
        }
        let generation = generation_name(copy.len(), &copy.root());
        let dir = home.join(&generation);
        drop(copy);
        rename_dir(&staging, &dir)?;
        write_pointer(&home, &generation, &src.cid(), &mut |_| Ok(()))?;
        Self::open_locked(home, lock)
    }

    /// Opens the growing dataset in `home` as its writer: takes the writer's lock
    /// ([`Error::Locked`] if another writer holds it) and opens the current generation
    /// (leftovers of an interrupted append are ignored), checking it is the one the pointer
    /// names.
    pub fn open(home: impl AsRef<Path>) -> Result<Self> {
        let home = home.as_ref().to_path_buf();
        let lock = lock_home(&home)?;
        Self::open_locked(home, lock)
    }

    fn open_locked(home: PathBuf, lock: File) -> Result<Self> {
        let (generation, current) = open_current(&home)?;
        Ok(GrowingDataset {
            home,
            generation,
            current,
            _lock: lock,
        })
    }

    /// Opens the current generation of the growing dataset in `home` for reading, without the
    /// writer's lock (a writer may be appending meanwhile: what is opened stays as it was).
    pub fn read_current(home: impl AsRef<Path>) -> Result<Dataset> {
        Ok(open_current(home.as_ref())?.1)
    }

    /// The current generation.
    pub fn current(&self) -> &Dataset {
        &self.current
    }

    /// The home directory.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// The current generation's directory name.
    pub fn generation(&self) -> &str {
        &self.generation
    }

    /// Appends `records` (each of the record size, no element above the manifest's
    /// `value_max`) as a new generation, and returns the consistency proof from the old root to
    /// the new one. Nothing here checks duplicates or plausibility: append what the submission
    /// check accepted.
    pub fn append(&mut self, records: &[&[u8]]) -> Result<AppendProof> {
        self.append_with(records, &mut |_| Ok(()))
    }

    /// [`GrowingDataset::append`] calling `fault` after each [`AppendStep`]: when it returns an
    /// error the append stops there and returns it, leaving every file as a crash at that point
    /// would (no cleanup), so tests can check what survives. Past [`AppendStep::Committed`] the
    /// new generation is current even when an error is returned.
    pub fn append_with(
        &mut self,
        records: &[&[u8]],
        fault: &mut dyn FnMut(AppendStep) -> Result<()>,
    ) -> Result<AppendProof> {
        let old = self.current.manifest().clone();
        if records.is_empty() {
            return Err(Error::InvalidParameters("no records to append".into()));
        }
        for r in records {
            if r.len() as u64 != old.record_size {
                return Err(Error::RecordSize {
                    found: r.len() as u64,
                    expected: old.record_size,
                });
            }
            if let Some(v) = r.iter().find(|&&v| u32::from(v) > old.value_max) {
                return Err(Error::InvalidField {
                    what: "record value",
                    detail: format!("{v} above the maximum {}", old.value_max),
                });
            }
        }
        let mut tree = self.current.tree().load()?;
        if tree.root() != old.root || tree.len() != old.count {
            return Err(self
                .current
                .tree()
                .corrupt("loaded tree differs from the manifest"));
        }
        for r in records {
            tree.push(leaf_hash(r));
        }
        let records_path = self.current.dir().join(RECORDS_FILE);
        let old_records = File::open(&records_path).map_err(|e| Error::io(&records_path, e))?;
        let appended = records.concat();
        let (records_cid, _) = cid_of_reader(&mut old_records.chain(appended.as_slice()))?;
        let new = Manifest {
            count: tree.len(),
            root: tree.root(),
            records: records_cid,
            ..old.clone()
        };
        let nodes = consistency_proof(&tree, old.count)?;
        let proof = AppendProof {
            old_size: old.count,
            old_root: old.root,
            new_size: new.count,
            new_root: new.root,
            nodes,
        };
        proof.verify()?;

        let staging = new_staging(&self.home)?;
        fault(AppendStep::Staged)?;
        self.write_generation(&staging, records, &tree, &new, fault)?;
        let generation = generation_name(new.count, &new.root);
        let dir = self.home.join(&generation);
        if dir.exists() {
            // A leftover of an interrupted append (never current: CURRENT names the old one).
            fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        }
        rename_dir(&staging, &dir)?;
        fault(AppendStep::GenerationRenamed)?;
        write_pointer(&self.home, &generation, &new.cid(), fault)?;
        let current = Dataset::open(&dir)?;
        let previous = std::mem::replace(&mut self.current, current);
        self.generation = generation;
        drop(previous);
        fault(AppendStep::Committed)?;
        // Best effort: a failure leaves inert directories that the next prune removes.
        let _ = self.prune();
        Ok(proof)
    }

    fn write_generation(
        &self,
        staging: &Path,
        records: &[&[u8]],
        tree: &MerkleTree,
        manifest: &Manifest,
        fault: &mut dyn FnMut(AppendStep) -> Result<()>,
    ) -> Result<()> {
        let (from, to) = (
            self.current.dir().join(RECORDS_FILE),
            staging.join(RECORDS_FILE),
        );
        let copied = fs::copy(&from, &to).map_err(|e| Error::io(&from, e))?;
        let old_len = self.current.len() * self.current.record_size() as u64;
        if copied != old_len {
            return Err(Error::DatasetMismatch {
                path: from,
                detail: format!("copied {copied} bytes, expected {old_len}"),
            });
        }
        fault(AppendStep::RecordsCopied)?;
        let file = OpenOptions::new()
            .append(true)
            .open(&to)
            .map_err(|e| Error::io(&to, e))?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        for r in records {
            out.write_all(r).map_err(|e| Error::io(&to, e))?;
        }
        let file = out
            .into_inner()
            .map_err(|e| Error::io(&to, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io(&to, e))?;
        fault(AppendStep::RecordsWritten)?;
        TreeFile::write(staging.join(TREE_FILE), tree, manifest.record_size)?;
        fault(AppendStep::TreeWritten)?;
        write_atomic(staging.join(MANIFEST_FILE), &manifest.to_bytes())?;
        sync_dir(staging)?;
        fault(AppendStep::ManifestWritten)?;
        // O(1) self-check of the staged generation before it can become current.
        let staged = Dataset::open(staging)?;
        if staged.root() != manifest.root || staged.len() != manifest.count {
            return Err(Error::DatasetMismatch {
                path: staging.into(),
                detail: "staged generation does not reopen".into(),
            });
        }
        Ok(())
    }

    /// Removes everything in the home directory that is not the current generation, the
    /// pointer or the lock: staging directories and older generations (left by appends or
    /// crashes).
    pub fn prune(&self) -> Result<()> {
        let entries = fs::read_dir(&self.home).map_err(|e| Error::io(&self.home, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(&self.home, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            let stale_generation = is_generation_name(&name) && name != self.generation;
            let stale_pointer = name.starts_with(&format!(".{CURRENT_FILE}.tmp-"));
            if stale_generation || name.starts_with(STAGING_PREFIX) {
                fs::remove_dir_all(&path).map_err(|e| Error::io(&path, e))?;
            } else if stale_pointer {
                fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
            }
        }
        Ok(())
    }
}

/// Opens (creating it if missing) and locks `home`'s lock file, without waiting.
fn lock_home(home: &Path) -> Result<File> {
    let path = home.join(LOCK_FILE);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| Error::io(&path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => Err(Error::Locked { path: home.into() }),
        Err(fs::TryLockError::Error(e)) => Err(Error::io(&path, e)),
    }
}

/// The current generation's name and dataset, checked against the pointer.
fn open_current(home: &Path) -> Result<(String, Dataset)> {
    let (generation, cid) = read_pointer(home)?;
    let current = Dataset::open(home.join(&generation))?;
    if current.cid() != cid {
        return Err(Error::DatasetMismatch {
            path: home.join(&generation),
            detail: format!("manifest is {}, the pointer names {cid}", current.cid()),
        });
    }
    Ok((generation, current))
}

/// `g<count, 16 digits>-<first 8 bytes of the root, hex>`.
fn generation_name(count: u64, root: &Digest) -> String {
    let hex: String = root[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("g{count:016}-{hex}")
}

fn is_generation_name(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() == 34
        && b[0] == b'g'
        && b[1..17].iter().all(u8::is_ascii_digit)
        && b[17] == b'-'
        && b[18..]
            .iter()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
}

fn new_staging(home: &Path) -> Result<PathBuf> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = home.join(format!(
        "{STAGING_PREFIX}{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    if dir.exists() {
        fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    }
    fs::create_dir(&dir).map_err(|e| Error::io(&dir, e))?;
    Ok(dir)
}

fn rename_dir(from: &Path, to: &Path) -> Result<()> {
    fs::rename(from, to).map_err(|e| Error::io(to, e))?;
    sync_parent(to)
}

fn sync_file(path: &Path) -> Result<()> {
    File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::io(path, e))
}

fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        sync_file(dir)
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

fn write_pointer(
    home: &Path,
    generation: &str,
    cid: &Cid,
    fault: &mut dyn FnMut(AppendStep) -> Result<()>,
) -> Result<()> {
    let pointer = GenerationPointer {
        generation: generation.to_owned(),
        manifest: *cid,
    };
    let mut f = AtomicFile::create(home.join(CURRENT_FILE))?;
    f.write_all(&pointer.to_bytes())?;
    fault(AppendStep::PointerStaged)?;
    f.commit()
}

fn read_pointer(home: &Path) -> Result<(String, Cid)> {
    let bytes = read_bounded(home.join(CURRENT_FILE), MAX_POINTER_BYTES)?;
    let p = GenerationPointer::from_bytes(&bytes)?;
    Ok((p.generation, p.manifest))
}
