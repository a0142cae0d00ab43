//! The DCGAN generator and discriminator as explicit, named weight tensors, with forward and
//! backward passes on exact arithmetic (no `VarStore`, no autograd: names, order,
//! initialisation and every operation stay under our control).
//!
//! With `L = log2(S) - 2` for images of side `S`:
//! - generator: `L + 1` transposed convolutions (kernel 4; the first stride 1 from the `1x1`
//!   latent to `4x4`, the rest stride 2), batch norm and ReLU after all but the last, tanh last;
//!   filters `g_filters * 2^(L-1-i)` in block `i`;
//! - discriminator: `L + 1` convolutions (kernel 4; stride 2, the last stride 1 down to one
//!   logit), batch norm in blocks `1..L`, LeakyReLU(0.2) after all but the last; filters
//!   `d_filters * 2^i`.
//!
//! Batch norm always uses batch statistics (no running averages): the state is the weights.
//! The layers themselves are in `layers`.

use super::layers;
use super::noise::gaussian;
use super::spec::GanSpec;
use crate::error::{Error, Result};
use crate::hash::{tag, Digest, Xof};
use crate::learning::exact::{torch, Exact, NormCache};
use tch::{Device, Kind, Tensor};

/// How a tensor is initialised (DCGAN: conv weights N(0, 0.02), BN scale N(1, 0.02), shift 0).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Init {
    Normal { mean: f32, std: f32 },
    Zeros,
}

/// One named weight tensor of a network.
#[derive(Clone, Debug)]
pub(crate) struct TensorSpec {
    pub name: String,
    pub shape: Vec<i64>,
    pub init: Init,
}

/// The convolution of a block (all kernels are `4x4`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Conv {
    /// Transposed, stride 1, no padding, from `1x1` to `4x4` (the generator's first block).
    Project,
    /// Transposed, stride 2, padding 1: doubles the side.
    Up,
    /// Stride 2, padding 1: halves the side.
    Down,
    /// Stride 1, no padding, from `4x4` to `1x1` (the discriminator's last block).
    Reduce,
}

/// One block: a convolution, optionally batch norm.
#[derive(Clone, Debug)]
pub(crate) struct Block {
    pub conv: Conv,
    pub batch_norm: bool,
}

/// The layout of a network: its blocks and its tensors in forward order
/// (per block: conv weight, then BN scale and shift when present).
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    pub blocks: Vec<Block>,
    pub tensors: Vec<TensorSpec>,
}

const CONV_INIT: Init = Init::Normal {
    mean: 0.0,
    std: 0.02,
};
const BN_SCALE_INIT: Init = Init::Normal {
    mean: 1.0,
    std: 0.02,
};

impl Layout {
    fn push_block(
        &mut self,
        prefix: &str,
        i: usize,
        shape: Vec<i64>,
        conv: Conv,
        batch_norm: bool,
    ) {
        // The channels a block's batch norm sees: its output channels.
        let ch = if prefix == "gen" { shape[1] } else { shape[0] };
        self.tensors.push(TensorSpec {
            name: format!("{prefix}.b{i}.conv"),
            shape,
            init: CONV_INIT,
        });
        if batch_norm {
            self.tensors.push(TensorSpec {
                name: format!("{prefix}.b{i}.bn.scale"),
                shape: vec![ch],
                init: BN_SCALE_INIT,
            });
            self.tensors.push(TensorSpec {
                name: format!("{prefix}.b{i}.bn.shift"),
                shape: vec![ch],
                init: Init::Zeros,
            });
        }
        self.blocks.push(Block { conv, batch_norm });
    }

    /// The generator of `spec`.
    pub fn generator(spec: &GanSpec) -> Self {
        let l = spec.depth() as usize;
        let mut layout = Layout {
            blocks: Vec::new(),
            tensors: Vec::new(),
        };
        let mut input = i64::from(spec.latent);
        for i in 0..=l {
            let last = i == l;
            let out = if last {
                i64::from(spec.channels)
            } else {
                i64::from(spec.g_filters) << (l - 1 - i)
            };
            let conv = if i == 0 { Conv::Project } else { Conv::Up };
            layout.push_block("gen", i, vec![input, out, 4, 4], conv, !last);
            input = out;
        }
        layout
    }

    /// The discriminator of `spec`.
    pub fn discriminator(spec: &GanSpec) -> Self {
        let l = spec.depth() as usize;
        let mut layout = Layout {
            blocks: Vec::new(),
            tensors: Vec::new(),
        };
        let mut input = i64::from(spec.channels);
        for i in 0..=l {
            let last = i == l;
            let out = if last {
                1
            } else {
                i64::from(spec.d_filters) << i
            };
            let conv = if last { Conv::Reduce } else { Conv::Down };
            layout.push_block("dis", i, vec![out, input, 4, 4], conv, i > 0 && !last);
            input = out;
        }
        layout
    }

    /// Fresh weights drawn from `seed`: each tensor from its own stream keyed by its name, so
    /// the draw does not depend on creation order.
    pub fn init(&self, seed: &Digest, device: Device) -> Result<Vec<Tensor>> {
        self.tensors
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

    /// Zeros shaped like every tensor (Adam moments).
    pub fn zeros(&self, device: Device) -> Result<Vec<Tensor>> {
        self.tensors
            .iter()
            .map(|t| torch(Tensor::f_zeros(&t.shape, (Kind::Float, device))))
            .collect()
    }
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
type BlockWeights<'w> = (&'w Tensor, Option<(&'w Tensor, &'w Tensor)>);

/// Splits a network's weights into its blocks.
fn block_weights<'w>(layout: &Layout, weights: &'w [Tensor]) -> Result<Vec<BlockWeights<'w>>> {
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
