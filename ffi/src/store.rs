//! Checkpoint stores: where miners publish the checkpoints a proof opens and verifiers fetch
//! them, addressed by CID.

use crate::boundary::{
    decode_into, free_handle, guard, handle, open_into, out_ptr, slice, write_handle,
};
use crate::buffer::pouw_buffer;
use crate::params::pouw_params;
use crate::result::PouwResult;
use crate::sized::{read_sized, Field};
use pouw::ident::{cid_from_bytes, cid_of, Cid};
use pouw::ipfs::{IpfsOptions, IpfsStore};
use pouw::learning::{BlobStore, DirStore, MemStore};
use pouw::work::{BlockProof, ProofLimits};
use pouw::Error;
use std::ffi::c_void;
use std::time::Duration;

/// The largest object [`pouw_store_get`] returns, in bytes (1 GiB).
const MAX_OBJECT_BYTES: u64 = 1 << 30;

/// A content-addressed checkpoint store. Its operations are safe from any number of threads at
/// once; what it returns is always checked against the CID asked for.
#[allow(non_camel_case_types)]
pub struct pouw_store {
    pub(crate) inner: Box<dyn BlobStore>,
}

/// Opens (creating it if needed) a store in directory `dir` (`dir_len` bytes, not
/// NUL-terminated), one file per checkpoint named by its CID, written atomically. Writes the
/// handle to `*out` (free it with [`pouw_store_free`]). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_store_open_dir(
    dir: *const u8,
    dir_len: usize,
    out: *mut *mut pouw_store,
) -> PouwResult {
    open_into(dir, dir_len, out, |dir| {
        Ok(pouw_store {
            inner: Box::new(DirStore::new(dir)?),
        })
    })
}

/// Makes an empty in-memory store (freed with its handle) and writes it to `*out` (free it with
/// [`pouw_store_free`]). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_store_new_memory(out: *mut *mut pouw_store) -> PouwResult {
    guard(|| {
        out_ptr(out)?;
        write_handle(
            out,
            pouw_store {
                inner: Box::new(MemStore::default()),
            },
        );
        Ok(())
    })
}

/// `pouw_ipfs_options::set` bit: `local_only` is set.
pub const POUW_IPFS_OPTION_LOCAL_ONLY: u32 = 1 << 0;
/// `pouw_ipfs_options::set` bit: `connect_timeout_ms` is set.
pub const POUW_IPFS_OPTION_CONNECT_TIMEOUT: u32 = 1 << 1;
/// `pouw_ipfs_options::set` bit: `block_timeout_ms` is set.
pub const POUW_IPFS_OPTION_BLOCK_TIMEOUT: u32 = 1 << 2;
/// `pouw_ipfs_options::set` bit: `answer_grace_ms` is set.
pub const POUW_IPFS_OPTION_ANSWER_GRACE: u32 = 1 << 3;
/// `pouw_ipfs_options::set` bit: `add_timeout_per_mib_ms` is set.
pub const POUW_IPFS_OPTION_ADD_TIMEOUT_PER_MIB: u32 = 1 << 4;
/// `pouw_ipfs_options::set` bit: `parallel_fetches` is set.
pub const POUW_IPFS_OPTION_PARALLEL_FETCHES: u32 = 1 << 5;

/// Options of a store over an IPFS node, for [`pouw_store_open_ipfs`]. Sized like
/// `pouw_mine_options`: a caller sets `struct_size` to `sizeof(pouw_ipfs_options)` as its
/// header declares it (a larger size from a newer header is accepted when the bytes this library
/// does not know are zero), and a field counts only when its bit is in `set`
/// (`POUW_IPFS_OPTION_*`). Every timeout is from 1 ms to one day.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct pouw_ipfs_options {
    /// `sizeof(pouw_ipfs_options)` where the caller was compiled.
    pub struct_size: usize,
    /// Which fields are set (`POUW_IPFS_OPTION_*` bits); the others take their defaults.
    pub set: u32,
    /// 1: ask the node only for blocks it already holds (Kubo's `offline`), so a missing object
    /// is `POUW_RESULT_NOT_FOUND` at once instead of after a network search (default 0).
    pub local_only: u32,
    /// Deadline to connect to the node (default 5000).
    pub connect_timeout_ms: u64,
    /// How long the node may search the network for a block it lacks before the get is
    /// `POUW_RESULT_NOT_FOUND` (default 60000).
    pub block_timeout_ms: u64,
    /// How much longer than `block_timeout_ms` the node has to answer at all before the get is
    /// `POUW_RESULT_TIMEOUT` (default 10000).
    pub answer_grace_ms: u64,
    /// Deadline for a put, per MiB of the object, plus one `block_timeout_ms` (default 2000).
    pub add_timeout_per_mib_ms: u64,
    /// Blocks fetched at once, 1 to 64 (default 8).
    pub parallel_fetches: u64,
}

/// Reads a caller's IPFS options (NULL: every default) for a node at `endpoint`, under the
/// sized-struct rules of [`pouw_ipfs_options`].
unsafe fn read_ipfs_options(
    endpoint: &str,
    p: *const pouw_ipfs_options,
) -> Result<IpfsOptions, PouwResult> {
    use std::mem::offset_of;
    let field = |bit, offset, len| Field { bit, offset, len };
    let fields = [
        field(
            POUW_IPFS_OPTION_LOCAL_ONLY,
            offset_of!(pouw_ipfs_options, local_only),
            4,
        ),
        field(
            POUW_IPFS_OPTION_CONNECT_TIMEOUT,
            offset_of!(pouw_ipfs_options, connect_timeout_ms),
            8,
        ),
        field(
            POUW_IPFS_OPTION_BLOCK_TIMEOUT,
            offset_of!(pouw_ipfs_options, block_timeout_ms),
            8,
        ),
        field(
            POUW_IPFS_OPTION_ANSWER_GRACE,
            offset_of!(pouw_ipfs_options, answer_grace_ms),
            8,
        ),
        field(
            POUW_IPFS_OPTION_ADD_TIMEOUT_PER_MIB,
            offset_of!(pouw_ipfs_options, add_timeout_per_mib_ms),
            8,
        ),
        field(
            POUW_IPFS_OPTION_PARALLEL_FETCHES,
            offset_of!(pouw_ipfs_options, parallel_fetches),
            8,
        ),
    ];
    let mut options = IpfsOptions::new(endpoint);
    let set_offset = offset_of!(pouw_ipfs_options, set);
    let Some(o) = read_sized(p, set_offset, &fields)? else {
        return Ok(options);
    };
    let is = |bit: u32| o.set & bit != 0;
    if is(POUW_IPFS_OPTION_LOCAL_ONLY) {
        options.local_only = match o.local_only {
            0 => false,
            1 => true,
            _ => return Err(PouwResult::InvalidArgument),
        };
    }
    let timeouts = [
        (
            POUW_IPFS_OPTION_CONNECT_TIMEOUT,
            o.connect_timeout_ms,
            &mut options.connect_timeout,
        ),
        (
            POUW_IPFS_OPTION_BLOCK_TIMEOUT,
            o.block_timeout_ms,
            &mut options.block_timeout,
        ),
        (
            POUW_IPFS_OPTION_ANSWER_GRACE,
            o.answer_grace_ms,
            &mut options.answer_grace,
        ),
        (
            POUW_IPFS_OPTION_ADD_TIMEOUT_PER_MIB,
            o.add_timeout_per_mib_ms,
            &mut options.add_timeout_per_mib,
        ),
    ];
    for (bit, ms, slot) in timeouts {
        if is(bit) {
            *slot = Duration::from_millis(ms);
        }
    }
    if is(POUW_IPFS_OPTION_PARALLEL_FETCHES) {
        // Out of usize's range is out of the option's domain too.
        options.parallel_fetches = usize::try_from(o.parallel_fetches).unwrap_or(usize::MAX);
    }
    Ok(options)
}

/// Opens a store over an IPFS node's HTTP RPC API at `endpoint` (`endpoint_len` bytes of UTF-8,
/// not NUL-terminated; e.g. `http://127.0.0.1:5001`) with `options` (NULL: the defaults; see
/// [`pouw_ipfs_options`]) and writes the handle to `*out` (free it with [`pouw_store_free`]).
/// Nothing is sent to the node until the first put or get.
///
/// Gets fetch the object block by block, check every block and the whole object against the
/// CID, and fail with `POUW_RESULT_NOT_FOUND` (the node lacks it, or did not find it in
/// `block_timeout_ms`: fetch again later), `POUW_RESULT_TIMEOUT` (the node did not answer),
/// `POUW_RESULT_BAD_BLOCK` (the node sent wrong bytes: ban it) or `POUW_RESULT_STORE` (the node
/// is unreachable or refused). An endpoint that is not an `http://` address, or an option out of
/// its domain, is `POUW_RESULT_INVALID_PARAMETERS`; a malformed options struct (see
/// [`pouw_ipfs_options`]) or a `local_only` other than 0 or 1 is `POUW_RESULT_INVALID_ARGUMENT`.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_store_open_ipfs(
    endpoint: *const u8,
    endpoint_len: usize,
    options: *const pouw_ipfs_options,
    out: *mut *mut pouw_store,
) -> PouwResult {
    guard(|| {
        if endpoint.is_null() {
            return Err(PouwResult::NullArgument);
        }
        let endpoint = slice(endpoint, endpoint_len)?;
        out_ptr(out)?;
        let endpoint = std::str::from_utf8(endpoint).map_err(|_| PouwResult::InvalidArgument)?;
        let options = read_ipfs_options(endpoint, options)?;
        let store = IpfsStore::with_options(options)?;
        write_handle(
            out,
            pouw_store {
                inner: Box::new(store),
            },
        );
        Ok(())
    })
}

/// Where a [`pouw_store_get_callback`] writes the object it found, with [`pouw_sink_write`].
/// Valid only during the callback call it is passed to.
#[allow(non_camel_case_types)]
pub struct pouw_sink {
    bytes: Vec<u8>,
    limit: u64,
    /// A write was refused for going past `limit` (the bytes it would have made in all).
    refused: Option<u64>,
}

/// Appends `len` bytes at `bytes` to the object a [`pouw_store_get_callback`] is returning; may
/// be called several times. Returns `POUW_RESULT_LIMIT_EXCEEDED`, appending nothing, when the
/// object would exceed the `limit` the callback was given (the get then fails with that code
/// whatever the callback returns, unless it returns `POUW_RESULT_NOT_FOUND` or
/// `POUW_RESULT_TIMEOUT`). Call it only from inside the callback, with the sink it was given.
#[no_mangle]
pub unsafe extern "C" fn pouw_sink_write(
    sink: *mut pouw_sink,
    bytes: *const u8,
    len: usize,
) -> PouwResult {
    guard(|| {
        let sink = sink.as_mut().ok_or(PouwResult::NullArgument)?;
        let bytes = slice(bytes, len)?;
        let total = sink.bytes.len() as u64 + len as u64;
        if total > sink.limit {
            sink.refused = Some(sink.refused.map_or(total, |t| t.max(total)));
            return Err(PouwResult::LimitExceeded);
        }
        sink.bytes.extend_from_slice(bytes);
        Ok(())
    })
}

/// Fetches the object named by the binary CID `cid` (`cid_len` bytes) for a store made by
/// [`pouw_store_new_callbacks`]: writes it to `sink` with [`pouw_sink_write`] (at most `limit`
/// bytes in all) and returns `POUW_RESULT_OK`; or returns `POUW_RESULT_NOT_FOUND` (nothing
/// under that CID), `POUW_RESULT_TIMEOUT` (no answer in time; fetch again), or any other code
/// for a store failure (the get fails with `POUW_RESULT_STORE`, its message naming the code).
///
/// The library checks what was written against the CID (`POUW_RESULT_BAD_BLOCK` when it does
/// not match), so the callback need not. It may be called from several threads at once (the
/// library fetches in parallel), with the same `user_data`; it must return normally (no
/// `longjmp`, no exception or panic unwinding out of it).
#[allow(non_camel_case_types)]
pub type pouw_store_get_callback = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        cid: *const u8,
        cid_len: usize,
        limit: u64,
        sink: *mut pouw_sink,
    ) -> u32,
>;

/// Stores the object `bytes` (`len` bytes) under the binary CID `cid` (`cid_len` bytes; the
/// library computed it from the bytes) for a store made by [`pouw_store_new_callbacks`].
/// Returns `POUW_RESULT_OK`, or any other code for a failure (the put fails with
/// `POUW_RESULT_STORE`, its message naming the code). Neither pointer is valid after it
/// returns: copy what is kept. Same threading and unwinding rules as
/// [`pouw_store_get_callback`].
#[allow(non_camel_case_types)]
pub type pouw_store_put_callback = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        cid: *const u8,
        cid_len: usize,
        bytes: *const u8,
        len: usize,
    ) -> u32,
>;

/// The embedder's `user_data`, shared by every call of its callbacks.
struct UserData(*mut c_void);

// SAFETY: the contract of `pouw_store_new_callbacks` (documented there): the callbacks may be
// called with `user_data` from any thread, several at once, so the embedder makes whatever it
// points at thread-safe, and keeps it alive until `pouw_store_free`. The library itself never
// dereferences the pointer; it only passes it back.
unsafe impl Send for UserData {}
// SAFETY: as for `Send`.
unsafe impl Sync for UserData {}

/// A store over the embedder's callbacks.
struct CallbackStore {
    get: unsafe extern "C" fn(*mut c_void, *const u8, usize, u64, *mut pouw_sink) -> u32,
    put: pouw_store_put_callback,
    user_data: UserData,
}

/// The endpoint a callback store's errors name.
const CALLBACK_ENDPOINT: &str = "callbacks";

fn callback_failure(what: &str, code: u32) -> Error {
    let name = PouwResult::from_u32(code).map_or("unknown result code", PouwResult::message);
    Error::Store {
        endpoint: CALLBACK_ENDPOINT.into(),
        detail: format!("the {what} callback returned code {code} ({name})"),
    }
}

impl BlobStore for CallbackStore {
    fn put(&self, bytes: &[u8]) -> pouw::Result<Cid> {
        let cid = cid_of(bytes);
        let Some(put) = self.put else {
            return Err(Error::Store {
                endpoint: CALLBACK_ENDPOINT.into(),
                detail: "the store has no put callback".into(),
            });
        };
        let id = cid.to_bytes();
        // SAFETY: the embedder's callback, called as its contract says; both slices outlive it.
        let code = unsafe {
            put(
                self.user_data.0,
                id.as_ptr(),
                id.len(),
                bytes.as_ptr(),
                bytes.len(),
            )
        };
        if code != PouwResult::Ok as u32 {
            return Err(callback_failure("put", code));
        }
        Ok(cid)
    }

    fn get_unchecked(&self, cid: &Cid, limit: u64) -> pouw::Result<Vec<u8>> {
        let id = cid.to_bytes();
        let mut sink = pouw_sink {
            bytes: Vec::new(),
            limit,
            refused: None,
        };
        // SAFETY: the embedder's callback, called as its contract says; `id` and `sink` outlive
        // the call, and the sink is used only through `pouw_sink_write` during it.
        let code = unsafe { (self.get)(self.user_data.0, id.as_ptr(), id.len(), limit, &mut sink) };
        match (PouwResult::from_u32(code), sink.refused) {
            (Some(PouwResult::NotFound), _) => Err(Error::NotFound {
                cid: cid.to_string(),
            }),
            (Some(PouwResult::Timeout), _) => Err(Error::Timeout {
                what: format!("the get callback for {cid}"),
            }),
            // The object was too large, whatever the callback made of the refusal.
            (_, Some(found)) => Err(Error::LimitExceeded {
                what: "checkpoint size",
                found,
                limit,
            }),
            (Some(PouwResult::Ok), None) => Ok(sink.bytes),
            _ => Err(callback_failure("get", code)),
        }
    }
}

/// Makes a store over the embedder's callbacks and writes it to `*out` (free it with
/// [`pouw_store_free`]): `get` fetches an object (see [`pouw_store_get_callback`]), `put`
/// stores one (see [`pouw_store_put_callback`]; may be NULL, then every put fails with
/// `POUW_RESULT_STORE`, enough for a verifier). Both are called with `user_data` (may be NULL).
///
/// What `get` returns is checked against the CID asked for: bytes with another CID fail the get
/// with `POUW_RESULT_BAD_BLOCK` (ban the peer that sent them).
///
/// Thread-safety: the callbacks may be called from several threads at once (the library fetches
/// in parallel, and any number of calls may share the store), so whatever `user_data` points at
/// must be safe to use from any thread, and must stay valid until [`pouw_store_free`] returns.
/// The callbacks must return normally: no `longjmp`, and no exception or panic may unwind out of
/// them. Creating the store is thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_store_new_callbacks(
    get: pouw_store_get_callback,
    put: pouw_store_put_callback,
    user_data: *mut c_void,
    out: *mut *mut pouw_store,
) -> PouwResult {
    guard(|| {
        let get = get.ok_or(PouwResult::NullArgument)?;
        out_ptr(out)?;
        write_handle(
            out,
            pouw_store {
                inner: Box::new(CallbackStore {
                    get,
                    put,
                    user_data: UserData(user_data),
                }),
            },
        );
        Ok(())
    })
}

/// Lists every object [`pouw_verify`] fetches for the block proof `proof` (`proof_len` bytes;
/// untrusted, decoded with the same limits `pouw_verify` uses under `params`), in the order it
/// fetches them, without repeats: what a node can prefetch before verifying. The block's start
/// checkpoint (`pouw_verify` fetches it too, to score it; the chain holds it already) is listed
/// only when an opening starts from it.
///
/// Writes the number of CIDs to `*out_count` and a new buffer to `*out_cids` (free it with
/// [`pouw_buffer_free`]) holding the binary CIDs one after the other, each preceded by its length
/// in one byte. The proof is only decoded, not verified: a malformed one gets its decoding code,
/// a well-formed but invalid one lists what verifying it would fetch. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_block_proof_required_cids(
    params: *const pouw_params,
    proof: *const u8,
    proof_len: usize,
    out_count: *mut usize,
    out_cids: *mut *mut pouw_buffer,
) -> PouwResult {
    guard(|| {
        let params = &handle(params)?.inner;
        let proof = slice(proof, proof_len)?;
        out_ptr(out_count)?;
        out_ptr(out_cids)?;
        let proof = BlockProof::from_bytes(proof, &ProofLimits::of(params))?;
        let cids = proof.required_cids();
        let mut bytes = Vec::new();
        for cid in &cids {
            let b = cid.to_bytes();
            let len = u8::try_from(b.len()).map_err(|_| PouwResult::Other)?;
            bytes.push(len);
            bytes.extend_from_slice(&b);
        }
        out_count.write(cids.len());
        pouw_buffer::write(out_cids, bytes);
        Ok(())
    })
}

/// Stores `bytes` (`len` bytes) and writes their binary CID to a new buffer `*out_cid` (free it
/// with [`pouw_buffer_free`]). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_store_put(
    store: *const pouw_store,
    bytes: *const u8,
    len: usize,
    out_cid: *mut *mut pouw_buffer,
) -> PouwResult {
    guard(|| {
        let store = handle(store)?;
        let bytes = slice(bytes, len)?;
        out_ptr(out_cid)?;
        let cid = store.inner.put(bytes)?;
        pouw_buffer::write(out_cid, cid.to_bytes());
        Ok(())
    })
}

/// Fetches the checkpoint named by the binary CID `cid` (`cid_len` bytes), checks it against the
/// CID, and writes it to a new buffer `*out` (free it with [`pouw_buffer_free`]). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_store_get(
    store: *const pouw_store,
    cid: *const u8,
    cid_len: usize,
    out: *mut *mut pouw_buffer,
) -> PouwResult {
    guard(|| {
        let store = handle(store)?;
        let cid = cid_from_bytes(slice(cid, cid_len)?)?;
        out_ptr(out)?;
        let bytes = store.inner.get(&cid, MAX_OBJECT_BYTES)?;
        pouw_buffer::write(out, bytes);
        Ok(())
    })
}

/// Writes the binary CID (CIDv1, raw, sha3-256) of `bytes` (`len` bytes) to a new buffer `*out`
/// (free it with [`pouw_buffer_free`]), without storing them. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_cid_of(
    bytes: *const u8,
    len: usize,
    out: *mut *mut pouw_buffer,
) -> PouwResult {
    decode_into(bytes, len, out, |bytes| {
        Ok(pouw_buffer::holding(cid_of(bytes).to_bytes()))
    })
}

/// Parses the text form of a CID (`text`, `text_len` bytes, not NUL-terminated; e.g. `bafk...`)
/// of this library's profile (CIDv1, raw, sha3-256) and writes its binary form to a new buffer
/// `*out` (free it with [`pouw_buffer_free`]). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_cid_parse(
    text: *const u8,
    text_len: usize,
    out: *mut *mut pouw_buffer,
) -> PouwResult {
    guard(|| {
        let text = slice(text, text_len)?;
        out_ptr(out)?;
        let text = std::str::from_utf8(text).map_err(|_| PouwResult::InvalidField)?;
        let cid: Cid = text.trim().parse().map_err(|_| PouwResult::InvalidField)?;
        let bytes = cid.to_bytes();
        cid_from_bytes(&bytes)?;
        pouw_buffer::write(out, bytes);
        Ok(())
    })
}

/// Writes the text form (base32, `bafk...`, no NUL) of the binary CID `cid` (`cid_len` bytes)
/// to a new buffer `*out` (free it with [`pouw_buffer_free`]). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_cid_to_string(
    cid: *const u8,
    cid_len: usize,
    out: *mut *mut pouw_buffer,
) -> PouwResult {
    guard(|| {
        let cid = cid_from_bytes(slice(cid, cid_len)?)?;
        out_ptr(out)?;
        pouw_buffer::write(out, cid.to_string().into_bytes());
        Ok(())
    })
}

/// Frees a store handle (an in-memory store's contents with it; a directory store's files stay);
/// NULL is a no-op. No other thread may be using it.
#[no_mangle]
pub unsafe extern "C" fn pouw_store_free(store: *mut pouw_store) {
    free_handle(store);
}
