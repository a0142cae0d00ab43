//! Helpers shared by the examples: locating the digits, a progress bar, a line plot.
#![allow(dead_code)]

#[cfg(feature = "torch")]
pub mod quality;

use image::{Rgb, RgbImage};
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

/// The bundled UCI digits (`POUW_DIGITS`, else `../shared/data/`, else `tests/data/`).
pub fn digits_path() -> PathBuf {
    if let Some(p) = std::env::var_os("POUW_DIGITS") {
        return p.into();
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let shared = root.join("../shared/data/digits.csv.gz");
    if shared.exists() {
        shared
    } else {
        root.join("tests/data/digits.csv.gz")
    }
}

/// A one-line terminal progress bar.
pub struct Progress {
    total: u64,
    start: Instant,
    label: &'static str,
}

impl Progress {
    /// A bar for `total` units.
    pub fn new(label: &'static str, total: u64) -> Self {
        Progress {
            total,
            start: Instant::now(),
            label,
        }
    }

    /// Redraws the bar at `done` units with a note.
    pub fn update(&self, done: u64, note: &str) {
        let width = 30;
        let filled = (done.min(self.total) * width / self.total.max(1)) as usize;
        let rate = done as f64 / self.start.elapsed().as_secs_f64().max(1e-9);
        eprint!(
            "\r{} [{}{}] {done}/{} {rate:.1}/s {note}    ",
            self.label,
            "#".repeat(filled),
            "-".repeat(width as usize - filled),
            self.total
        );
        let _ = std::io::stderr().flush();
    }

    /// Ends the bar's line.
    pub fn finish(&self) {
        eprintln!();
    }
}

/// A line plot of `(x, y)` points on a light grid (no text: the values are printed alongside).
pub fn line_plot(points: &[(f64, f64)], width: u32, height: u32) -> RgbImage {
    series_plot(
        &[Series {
            points: points.to_vec(),
            color: [30, 90, 200],
            thick: true,
        }],
        width,
        height,
    )
}

/// One curve of a [`series_plot`].
pub struct Series {
    /// The `(x, y)` points.
    pub points: Vec<(f64, f64)>,
    /// Its colour.
    pub color: [u8; 3],
    /// Drawn two pixels wide (else one).
    pub thick: bool,
}

/// Several curves on one light grid with shared axes from 0 to the largest `y` (no text: the
/// values are printed alongside).
pub fn series_plot(series: &[Series], width: u32, height: u32) -> RgbImage {
    let mut img = RgbImage::from_pixel(width, height, Rgb([255, 255, 255]));
    let margin = 20.0;
    let all = || series.iter().flat_map(|s| s.points.iter());
    let (x0, x1) = all().fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let y1 = all().fold(f64::MIN, |a, p| a.max(p.1));
    let (w, h) = (width as f64 - 2.0 * margin, height as f64 - 2.0 * margin);
    let to_px = |(x, y): (f64, f64)| {
        let px = margin + (x - x0) / (x1 - x0).max(1e-12) * w;
        let py = margin + (1.0 - y / y1.max(1e-12)) * h;
        (px, py)
    };
    for i in 0..=10 {
        let gy = (margin + h * i as f64 / 10.0) as u32;
        let gx = (margin + w * i as f64 / 10.0) as u32;
        for x in margin as u32..(margin + w) as u32 {
            img.put_pixel(x, gy, Rgb([225, 225, 225]));
        }
        for y in margin as u32..(margin + h) as u32 {
            img.put_pixel(gx, y, Rgb([225, 225, 225]));
        }
    }
    for s in series {
        let dots: &[(u32, u32)] = if s.thick {
            &[(0, 0), (1, 0), (0, 1), (1, 1)]
        } else {
            &[(0, 0)]
        };
        for pair in s.points.windows(2) {
            let (a, b) = (to_px(pair[0]), to_px(pair[1]));
            let steps = ((b.0 - a.0).abs().max((b.1 - a.1).abs()) as u32).max(1);
            for k in 0..=steps {
                let t = k as f64 / steps as f64;
                let (x, y) = (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
                for &(dx, dy) in dots {
                    let (px, py) = (x as u32 + dx, y as u32 + dy);
                    if px < width && py < height {
                        img.put_pixel(px, py, Rgb(s.color));
                    }
                }
            }
        }
    }
    img
}
