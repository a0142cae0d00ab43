//! The quality score: sliced Wasserstein distance between generated and real samples, computed
//! in f64 on the host from seeded projections, so it is deterministic on every device.

use super::noise::gaussian;
use crate::hash::{tag, Digest, Xof};

/// Mean over `projections` random unit directions of the 1-Wasserstein distance between the
/// projections of `a` and `b` (rows of `dims` values, the same number of rows). Lower is better.
pub fn sliced_wasserstein(
    a: &[f32],
    b: &[f32],
    dims: usize,
    projections: usize,
    seed: &Digest,
) -> f64 {
    let n = a.len() / dims;
    debug_assert_eq!(a.len(), b.len());
    let mut key = seed.to_vec();
    key.extend_from_slice(b"/projections");
    let directions = gaussian(
        &mut Xof::new(tag::QUALITY, &key),
        projections * dims,
        0.0,
        1.0,
    );
    let project = |rows: &[f32], dir: &[f64]| -> Vec<f64> {
        let mut p: Vec<f64> = rows
            .chunks_exact(dims)
            .map(|r| r.iter().zip(dir).map(|(&x, &d)| f64::from(x) * d).sum())
            .collect();
        p.sort_by(f64::total_cmp);
        p
    };
    let mut total = 0.0;
    for dir in directions.chunks_exact(dims) {
        let norm = dir
            .iter()
            .map(|&d| f64::from(d) * f64::from(d))
            .sum::<f64>()
            .sqrt();
        let unit: Vec<f64> = dir.iter().map(|&d| f64::from(d) / norm).collect();
        let (pa, pb) = (project(a, &unit), project(b, &unit));
        total += pa.iter().zip(&pb).map(|(x, y)| (x - y).abs()).sum::<f64>() / n as f64;
    }
    total / projections as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_for_identical_sets_and_grows_with_shift() {
        let a: Vec<f32> = (0..64 * 4).map(|i| (i % 7) as f32 / 7.0).collect();
        let seed = [1u8; 32];
        assert_eq!(sliced_wasserstein(&a, &a, 4, 16, &seed), 0.0);
        let shifted: Vec<f32> = a.iter().map(|x| x + 0.5).collect();
        let far: Vec<f32> = a.iter().map(|x| x + 1.0).collect();
        let d1 = sliced_wasserstein(&shifted, &a, 4, 16, &seed);
        let d2 = sliced_wasserstein(&far, &a, 4, 16, &seed);
        assert!(d1 > 0.0 && d2 > 1.9 * d1 && d2 < 2.1 * d1, "{d1} {d2}");
    }
}
