//! The UCI "Optical Recognition of Handwritten Digits" CSV (as shipped by scikit-learn): one row
//! per image, 64 integers 0..=16 (8x8, row-major) then the class label 0..=9.

use super::{open_maybe_gz, ImportProgress};
use crate::dataset::{DType, Dataset, DatasetWriter};
use crate::error::{Error, Result};
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// The licence of the UCI digits.
pub const DIGITS_LICENCE: &str = "CC BY 4.0 (UCI Machine Learning Repository; E. Alpaydin, 1998)";
/// Longest accepted CSV line, in bytes.
const MAX_LINE: usize = 1024;

/// A streaming reader of digits rows: yields each image's 64 pixels (the label is dropped).
pub struct DigitsCsv {
    path: PathBuf,
    reader: Box<dyn BufRead + Send>,
    line: Vec<u8>,
    row: u64,
}

impl DigitsCsv {
    /// Opens a digits CSV, plain or gzip-compressed.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let reader = open_maybe_gz(&path)?;
        Ok(DigitsCsv {
            path,
            reader,
            line: Vec::new(),
            row: 0,
        })
    }

    fn error(&self, detail: String) -> Error {
        Error::Import {
            path: self.path.clone(),
            detail: format!("row {}: {detail}", self.row),
        }
    }

    fn next_row(&mut self) -> Result<Option<[u8; 64]>> {
        loop {
            self.line.clear();
            let n = std::io::Read::take(&mut self.reader, MAX_LINE as u64 + 1)
                .read_until(b'\n', &mut self.line)
                .map_err(|e| Error::io(&self.path, e))?;
            if n == 0 {
                return Ok(None);
            }
            self.row += 1;
            if self.line.len() > MAX_LINE {
                return Err(self.error("line too long".into()));
            }
            let text = std::str::from_utf8(&self.line)
                .map_err(|_| self.error("not UTF-8".into()))?
                .trim();
            if text.is_empty() {
                continue;
            }
            let mut pixels = [0u8; 64];
            let mut fields = text.split(',');
            for (i, p) in pixels.iter_mut().enumerate() {
                let field = fields
                    .next()
                    .ok_or_else(|| self.error(format!("{i} fields, expected 65")))?;
                *p = parse_bounded(field.trim(), 16).ok_or_else(|| {
                    self.error(format!("pixel {i} is {field:?}, expected 0..=16"))
                })?;
            }
            let label = fields.next().ok_or_else(|| self.error("no label".into()))?;
            parse_bounded(label.trim(), 9)
                .ok_or_else(|| self.error(format!("label {label:?}, expected 0..=9")))?;
            if fields.next().is_some() {
                return Err(self.error("more than 65 fields".into()));
            }
            return Ok(Some(pixels));
        }
    }
}

fn parse_bounded(field: &str, max: u8) -> Option<u8> {
    field.parse::<u8>().ok().filter(|v| *v <= max)
}

impl Iterator for DigitsCsv {
    type Item = Result<[u8; 64]>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_row().transpose()
    }
}

/// Imports the first `limit` rows (all when `None`) of a digits CSV into a dataset in `dest` of
/// `[1, 8, 8]` u8 records with values 0..=16.
pub fn import_digits_csv(
    src: impl AsRef<Path>,
    dest: impl AsRef<Path>,
    limit: Option<u64>,
) -> Result<Dataset> {
    import_digits_csv_with(src, dest, limit, &mut |_| {})
}

/// [`import_digits_csv`], reporting each record written to `progress` (the total is unknown:
/// the CSV is streamed).
pub fn import_digits_csv_with(
    src: impl AsRef<Path>,
    dest: impl AsRef<Path>,
    limit: Option<u64>,
    progress: &mut dyn FnMut(&ImportProgress),
) -> Result<Dataset> {
    let src = src.as_ref();
    let source = format!(
        "UCI optical recognition of handwritten digits ({})",
        file_name(src)
    );
    let mut out =
        DatasetWriter::create(dest, vec![1, 8, 8], DType::U8, 16, source, DIGITS_LICENCE)?;
    for row in DigitsCsv::open(src)?.take(limit.unwrap_or(u64::MAX) as usize) {
        out.push(&row?)?;
        progress(&ImportProgress {
            records: out.count(),
            total: limit,
        });
    }
    out.finish()
}

pub(crate) fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
