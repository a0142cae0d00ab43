//! The DCGAN's networks as explicit, named weight tensors: blocks, names, shapes and
//! initialisation, and the tensors a checkpoint holds (no libtorch needed).
//!
//! With `L = log2(S) - 2` for images of side `S`:
//! - generator: `L + 1` transposed convolutions (kernel 4; the first stride 1 from the `1x1`
//!   latent to `4x4`, the rest stride 2), batch norm and ReLU after all but the last, tanh last;
//!   filters `g_filters * 2^(L-1-i)` in block `i`;
//! - discriminator: `L + 1` convolutions (kernel 4; stride 2, the last stride 1 down to one
//!   logit), batch norm in blocks `1..L`, LeakyReLU(0.2) after all but the last; filters
//!   `d_filters * 2^i`.

use super::spec::GanSpec;

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
}

/// The names and shapes of every tensor a checkpoint holds: generator, discriminator, then
/// Adam's first and second moments of each.
pub(crate) fn checkpoint_tensors(gen: &Layout, dis: &Layout) -> Vec<(String, Vec<usize>)> {
    let shapes = |layout: &Layout, prefix: &str| -> Vec<(String, Vec<usize>)> {
        layout
            .tensors
            .iter()
            .map(|t| {
                (
                    format!("{prefix}{}", t.name),
                    t.shape.iter().map(|&d| d as usize).collect(),
                )
            })
            .collect()
    };
    let mut out = shapes(gen, "");
    out.extend(shapes(dis, ""));
    for layout in [gen, dis] {
        for moment in ["m", "v"] {
            out.extend(shapes(layout, &format!("adam.{moment}.")));
        }
    }
    out
}
