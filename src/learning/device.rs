//! Where a model runs: a local choice of each node, never a consensus parameter.

/// Where a trainer runs. Every device computes the same bits (the work function compares
/// digests bit for bit), so this is chosen by each node for itself and is never encoded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DeviceChoice {
    /// CUDA device 0 when available, else the CPU.
    #[default]
    Auto,
    /// The CPU.
    Cpu,
    /// The CUDA device of this index.
    Cuda(usize),
}
