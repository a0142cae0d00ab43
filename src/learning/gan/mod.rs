//! The DCGAN task: its spec ([`GanSpec`], always available) and, with the `torch` feature, the
//! libtorch trainer ([`GanTrainer`]).

mod noise;
mod quality;
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
pub use quality::sliced_wasserstein;
pub use spec::{BackendProfile, DeviceChoice, GanSpec, Precision};
#[cfg(feature = "torch")]
pub use trainer::{resolve_device, GanTrainer};
