//! Fault injection for tests: makes one libtorch call fail, so tests can check that a libtorch
//! failure anywhere (an out-of-memory, a rejected shape) becomes an [`Error::Torch`] and never a
//! panic. Per thread, off by default; when off, each libtorch call costs two thread-local reads.
//!
//! [`Error::Torch`]: crate::Error::Torch

use std::cell::Cell;
use tch::{Device, Kind, Tensor};

thread_local! {
    static CALLS: Cell<u64> = const { Cell::new(0) };
    static FAIL_AT: Cell<u64> = const { Cell::new(0) };
}

/// Counts libtorch calls on this thread from zero and, with `Some(n)`, makes the `n`-th one
/// (counting from 1) fail; `None` turns injection off.
pub fn fail_call(n: Option<u64>) {
    CALLS.with(|c| c.set(0));
    FAIL_AT.with(|f| f.set(n.unwrap_or(0)));
}

/// The libtorch calls made on this thread since the last [`fail_call`].
pub fn calls() -> u64 {
    CALLS.with(Cell::get)
}

/// Passes a libtorch result through, or replaces it with a genuine libtorch error when this is
/// the call chosen to fail.
pub(super) fn intercept<T>(r: Result<T, tch::TchError>) -> Result<T, tch::TchError> {
    let n = CALLS.with(|c| {
        c.set(c.get() + 1);
        c.get()
    });
    if FAIL_AT.with(Cell::get) != n {
        return r;
    }
    drop(r);
    // A real error from libtorch itself (a negative dimension), not a made-up message.
    match Tensor::f_empty([-1], (Kind::Float, Device::Cpu)) {
        Err(e) => Err(e),
        Ok(_) => Err(tch::TchError::Torch("injected libtorch failure".into())),
    }
}
