//! Helpers shared by the examples: locating the digits, a progress bar (`indicatif`), line charts
//! (`plotters`, labelled with the DejaVu Sans font the `dejavu` crate embeds).
#![allow(dead_code)]

#[cfg(feature = "images")]
pub mod data;
pub mod digits;
#[cfg(feature = "torch")]
pub mod quality;

use image::RgbImage;
use plotters::prelude::*;
use std::path::PathBuf;
use std::sync::Once;

/// The distance rule's out-of-fold rejection rate, in thousandths, of the requests the faces
/// examples and the judge bench make on 80 LFW faces: 5%, where 2% (the default) lets a
/// sixth of gray images and an eighth of non-face photographs through (`cargo bench --bench
/// judge`); both accept every held-back face.
pub const FACES_DISTANCE_REJECT_PER_MILLE: u32 = 50;

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

/// A terminal progress bar (drawn only on a terminal).
pub struct Progress(indicatif::ProgressBar);

impl Progress {
    /// A bar for `total` units.
    pub fn new(label: &'static str, total: u64) -> Self {
        let bar = indicatif::ProgressBar::new(total);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} ({per_sec}) {msg}",
        ) {
            bar.set_style(style);
        }
        bar.set_prefix(label);
        Progress(bar)
    }

    /// Moves the bar to `done` units with a note.
    pub fn update(&self, done: u64, note: &str) {
        self.0.set_position(done);
        self.0.set_message(note.to_owned());
    }

    /// Runs `f` (which prints) with the bar hidden.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        self.0.suspend(f)
    }

    /// Ends the bar.
    pub fn finish(&self) {
        self.0.finish();
    }
}

/// One curve of a [`chart`].
pub struct Series {
    /// The `(x, y)` points.
    pub points: Vec<(f64, f64)>,
    /// Its colour.
    pub color: [u8; 3],
    /// Drawn wide (else thin).
    pub thick: bool,
    /// Its legend entry (none: not in the legend).
    pub label: Option<String>,
}

/// A line chart of `series`: title, axes from 0 with ticks and labels, a light grid, and a legend
/// of the labelled curves.
pub fn chart(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    width: u32,
    height: u32,
) -> pouw::Result<RgbImage> {
    static FONT: Once = Once::new();
    FONT.call_once(|| {
        let _ = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            dejavu::sans::regular(),
        );
    });
    let all = || series.iter().flat_map(|s| s.points.iter());
    let x1 = all().fold(1.0f64, |a, p| a.max(p.0));
    let y1 = all().fold(1e-9f64, |a, p| a.max(p.1)) * 1.05;
    let mut buf = vec![255u8; (width * height * 3) as usize];
    let failed = |e: String| pouw::Error::InvalidField {
        what: "chart",
        detail: e,
    };
    {
        let root = BitMapBackend::with_buffer(&mut buf, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| failed(e.to_string()))?;
        let mut c = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..x1, 0f64..y1)
            .map_err(|e| failed(e.to_string()))?;
        c.configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .x_label_formatter(&|x| format!("{x:.0}"))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(|e| failed(e.to_string()))?;
        for s in series {
            let color = RGBColor(s.color[0], s.color[1], s.color[2]);
            let style = color.stroke_width(if s.thick { 3 } else { 1 });
            let drawn = c
                .draw_series(LineSeries::new(s.points.iter().copied(), style))
                .map_err(|e| failed(e.to_string()))?;
            if let Some(label) = &s.label {
                drawn.label(label.as_str()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3))
                });
            }
        }
        if series.iter().any(|s| s.label.is_some()) {
            c.configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .position(SeriesLabelPosition::UpperRight)
                .draw()
                .map_err(|e| failed(e.to_string()))?;
        }
        root.present().map_err(|e| failed(e.to_string()))?;
    }
    RgbImage::from_raw(width, height, buf).ok_or_else(|| failed("buffer size".into()))
}

/// The bytes `verify` fetches for `proof` from the directory store `store`: every object the
/// proof lists ([`pouw::work::BlockProof::required_cids`]) and the block's start (scored for
/// quality), each once; summed from file sizes.
pub fn verifier_fetch_bytes(
    store: &pouw::learning::DirStore,
    proof: &pouw::work::BlockProof,
    start: &pouw::ident::Cid,
) -> u64 {
    let mut fetch = proof.required_cids();
    if !fetch.contains(start) {
        fetch.push(*start);
    }
    fetch
        .iter()
        .map(|c| std::fs::metadata(store.path_of(c)).map_or(0, |m| m.len()))
        .sum()
}

/// The value after the flag `name` in `args`: `None` when the flag is absent, an error when it
/// has no value.
pub fn flag(args: &[String], name: &str) -> pouw::Result<Option<String>> {
    match args.iter().position(|a| a == name) {
        None => Ok(None),
        Some(i) => args
            .get(i + 1)
            .cloned()
            .map(Some)
            .ok_or_else(|| pouw::Error::InvalidParameters(format!("{name} takes a value"))),
    }
}
