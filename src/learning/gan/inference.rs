//! The discriminator in inference form: batch norm with fixed per-channel statistics (the
//! growth judge's, computed from a reference dataset) instead of the batch's, so that a
//! record's logit depends on the record alone. Used for judging, never for training.
//!
//! Every operation is the training pass's (the exact convolutions and activations) except the
//! normalisation, `((x - mean) * inv_std) * scale + shift` with `inv_std = 1 / sqrt(var + eps)`
//! computed on the host: element-wise, each operation correctly rounded in float32, so the bits
//! are the same on every device and thread count.

use super::layers;
use super::layout::{Conv, Layout};
use super::model::block_weights;
use crate::error::{Error, Result};
use crate::learning::exact::{torch, Exact};
use crate::learning::{ChannelMoments, ChannelSums};
use tch::{Device, Kind, Tensor};

/// How far an inference pass runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Until {
    /// To the logits `[B]`.
    Logits,
    /// To the input of normalisation layer `k` (`[B, C, H, W]`).
    NormInput(usize),
    /// Through hidden layer `k` (after its activation; `[B, C, H, W]`), the layers before
    /// the final (logit) block counted from 0.
    Hidden(usize),
}

/// The number of batch-norm layers of `layout`.
pub(crate) fn norm_layers(layout: &Layout) -> usize {
    layout.blocks.iter().filter(|b| b.batch_norm).count()
}

/// The discriminator's forward pass on `images` with the normalisation layers before `until`
/// in inference form under `norms`.
pub(crate) fn discriminate_inference(
    ex: &Exact,
    layout: &Layout,
    weights: &[Tensor],
    images: &Tensor,
    norms: &[ChannelMoments],
    until: Until,
) -> Result<Tensor> {
    run(ex, layout, weights, images, norms, until, |_| Ok(()))
}

/// The forward pass of [`discriminate_inference`], calling `on_hidden(x)` with each hidden
/// layer's output (after its activation), in order, on the way.
fn run(
    ex: &Exact,
    layout: &Layout,
    weights: &[Tensor],
    images: &Tensor,
    norms: &[ChannelMoments],
    until: Until,
    mut on_hidden: impl FnMut(&Tensor) -> Result<()>,
) -> Result<Tensor> {
    let blocks = block_weights(layout, weights)?;
    let mut x = images.shallow_clone();
    let mut k = 0;
    let mut hidden = 0;
    for (block, (w, norm)) in layout.blocks.iter().zip(blocks) {
        let y = match block.conv {
            Conv::Down => layers::down(ex, &x, w)?,
            Conv::Reduce => layers::reduce(ex, &x, w)?,
            Conv::Project | Conv::Up => {
                return Err(Error::Torch("not a discriminator block".into()))
            }
        };
        let y = match norm {
            Some((scale, shift)) => {
                if until == Until::NormInput(k) {
                    return Ok(y);
                }
                let moments = norms.get(k).ok_or_else(|| {
                    Error::InvalidParameters(format!(
                        "statistics for {} normalisation layers, the critic has more",
                        norms.len()
                    ))
                })?;
                k += 1;
                normalise(&y, moments, scale, shift)?
            }
            None => y,
        };
        x = if block.conv == Conv::Reduce {
            y
        } else {
            ex.leaky_relu(&y, layers::LEAK)?.0
        };
        if block.conv != Conv::Reduce {
            on_hidden(&x)?;
            if until == Until::Hidden(hidden) {
                return Ok(x);
            }
            hidden += 1;
        }
    }
    match until {
        Until::Logits if k == norms.len() => Ok(x),
        Until::Logits => Err(Error::InvalidParameters(format!(
            "statistics for {} normalisation layers, the critic has {k}",
            norms.len()
        ))),
        Until::NormInput(n) => Err(Error::InvalidParameters(format!(
            "no normalisation layer {n} (the critic has {k})"
        ))),
        Until::Hidden(last) => Err(Error::InvalidParameters(format!(
            "no hidden layer {last} (the critic has {hidden})"
        ))),
    }
}

/// Hidden layers whose statistics are the critic's features: the first two (one when the
/// critic has one).
pub(crate) const FEATURE_LAYERS: usize = 2;

/// Per record, the feature statistics of the discriminator's first `layers` hidden layers
/// (fewer when it has fewer) in inference form: layer by layer, each channel's mean over its
/// positions, then each channel's standard deviation over them (float64, in position order).
pub(crate) fn hidden_statistics(
    ex: &Exact,
    layout: &Layout,
    weights: &[Tensor],
    images: &Tensor,
    norms: &[ChannelMoments],
    layers: usize,
) -> Result<Vec<Vec<f64>>> {
    let available = layout
        .blocks
        .iter()
        .filter(|b| b.conv != Conv::Reduce)
        .count();
    let last = layers.min(available).checked_sub(1).ok_or_else(|| {
        Error::InvalidParameters("the critic has no hidden layer to take features from".into())
    })?;
    let records = torch(images.size4())?.0 as usize;
    let mut features: Vec<Vec<f64>> = vec![Vec::new(); records];
    run(
        ex,
        layout,
        weights,
        images,
        norms,
        Until::Hidden(last),
        |x| {
            for (row, stats) in features.iter_mut().zip(channel_statistics(x)?) {
                row.extend(stats);
            }
            Ok(())
        },
    )
    .map(|_last_layer| features)
}

/// Per record of an NCHW tensor, each channel's mean over its positions followed by each
/// channel's (population) standard deviation over them: float64, added in position order.
fn channel_statistics(x: &Tensor) -> Result<Vec<Vec<f64>>> {
    let (b, c, h, w) = torch(x.size4())?;
    let (b, c, hw) = (b as usize, c as usize, (h * w) as usize);
    let values = host_values(x, b * c * hw)?;
    let n = hw as f64;
    Ok(values
        .chunks_exact(c * hw)
        .map(|plane| {
            let mut row: Vec<f64> = plane
                .chunks_exact(hw)
                .map(|p| p.iter().map(|&v| f64::from(v)).sum::<f64>() / n)
                .collect();
            let stds: Vec<f64> = plane
                .chunks_exact(hw)
                .zip(&row)
                .map(|(p, m)| {
                    let var = p.iter().map(|&v| (f64::from(v) - m).powi(2)).sum::<f64>() / n;
                    var.sqrt()
                })
                .collect();
            row.extend(stds);
            row
        })
        .collect())
}

/// A float32 tensor's `n` values on the host, in memory order.
fn host_values(x: &Tensor, n: usize) -> Result<Vec<f32>> {
    let host =
        torch(torch(torch(x.f_to_device(Device::Cpu))?.f_to_kind(Kind::Float))?.f_contiguous())?;
    let mut values = vec![0f32; n];
    torch(host.f_copy_data(&mut values, n))?;
    Ok(values)
}

/// Batch norm in inference form: `((y - mean) * inv_std) * scale + shift` per channel.
fn normalise(
    y: &Tensor,
    moments: &ChannelMoments,
    scale: &Tensor,
    shift: &Tensor,
) -> Result<Tensor> {
    moments.validate()?;
    let (_, c, _, _) = torch(y.size4())?;
    if moments.mean.len() != c as usize {
        return Err(Error::InvalidParameters(format!(
            "statistics of {} channels for a layer of {c}",
            moments.mean.len()
        )));
    }
    let inv_std: Vec<f32> = moments
        .var
        .iter()
        .map(|&v| 1.0 / (v + layers::BN_EPS).sqrt())
        .collect();
    let per_channel = |v: &[f32]| -> Result<Tensor> {
        let t = torch(Tensor::f_from_slice(v))?;
        torch(torch(t.f_to_device(y.device()))?.f_reshape([1, c, 1, 1]))
    };
    let c4 = |t: &Tensor| torch(t.f_reshape([1, c, 1, 1]));
    let centred = torch(y.f_sub(&per_channel(&moments.mean)?))?;
    let normalised = torch(centred.f_mul(&per_channel(&inv_std)?))?;
    torch(torch(normalised.f_mul(&c4(scale)?))?.f_add(&c4(shift)?))
}

/// Per-channel sums of an NCHW tensor in float64, added record by record, then position by
/// position (a fixed order: the same bits whatever the device or thread count).
pub(crate) fn channel_sums(y: &Tensor) -> Result<ChannelSums> {
    let (b, c, h, w) = torch(y.size4())?;
    let (b, c, hw) = (b as usize, c as usize, (h * w) as usize);
    let values = host_values(y, b * c * hw)?;
    let mut sums = ChannelSums {
        sum: vec![0.0; c],
        sum_squares: vec![0.0; c],
        count: (b * hw) as u64,
    };
    for plane in values.chunks_exact(c * hw) {
        for (ch, positions) in plane.chunks_exact(hw).enumerate() {
            for &v in positions {
                let v = f64::from(v);
                sums.sum[ch] += v;
                sums.sum_squares[ch] += v * v;
            }
        }
    }
    Ok(sums)
}
