//! The DCGAN task: its spec ([`GanSpec`], always available) and, with the `torch` feature, the
//! libtorch trainer ([`GanTrainer`]).

mod noise;
mod quality;
#[cfg(feature = "torch")]
pub mod render;
mod spec;

#[cfg(feature = "torch")]
mod checkpoint;
#[cfg(feature = "torch")]
pub mod determinism;
#[cfg(feature = "torch")]
mod model;
#[cfg(feature = "torch")]
mod trainer;

pub use noise::gaussian;

/// The default tolerance of [`crate::learning::VerifyMode::Tolerance`] for this model: the
/// largest relative L2 distance per tensor group accepted between a re-executed step and the
/// claimed one when the verifier runs on another device class (see README, "Tolerance mode").
/// Measured: CPU re-execution of CUDA (H200) steps of the default digits model differed by at
/// most 1.6e-7 (Adam moments) and 3.9e-8 (weights) over 5 steps, in two runs
/// (`docs/cuda-check-2026-11-26-h200*.log`); the tolerance leaves a margin of about 60.
pub const DEFAULT_TOLERANCE: f64 = 1e-5;

pub use quality::sliced_wasserstein;
pub use spec::{BackendProfile, DeviceChoice, GanSpec, Precision};
#[cfg(feature = "torch")]
pub use trainer::{resolve_device, GanTrainer};
