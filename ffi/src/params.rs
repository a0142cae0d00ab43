//! Consensus parameters of the GAN task: made from a dataset with options, or decoded from the
//! canonical bytes a chain pins.

use crate::boundary::{free_handle, guard, handle, out_ptr, slice, write_handle};
use crate::buffer::pouw_buffer;
use crate::dataset::pouw_dataset;
use crate::result::PouwResult;
use pouw::learning::gan::{DeviceChoice, GanSpec};
use pouw::work::ConsensusParams;

/// Device choice: CUDA device 0 when available, else the CPU (the default).
pub const POUW_DEVICE_AUTO: u32 = 0;
/// Device choice: the CPU.
pub const POUW_DEVICE_CPU: u32 = 1;
/// Device choice: the CUDA device numbered by `cuda_index`.
pub const POUW_DEVICE_CUDA: u32 = 2;

/// Options of [`pouw_params_new_gan`]. Every field left 0 keeps its default, so a zeroed struct
/// (`pouw_params_options opts = {0};`) gives the default parameters.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, Default)]
pub struct pouw_params_options {
    /// Generator base filters (default 160).
    pub g_filters: u32,
    /// Discriminator base filters (default 40).
    pub d_filters: u32,
    /// Latent size (default 100).
    pub latent: u32,
    /// Records per training batch (default 64).
    pub batch_size: u32,
    /// Steps a block proof opens besides the winning one (default 16).
    pub opened_steps: u32,
    /// Records asked for by a block's capacity challenge (default 32).
    pub capacity_challenges: u32,
    /// The most steps one block may claim (default 100000).
    pub max_steps: u64,
    /// The fewest steps a block holds: tickets count from this step on (default 1).
    pub min_steps: u64,
    /// Where this process trains: `POUW_DEVICE_AUTO` (default), `POUW_DEVICE_CPU` or
    /// `POUW_DEVICE_CUDA`. A local choice, not a consensus parameter.
    pub device: u32,
    /// The CUDA device index of `POUW_DEVICE_CUDA`; ignored otherwise.
    pub cuda_index: u32,
}

/// Consensus parameters of the GAN task (immutable once made, so usable from any number of
/// threads at once).
#[allow(non_camel_case_types)]
pub struct pouw_params {
    pub(crate) inner: ConsensusParams<GanSpec>,
}

fn device(kind: u32, index: u32) -> Result<DeviceChoice, PouwResult> {
    match kind {
        POUW_DEVICE_AUTO => Ok(DeviceChoice::Auto),
        POUW_DEVICE_CPU => Ok(DeviceChoice::Cpu),
        POUW_DEVICE_CUDA => Ok(DeviceChoice::Cuda(index as usize)),
        _ => Err(PouwResult::InvalidArgument),
    }
}

fn set<T: Copy + Default + PartialEq>(field: &mut T, option: T) {
    if option != T::default() {
        *field = option;
    }
}

/// Makes the default GAN consensus parameters for `dataset` (an image dataset with square
/// sides of 8 to 64 pixels), changed by the non-zero fields of `options`, and writes them to
/// `*out` (free them with [`pouw_params_free`]). Invalid combinations give
/// `POUW_RESULT_INVALID_PARAMETERS`; an unknown device `POUW_RESULT_INVALID_ARGUMENT`.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_params_new_gan(
    dataset: *const pouw_dataset,
    options: *const pouw_params_options,
    out: *mut *mut pouw_params,
) -> PouwResult {
    guard(|| {
        let ds = &handle(dataset)?.inner;
        let o = *handle(options)?;
        out_ptr(out)?;
        let mut spec = GanSpec::for_manifest(ds.manifest())?;
        spec.device = device(o.device, o.cuda_index)?;
        set(&mut spec.g_filters, o.g_filters);
        set(&mut spec.d_filters, o.d_filters);
        set(&mut spec.latent, o.latent);
        set(&mut spec.batch_size, o.batch_size);
        spec.validate()?;
        let mut params = ConsensusParams::new(spec, ds.root(), ds.len());
        set(&mut params.opened_steps, o.opened_steps);
        set(&mut params.capacity_challenges, o.capacity_challenges);
        set(&mut params.max_steps, o.max_steps);
        set(&mut params.min_steps, o.min_steps);
        params.validate()?;
        write_handle(out, pouw_params { inner: params });
        Ok(())
    })
}

/// Decodes and validates canonical parameter bytes (`bytes`, `len`; untrusted), trains on the
/// device `device` (`POUW_DEVICE_*`, with `cuda_index` for `POUW_DEVICE_CUDA`), and writes the
/// parameters to `*out` (free them with [`pouw_params_free`]). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_params_from_bytes(
    bytes: *const u8,
    len: usize,
    device_kind: u32,
    cuda_index: u32,
    out: *mut *mut pouw_params,
) -> PouwResult {
    guard(|| {
        let bytes = slice(bytes, len)?;
        let device = device(device_kind, cuda_index)?;
        out_ptr(out)?;
        let mut params = ConsensusParams::<GanSpec>::from_bytes(bytes)?;
        params.spec.device = device;
        write_handle(out, pouw_params { inner: params });
        Ok(())
    })
}

/// Writes the canonical encoding of `params` to a new buffer `*out` (free it with
/// [`pouw_buffer_free`]). The device choice is not part of it. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_params_to_bytes(
    params: *const pouw_params,
    out: *mut *mut pouw_buffer,
) -> PouwResult {
    guard(|| {
        let params = &handle(params)?.inner;
        out_ptr(out)?;
        pouw_buffer::write(out, params.to_bytes());
        Ok(())
    })
}

/// Writes the digest a chain pins for `params` (32 bytes) to `out_digest`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_params_digest(
    params: *const pouw_params,
    out_digest: *mut u8,
) -> PouwResult {
    guard(|| {
        let params = &handle(params)?.inner;
        out_ptr(out_digest)?;
        std::ptr::copy_nonoverlapping(params.digest().as_ptr(), out_digest, 32);
        Ok(())
    })
}

/// Frees parameters; NULL is a no-op. No other thread may be using them.
#[no_mangle]
pub unsafe extern "C" fn pouw_params_free(params: *mut pouw_params) {
    free_handle(params);
}
