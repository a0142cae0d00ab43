//! Cancellation tokens: set from any thread, checked by mining, verification and audits.

use crate::boundary::{free_handle, guard, handle, out_ptr, write_handle};
use crate::result::PouwResult;
use std::sync::atomic::{AtomicBool, Ordering};

/// A cancellation flag for [`pouw_mine`]: set it from any thread with
/// [`pouw_cancel_token_cancel`]; mining checks it before every step.
#[allow(non_camel_case_types)]
pub struct pouw_cancel_token {
    pub(super) flag: AtomicBool,
}

/// Makes an unset cancellation token and writes it to `*out` (free it with
/// [`pouw_cancel_token_free`] once no call uses it). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_cancel_token_new(out: *mut *mut pouw_cancel_token) -> PouwResult {
    guard(|| {
        out_ptr(out)?;
        write_handle(
            out,
            pouw_cancel_token {
                flag: AtomicBool::new(false),
            },
        );
        Ok(())
    })
}

/// Sets the token: a [`pouw_mine`] using it returns `POUW_RESULT_CANCELLED` before its next
/// step. A token stays set. Thread-safe: meant to be called from another thread than the miner's.
#[no_mangle]
pub unsafe extern "C" fn pouw_cancel_token_cancel(token: *const pouw_cancel_token) -> PouwResult {
    guard(|| {
        handle(token)?.flag.store(true, Ordering::Relaxed);
        Ok(())
    })
}

/// Frees a token; NULL is a no-op. No call may still be using it (let [`pouw_mine`] return
/// first).
#[no_mangle]
pub unsafe extern "C" fn pouw_cancel_token_free(token: *mut pouw_cancel_token) {
    free_handle(token);
}
