//! The process-wide libtorch configuration every trainer runs under.
//!
//! What makes a CPU step bitwise independent of the intra-op thread count (measured on the
//! DCGAN step at 1, 2 and 4 threads, images of 8 to 64 pixels):
//! - no libtorch convolution: oneDNN's convolution weight gradients split their reduction by
//!   thread, and its fallbacks are either thread-dependent too (NNPACK) or slow (the im2col
//!   loops). The model spells its convolutions as `im2col`/`col2im` and matrix products
//!   (see `model`), which oneDNN and NNPACK never see; both stay off all the same;
//!   NCHW-contiguous gradients also keep ReLU's backward off a strided kernel 30x slower;
//! - every matrix product on one MKL thread ([`single_threaded_blas`], per calling thread):
//!   MKL splits a product's rows by thread and its edge kernels round differently, so a
//!   `[1024, 16] x [16, 40]` product already differs between 1 and 4 threads;
//! - NCHW-contiguous activations (batch norm on other strides reduces by thread), and no
//!   whole-tensor reduction over more than 32768 elements (ATen splits those by thread).
//!
//! Element-wise kernels, batch norm, `im2col` and `col2im` still run on every intra-op thread.
//! ATen's CPU kernels are pinned to the AVX2 level (`ATEN_CPU_CAPABILITY=avx2` when unset) so
//! machines with and without AVX-512 run the same kernels. Deterministic algorithms,
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
    fn pouw_blas_pin_one_thread() -> i32;
    fn pouw_blas_restore(previous: i32);
}

/// cuBLAS needs this workspace setting for deterministic results; it is read when CUDA
/// initialises, so it is set before any trainer exists.
const CUBLAS_WORKSPACE_CONFIG: &str = ":4096:8";

/// ATen's CPU kernel level: AVX2, which every x86-64 machine of the last decade runs.
const CPU_CAPABILITY: &str = "avx2";

static CONFIGURED: OnceLock<std::result::Result<(), String>> = OnceLock::new();

/// Set by [`configure_plain_for_benchmarks`]: matrix products then keep MKL's thread count.
static PLAIN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

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

/// Configures libtorch as it comes (oneDNN and NNPACK on, kernels at the machine's best level,
/// matrix products on every MKL thread: [`single_threaded_blas`] pins nothing)
/// instead of the deterministic configuration, for benchmarks that measure what determinism
/// costs. Steps are then not thread-invariant: never use it where proofs are made or checked.
/// Returns false (changing nothing) if the process is already configured.
#[doc(hidden)]
pub fn configure_plain_for_benchmarks() -> bool {
    let mut fresh = false;
    CONFIGURED.get_or_init(|| {
        fresh = true;
        PLAIN.store(true, std::sync::atomic::Ordering::Relaxed);
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

/// While alive, MKL runs the matrix products of the thread that created it on one thread
/// (the other intra-op kernels keep every thread); dropping it restores MKL's previous count.
/// Not `Send`: the setting belongs to the creating thread.
#[derive(Debug)]
pub struct SingleThreadedBlas {
    previous: Option<i32>,
    _not_send: std::marker::PhantomData<*const ()>,
}

/// Pins the calling thread's matrix products to one MKL thread, as every step, quality score
/// and discriminator forward pass does. Errors where libtorch has no MKL (no x86-64 build):
/// the pin, and so thread invariance, is then not established.
pub fn single_threaded_blas() -> Result<SingleThreadedBlas> {
    if PLAIN.load(std::sync::atomic::Ordering::Relaxed) {
        return Ok(SingleThreadedBlas {
            previous: None,
            _not_send: std::marker::PhantomData,
        });
    }
    // SAFETY: sets a thread-local MKL setting; no arguments.
    match unsafe { pouw_blas_pin_one_thread() } {
        -1 => Err(Error::InvalidParameters(
            "this libtorch has no MKL: CPU matrix products cannot be pinned to one thread".into(),
        )),
        previous => Ok(SingleThreadedBlas {
            previous: Some(previous),
            _not_send: std::marker::PhantomData,
        }),
    }
}

impl Drop for SingleThreadedBlas {
    fn drop(&mut self) {
        if let Some(previous) = self.previous {
            // SAFETY: restores the thread-local value read by `single_threaded_blas` on this
            // (the same, as the guard is not `Send`) thread.
            unsafe { pouw_blas_restore(previous) }
        }
    }
}
