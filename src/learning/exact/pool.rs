//! Host memory for the CPU tensors of one context, reused from step to step.
//!
//! A training step allocates the same large temporaries every time (hundreds of megabytes at
//! the seed's scale). Fresh allocations of that size are mapped from the system and zeroed page
//! by page on first touch, which cost about as much as the step's arithmetic outside the matrix
//! products; keeping the freed blocks and handing them out again removes that. A tensor from the
//! pool owns its block through libtorch's deleter, which returns it (from whichever thread frees
//! the tensor); blocks go back to the system when the pool and its last tensor are gone.

use super::torch;
use crate::error::{Error, Result};
use std::alloc::Layout;
use std::ptr::NonNull;
use std::sync::{Arc, Mutex};
use tch::{Kind, Tensor};

/// Alignment of every block (a cache line, and what vector kernels prefer).
const ALIGN: usize = 64;
/// Free blocks kept at most; the oldest go back to the system beyond.
const MAX_FREE: usize = 256;

/// A block of host memory.
struct Block {
    ptr: NonNull<u8>,
    bytes: usize,
}

// SAFETY: a block is plain memory owned by whoever holds the `Block`; nothing is thread-bound.
unsafe impl Send for Block {}

impl Block {
    fn layout(bytes: usize) -> Result<Layout> {
        Layout::from_size_align(bytes.max(ALIGN), ALIGN)
            .map_err(|e| Error::Torch(format!("host block of {bytes} bytes: {e}")))
    }

    fn new(bytes: usize) -> Result<Self> {
        let layout = Self::layout(bytes)?;
        // SAFETY: the layout has a non-zero size.
        let ptr = NonNull::new(unsafe { std::alloc::alloc(layout) })
            .ok_or_else(|| Error::Torch(format!("out of memory allocating {bytes} bytes")))?;
        Ok(Block { ptr, bytes })
    }
}

impl Drop for Block {
    fn drop(&mut self) {
        if let Ok(layout) = Self::layout(self.bytes) {
            // SAFETY: allocated by `Block::new` with this same layout, and not yet freed.
            unsafe { std::alloc::dealloc(self.ptr.as_ptr(), layout) }
        }
    }
}

/// Free blocks, most recently freed last.
#[derive(Default)]
pub(crate) struct Pool {
    free: Mutex<Vec<Block>>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let free = self.free.lock().map(|v| v.len()).unwrap_or(0);
        f.debug_struct("Pool").field("free_blocks", &free).finish()
    }
}

/// What libtorch's deleter hands back: the block and the pool it returns to.
struct Lease {
    pool: Arc<Pool>,
    block: Block,
}

extern "C" {
    /// In `shim.cpp`: a CPU tensor over `data` that calls `release(ctx)` when freed.
    fn pouw_tensor_over(
        data: *mut std::ffi::c_void,
        sizes: *const i64,
        ndim: i64,
        dtype: i32,
        release: extern "C" fn(*mut std::ffi::c_void),
        ctx: *mut std::ffi::c_void,
    ) -> *mut std::ffi::c_void;
}

extern "C" fn release(ctx: *mut std::ffi::c_void) {
    // SAFETY: `ctx` is the `Box<Lease>` leaked by `Pool::tensor`; libtorch calls the deleter
    // exactly once.
    let lease = unsafe { Box::from_raw(ctx as *mut Lease) };
    let Lease { pool, block } = *lease;
    let mut free = pool.free.lock().unwrap_or_else(|e| e.into_inner());
    free.push(block);
    if free.len() > MAX_FREE {
        free.remove(0);
    }
}

impl Pool {
    /// An uninitialised contiguous CPU tensor of `shape` and `kind` (float32, float64 or bool)
    /// over a pooled block.
    pub(crate) fn tensor(self: &Arc<Self>, shape: &[i64], kind: Kind) -> Result<Tensor> {
        let (dtype, size) = match kind {
            Kind::Float => (0, 4),
            Kind::Double => (1, 8),
            Kind::Bool => (2, 1),
            k => return Err(Error::Torch(format!("pooled tensor of {k:?}"))),
        };
        let numel = shape.iter().try_fold(1usize, |acc, &d| {
            usize::try_from(d).ok().and_then(|d| acc.checked_mul(d))
        });
        let bytes = numel
            .and_then(|n| n.checked_mul(size))
            .ok_or_else(|| Error::Torch(format!("tensor of shape {shape:?} is too large")))?;
        let reused = {
            let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
            free.iter()
                .rposition(|b| b.bytes == bytes)
                .map(|i| free.remove(i))
        };
        let block = match reused {
            Some(block) => block,
            None => Block::new(bytes)?,
        };
        let data = block.ptr.as_ptr() as *mut std::ffi::c_void;
        let lease = Box::into_raw(Box::new(Lease {
            pool: Arc::clone(self),
            block,
        }));
        // SAFETY: `data` points to at least `bytes` bytes, aligned, owned by the lease that the
        // deleter receives; `shape` outlives the call.
        let handle = unsafe {
            pouw_tensor_over(
                data,
                shape.as_ptr(),
                shape.len() as i64,
                dtype,
                release,
                lease as *mut std::ffi::c_void,
            )
        };
        if handle.is_null() {
            // SAFETY: libtorch did not take the lease; reclaim it (the block is freed).
            drop(unsafe { Box::from_raw(lease) });
            return Err(Error::Torch("libtorch refused a pooled tensor".into()));
        }
        // SAFETY: a fresh heap `at::Tensor` handle, owned by nobody else.
        Ok(unsafe { Tensor::from_ptr(handle.cast()) })
    }

    /// A float64 `[M, N]` product of `a` and `b` written into a pooled tensor.
    pub(crate) fn mm(self: &Arc<Self>, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        let out = self.tensor(&[a.size()[0], b.size()[1]], Kind::Double)?;
        let _ = torch(a.f_mm_out(&out, b))?;
        Ok(out)
    }
}
