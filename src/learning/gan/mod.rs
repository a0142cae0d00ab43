//! The DCGAN task: its spec ([`GanSpec`], always available) and, with the `torch` feature, the
//! trainer on exact arithmetic ([`GanTrainer`]).

// Without libtorch only the format is used (`GanSpec::checkpoint_format`).
#[cfg_attr(not(feature = "torch"), allow(dead_code))]
mod checkpoint;
#[cfg_attr(not(feature = "torch"), allow(dead_code))]
mod layout;
mod noise;
mod quality;
#[cfg(all(feature = "torch", feature = "images"))]
pub mod render;
mod spec;

#[cfg(feature = "torch")]
mod inference;
#[cfg(feature = "torch")]
mod layers;
#[cfg(feature = "torch")]
mod liveness;
#[cfg(feature = "torch")]
mod model;
#[cfg(feature = "torch")]
mod trainer;

pub use checkpoint::{CheckpointFormat, DecodedCheckpoint};
pub use noise::gaussian;
pub use quality::sliced_wasserstein;
pub use spec::{GanSpec, Precision};
#[cfg(feature = "torch")]
pub use trainer::GanTrainer;
