//! The process-wide libtorch configuration every trainer runs under.
//!
//! What makes a CPU step bitwise independent of the intra-op thread count (measured on the
//! DCGAN step at 1 to 8 threads, images of 8 to 64 pixels): oneDNN (mkldnn) off, because its
//! convolution weight gradients split their reduction by thread; NNPACK off, which changes the
//! bits too and makes two threads ten times slower once oneDNN is off; NCHW-contiguous tensors;
//! no whole-tensor reduction over more than 32768 elements in the step (ATen splits those by
//! thread). ATen's CPU kernels are pinned to the AVX2 level (`ATEN_CPU_CAPABILITY=avx2` when
//! unset) so machines with and without AVX-512 run the same kernels. Deterministic algorithms,
//! deterministic cuDNN without benchmarking, and TF32 off cover CUDA.
//!
//! libtorch's switches are global to the process, so they are set once, before the first
//! trainer touches a device, and are the same for every trainer and verifier in the process:
//! mining and verifying on other threads see identical settings.

use crate::error::{Error, Result};
use std::sync::OnceLock;

extern "C" {
    fn pouw_torch_configure(mkldnn_enabled: i32, nnpack_enabled: i32) -> i32;
    fn pouw_torch_deterministic() -> i32;
}

/// cuBLAS needs this workspace setting for deterministic results; it is read when CUDA
/// initialises, so it is set before any trainer exists.
const CUBLAS_WORKSPACE_CONFIG: &str = ":4096:8";

/// ATen's CPU kernel level: AVX2, which every x86-64 machine of the last decade runs.
const CPU_CAPABILITY: &str = "avx2";

static CONFIGURED: OnceLock<std::result::Result<(), String>> = OnceLock::new();

/// Applies the deterministic configuration once per process (later calls return its outcome).
pub fn configure() -> Result<()> {
    CONFIGURED
        .get_or_init(|| {
            // Both are read once, when CUDA initialises and at ATen's first CPU dispatch, so they
            // are set before any trainer exists; the values are fixed, so a race with another
            // thread setting the same variable is benign.
            for (name, value) in [
                ("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE_CONFIG),
                ("ATEN_CPU_CAPABILITY", CPU_CAPABILITY),
            ] {
                if std::env::var_os(name).is_none() {
                    std::env::set_var(name, value);
                }
            }
            // SAFETY: plain C call into libtorch's global context; exceptions are caught in C++.
            match unsafe { pouw_torch_configure(0, 0) } {
                0 => Ok(()),
                _ => Err("libtorch rejected the deterministic configuration".to_owned()),
            }
        })
        .clone()
        .map_err(Error::InvalidParameters)
}

/// Configures libtorch as it comes (oneDNN and NNPACK on, kernels at the machine's best level)
/// instead of the deterministic configuration, for benchmarks that measure what determinism
/// costs. Steps are then not thread-invariant: never use it where proofs are made or checked.
/// Returns false (changing nothing) if the process is already configured.
#[doc(hidden)]
pub fn configure_plain_for_benchmarks() -> bool {
    let mut fresh = false;
    CONFIGURED.get_or_init(|| {
        fresh = true;
        // SAFETY: as in `configure`.
        match unsafe { pouw_torch_configure(1, 1) } {
            0 => Ok(()),
            _ => Err("libtorch rejected the configuration".to_owned()),
        }
    });
    fresh
}

/// Whether libtorch's deterministic-algorithms switch is on.
pub fn deterministic_algorithms() -> bool {
    // SAFETY: reads a flag of libtorch's global context.
    unsafe { pouw_torch_deterministic() != 0 }
}
