//! Gaussian numbers from a SHAKE256 stream, with integer arithmetic only, so every platform and
//! device gets the same bits: each value is an Irwin-Hall sum of twelve 16-bit uniforms, shifted
//! and scaled exactly (mean 0, variance 1 up to 2^-16, bounded by 6).

use crate::hash::Xof;

/// `n` approximately standard-normal `f32` values from `xof`, times `std`, plus `mean`.
pub fn gaussian(xof: &mut Xof, n: usize, mean: f32, std: f32) -> Vec<f32> {
    let mut out = Vec::with_capacity(n);
    let mut words = [0u8; 24 * 64];
    let mut left = n;
    while left > 0 {
        let take = left.min(64);
        xof.fill(&mut words[..24 * take]);
        for value in words[..24 * take].chunks_exact(24) {
            let sum: u32 = value
                .chunks_exact(2)
                .map(|b| u32::from(u16::from_le_bytes([b[0], b[1]])))
                .sum();
            // (sum - 12 * (2^16 - 1) / 2) / 2^16, computed exactly in f64.
            let centred = f64::from(2 * sum) - 12.0 * f64::from(u16::MAX);
            let z = centred / f64::from(1u32 << 17);
            out.push((z as f32) * std + mean);
        }
        left -= take;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_are_standard() {
        let v = gaussian(&mut Xof::new("pouw/test", b"x"), 20000, 0.0, 1.0);
        let mean = v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64;
        let var = v.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / v.len() as f64;
        assert!(mean.abs() < 0.03, "mean {mean}");
        assert!((var - 1.0).abs() < 0.05, "var {var}");
        assert!(v.iter().all(|x| x.abs() <= 6.0));
    }
}
