//! The checkpoints a miner keeps while it trains, so that opening a step later replays a few
//! steps rather than the whole run: a bounded number, at a spacing that doubles whenever they
//! would exceed it, held in memory when they are small and spilled to a private directory
//! otherwise. Memory stays flat however long the block; disk holds at most `max` checkpoints.

use crate::error::{Error, Result};
use crate::hash::Digest;
use crate::learning::checkpoint_digest;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// One kept checkpoint.
enum Slot {
    Memory(Vec<u8>),
    /// A file in the spill directory and the checkpoint's digest (from the trajectory).
    File(PathBuf, Digest),
}

/// Checkpoints of steps `spacing`, `2 spacing`, ... (at most `max` of them).
pub(crate) struct Kept {
    slots: BTreeMap<u64, Slot>,
    spacing: u64,
    max: usize,
    spill: Option<SpillDir>,
}

impl Kept {
    /// Keeps every `spacing`-th checkpoint, at most `max` (at least 2); in memory when `max` of
    /// them (of `checkpoint_size` bytes each) fit in `memory` bytes, else in a new directory
    /// under `spill_dir`.
    pub(crate) fn new(
        spacing: u64,
        max: usize,
        checkpoint_size: u64,
        memory: u64,
        spill_dir: &Path,
    ) -> Result<Self> {
        let max = max.max(2);
        let in_memory = checkpoint_size.saturating_mul(max as u64) <= memory;
        Ok(Kept {
            slots: BTreeMap::new(),
            spacing: spacing.max(1),
            max,
            spill: if in_memory {
                None
            } else {
                Some(SpillDir::create(spill_dir)?)
            },
        })
    }

    /// Whether [`offer`](Self::offer) would keep the checkpoint after `step` (a multiple of the
    /// current spacing).
    pub(crate) fn wants(&self, step: u64) -> bool {
        step != 0 && step.is_multiple_of(self.spacing)
    }

    /// Offers the checkpoint after `step` (with its digest `digest`, checked when a spilled
    /// copy is read back); kept when `step` is a multiple of the spacing. When that makes too
    /// many, the spacing doubles and the checkpoints off it are dropped.
    pub(crate) fn offer(&mut self, step: u64, bytes: &[u8], digest: &Digest) -> Result<()> {
        if !self.wants(step) {
            return Ok(());
        }
        let slot = match &self.spill {
            None => Slot::Memory(bytes.to_vec()),
            Some(dir) => {
                let path = dir.path.join(format!("{step:020}"));
                std::fs::write(&path, bytes).map_err(|e| Error::io(&path, e))?;
                Slot::File(path, *digest)
            }
        };
        self.slots.insert(step, slot);
        while self.slots.len() > self.max {
            self.spacing = self.spacing.saturating_mul(2);
            let spacing = self.spacing;
            let dropped: Vec<u64> = self
                .slots
                .keys()
                .copied()
                .filter(|s| !s.is_multiple_of(spacing))
                .collect();
            for s in dropped {
                if let Some(Slot::File(path, _)) = self.slots.remove(&s) {
                    std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
                }
            }
        }
        Ok(())
    }

    /// The kept checkpoint nearest at or before `step` (step and bytes), if any.
    pub(crate) fn nearest(&self, step: u64) -> Result<Option<(u64, Vec<u8>)>> {
        let Some((&at, slot)) = self.slots.range(..=step).next_back() else {
            return Ok(None);
        };
        let bytes = match slot {
            Slot::Memory(bytes) => bytes.clone(),
            Slot::File(path, digest) => {
                let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
                if checkpoint_digest(&bytes) != *digest {
                    return Err(Error::io(
                        path,
                        std::io::Error::new(
                            std::io::ErrorKind::InvalidData,
                            "a spilled checkpoint changed on disk",
                        ),
                    ));
                }
                bytes
            }
        };
        Ok(Some((at, bytes)))
    }

    /// Steps kept (for tests).
    #[cfg(test)]
    fn steps(&self) -> Vec<u64> {
        self.slots.keys().copied().collect()
    }
}

/// A private directory, removed with everything in it when dropped.
struct SpillDir {
    path: PathBuf,
}

impl SpillDir {
    fn create(under: &Path) -> Result<Self> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        std::fs::create_dir_all(under).map_err(|e| Error::io(under, e))?;
        loop {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            let path = under.join(format!(
                "pouw-mine-{}-{}-{nanos}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            match std::fs::create_dir(&path) {
                Ok(()) => return Ok(SpillDir { path }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(Error::io(&path, e)),
            }
        }
    }
}

impl Drop for SpillDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(step: u64) -> Vec<u8> {
        step.to_le_bytes().repeat(100)
    }

    fn check(kept: &mut Kept, run: u64) {
        for step in 1..=run {
            kept.offer(step, &bytes(step), &checkpoint_digest(&bytes(step)))
                .unwrap();
            assert!(kept.steps().len() <= kept.max);
        }
        // Every step's nearest kept checkpoint is its own bytes and at most one spacing back.
        for step in 1..=run {
            match kept.nearest(step).unwrap() {
                Some((at, b)) => {
                    assert!(at <= step && step - at < kept.spacing, "{step}: {at}");
                    assert_eq!(b, bytes(at));
                }
                None => assert!(step < kept.spacing),
            }
        }
    }

    #[test]
    fn spacing_doubles_and_memory_stays_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let mut kept = Kept::new(3, 4, 800, 1 << 20, dir.path()).unwrap();
        check(&mut kept, 100);
        assert_eq!(kept.spacing, 24);
        assert_eq!(kept.steps(), vec![24, 48, 72, 96]);
        assert!(kept.spill.is_none());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn large_checkpoints_spill_to_a_private_directory_removed_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let mut kept = Kept::new(2, 5, 800, 1000, dir.path()).unwrap();
        check(&mut kept, 50);
        let spill = dir
            .path()
            .read_dir()
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        assert_eq!(spill.read_dir().unwrap().count(), kept.steps().len());
        // A spilled file that changed is an error, not a wrong checkpoint.
        let (at, _) = kept.nearest(50).unwrap().unwrap();
        std::fs::write(spill.join(format!("{at:020}")), b"changed").unwrap();
        assert!(matches!(kept.nearest(50), Err(Error::Io { .. })));
        drop(kept);
        assert!(!spill.exists());
    }
}
