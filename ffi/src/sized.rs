//! Sized option structs (`pouw_*_options`): the rules that let them grow without breaking a
//! caller compiled against an older or a newer header.
//!
//! Every such struct starts with `size_t struct_size` (the caller's `sizeof`) and a `uint32_t
//! set` of bits naming the fields the caller set; the others take their defaults, so "unset" is
//! not "0". The library reads no further than `struct_size`; a larger struct (a newer header) is
//! accepted when the bytes this library does not know are zero, and a set bit this library does
//! not know, a set field beyond `struct_size`, or a `struct_size` over [`MAX_STRUCT_SIZE`] (no
//! header declares one: an uninitialised struct, or another struct passed by mistake) is
//! `InvalidArgument`.

use crate::boundary::slice;
use crate::result::PouwResult;
use std::mem::{size_of, MaybeUninit};

/// The largest `struct_size` accepted (4 KiB): far past any options struct's growth, small enough
/// that a garbage size is refused before the library reads past the caller's struct.
pub(crate) const MAX_STRUCT_SIZE: usize = 4096;

/// A field of a sized options struct: the `set` bit that names it, and where it lies.
pub(crate) struct Field {
    /// Its bit in `set`.
    pub bit: u32,
    /// Its offset in the struct.
    pub offset: usize,
    /// Its length in bytes.
    pub len: usize,
}

/// Reads the caller's options struct at `p` under the rules above: `None` for NULL, else a copy
/// (the fields past a shorter caller's `struct_size` zero).
///
/// # Safety
/// `T` must be a `#[repr(C)]` struct starting with `struct_size: usize`, with `set: u32` at
/// `set_offset`, every field of which is valid when zeroed (integers and raw pointers);
/// `fields` must list every field but those two (their bits are the ones this library knows).
/// A non-NULL `p` must point to `struct_size` readable bytes.
pub(crate) unsafe fn read_sized<T: Copy>(
    p: *const T,
    set_offset: usize,
    fields: &[Field],
) -> Result<Option<T>, PouwResult> {
    if p.is_null() {
        return Ok(None);
    }
    let size = std::ptr::read_unaligned(p.cast::<usize>());
    let ours = size_of::<T>();
    if size < set_offset + size_of::<u32>() || size > MAX_STRUCT_SIZE {
        return Err(PouwResult::InvalidArgument);
    }
    let known = fields.iter().fold(0, |bits, f| bits | f.bit);
    if size > ours {
        let extra = slice(p.cast::<u8>().add(ours), size - ours)?;
        if extra.iter().any(|&b| b != 0) {
            return Err(PouwResult::InvalidArgument);
        }
    }
    let mut copy = MaybeUninit::<T>::zeroed();
    std::ptr::copy_nonoverlapping(
        p.cast::<u8>(),
        copy.as_mut_ptr().cast::<u8>(),
        size.min(ours),
    );
    let copy = copy.assume_init();
    let set = std::ptr::read_unaligned(
        std::ptr::addr_of!(copy)
            .cast::<u8>()
            .add(set_offset)
            .cast::<u32>(),
    );
    if set & !known != 0 {
        return Err(PouwResult::InvalidArgument);
    }
    for field in fields {
        if set & field.bit != 0 && field.offset + field.len > size {
            return Err(PouwResult::InvalidArgument);
        }
    }
    Ok(Some(copy))
}
