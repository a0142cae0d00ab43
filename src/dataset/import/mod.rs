//! Importers from common sources into the on-disk [`Dataset`](super::Dataset) form. Each streams
//! its source record by record: memory stays flat however large the source.

mod digits;
mod idx;
#[cfg(feature = "images")]
mod images;

pub use digits::{import_digits_csv, import_digits_csv_with, DigitsCsv, DIGITS_LICENCE};
pub use idx::{import_idx, import_idx_with};
#[cfg(feature = "images")]
pub use images::{import_image_folder, import_image_folder_with};

/// How far an import is: records written, and how many the source holds when it says (an IDX
/// header, a folder's files; a CSV stream does not).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImportProgress {
    /// Records written so far.
    pub records: u64,
    /// Records in the source, when known.
    pub total: Option<u64>,
}

use crate::error::{Error, Result};
use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// Opens `path` for buffered reading, decompressing it when it starts with the gzip magic.
pub(crate) fn open_maybe_gz(path: &Path) -> Result<Box<dyn BufRead + Send>> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let gz = reader
        .fill_buf()
        .map_err(|e| Error::io(path, e))?
        .starts_with(&[0x1f, 0x8b]);
    Ok(if gz {
        Box::new(BufReader::with_capacity(
            1 << 16,
            MultiGzDecoder::new(reader),
        ))
    } else {
        Box::new(reader)
    })
}

/// Reads exactly `buf.len()` bytes, mapping a short read to an import error.
pub(crate) fn read_full(
    reader: &mut impl Read,
    buf: &mut [u8],
    path: &Path,
    what: &str,
) -> Result<()> {
    reader.read_exact(buf).map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => Error::Import {
            path: path.into(),
            detail: format!("file ends inside {what}"),
        },
        _ => Error::io(path, e),
    })
}
