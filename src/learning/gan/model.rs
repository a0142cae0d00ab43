//! The DCGAN generator and discriminator as explicit, named weight tensors and functional
//! forward passes (no `VarStore`: names, order and initialisation stay under our control).
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
//!
//! The convolutions are spelled as matrix products: the generator's first block (a `1x1` latent
//! to `4x4`) and the discriminator's last (`4x4` to one logit) are plain products; the stride-2
//! blocks pair one product per image with `col2im` (generator) or `im2col` (discriminator),
//! which keeps activations and their gradients NCHW-contiguous. This computes the functions of
//! `conv_transpose2d`/`conv2d`, but through kernels whose bits do not depend on the thread
//! count (see `determinism`), and on these small shapes in well under half the time of
//! libtorch's convolutions (`scripts/bench-learning.sh`).

use super::noise::gaussian;
use super::spec::GanSpec;
use crate::hash::{tag, Digest, Xof};
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
        self.tensors.push(TensorSpec {
            name: format!("{prefix}.b{i}.conv"),
            shape,
            init: CONV_INIT,
        });
        if batch_norm {
            let ch = if prefix == "gen" {
                self.tensors.last().expect("conv").shape[1]
            } else {
                self.tensors.last().expect("conv").shape[0]
            };
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
    pub fn init(&self, seed: &Digest, device: Device) -> Vec<Tensor> {
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
                Tensor::from_slice(&values)
                    .reshape(&t.shape)
                    .to_device(device)
            })
            .collect()
    }

    /// Zeros shaped like every tensor (Adam moments).
    pub fn zeros(&self, device: Device) -> Vec<Tensor> {
        self.tensors
            .iter()
            .map(|t| Tensor::zeros(&t.shape, (Kind::Float, device)))
            .collect()
    }
}

const BN_EPS: f64 = 1e-5;

fn batch_norm(x: &Tensor, scale: &Tensor, shift: &Tensor) -> Tensor {
    x.batch_norm(
        Some(scale),
        Some(shift),
        None::<&Tensor>,
        None::<&Tensor>,
        true,
        0.0,
        BN_EPS,
        true,
    )
}

extern "C" {
    /// In `shim.cpp`: `at::leaky_relu` on a tch tensor handle; a new handle, or null.
    fn pouw_leaky_relu(x: *const std::ffi::c_void, negative_slope: f64) -> *mut std::ffi::c_void;
}

/// LeakyReLU(0.2): libtorch's kernel through the shim (tch's binding fixes the slope at 0.01).
fn leaky_relu(x: &Tensor) -> Tensor {
    // SAFETY: `x.as_ptr()` is a live tch tensor handle (a heap `at::Tensor`); the shim returns a
    // new handle that the returned `Tensor` owns and frees, or null if libtorch threw.
    let out = unsafe { pouw_leaky_relu(x.as_ptr().cast(), 0.2) };
    assert!(!out.is_null(), "leaky_relu of a float tensor cannot fail");
    // SAFETY: non-null, freshly allocated by the shim, owned by nobody else.
    unsafe { Tensor::from_ptr(out.cast()) }
}

/// `conv_transpose2d` of `x` `[B, C, H, W]` by `w` `[C, O, 4, 4]` for `conv`
/// ([`Conv::Project`] or [`Conv::Up`]).
fn conv_transpose(conv: Conv, x: &Tensor, w: &Tensor) -> Tensor {
    let (b, c, h, wd) = x.size4().expect("NCHW input");
    let out = w.size()[1];
    match conv {
        Conv::Project => x
            .reshape([b, c])
            .mm(&w.reshape([c, out * 16]))
            .reshape([b, out, 4, 4]),
        Conv::Up => {
            // Each input pixel's contribution to its 4x4 output window, then summed into place.
            // One product per image, so the gradient reaching `x` stays NCHW-contiguous (a
            // transposed gradient makes the ReLU and batch norm before it slow).
            let kernel = w
                .reshape([c, out * 16])
                .tr()
                .expand([b, out * 16, c], false);
            let columns = kernel.bmm(&x.reshape([b, c, h * wd]));
            columns.col2im([2 * h, 2 * wd], [4, 4], [1, 1], [1, 1], [2, 2])
        }
        Conv::Down | Conv::Reduce => unreachable!("not a transposed convolution"),
    }
}

/// `conv2d` of `x` `[B, C, H, W]` by `w` `[O, C, 4, 4]` for `conv` ([`Conv::Down`] or
/// [`Conv::Reduce`]).
fn convolve(conv: Conv, x: &Tensor, w: &Tensor) -> Tensor {
    let (b, c, h, wd) = x.size4().expect("NCHW input");
    let out = w.size()[0];
    let kernel = w.reshape([out, c * 16]);
    match conv {
        Conv::Reduce => x
            .reshape([b, c * 16])
            .mm(&kernel.tr())
            .reshape([b, out, 1, 1]),
        Conv::Down => {
            // One product per image of the kernel with the image's 4x4 windows: NCHW out.
            let windows = x.im2col([4, 4], [1, 1], [1, 1], [2, 2]);
            kernel
                .expand([b, out, c * 16], false)
                .bmm(&windows)
                .reshape([b, out, h / 2, wd / 2])
        }
        Conv::Project | Conv::Up => unreachable!("not a convolution"),
    }
}

/// The generator's forward pass: latent `[B, latent, 1, 1]` to images `[B, C, S, S]` in `[-1, 1]`.
pub(crate) fn generate(layout: &Layout, weights: &[Tensor], z: &Tensor) -> Tensor {
    let mut x = z.shallow_clone();
    let mut w = weights.iter();
    let last = layout.blocks.len() - 1;
    for (i, block) in layout.blocks.iter().enumerate() {
        x = conv_transpose(block.conv, &x, w.next().expect("layout tensor"));
        if block.batch_norm {
            let (scale, shift) = (w.next().expect("bn scale"), w.next().expect("bn shift"));
            x = batch_norm(&x, scale, shift);
        }
        x = if i == last { x.tanh() } else { x.relu() };
    }
    x
}

/// The discriminator's forward pass: images `[B, C, S, S]` to logits `[B]`.
pub(crate) fn discriminate(layout: &Layout, weights: &[Tensor], images: &Tensor) -> Tensor {
    let mut x = images.shallow_clone();
    let mut w = weights.iter();
    let last = layout.blocks.len() - 1;
    for (i, block) in layout.blocks.iter().enumerate() {
        x = convolve(block.conv, &x, w.next().expect("layout tensor"));
        if block.batch_norm {
            let (scale, shift) = (w.next().expect("bn scale"), w.next().expect("bn shift"));
            x = batch_norm(&x, scale, shift);
        }
        if i != last {
            x = leaky_relu(&x);
        }
    }
    x.reshape([-1])
}
