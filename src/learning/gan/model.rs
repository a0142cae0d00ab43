//! The DCGAN generator and discriminator (their layouts in `layout`) on libtorch tensors: the
//! initial weights, and forward and backward passes on exact arithmetic (no `VarStore`, no
//! autograd: names, order, initialisation and every operation stay under our control).
//!
//! Batch norm always uses batch statistics (no running averages): the state is the weights.
//! The layers themselves are in `layers`.

use super::layers;
use super::layout::{Conv, Init, Layout};
use super::noise::gaussian;
use crate::error::{Error, Result};
use crate::hash::{tag, Digest, Xof};
use crate::learning::exact::{torch, Exact, NormCache};
use tch::{Device, Kind, Tensor};

/// Fresh weights of `layout` drawn from `seed`: each tensor from its own stream keyed by its
/// name, so the draw does not depend on creation order.
pub(crate) fn init_weights(layout: &Layout, seed: &Digest, device: Device) -> Result<Vec<Tensor>> {
    layout
        .tensors
        .iter()
        .map(|t| {
            let numel = t.shape.iter().product::<i64>() as usize;
            let values = match t.init {
                Init::Zeros => vec![0f32; numel],
                Init::Normal { mean, std } => {
                    let mut key = seed.to_vec();
                    key.extend_from_slice(t.name.as_bytes());
                    gaussian(&mut Xof::new(tag::INIT, &key), numel, mean, std)
                }
            };
            host_tensor(&values, &t.shape, device)
        })
        .collect()
}

/// Zeros shaped like every tensor of `layout` (Adam moments).
pub(crate) fn zeros(layout: &Layout, device: Device) -> Result<Vec<Tensor>> {
    layout
        .tensors
        .iter()
        .map(|t| torch(Tensor::f_zeros(&t.shape, (Kind::Float, device))))
        .collect()
}

/// A float32 tensor of `shape` on `device` from host values.
pub(crate) fn host_tensor(values: &[f32], shape: &[i64], device: Device) -> Result<Tensor> {
    let t = torch(torch(Tensor::f_from_slice(values))?.f_reshape(shape))?;
    if device == Device::Cpu {
        Ok(t)
    } else {
        torch(t.f_to_device(device))
    }
}

/// A float32 tensor of `shape` on `device` from its values' little-endian bytes, copied in one
/// pass ([`Error::InvalidField`] unless they are exactly the shape's values).
pub(crate) fn host_tensor_of_bytes(bytes: &[u8], shape: &[i64], device: Device) -> Result<Tensor> {
    let values: usize = shape
        .iter()
        .map(|&d| usize::try_from(d).unwrap_or(0))
        .product();
    if values.checked_mul(4) != Some(bytes.len()) || shape.iter().any(|&d| d < 0) {
        return Err(Error::InvalidField {
            what: "tensor bytes",
            detail: format!("{} bytes for shape {shape:?}", bytes.len()),
        });
    }
    if cfg!(target_endian = "big") {
        return host_tensor(&super::checkpoint::floats_of(bytes), shape, device);
    }
    // The length was checked just above: libtorch reads exactly `4 x values` bytes.
    let t = torch(Tensor::f_from_data_size(bytes, shape, Kind::Float))?;
    if device == Device::Cpu {
        Ok(t)
    } else {
        torch(t.f_to_device(device))
    }
}

/// Whether a forward pass keeps what its backward pass needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Keep {
    /// Keep it (training).
    ForBackward,
    /// Keep nothing (inference).
    Nothing,
}

/// What one block's backward pass needs.
#[derive(Debug, Default)]
struct BlockCache {
    /// The block's input.
    input: Option<Tensor>,
    /// Batch norm's cache.
    norm: Option<NormCache>,
    /// The activation's mask (ReLU, LeakyReLU) or output (tanh).
    activation: Option<Tensor>,
}

/// What a network's backward pass needs: one cache per block.
#[derive(Debug)]
pub(crate) struct Cache(Vec<BlockCache>);

/// The gradients a discriminator backward pass computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Wanted {
    /// Gradients of every weight.
    pub weights: bool,
    /// The gradient of the input images.
    pub input: bool,
}

fn missing(what: &str) -> Error {
    Error::Torch(format!("backward pass without the forward pass's {what}"))
}

/// One block's weights: the convolution's, and batch norm's scale and shift when present.
pub(crate) type BlockWeights<'w> = (&'w Tensor, Option<(&'w Tensor, &'w Tensor)>);

/// Splits a network's weights into its blocks.
pub(crate) fn block_weights<'w>(
    layout: &Layout,
    weights: &'w [Tensor],
) -> Result<Vec<BlockWeights<'w>>> {
    let mut it = weights.iter();
    let mut next = || {
        it.next()
            .ok_or_else(|| Error::Torch("fewer weights than the layout".into()))
    };
    layout
        .blocks
        .iter()
        .map(|block| {
            let conv = next()?;
            let norm = if block.batch_norm {
                Some((next()?, next()?))
            } else {
                None
            };
            Ok((conv, norm))
        })
        .collect()
}

/// The generator's forward pass: latent `[B, latent]` to images `[B, C, S, S]` in `[-1, 1]`.
pub(crate) fn generate(
    ex: &Exact,
    layout: &Layout,
    weights: &[Tensor],
    z: &Tensor,
    keep: Keep,
) -> Result<(Tensor, Cache)> {
    let blocks = block_weights(layout, weights)?;
    let last = layout.blocks.len() - 1;
    let mut x = z.shallow_clone();
    let mut caches = Vec::with_capacity(blocks.len());
    for (i, (block, (w, norm))) in layout.blocks.iter().zip(blocks).enumerate() {
        let mut cache = BlockCache::default();
        let y = match block.conv {
            Conv::Project => layers::project(ex, &x, w)?,
            Conv::Up => layers::up(ex, &x, w)?,
            Conv::Down | Conv::Reduce => return Err(Error::Torch("not a generator block".into())),
        };
        if keep == Keep::ForBackward {
            cache.input = Some(x);
        }
        let y = match norm {
            Some((scale, shift)) => {
                let (y, c) = ex.batch_norm(&y, scale, shift, layers::BN_EPS)?;
                cache.norm = Some(c);
                y
            }
            None => y,
        };
        x = if i == last {
            let out = ex.tanh(&y)?;
            cache.activation = Some(out.shallow_clone());
            out
        } else {
            let (out, mask) = ex.relu(&y)?;
            cache.activation = Some(mask);
            out
        };
        if keep == Keep::ForBackward {
            caches.push(cache);
        }
    }
    Ok((x, Cache(caches)))
}

/// The generator's backward pass from the gradient of its output images: the gradient of every
/// weight, in layout order.
pub(crate) fn generator_backward(
    ex: &Exact,
    layout: &Layout,
    weights: &[Tensor],
    cache: &Cache,
    d_images: &Tensor,
) -> Result<Vec<Tensor>> {
    let blocks = block_weights(layout, weights)?;
    let last = layout.blocks.len() - 1;
    let mut grads: Vec<Vec<Tensor>> = Vec::with_capacity(blocks.len());
    let mut d = d_images.shallow_clone();
    for (i, ((block, (w, norm)), c)) in layout
        .blocks
        .iter()
        .zip(blocks)
        .zip(&cache.0)
        .enumerate()
        .rev()
    {
        let activation = c.activation.as_ref().ok_or_else(|| missing("activation"))?;
        d = if i == last {
            layers::tanh_backward(&d, activation)?
        } else {
            ex.relu_backward(&d, activation)?
        };
        let mut block_grads = Vec::with_capacity(3);
        if let Some((scale, _)) = norm {
            let nc = c.norm.as_ref().ok_or_else(|| missing("batch norm"))?;
            let (dx, g) = ex.batch_norm_backward(&d, nc, scale, true)?;
            d = dx;
            let (dscale, dshift) = g.ok_or_else(|| missing("batch norm gradients"))?;
            block_grads.extend([dscale, dshift]);
        }
        let input = c.input.as_ref().ok_or_else(|| missing("input"))?;
        let dw = match block.conv {
            Conv::Project => layers::project_weight_grad(ex, input, &d)?,
            Conv::Up => {
                let dw = layers::up_weight_grad(ex, input, &d)?;
                d = layers::up_input_grad(ex, &d, w)?;
                dw
            }
            Conv::Down | Conv::Reduce => return Err(Error::Torch("not a generator block".into())),
        };
        block_grads.insert(0, dw);
        grads.push(block_grads);
    }
    Ok(grads.into_iter().rev().flatten().collect())
}

/// The discriminator's forward pass: images `[B, C, S, S]` to logits `[B]`.
pub(crate) fn discriminate(
    ex: &Exact,
    layout: &Layout,
    weights: &[Tensor],
    images: &Tensor,
    keep: Keep,
) -> Result<(Tensor, Cache)> {
    let blocks = block_weights(layout, weights)?;
    let mut x = images.shallow_clone();
    let mut caches = Vec::with_capacity(blocks.len());
    for (block, (w, norm)) in layout.blocks.iter().zip(blocks) {
        let mut cache = BlockCache::default();
        let y = match block.conv {
            Conv::Down => layers::down(ex, &x, w)?,
            Conv::Reduce => layers::reduce(ex, &x, w)?,
            Conv::Project | Conv::Up => {
                return Err(Error::Torch("not a discriminator block".into()))
            }
        };
        if keep == Keep::ForBackward {
            cache.input = Some(x);
        }
        let y = match norm {
            Some((scale, shift)) => {
                let (y, c) = ex.batch_norm(&y, scale, shift, layers::BN_EPS)?;
                cache.norm = Some(c);
                y
            }
            None => y,
        };
        x = if block.conv == Conv::Reduce {
            y
        } else {
            let (out, mask) = ex.leaky_relu(&y, layers::LEAK)?;
            cache.activation = Some(mask);
            out
        };
        if keep == Keep::ForBackward {
            caches.push(cache);
        }
    }
    Ok((x, Cache(caches)))
}

/// The discriminator's backward pass from the gradient of its logits: the weight gradients (in
/// layout order) and the input gradient, each when wanted.
pub(crate) fn discriminator_backward(
    ex: &Exact,
    layout: &Layout,
    weights: &[Tensor],
    cache: &Cache,
    d_logits: &Tensor,
    wanted: Wanted,
) -> Result<(Vec<Tensor>, Option<Tensor>)> {
    let blocks = block_weights(layout, weights)?;
    let mut grads: Vec<Vec<Tensor>> = Vec::with_capacity(blocks.len());
    let mut d = d_logits.shallow_clone();
    for (i, ((block, (w, norm)), c)) in layout
        .blocks
        .iter()
        .zip(blocks)
        .zip(&cache.0)
        .enumerate()
        .rev()
    {
        let input = c.input.as_ref().ok_or_else(|| missing("input"))?;
        let need_input = i > 0 || wanted.input;
        let mut block_grads = Vec::with_capacity(3);
        if block.conv == Conv::Reduce {
            if wanted.weights {
                block_grads.push(layers::reduce_weight_grad(ex, input, &d)?);
            }
            if need_input {
                d = layers::reduce_input_grad(&d, w)?;
            }
        } else {
            let mask = c.activation.as_ref().ok_or_else(|| missing("activation"))?;
            d = ex.leaky_relu_backward(&d, mask, layers::LEAK)?;
            if let Some((scale, _)) = norm {
                let nc = c.norm.as_ref().ok_or_else(|| missing("batch norm"))?;
                let (dx, g) = ex.batch_norm_backward(&d, nc, scale, wanted.weights)?;
                d = dx;
                if let Some((dscale, dshift)) = g {
                    block_grads.extend([dscale, dshift]);
                }
            }
            if wanted.weights {
                block_grads.insert(0, layers::down_weight_grad(ex, input, &d)?);
            }
            if need_input {
                d = layers::down_input_grad(ex, &d, w)?;
            }
        }
        grads.push(block_grads);
    }
    let grads = grads.into_iter().rev().flatten().collect();
    Ok((grads, wanted.input.then_some(d)))
}
