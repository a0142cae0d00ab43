//! Consensus parameters of the GAN task: made from a dataset with options, or decoded from the
//! canonical bytes a chain pins.

use crate::boundary::{
    buffer_of, digest_of, free_handle, guard, handle, out_ptr, slice, write_handle,
};
use crate::buffer::pouw_buffer;
use crate::dataset::pouw_dataset;
use crate::result::PouwResult;
use crate::sized::{read_sized, Field};
use pouw::learning::gan::GanSpec;
use pouw::learning::DeviceChoice;
use pouw::work::ConsensusParams;

/// Device choice: CUDA device 0 when available, else the CPU (the default).
pub const POUW_DEVICE_AUTO: u32 = 0;
/// Device choice: the CPU.
pub const POUW_DEVICE_CPU: u32 = 1;
/// Device choice: the CUDA device numbered by `cuda_index`.
pub const POUW_DEVICE_CUDA: u32 = 2;

/// `pouw_params_options::set` bit: `g_filters` is set.
pub const POUW_PARAMS_OPTION_G_FILTERS: u32 = 1 << 0;
/// `pouw_params_options::set` bit: `d_filters` is set.
pub const POUW_PARAMS_OPTION_D_FILTERS: u32 = 1 << 1;
/// `pouw_params_options::set` bit: `latent` is set.
pub const POUW_PARAMS_OPTION_LATENT: u32 = 1 << 2;
/// `pouw_params_options::set` bit: `batch_size` is set.
pub const POUW_PARAMS_OPTION_BATCH_SIZE: u32 = 1 << 3;
/// `pouw_params_options::set` bit: `opened_steps` is set.
pub const POUW_PARAMS_OPTION_OPENED_STEPS: u32 = 1 << 4;
/// `pouw_params_options::set` bit: `capacity_challenges` is set.
pub const POUW_PARAMS_OPTION_CAPACITY_CHALLENGES: u32 = 1 << 5;
/// `pouw_params_options::set` bit: `max_steps` is set.
pub const POUW_PARAMS_OPTION_MAX_STEPS: u32 = 1 << 6;
/// `pouw_params_options::set` bit: `min_steps` is set.
pub const POUW_PARAMS_OPTION_MIN_STEPS: u32 = 1 << 7;
/// `pouw_params_options::set` bit: `device` and `cuda_index` are set.
pub const POUW_PARAMS_OPTION_DEVICE: u32 = 1 << 8;

/// Options of [`pouw_params_new_gan`], sized like `pouw_mine_options`: a caller sets
/// `struct_size` to `sizeof(pouw_params_options)` as its header declares it (a larger size from
/// a newer header is accepted when the bytes this library does not know are zero), and a field
/// counts only when its bit is in `set` (`POUW_PARAMS_OPTION_*`), so "unset" (the default) is
/// not "0": `opened_steps` set to 0 opens the winning step alone.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, Default)]
pub struct pouw_params_options {
    /// `sizeof(pouw_params_options)` where the caller was compiled.
    pub struct_size: usize,
    /// Which fields are set (`POUW_PARAMS_OPTION_*` bits); the others take their defaults.
    pub set: u32,
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
    /// Where this process trains: `POUW_DEVICE_AUTO` (default), `POUW_DEVICE_CPU` or
    /// `POUW_DEVICE_CUDA`. A local choice, not a consensus parameter.
    pub device: u32,
    /// The CUDA device index of `POUW_DEVICE_CUDA`; ignored otherwise.
    pub cuda_index: u32,
    /// The most steps one block may claim (default 100000).
    pub max_steps: u64,
    /// The fewest steps a block holds: tickets count from this step on (default 1).
    pub min_steps: u64,
}

/// Reads a caller's parameter options (NULL: every default) under the sized-struct rules of
/// [`pouw_params_options`].
unsafe fn read_params_options(
    p: *const pouw_params_options,
) -> Result<Option<pouw_params_options>, PouwResult> {
    use std::mem::offset_of;
    let field = |bit, offset, len| Field { bit, offset, len };
    let fields = [
        field(
            POUW_PARAMS_OPTION_G_FILTERS,
            offset_of!(pouw_params_options, g_filters),
            4,
        ),
        field(
            POUW_PARAMS_OPTION_D_FILTERS,
            offset_of!(pouw_params_options, d_filters),
            4,
        ),
        field(
            POUW_PARAMS_OPTION_LATENT,
            offset_of!(pouw_params_options, latent),
            4,
        ),
        field(
            POUW_PARAMS_OPTION_BATCH_SIZE,
            offset_of!(pouw_params_options, batch_size),
            4,
        ),
        field(
            POUW_PARAMS_OPTION_OPENED_STEPS,
            offset_of!(pouw_params_options, opened_steps),
            4,
        ),
        field(
            POUW_PARAMS_OPTION_CAPACITY_CHALLENGES,
            offset_of!(pouw_params_options, capacity_challenges),
            4,
        ),
        field(
            POUW_PARAMS_OPTION_MAX_STEPS,
            offset_of!(pouw_params_options, max_steps),
            8,
        ),
        field(
            POUW_PARAMS_OPTION_MIN_STEPS,
            offset_of!(pouw_params_options, min_steps),
            8,
        ),
        field(
            POUW_PARAMS_OPTION_DEVICE,
            offset_of!(pouw_params_options, device),
            4,
        ),
        field(
            POUW_PARAMS_OPTION_DEVICE,
            offset_of!(pouw_params_options, cuda_index),
            4,
        ),
    ];
    let set_offset = offset_of!(pouw_params_options, set);
    read_sized(p, set_offset, &fields)
}

/// Consensus parameters of the GAN task (immutable once made, so usable from any number of
/// threads at once).
#[allow(non_camel_case_types)]
pub struct pouw_params {
    pub(crate) inner: ConsensusParams<GanSpec>,
    /// Where this process trains and re-executes (a local choice, not encoded).
    pub(crate) device: DeviceChoice,
}

impl pouw_params {
    fn new(inner: ConsensusParams<GanSpec>, device: DeviceChoice) -> Self {
        pouw_params { inner, device }
    }
}

fn device(kind: u32, index: u32) -> Result<DeviceChoice, PouwResult> {
    match kind {
        POUW_DEVICE_AUTO => Ok(DeviceChoice::Auto),
        POUW_DEVICE_CPU => Ok(DeviceChoice::Cpu),
        POUW_DEVICE_CUDA => Ok(DeviceChoice::Cuda(index as usize)),
        _ => Err(PouwResult::InvalidArgument),
    }
}

/// Makes the default GAN consensus parameters for `dataset` (an image dataset with square
/// sides of 8 to 64 pixels), changed by the fields `options` sets (NULL: the defaults; see
/// [`pouw_params_options`]), and writes them to `*out` (free them with [`pouw_params_free`]).
/// Invalid combinations give `POUW_RESULT_INVALID_PARAMETERS`; an unknown device or a malformed
/// options struct `POUW_RESULT_INVALID_ARGUMENT`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_params_new_gan(
    dataset: *const pouw_dataset,
    options: *const pouw_params_options,
    out: *mut *mut pouw_params,
) -> PouwResult {
    guard(|| {
        let ds = &handle(dataset)?.inner;
        let o = read_params_options(options)?.unwrap_or_default();
        out_ptr(out)?;
        let mut spec = GanSpec::for_manifest(ds.manifest())?;
        let is = |bit: u32| o.set & bit != 0;
        let device = if is(POUW_PARAMS_OPTION_DEVICE) {
            device(o.device, o.cuda_index)?
        } else {
            DeviceChoice::Auto
        };
        let spec_fields = [
            (
                POUW_PARAMS_OPTION_G_FILTERS,
                &mut spec.g_filters,
                o.g_filters,
            ),
            (
                POUW_PARAMS_OPTION_D_FILTERS,
                &mut spec.d_filters,
                o.d_filters,
            ),
            (POUW_PARAMS_OPTION_LATENT, &mut spec.latent, o.latent),
            (
                POUW_PARAMS_OPTION_BATCH_SIZE,
                &mut spec.batch_size,
                o.batch_size,
            ),
        ];
        for (bit, slot, value) in spec_fields {
            if is(bit) {
                *slot = value;
            }
        }
        spec.validate()?;
        let mut params = ConsensusParams::new(spec, ds.root(), ds.len());
        if is(POUW_PARAMS_OPTION_OPENED_STEPS) {
            params.opened_steps = o.opened_steps;
        }
        if is(POUW_PARAMS_OPTION_CAPACITY_CHALLENGES) {
            params.capacity_challenges = o.capacity_challenges;
        }
        if is(POUW_PARAMS_OPTION_MAX_STEPS) {
            params.max_steps = o.max_steps;
        }
        if is(POUW_PARAMS_OPTION_MIN_STEPS) {
            params.min_steps = o.min_steps;
        }
        params.validate()?;
        write_handle(out, pouw_params::new(params, device));
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
        let params = ConsensusParams::<GanSpec>::from_bytes(bytes)?;
        write_handle(out, pouw_params::new(params, device));
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
    buffer_of(params, out, |params| Ok(params.inner.to_bytes()))
}

/// Writes the digest a chain pins for `params` (32 bytes) to `out_digest`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_params_digest(
    params: *const pouw_params,
    out_digest: *mut u8,
) -> PouwResult {
    digest_of(params, out_digest, |params| Ok(params.inner.digest()))
}

/// Frees parameters; NULL is a no-op. No other thread may be using them.
#[no_mangle]
pub unsafe extern "C" fn pouw_params_free(params: *mut pouw_params) {
    free_handle(params);
}
