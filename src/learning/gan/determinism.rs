//! The process-wide libtorch configuration every trainer runs under.
//!
//! libtorch's switches are global to the process, so they are set once, before the first
//! trainer touches a device, and are the same for every trainer and verifier in the process:
//! mining and verifying on other threads see identical settings.

use crate::error::{Error, Result};
use std::sync::OnceLock;

extern "C" {
    fn pouw_torch_configure(mkldnn_enabled: i32) -> i32;
    fn pouw_torch_deterministic() -> i32;
}

/// cuBLAS needs this workspace setting for deterministic results; it is read when CUDA
/// initialises, so it is set before any trainer exists.
const CUBLAS_WORKSPACE_CONFIG: &str = ":4096:8";

static CONFIGURED: OnceLock<std::result::Result<(), String>> = OnceLock::new();

/// Applies the deterministic configuration once per process (later calls return its outcome).
pub fn configure() -> Result<()> {
    CONFIGURED
        .get_or_init(|| {
            if std::env::var_os("CUBLAS_WORKSPACE_CONFIG").is_none() {
                // Set before CUDA initialises; the value is fixed, so a race with another thread
                // setting the same variable is benign.
                std::env::set_var("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE_CONFIG);
            }
            // SAFETY: plain C call into libtorch's global context; exceptions are caught in C++.
            match unsafe { pouw_torch_configure(0) } {
                0 => Ok(()),
                _ => Err("libtorch rejected the deterministic configuration".to_owned()),
            }
        })
        .clone()
        .map_err(Error::InvalidParameters)
}

/// Whether libtorch's deterministic-algorithms switch is on.
pub fn deterministic_algorithms() -> bool {
    // SAFETY: reads a flag of libtorch's global context.
    unsafe { pouw_torch_deterministic() != 0 }
}
