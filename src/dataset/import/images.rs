//! A folder of PNG/JPEG images (CelebA's layout: one flat folder of numbered files), each
//! resized so its shorter side is `size`, centre-cropped to `size x size`, stored as RGB
//! `[3, size, size]` (channel-major) u8 records in file-name order.

use super::digits::file_name;
use super::ImportProgress;
use crate::dataset::{DType, Dataset, DatasetWriter};
use crate::error::{Error, Result};
use image::imageops::FilterType;
use std::path::{Path, PathBuf};

/// The largest accepted image side before resizing, in pixels.
const MAX_SIDE: u32 = 1 << 14;

/// Imports every `.png`, `.jpg` and `.jpeg` file directly in `src` into a dataset in `dest`.
pub fn import_image_folder(
    src: impl AsRef<Path>,
    dest: impl AsRef<Path>,
    size: u32,
    licence: &str,
) -> Result<Dataset> {
    import_image_folder_with(src, dest, size, licence, &mut |_| {})
}

/// [`import_image_folder`], reporting each record written to `progress` (the total: the folder's
/// image files).
pub fn import_image_folder_with(
    src: impl AsRef<Path>,
    dest: impl AsRef<Path>,
    size: u32,
    licence: &str,
    progress: &mut dyn FnMut(&ImportProgress),
) -> Result<Dataset> {
    let src = src.as_ref();
    if size == 0 || size > 1024 {
        return Err(Error::InvalidParameters(format!(
            "image size {size} (1..=1024)"
        )));
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(src)
        .map_err(|e| Error::io(src, e))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "png" | "jpg" | "jpeg"))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(Error::Import {
            path: src.into(),
            detail: "no .png/.jpg/.jpeg files".into(),
        });
    }
    let source = format!(
        "image folder ({}, {size}x{size} centre crops)",
        file_name(src)
    );
    let mut out =
        DatasetWriter::create(dest, vec![3, size, size], DType::U8, 255, source, licence)?;
    let mut record = vec![0u8; out.record_size()];
    for path in &files {
        square_rgb(path, size, &mut record)?;
        out.push(&record)?;
        progress(&ImportProgress {
            records: out.count(),
            total: Some(files.len() as u64),
        });
    }
    out.finish()
}

/// Decodes one image, resizes and centre-crops it to `size x size`, and writes it channel-major.
fn square_rgb(path: &Path, size: u32, out: &mut [u8]) -> Result<()> {
    let bad = |detail: String| Error::Import {
        path: path.into(),
        detail,
    };
    let reader = image::ImageReader::open(path).map_err(|e| Error::io(path, e))?;
    let reader = reader
        .with_guessed_format()
        .map_err(|e| Error::io(path, e))?;
    let (w, h) = reader.into_dimensions().map_err(|e| bad(e.to_string()))?;
    if w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE {
        return Err(bad(format!("{w}x{h} image")));
    }
    let img = image::ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| Error::io(path, e))?
        .decode()
        .map_err(|e| bad(e.to_string()))?
        .to_rgb8();
    let scale = size as f64 / w.min(h) as f64;
    let (rw, rh) = (
        ((w as f64 * scale).round() as u32).max(size),
        ((h as f64 * scale).round() as u32).max(size),
    );
    let resized = image::imageops::resize(&img, rw, rh, FilterType::Triangle);
    let (x0, y0) = ((rw - size) / 2, (rh - size) / 2);
    let plane = (size * size) as usize;
    for y in 0..size {
        for x in 0..size {
            let p = resized.get_pixel(x0 + x, y0 + y);
            let at = (y * size + x) as usize;
            for c in 0..3 {
                out[c * plane + at] = p[c];
            }
        }
    }
    Ok(())
}
