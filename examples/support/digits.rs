//! The digits as the growth examples and tests use them: every row, and the `shift` oracle that
//! makes a plausible new digit from an old one. Included by path where `support` is not (the C
//! API's tests).

use pouw::dataset::import::DigitsCsv;
use std::path::Path;

/// Every digits row (64 pixels, 0..=16) of the CSV at `path`.
pub fn rows(path: &Path) -> Vec<Vec<u8>> {
    DigitsCsv::open(path)
        .unwrap()
        .map(|r| r.unwrap().to_vec())
        .collect()
}

/// `record` (8x8) moved `dx` columns right and `dy` rows down, vacated pixels zero.
pub fn shift(record: &[u8], dx: i32, dy: i32) -> Vec<u8> {
    let mut out = vec![0u8; 64];
    for y in 0..8i32 {
        for x in 0..8i32 {
            let (sx, sy) = (x - dx, y - dy);
            if (0..8).contains(&sx) && (0..8).contains(&sy) {
                out[(y * 8 + x) as usize] = record[(sy * 8 + sx) as usize];
            }
        }
    }
    out
}
