//! Difficulty targets: 32-byte big-endian numbers; a step whose ticket is below wins.

use crate::boundary::{digest, guard, out_ptr};
use crate::result::PouwResult;
use pouw::work::Target;

/// Writes the target at which a block takes `steps` training steps on average (`steps` 0 is
/// taken as 1) to `out_target` (32 bytes, big-endian). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_target_from_expected_steps(
    steps: u64,
    out_target: *mut u8,
) -> PouwResult {
    guard(|| {
        out_ptr(out_target)?;
        let t = Target::from_expected_steps(steps);
        std::ptr::copy_nonoverlapping(t.0.as_ptr(), out_target, 32);
        Ok(())
    })
}

/// Writes the average number of steps per block at `target` (32 bytes), the work a block at
/// that target represents, to `*out_steps`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_target_expected_steps(
    target: *const u8,
    out_steps: *mut f64,
) -> PouwResult {
    guard(|| {
        let t = Target(digest(target)?);
        out_ptr(out_steps)?;
        *out_steps = t.expected_steps();
        Ok(())
    })
}

/// Writes the target after a window whose blocks took `observed_secs` where `intended_secs` was
/// intended (scaled by the ratio, clamped to a factor of 4 either way) to `out_target` (32
/// bytes). `out_target` may be `target`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_target_retarget(
    target: *const u8,
    observed_secs: u64,
    intended_secs: u64,
    out_target: *mut u8,
) -> PouwResult {
    guard(|| {
        let t = Target(digest(target)?);
        out_ptr(out_target)?;
        let next = t.retarget(observed_secs, intended_secs);
        std::ptr::copy(next.0.as_ptr(), out_target, 32);
        Ok(())
    })
}
