//! MNIST's IDX files (`*-images-idx3-ubyte`, plain or gzip): magic `0x00000803` (unsigned bytes,
//! three dimensions), big-endian dimensions `count, rows, cols`, then the pixels.

use super::digits::file_name;
use super::{open_maybe_gz, read_full, ImportProgress};
use crate::dataset::{DType, Dataset, DatasetWriter, MAX_RECORD_SIZE};
use crate::error::{Error, Result};
use std::path::Path;

/// Imports an IDX image file into a dataset in `dest` of `[1, rows, cols]` u8 records.
pub fn import_idx(src: impl AsRef<Path>, dest: impl AsRef<Path>, licence: &str) -> Result<Dataset> {
    import_idx_with(src, dest, licence, &mut |_| {})
}

/// [`import_idx`], reporting each record written to `progress` (the total from the header).
pub fn import_idx_with(
    src: impl AsRef<Path>,
    dest: impl AsRef<Path>,
    licence: &str,
    progress: &mut dyn FnMut(&ImportProgress),
) -> Result<Dataset> {
    let src = src.as_ref();
    let bad = |detail: String| Error::Import {
        path: src.into(),
        detail,
    };
    let mut reader = open_maybe_gz(src)?;
    let mut header = [0u8; 16];
    read_full(&mut reader, &mut header, src, "the header")?;
    let word = |i: usize| {
        let mut w = [0u8; 4];
        w.copy_from_slice(&header[i * 4..i * 4 + 4]);
        u32::from_be_bytes(w)
    };
    if word(0) != 0x0803 {
        return Err(bad(format!(
            "magic {:#010x}, expected 0x00000803 (u8 images)",
            word(0)
        )));
    }
    let (count, rows, cols) = (word(1), word(2), word(3));
    if rows == 0 || cols == 0 || u64::from(rows) * u64::from(cols) > MAX_RECORD_SIZE {
        return Err(bad(format!("image size {rows}x{cols}")));
    }
    let source = format!("IDX images ({})", file_name(src));
    let mut out =
        DatasetWriter::create(dest, vec![1, rows, cols], DType::U8, 255, source, licence)?;
    let mut record = vec![0u8; out.record_size()];
    for i in 0..count {
        read_full(&mut reader, &mut record, src, &format!("image {i}"))?;
        out.push(&record)?;
        progress(&ImportProgress {
            records: out.count(),
            total: Some(u64::from(count)),
        });
    }
    let mut probe = [0u8; 1];
    if std::io::Read::read(&mut reader, &mut probe).map_err(|e| Error::io(src, e))? != 0 {
        return Err(bad(format!(
            "bytes after the {count} images the header declares"
        )));
    }
    out.finish()
}
