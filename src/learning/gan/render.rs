//! Pictures of what a generator has learned.

use super::trainer::GanTrainer;
use crate::error::{Error, Result};
use crate::fsutil::write_atomic;
use crate::hash::Digest;
use image::{ImageFormat, RgbImage};
use std::path::Path;

/// A `rows x cols` grid of generated images (latent from `seed`), each pixel scaled `zoom`
/// times, with a one-pixel gap.
pub fn sample_grid(
    trainer: &GanTrainer,
    seed: &Digest,
    rows: u32,
    cols: u32,
    zoom: u32,
) -> Result<RgbImage> {
    let spec = trainer.spec();
    let (c, s) = (spec.channels, spec.image_size);
    let samples = trainer.sample(seed, (rows * cols) as usize)?;
    let cell = s * zoom + 1;
    let mut img = RgbImage::from_pixel(cols * cell + 1, rows * cell + 1, image::Rgb([40, 40, 40]));
    let plane = (s * s) as usize;
    for (k, sample) in samples.chunks_exact(c as usize * plane).enumerate() {
        let (gx, gy) = (k as u32 % cols * cell + 1, k as u32 / cols * cell + 1);
        for y in 0..s * zoom {
            for x in 0..s * zoom {
                let at = ((y / zoom) * s + x / zoom) as usize;
                let channel = |ch: usize| {
                    ((sample[ch.min(c as usize - 1) * plane + at] + 1.0) * 127.5).clamp(0.0, 255.0)
                        as u8
                };
                img.put_pixel(
                    gx + x,
                    gy + y,
                    image::Rgb([channel(0), channel(1), channel(2)]),
                );
            }
        }
    }
    Ok(img)
}

/// Writes an image as PNG, atomically.
pub fn write_png(img: &RgbImage, path: impl AsRef<Path>) -> Result<()> {
    let mut bytes = std::io::Cursor::new(Vec::new());
    img.write_to(&mut bytes, ImageFormat::Png)
        .map_err(|e| Error::InvalidField {
            what: "png",
            detail: e.to_string(),
        })?;
    write_atomic(path, &bytes.into_inner())
}
