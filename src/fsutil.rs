//! Small file helpers: atomic writes and positioned reads.

use crate::error::{Error, Result};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A file being written next to its final path, renamed into place by [`AtomicFile::commit`].
///
/// Dropping it without committing removes the temporary file, so a crash or an error never
/// leaves a partial file under the final name.
pub(crate) struct AtomicFile {
    tmp: PathBuf,
    dest: PathBuf,
    file: Option<std::io::BufWriter<File>>,
}

impl AtomicFile {
    /// Creates the temporary file for `dest`.
    pub(crate) fn create(dest: impl AsRef<Path>) -> Result<Self> {
        let dest = dest.as_ref().to_path_buf();
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // Unique per process and call, so concurrent writers of the same file never share one.
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = dest.with_file_name(format!(".{name}.tmp-{}-{n}", std::process::id()));
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .map_err(|e| Error::io(&dest, e))?;
        Ok(AtomicFile {
            tmp,
            dest,
            file: Some(std::io::BufWriter::with_capacity(1 << 20, file)),
        })
    }

    /// Appends bytes.
    pub(crate) fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        let Some(f) = self.file.as_mut() else {
            return Err(Error::io(&self.dest, committed()));
        };
        f.write_all(bytes).map_err(|e| Error::io(&self.dest, e))
    }

    /// Flushes, fsyncs, renames into place and fsyncs the directory. Errors name the final path;
    /// a commit that fails before the rename removes the temporary file.
    pub(crate) fn commit(mut self) -> Result<()> {
        let Some(writer) = self.file.take() else {
            return Err(Error::io(&self.dest, committed()));
        };
        let placed = writer
            .into_inner()
            .map_err(|e| e.into_error())
            .and_then(|file| file.sync_all())
            .and_then(|()| fs::rename(&self.tmp, &self.dest));
        if let Err(e) = placed {
            let _ = fs::remove_file(&self.tmp);
            return Err(Error::io(&self.dest, e));
        }
        sync_parent(&self.dest)
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.file.is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// Writes `bytes` to `path` atomically (temporary file, fsync, rename).
pub fn write_atomic(path: impl AsRef<Path>, bytes: &[u8]) -> Result<()> {
    let mut f = AtomicFile::create(path)?;
    f.write_all(bytes)?;
    f.commit()
}

/// The error of a write to an [`AtomicFile`] after its commit.
fn committed() -> std::io::Error {
    std::io::Error::other("atomic file already committed")
}

/// Fsyncs the directory holding `path`, so a rename into it survives a crash.
pub(crate) fn sync_parent(path: &Path) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir, e))
}

/// Reads a whole file of at most `limit` bytes (a larger file is refused before reading).
pub(crate) fn read_bounded(path: impl AsRef<Path>, limit: u64) -> Result<Vec<u8>> {
    let path = path.as_ref();
    let len = fs::metadata(path).map_err(|e| Error::io(path, e))?.len();
    if len > limit {
        return Err(Error::LimitExceeded {
            what: "file size",
            found: len,
            limit,
        });
    }
    fs::read(path).map_err(|e| Error::io(path, e))
}

/// Reads exactly `buf.len()` bytes at `offset`.
pub(crate) fn read_exact_at(file: &File, buf: &mut [u8], offset: u64, path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt;
        file.read_exact_at(buf, offset)
            .map_err(|e| Error::io(path, e))
    }
    #[cfg(windows)]
    {
        use std::os::windows::fs::FileExt;
        let mut done = 0;
        while done < buf.len() {
            let n = file
                .seek_read(&mut buf[done..], offset + done as u64)
                .map_err(|e| Error::io(path, e))?;
            if n == 0 {
                return Err(Error::io(path, std::io::ErrorKind::UnexpectedEof.into()));
            }
            done += n;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_atomic_writes_of_one_file_all_succeed() {
        let dir = std::env::temp_dir().join(format!("pouw-fsutil-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("same");
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| write_atomic(&path, &[7u8; 1 << 16]).unwrap());
            }
        });
        assert_eq!(fs::read(&path).unwrap(), vec![7u8; 1 << 16]);
        let leftovers = fs::read_dir(&dir).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary files left behind");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn dropped_unfinished_file_leaves_nothing() {
        let dir = std::env::temp_dir().join(format!("pouw-fsutil-drop-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let mut f = AtomicFile::create(dir.join("x")).unwrap();
        f.write_all(b"partial").unwrap();
        drop(f);
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 0);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_write_onto_a_directory_fails_naming_it_and_leaves_nothing() {
        let dir = std::env::temp_dir().join(format!("pouw-fsutil-dir-{}", std::process::id()));
        let target = dir.join("taken");
        fs::create_dir_all(&target).unwrap();
        let e = write_atomic(&target, b"bytes").unwrap_err();
        assert!(e.to_string().contains("taken"), "{e}");
        assert!(!e.to_string().contains(".tmp-"), "{e}");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1, "only the directory");
        fs::remove_dir_all(&dir).unwrap();
    }
}
