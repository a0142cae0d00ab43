//! The C API called as C would call it: NULL and malformed arguments, typed rejections,
//! outputs left untouched on failure, mining and verifying, concurrency and cancellation.
#![cfg(feature = "torch")]

mod common;

use common::*;
use pouw_ffi::*;
use std::ffi::c_void;
use std::ptr::{null, null_mut};
use std::sync::atomic::{AtomicU64, Ordering};

/// A non-NULL pointer no call may write through or free: failures must leave it in place.
fn sentinel<T>() -> *mut T {
    std::ptr::NonNull::dangling().as_ptr()
}

const N: PouwResult = PouwResult::NullArgument;

#[test]
fn null_pointer_arguments_are_rejected_and_outputs_untouched() {
    let f = fixture();
    let h = HEADER.as_ptr();
    let (m, ml) = (MINER.as_ptr(), MINER.len());
    let (g, gl) = (f.genesis.as_ptr(), f.genesis.len());
    let (c, cl) = (f.genesis_cid.as_ptr(), f.genesis_cid.len());
    let (p, pl) = (f.proof.as_ptr(), f.proof.len());
    let t = f.target.as_ptr();
    let src = bytes_of(f.dir.path());
    let opts = small_options();
    unsafe {
        let mut buf: *mut pouw_buffer = sentinel();
        let mut ds: *mut pouw_dataset = sentinel();
        let mut params: *mut pouw_params = sentinel();
        let mut store: *mut pouw_store = sentinel();
        let mut token: *mut pouw_cancel_token = sentinel();
        let (mut out32, mut len, mut steps) = ([7u8; 32], 7u64, 7f64);
        let mut verdict = std::mem::MaybeUninit::<pouw_verdict>::zeroed().assume_init();
        verdict.steps = 7;

        // Datasets.
        check(pouw_dataset_open(null(), 3, &mut ds), N);
        check(pouw_dataset_open(src.as_ptr(), src.len(), null_mut()), N);
        check(
            pouw_dataset_import_digits(null(), 3, src.as_ptr(), src.len(), &mut ds),
            N,
        );
        check(
            pouw_dataset_import_digits(src.as_ptr(), src.len(), null(), 3, &mut ds),
            N,
        );
        check(
            pouw_dataset_import_digits(
                src.as_ptr(),
                src.len(),
                src.as_ptr(),
                src.len(),
                null_mut(),
            ),
            N,
        );
        check(pouw_dataset_root(null(), out32.as_mut_ptr()), N);
        check(pouw_dataset_root(f.dataset, null_mut()), N);
        check(pouw_dataset_len(null(), &mut len), N);
        check(pouw_dataset_len(f.dataset, null_mut()), N);
        check(pouw_dataset_cid(null(), &mut buf), N);
        check(pouw_dataset_cid(f.dataset, null_mut()), N);
        // Parameters.
        check(pouw_params_new_gan(null(), &opts, &mut params), N);
        check(pouw_params_new_gan(f.dataset, &opts, null_mut()), N);
        check(
            pouw_params_from_bytes(null(), 10, POUW_DEVICE_CPU, 0, &mut params),
            N,
        );
        check(
            pouw_params_from_bytes(g, gl, POUW_DEVICE_CPU, 0, null_mut()),
            N,
        );
        check(pouw_params_to_bytes(null(), &mut buf), N);
        check(pouw_params_to_bytes(f.params, null_mut()), N);
        check(pouw_params_digest(null(), out32.as_mut_ptr()), N);
        check(pouw_params_digest(f.params, null_mut()), N);
        // Stores and CIDs.
        check(pouw_store_open_dir(null(), 3, &mut store), N);
        check(pouw_store_open_dir(src.as_ptr(), src.len(), null_mut()), N);
        check(pouw_store_new_memory(null_mut()), N);
        check(pouw_store_put(null(), g, gl, &mut buf), N);
        check(pouw_store_put(f.store, null(), 5, &mut buf), N);
        check(pouw_store_put(f.store, g, gl, null_mut()), N);
        check(pouw_store_get(null(), c, cl, &mut buf), N);
        check(pouw_store_get(f.store, null(), cl, &mut buf), N);
        check(pouw_store_get(f.store, c, cl, null_mut()), N);
        check(pouw_cid_of(null(), 5, &mut buf), N);
        check(pouw_cid_of(g, gl, null_mut()), N);
        check(pouw_cid_parse(null(), 5, &mut buf), N);
        check(pouw_cid_parse(b"x".as_ptr(), 1, null_mut()), N);
        check(pouw_cid_to_string(null(), cl, &mut buf), N);
        check(pouw_cid_to_string(c, cl, null_mut()), N);
        // Targets.
        check(pouw_target_from_expected_steps(6, null_mut()), N);
        check(pouw_target_expected_steps(null(), &mut steps), N);
        check(pouw_target_expected_steps(t, null_mut()), N);
        check(pouw_target_retarget(null(), 1, 1, out32.as_mut_ptr()), N);
        check(pouw_target_retarget(t, 1, 1, null_mut()), N);
        // Cancel tokens.
        check(pouw_cancel_token_new(null_mut()), N);
        check(pouw_cancel_token_cancel(null()), N);
        // Genesis.
        check(pouw_genesis_checkpoint(null(), h, &mut buf), N);
        check(pouw_genesis_checkpoint(f.params, null(), &mut buf), N);
        check(pouw_genesis_checkpoint(f.params, h, null_mut()), N);
        // Capacity.
        check(
            pouw_capacity_verify(null(), m, ml, h, 10, 64, 0, 1, p, pl),
            N,
        );
        check(
            pouw_capacity_verify(h, null(), ml, h, 10, 64, 0, 1, p, pl),
            N,
        );
        check(
            pouw_capacity_verify(h, m, ml, null(), 10, 64, 0, 1, p, pl),
            N,
        );
        check(
            pouw_capacity_verify(h, m, ml, h, 10, 64, 0, 1, null(), pl),
            N,
        );
        // Results.
        let mut msg = [0 as std::ffi::c_char; 64];
        let mut msg_len = 7usize;
        check(pouw_result_message(0, null_mut(), 64, &mut msg_len), N);
        check(pouw_result_message(0, msg.as_mut_ptr(), 64, null_mut()), N);

        // Mining: every pointer argument in turn (all are checked before any work).
        let mut proof: *mut pouw_buffer = sentinel();
        let mut winning: *mut pouw_buffer = sentinel();
        let (d, s, pa) = (
            f.dataset as *const _,
            f.store as *const _,
            f.params as *const _,
        );
        let mine = |pa, d, s, h, m, g, t, proof, winning| {
            pouw_mine(
                pa,
                d,
                s,
                h,
                m,
                ml,
                g,
                gl,
                t,
                10,
                None,
                null_mut(),
                null(),
                proof,
                winning,
            )
        };
        check(mine(null(), d, s, h, m, g, t, &mut proof, &mut winning), N);
        check(mine(pa, null(), s, h, m, g, t, &mut proof, &mut winning), N);
        check(mine(pa, d, null(), h, m, g, t, &mut proof, &mut winning), N);
        check(mine(pa, d, s, null(), m, g, t, &mut proof, &mut winning), N);
        check(mine(pa, d, s, h, null(), g, t, &mut proof, &mut winning), N);
        check(mine(pa, d, s, h, m, null(), t, &mut proof, &mut winning), N);
        check(mine(pa, d, s, h, m, g, null(), &mut proof, &mut winning), N);
        check(mine(pa, d, s, h, m, g, t, null_mut(), &mut winning), N);
        check(mine(pa, d, s, h, m, g, t, &mut proof, null_mut()), N);

        // Verifying: every pointer argument in turn.
        let st = &f.start as *const pouw_start;
        let verify = |pa, s, h, m, st, t, p, v| pouw_verify(pa, s, h, m, ml, st, t, p, pl, v);
        check(verify(null(), s, h, m, st, t, p, &mut verdict), N);
        check(verify(pa, null(), h, m, st, t, p, &mut verdict), N);
        check(verify(pa, s, null(), m, st, t, p, &mut verdict), N);
        check(verify(pa, s, h, null(), st, t, p, &mut verdict), N);
        check(verify(pa, s, h, m, null(), t, p, &mut verdict), N);
        check(verify(pa, s, h, m, st, null(), p, &mut verdict), N);
        check(verify(pa, s, h, m, st, t, null(), &mut verdict), N);
        check(verify(pa, s, h, m, st, t, p, null_mut()), N);
        // Starts, works, audits, fraud proofs.
        let mut start_out = std::mem::MaybeUninit::<pouw_start>::zeroed();
        check(
            pouw_start_of_checkpoint(null(), g, gl, start_out.as_mut_ptr()),
            N,
        );
        check(
            pouw_start_of_checkpoint(pa, null(), gl, start_out.as_mut_ptr()),
            N,
        );
        check(pouw_start_of_checkpoint(pa, g, gl, null_mut()), N);
        check(pouw_work_of_target(null(), out32.as_mut_ptr()), N);
        check(pouw_work_of_target(t, null_mut()), N);
        check(pouw_work_add(null(), t, out32.as_mut_ptr()), N);
        check(pouw_work_add(t, null(), out32.as_mut_ptr()), N);
        check(pouw_work_add(t, t, null_mut()), N);
        let mut fraud: *mut pouw_buffer = sentinel();
        let mut steps_u64 = 7u64;
        let audit = |pa, d, s, h, m, g, t, p, out| {
            pouw_audit(
                pa,
                d,
                s,
                h,
                m,
                ml,
                g,
                gl,
                t,
                p,
                pl,
                POUW_SEGMENT_RANDOM,
                None,
                null_mut(),
                null(),
                null_mut(),
                out,
            )
        };
        check(audit(null(), d, s, h, m, g, t, p, &mut fraud), N);
        check(audit(pa, null(), s, h, m, g, t, p, &mut fraud), N);
        check(audit(pa, d, null(), h, m, g, t, p, &mut fraud), N);
        check(audit(pa, d, s, null(), m, g, t, p, &mut fraud), N);
        check(audit(pa, d, s, h, null(), g, t, p, &mut fraud), N);
        check(audit(pa, d, s, h, m, null(), t, p, &mut fraud), N);
        check(audit(pa, d, s, h, m, g, null(), p, &mut fraud), N);
        check(audit(pa, d, s, h, m, g, t, null(), &mut fraud), N);
        check(audit(pa, d, s, h, m, g, t, p, null_mut()), N);
        assert_eq!(fraud, sentinel());
        let mut step = 7u64;
        let fv = |pa, s, id, b, fr, out| pouw_fraud_proof_verify(pa, s, id, 0, b, pl, fr, pl, out);
        check(fv(null(), s, h, p, p, &mut step), N);
        check(fv(pa, null(), h, p, p, &mut step), N);
        check(fv(pa, s, null(), p, p, &mut step), N);
        check(fv(pa, s, h, null(), p, &mut step), N);
        check(fv(pa, s, h, p, null(), &mut step), N);
        check(fv(pa, s, h, p, p, null_mut()), N);
        check(pouw_block_proof_id(null(), p, pl, out32.as_mut_ptr()), N);
        check(pouw_block_proof_id(pa, null(), pl, out32.as_mut_ptr()), N);
        check(pouw_block_proof_id(pa, p, pl, null_mut()), N);
        check(pouw_segment_count(null(), p, pl, &mut steps_u64), N);
        check(pouw_segment_count(pa, null(), pl, &mut steps_u64), N);
        check(pouw_segment_count(pa, p, pl, null_mut()), N);
        assert_eq!(steps_u64, 7);
        assert_eq!(step, 7);

        // Nothing was written.
        assert!([buf, proof, winning].iter().all(|p| *p == sentinel()));
        assert!(
            ds == sentinel() && params == sentinel() && store == sentinel() && token == sentinel()
        );
        assert_eq!((out32, len, steps, msg_len), ([7u8; 32], 7, 7.0, 7));
        assert_eq!(verdict.steps, 7);
        assert_eq!(msg[0], 0);
        // Keep `token` mutable use honest: a real token round trip.
        check(pouw_cancel_token_new(&mut token), PouwResult::Ok);
        pouw_cancel_token_free(token);
    }
}

#[test]
fn free_accepts_null() {
    unsafe {
        pouw_buffer_free(null_mut());
        pouw_dataset_free(null_mut());
        pouw_params_free(null_mut());
        pouw_store_free(null_mut());
        pouw_cancel_token_free(null_mut());
        assert!(pouw_buffer_data(null()).is_null());
        assert_eq!(pouw_buffer_len(null()), 0);
    }
}

#[test]
fn malformed_proofs_get_typed_codes_and_leave_the_verdict_untouched() {
    let f = fixture();
    let cases: Vec<(&str, Vec<u8>, &[PouwResult])> = vec![
        ("empty", Vec::new(), &[PouwResult::Truncated]),
        (
            "garbage",
            b"this is not a block proof, not at all".to_vec(),
            &[PouwResult::BadMagic],
        ),
        (
            "truncated",
            f.proof[..f.proof.len() / 2].to_vec(),
            &[
                PouwResult::Truncated,
                PouwResult::LimitExceeded,
                PouwResult::InvalidField,
            ],
        ),
        (
            "trailing",
            [f.proof.as_slice(), &[0]].concat(),
            &[PouwResult::TrailingBytes],
        ),
        (
            "wrong version",
            [&f.proof[..4], &[0xff; 4], &f.proof[8..]].concat(),
            &[PouwResult::UnsupportedVersion],
        ),
    ];
    for (what, proof, expected) in cases {
        let mut verdict = std::mem::MaybeUninit::<pouw_verdict>::zeroed();
        unsafe { (*verdict.as_mut_ptr()).steps = 12345 };
        let r = unsafe {
            pouw_verify(
                f.params,
                f.store,
                HEADER.as_ptr(),
                MINER.as_ptr(),
                MINER.len(),
                &f.start,
                f.target.as_ptr(),
                if proof.is_empty() {
                    null()
                } else {
                    proof.as_ptr()
                },
                proof.len(),
                verdict.as_mut_ptr(),
            )
        };
        assert!(
            expected.contains(&r),
            "{what}: got {r:?}, expected one of {expected:?}"
        );
        assert_eq!(
            unsafe { verdict.assume_init().steps },
            12345,
            "{what}: verdict written on failure"
        );
    }
    // Bindings through the C API.
    check(
        verify(f, &[2; 32], &f.proof).unwrap_err(),
        PouwResult::Binding,
    );
    // A start whose CID length is out of range, and one naming another digest.
    let bad_len = pouw_start {
        cid_len: 65,
        ..f.start
    };
    let r = unsafe {
        let mut v = std::mem::MaybeUninit::<pouw_verdict>::zeroed();
        pouw_verify(
            f.params,
            f.store,
            HEADER.as_ptr(),
            MINER.as_ptr(),
            MINER.len(),
            &bad_len,
            f.target.as_ptr(),
            f.proof.as_ptr(),
            f.proof.len(),
            v.as_mut_ptr(),
        )
    };
    check(r, PouwResult::InvalidArgument);
    let other = pouw_start {
        digest: [9; 32],
        ..f.start
    };
    let r = unsafe {
        let mut v = std::mem::MaybeUninit::<pouw_verdict>::zeroed();
        pouw_verify(
            f.params,
            f.store,
            HEADER.as_ptr(),
            MINER.as_ptr(),
            MINER.len(),
            &other,
            f.target.as_ptr(),
            f.proof.as_ptr(),
            f.proof.len(),
            v.as_mut_ptr(),
        )
    };
    check(r, PouwResult::Binding);
}

#[test]
fn invalid_arguments_get_typed_codes() {
    let f = fixture();
    unsafe {
        let mut params: *mut pouw_params = sentinel();
        let bad_device = pouw_params_options {
            device: 99,
            ..small_options()
        };
        check(
            pouw_params_new_gan(f.dataset, &bad_device, &mut params),
            PouwResult::InvalidArgument,
        );
        let too_many = pouw_params_options {
            capacity_challenges: 100_000,
            ..small_options()
        };
        check(
            pouw_params_new_gan(f.dataset, &too_many, &mut params),
            PouwResult::InvalidParameters,
        );
        let one_batch = pouw_params_options {
            batch_size: 1,
            ..small_options()
        };
        check(
            pouw_params_new_gan(f.dataset, &one_batch, &mut params),
            PouwResult::InvalidParameters,
        );
        check(
            pouw_params_from_bytes(b"nope".as_ptr(), 4, POUW_DEVICE_CPU, 0, &mut params),
            PouwResult::BadMagic,
        );
        check(
            pouw_params_from_bytes(null(), 0, POUW_DEVICE_CPU, 0, &mut params),
            PouwResult::Truncated,
        );
        assert_eq!(params, sentinel());

        let mut ds: *mut pouw_dataset = sentinel();
        check(
            pouw_dataset_open(b"".as_ptr(), 0, &mut ds),
            PouwResult::InvalidArgument,
        );
        check(
            pouw_dataset_open(b"a\0b".as_ptr(), 3, &mut ds),
            PouwResult::InvalidArgument,
        );
        let missing = b"/nonexistent/pouw/dataset";
        check(
            pouw_dataset_open(missing.as_ptr(), missing.len(), &mut ds),
            PouwResult::Io,
        );
        let not_digits = bytes_of(std::path::Path::new(env!("CARGO_MANIFEST_DIR"))).to_vec();
        let dest = f.dir.path().join("never");
        let dest = bytes_of(&dest);
        let r = pouw_dataset_import_digits(
            not_digits.as_ptr(),
            not_digits.len(),
            dest.as_ptr(),
            dest.len(),
            &mut ds,
        );
        assert!(matches!(r, PouwResult::Io | PouwResult::Import), "{r:?}");
        assert_eq!(ds, sentinel());

        let mut buf: *mut pouw_buffer = sentinel();
        check(
            pouw_cid_parse(b"not a cid".as_ptr(), 9, &mut buf),
            PouwResult::InvalidField,
        );
        check(
            pouw_store_get(f.store, b"\x01\x55".as_ptr(), 2, &mut buf),
            PouwResult::InvalidField,
        );
        assert_eq!(buf, sentinel());
    }
}

#[test]
fn mined_block_verifies_with_its_facts() {
    let f = fixture();
    let v = verify(f, &HEADER, &f.proof).expect("the fixture block verifies");
    assert!(v.steps >= 1 && v.opened_count >= 1 && v.opened_count <= 5);
    // Scoring is apart from verification: finite scores, the same on a second call.
    let a = assess(f.params, null(), f.store, &f.start, &f.proof).unwrap();
    assert!(a.start_quality.is_finite() && a.end_quality.is_finite());
    let again = assess(f.params, null(), f.store, &f.start, &f.proof).unwrap();
    assert_eq!(
        (a.start_quality.to_bits(), a.end_quality.to_bits()),
        (again.start_quality.to_bits(), again.end_quality.to_bits())
    );
    let mut work = [0u8; 32];
    check(
        unsafe { pouw_work_of_target(f.target.as_ptr(), work.as_mut_ptr()) },
        PouwResult::Ok,
    );
    assert_eq!(v.work, work);
    let expected = u64::from_be_bytes(work[24..].try_into().unwrap());
    assert!(work[..24].iter().all(|&b| b == 0) && expected == EXPECTED_STEPS);
    let mut doubled = [0u8; 32];
    check(
        unsafe { pouw_work_add(work.as_ptr(), work.as_ptr(), doubled.as_mut_ptr()) },
        PouwResult::Ok,
    );
    assert_eq!(
        u64::from_be_bytes(doubled[24..].try_into().unwrap()),
        2 * expected
    );
    check(
        unsafe { pouw_work_add([0xff; 32].as_ptr(), work.as_ptr(), doubled.as_mut_ptr()) },
        PouwResult::LimitExceeded,
    );
    let mut cid = null_mut();
    check(
        unsafe { pouw_cid_of(f.winning.as_ptr(), f.winning.len(), &mut cid) },
        PouwResult::Ok,
    );
    assert_eq!(take(cid), v.next.cid[..v.next.cid_len]);
    let mut next = std::mem::MaybeUninit::<pouw_start>::zeroed();
    check(
        unsafe {
            pouw_start_of_checkpoint(
                f.params,
                f.winning.as_ptr(),
                f.winning.len(),
                next.as_mut_ptr(),
            )
        },
        PouwResult::Ok,
    );
    let next = unsafe { next.assume_init() };
    assert_eq!((next.digest, next.steps), (v.next.digest, v.next.steps));
    assert_eq!(v.next.steps, f.start.steps + v.steps);
    let mut root = [0u8; 32];
    check(
        unsafe { pouw_dataset_root(f.dataset, root.as_mut_ptr()) },
        PouwResult::Ok,
    );
    assert_eq!(root, v.dataset_root);
    // The winning checkpoint is in the store (published with the proof).
    let mut fetched = null_mut();
    check(
        unsafe { pouw_store_get(f.store, v.next.cid.as_ptr(), v.next.cid_len, &mut fetched) },
        PouwResult::Ok,
    );
    assert_eq!(take(fetched), f.winning);
}

#[test]
fn params_cids_and_targets_round_trip() {
    let f = fixture();
    unsafe {
        let mut bytes = null_mut();
        check(pouw_params_to_bytes(f.params, &mut bytes), PouwResult::Ok);
        let bytes = take(bytes);
        let mut back = null_mut();
        check(
            pouw_params_from_bytes(bytes.as_ptr(), bytes.len(), POUW_DEVICE_AUTO, 0, &mut back),
            PouwResult::Ok,
        );
        let (mut a, mut b) = ([0u8; 32], [1u8; 32]);
        check(pouw_params_digest(f.params, a.as_mut_ptr()), PouwResult::Ok);
        check(pouw_params_digest(back, b.as_mut_ptr()), PouwResult::Ok);
        assert_eq!(a, b);
        pouw_params_free(back);

        let mut text = null_mut();
        check(
            pouw_cid_to_string(f.genesis_cid.as_ptr(), f.genesis_cid.len(), &mut text),
            PouwResult::Ok,
        );
        let text = take(text);
        assert!(text.starts_with(b"b"), "{}", String::from_utf8_lossy(&text));
        let mut parsed = null_mut();
        check(
            pouw_cid_parse(text.as_ptr(), text.len(), &mut parsed),
            PouwResult::Ok,
        );
        assert_eq!(take(parsed), f.genesis_cid);

        let mut len = 0u64;
        check(pouw_dataset_len(f.dataset, &mut len), PouwResult::Ok);
        assert_eq!(len, 1797);
        let mut steps = 0f64;
        check(
            pouw_target_expected_steps(f.target.as_ptr(), &mut steps),
            PouwResult::Ok,
        );
        assert!((steps - EXPECTED_STEPS as f64).abs() < 1e-6);
        let mut next = f.target;
        check(
            pouw_target_retarget(next.as_ptr(), 200, 100, next.as_mut_ptr()),
            PouwResult::Ok,
        );
        check(
            pouw_target_expected_steps(next.as_ptr(), &mut steps),
            PouwResult::Ok,
        );
        assert!((steps - EXPECTED_STEPS as f64 / 2.0).abs() < 1e-6);

        // A directory store and a reopened dataset behave like the originals.
        let dir = TempDir::new("store");
        let d = bytes_of(dir.path());
        let mut store = null_mut();
        check(
            pouw_store_open_dir(d.as_ptr(), d.len(), &mut store),
            PouwResult::Ok,
        );
        let mut cid = null_mut();
        check(
            pouw_store_put(store, f.genesis.as_ptr(), f.genesis.len(), &mut cid),
            PouwResult::Ok,
        );
        assert_eq!(take(cid), f.genesis_cid);
        pouw_store_free(store);
        let ds_dir = f.dir.path().join("digits");
        let p = bytes_of(&ds_dir);
        let mut ds = null_mut();
        check(
            pouw_dataset_open(p.as_ptr(), p.len(), &mut ds),
            PouwResult::Ok,
        );
        let (mut c1, mut c2) = (null_mut(), null_mut());
        check(pouw_dataset_cid(ds, &mut c1), PouwResult::Ok);
        check(pouw_dataset_cid(f.dataset, &mut c2), PouwResult::Ok);
        assert_eq!(take(c1), take(c2));
        pouw_dataset_free(ds);
    }
}

#[test]
fn result_messages() {
    let mut buf = [0 as std::ffi::c_char; 128];
    let mut len = 0usize;
    for &code in PouwResult::ALL {
        check(
            unsafe { pouw_result_message(code as u32, buf.as_mut_ptr(), buf.len(), &mut len) },
            PouwResult::Ok,
        );
        let msg = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
            .to_str()
            .unwrap();
        assert_eq!((msg, len), (code.message(), code.message().len()));
    }
    check(
        unsafe { pouw_result_message(12345, buf.as_mut_ptr(), buf.len(), &mut len) },
        PouwResult::Ok,
    );
    assert_eq!(
        unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
            .to_str()
            .unwrap(),
        "unknown result code"
    );
    check(
        unsafe { pouw_result_message(0, buf.as_mut_ptr(), 3, &mut len) },
        PouwResult::BufferTooSmall,
    );
    assert_eq!(pouw_protocol_version(), pouw::PROTOCOL_VERSION);
}

#[test]
fn verify_alongside_mining_gives_identical_results() {
    let f = fixture();
    let alone = verify(f, &HEADER, &f.proof).unwrap();
    let mined_alone = mine(f, &[9; 32], &f.genesis).unwrap();
    std::thread::scope(|s| {
        let miner = s.spawn(|| mine(f, &[9; 32], &f.genesis).unwrap());
        let verifiers: Vec<_> = (0..2)
            .map(|_| s.spawn(|| verify(f, &HEADER, &f.proof).unwrap()))
            .collect();
        for v in verifiers {
            let v = v.join().unwrap();
            // Compare field by field (the struct has no PartialEq: it is a C struct).
            assert_eq!(
                (
                    v.steps,
                    v.opened_count,
                    v.dataset_root,
                    v.work,
                    v.next.digest,
                    v.next.cid,
                    v.next.cid_len,
                    v.next.steps
                ),
                (
                    alone.steps,
                    alone.opened_count,
                    alone.dataset_root,
                    alone.work,
                    alone.next.digest,
                    alone.next.cid,
                    alone.next.cid_len,
                    alone.next.steps
                )
            );
        }
        assert_eq!(
            miner.join().unwrap(),
            mined_alone,
            "mining alongside verifiers is unchanged"
        );
    });
}

unsafe extern "C" fn count_steps(step: u64, user_data: *mut c_void) {
    (*(user_data as *const AtomicU64)).store(step, Ordering::SeqCst);
}

#[test]
fn cancellation_from_another_thread() {
    let f = fixture();
    let never = [0u8; 32]; // no ticket is below zero
    let mut token = null_mut();
    check(unsafe { pouw_cancel_token_new(&mut token) }, PouwResult::Ok);
    let token_addr = token as usize;
    let steps = AtomicU64::new(0);
    let (mut proof, mut winning): (*mut pouw_buffer, *mut pouw_buffer) = (sentinel(), sentinel());
    std::thread::scope(|s| {
        let steps = &steps;
        s.spawn(move || {
            while steps.load(Ordering::SeqCst) < 1 {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            check(
                unsafe { pouw_cancel_token_cancel(token_addr as *const pouw_cancel_token) },
                PouwResult::Ok,
            );
        });
        let r = unsafe {
            pouw_mine(
                f.params,
                f.dataset,
                f.store,
                HEADER.as_ptr(),
                MINER.as_ptr(),
                MINER.len(),
                f.genesis.as_ptr(),
                f.genesis.len(),
                never.as_ptr(),
                u64::MAX,
                Some(count_steps),
                steps as *const AtomicU64 as *mut c_void,
                token,
                &mut proof,
                &mut winning,
            )
        };
        check(r, PouwResult::Cancelled);
    });
    assert!(steps.load(Ordering::SeqCst) >= 1 && steps.load(Ordering::SeqCst) < 200);
    assert!(
        proof == sentinel() && winning == sentinel(),
        "outputs written on cancellation"
    );
    unsafe { pouw_cancel_token_free(token) };
}

#[test]
fn step_limit_has_its_own_code() {
    let f = fixture();
    let never = [0u8; 32];
    let steps = AtomicU64::new(0);
    let (mut proof, mut winning): (*mut pouw_buffer, *mut pouw_buffer) = (sentinel(), sentinel());
    let r = unsafe {
        pouw_mine(
            f.params,
            f.dataset,
            f.store,
            HEADER.as_ptr(),
            MINER.as_ptr(),
            MINER.len(),
            f.genesis.as_ptr(),
            f.genesis.len(),
            never.as_ptr(),
            2,
            Some(count_steps),
            &steps as *const AtomicU64 as *mut c_void,
            null(),
            &mut proof,
            &mut winning,
        )
    };
    check(r, PouwResult::StepLimit);
    assert_eq!(
        steps.load(Ordering::SeqCst),
        2,
        "progress reported every step"
    );
    assert!(proof == sentinel() && winning == sentinel());
}

/// The golden proofs of `tests/golden/` (made by the Rust tests) verify through the C API too.
#[test]
fn golden_proof_verifies_through_the_c_api() {
    let g = golden();
    let s = bytes_of(&g.store_dir).to_vec();
    unsafe {
        let mut store = null_mut();
        check(
            pouw_store_open_dir(s.as_ptr(), s.len(), &mut store),
            PouwResult::Ok,
        );
        assert_eq!(store_get(store, &g.genesis_cid), Ok(g.genesis.clone()));
        assert!(golden_verdict(&g, store).unwrap().steps >= 1);
        pouw_store_free(store);
        pouw_params_free(g.params);
    }
}

/// A failed call leaves its detailed message (the field, the step, the file) for
/// `pouw_last_error_message`, per thread; a successful call clears it.
#[test]
fn failed_calls_leave_a_detailed_message() {
    let last = || -> (PouwResult, String) {
        let mut buf = [0 as std::ffi::c_char; 512];
        let mut len = 0usize;
        let r = unsafe { pouw_last_error_message(buf.as_mut_ptr(), buf.len(), &mut len) };
        let msg = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) };
        (r, msg.to_str().unwrap().to_owned())
    };
    let mut params = null_mut();
    check(
        unsafe { pouw_params_from_bytes(b"nope".as_ptr(), 4, POUW_DEVICE_CPU, 0, &mut params) },
        PouwResult::BadMagic,
    );
    let (r, msg) = last();
    assert_eq!(r, PouwResult::Ok);
    assert_ne!(msg, PouwResult::BadMagic.message());
    assert!(msg.contains("magic"), "{msg}");
    // Reading it leaves it, and so does reading a code's message; another thread has its own
    // (none).
    assert_eq!(last().1, msg);
    let mut code_msg = [0 as std::ffi::c_char; 128];
    let mut code_len = 0usize;
    check(
        unsafe {
            pouw_result_message(
                PouwResult::BadMagic as u32,
                code_msg.as_mut_ptr(),
                code_msg.len(),
                &mut code_len,
            )
        },
        PouwResult::Ok,
    );
    assert_eq!(last().1, msg);
    assert_eq!(std::thread::spawn(move || last().1).join().unwrap(), "");
    // A code without a library error behind it gets the code's message.
    check(
        unsafe { pouw_params_from_bytes(null(), 4, POUW_DEVICE_CPU, 0, &mut params) },
        PouwResult::NullArgument,
    );
    assert_eq!(last().1, PouwResult::NullArgument.message());
    // Too small a buffer: the length it needs, nothing written.
    let mut tiny = [7 as std::ffi::c_char; 4];
    let mut len = 0usize;
    assert_eq!(
        unsafe { pouw_last_error_message(tiny.as_mut_ptr(), tiny.len(), &mut len) },
        PouwResult::BufferTooSmall
    );
    assert_eq!(
        (len, tiny[0]),
        (PouwResult::NullArgument.message().len(), 7)
    );
    // A successful call clears it.
    let mut cid = null_mut();
    check(
        unsafe { pouw_cid_of(b"x".as_ptr(), 1, &mut cid) },
        PouwResult::Ok,
    );
    take(cid);
    assert_eq!(last().1, "");
}

// ---- Callback stores, required CIDs, IPFS stores ----

/// How [`blobs_get`] answers.
const SERVE: u32 = 0;
const SAY_TIMEOUT: u32 = 1;
const TAMPER: u32 = 2;
const FAIL: u32 = 3;
const OVERSIZE: u32 = 4;
/// As `OVERSIZE`, but the callback then reports a failure of its own instead of the refusal.
const OVERSIZE_THEN_FAIL: u32 = 5;

/// The embedder's side of a callback store: CID to bytes, and how the callbacks misbehave.
#[derive(Default)]
struct Blobs {
    map: std::sync::Mutex<std::collections::HashMap<Vec<u8>, Vec<u8>>>,
    mode: std::sync::atomic::AtomicU32,
    /// Every CID asked for, in order.
    asked: std::sync::Mutex<Vec<Vec<u8>>>,
    /// The code of the last sink write refused while padding (`OVERSIZE`), and the bytes the
    /// sink held before.
    refused: std::sync::Mutex<Option<(PouwResult, u64, u64)>>,
}

impl Blobs {
    fn mode(&self, mode: u32) {
        self.mode.store(mode, Ordering::SeqCst);
    }
}

unsafe extern "C" fn blobs_get(
    user_data: *mut c_void,
    cid: *const u8,
    cid_len: usize,
    limit: u64,
    sink: *mut pouw_sink,
) -> u32 {
    let blobs = &*(user_data as *const Blobs);
    let cid = std::slice::from_raw_parts(cid, cid_len).to_vec();
    blobs.asked.lock().unwrap().push(cid.clone());
    let mode = blobs.mode.load(Ordering::SeqCst);
    match mode {
        SAY_TIMEOUT => return PouwResult::Timeout as u32,
        FAIL => return 42,
        _ => {}
    }
    let Some(mut bytes) = blobs.map.lock().unwrap().get(&cid).cloned() else {
        return PouwResult::NotFound as u32;
    };
    if mode == TAMPER {
        let mid = bytes.len() / 2;
        bytes[mid] ^= 1;
    }
    // In two writes: the sink appends.
    let (a, b) = bytes.split_at(bytes.len() / 2);
    for part in [a, b] {
        let r = pouw_sink_write(sink, part.as_ptr(), part.len());
        if r != PouwResult::Ok {
            return r as u32;
        }
    }
    if mode == OVERSIZE || mode == OVERSIZE_THEN_FAIL {
        let pad = [0u8; 1 << 16];
        let mut held = bytes.len() as u64;
        loop {
            let r = pouw_sink_write(sink, pad.as_ptr(), pad.len());
            if r != PouwResult::Ok {
                *blobs.refused.lock().unwrap() = Some((r, held, limit));
                return if mode == OVERSIZE { r as u32 } else { 42 };
            }
            held += pad.len() as u64;
        }
    }
    PouwResult::Ok as u32
}

unsafe extern "C" fn blobs_put(
    user_data: *mut c_void,
    cid: *const u8,
    cid_len: usize,
    bytes: *const u8,
    len: usize,
) -> u32 {
    let blobs = &*(user_data as *const Blobs);
    if blobs.mode.load(Ordering::SeqCst) == FAIL {
        return 77;
    }
    let cid = std::slice::from_raw_parts(cid, cid_len).to_vec();
    let bytes = std::slice::from_raw_parts(bytes, len).to_vec();
    blobs.map.lock().unwrap().insert(cid, bytes);
    PouwResult::Ok as u32
}

/// A callback store over `blobs` (which must outlive it).
fn callback_store(blobs: &Blobs, with_put: bool) -> *mut pouw_store {
    let mut store = null_mut();
    let put: pouw_store_put_callback = if with_put { Some(blobs_put) } else { None };
    check(
        unsafe {
            pouw_store_new_callbacks(
                Some(blobs_get),
                put,
                blobs as *const Blobs as *mut c_void,
                &mut store,
            )
        },
        PouwResult::Ok,
    );
    store
}

/// This thread's last error message.
fn last_message() -> String {
    let mut buf = [0 as std::ffi::c_char; 1024];
    let mut len = 0usize;
    check(
        unsafe { pouw_last_error_message(buf.as_mut_ptr(), buf.len(), &mut len) },
        PouwResult::Ok,
    );
    unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
        .to_str()
        .unwrap()
        .to_owned()
}

fn store_get(store: *const pouw_store, cid: &[u8]) -> Result<Vec<u8>, PouwResult> {
    let mut out = null_mut();
    match unsafe { pouw_store_get(store, cid.as_ptr(), cid.len(), &mut out) } {
        PouwResult::Ok => Ok(take(out)),
        code => {
            assert!(out.is_null(), "output written on failure");
            Err(code)
        }
    }
}

fn store_put(store: *const pouw_store, bytes: &[u8]) -> Result<Vec<u8>, PouwResult> {
    let mut out = null_mut();
    match unsafe { pouw_store_put(store, bytes.as_ptr(), bytes.len(), &mut out) } {
        PouwResult::Ok => Ok(take(out)),
        code => Err(code),
    }
}

fn cid_of_bytes(bytes: &[u8]) -> Vec<u8> {
    let mut out = null_mut();
    check(
        unsafe { pouw_cid_of(bytes.as_ptr(), bytes.len(), &mut out) },
        PouwResult::Ok,
    );
    take(out)
}

#[test]
fn callback_store_round_trips_and_maps_the_callbacks_codes() {
    let blobs = Blobs::default();
    unsafe {
        let mut store: *mut pouw_store = sentinel();
        check(
            pouw_store_new_callbacks(None, Some(blobs_put), null_mut(), &mut store),
            N,
        );
        check(
            pouw_store_new_callbacks(Some(blobs_get), None, null_mut(), null_mut()),
            N,
        );
        assert!(store == sentinel());
    }
    let store = callback_store(&blobs, true);
    let object = b"a checkpoint, or so".repeat(100);
    // Put: the library computes the CID and hands it to the callback with the bytes.
    let cid = store_put(store, &object).unwrap();
    assert_eq!(cid, cid_of_bytes(&object));
    assert_eq!(blobs.map.lock().unwrap().get(&cid), Some(&object));
    assert_eq!(store_get(store, &cid).unwrap(), object);
    assert_eq!(blobs.asked.lock().unwrap().last(), Some(&cid));
    // Absent: NOT_FOUND.
    let other = cid_of_bytes(b"never stored");
    assert_eq!(store_get(store, &other), Err(PouwResult::NotFound));
    // The callback's own codes.
    blobs.mode(SAY_TIMEOUT);
    assert_eq!(store_get(store, &cid), Err(PouwResult::Timeout));
    blobs.mode(FAIL);
    assert_eq!(store_get(store, &cid), Err(PouwResult::Store));
    let msg = last_message();
    assert!(msg.contains("get callback returned code 42"), "{msg}");
    assert_eq!(store_put(store, b"x"), Err(PouwResult::Store));
    assert!(last_message().contains("code 77"), "{}", last_message());
    // Bytes that are not the object asked for: BAD_BLOCK, whatever the callback says.
    blobs.mode(TAMPER);
    assert_eq!(store_get(store, &cid), Err(PouwResult::BadBlock));
    blobs.mode(SERVE);
    assert_eq!(store_get(store, &cid).unwrap(), object);
    // Several threads at once, one store.
    std::thread::scope(|s| {
        for _ in 0..4 {
            let (store, cid, object) = (store as usize, &cid, &object);
            s.spawn(move || {
                for _ in 0..20 {
                    assert_eq!(&store_get(store as *const pouw_store, cid).unwrap(), object);
                }
            });
        }
    });
    unsafe { pouw_store_free(store) };

    // Without a put callback: reads work, puts are store failures.
    let store = callback_store(&blobs, false);
    assert_eq!(store_get(store, &cid).unwrap(), object);
    assert_eq!(store_put(store, b"y"), Err(PouwResult::Store));
    unsafe { pouw_store_free(store) };
}

/// The golden proof's parameters, genesis, start, target and proof.
struct Golden {
    params: *mut pouw_params,
    genesis_cid: Vec<u8>,
    genesis: Vec<u8>,
    start: pouw_start,
    target: [u8; 32],
    proof: Vec<u8>,
    store_dir: std::path::PathBuf,
}

/// The file of a `DirStore` directory holding `cid` (binary): named by the CID, or by the CID and
/// `.safetensors` in stores written before files lost their extension.
fn stored_file(dir: &std::path::Path, cid: &[u8]) -> std::path::PathBuf {
    let plain = dir.join(cid_text(cid));
    if plain.exists() {
        plain
    } else {
        dir.join(format!("{}.safetensors", cid_text(cid)))
    }
}

fn golden() -> Golden {
    let dir = root().join("tests/golden");
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
    unsafe {
        let params_bytes = read("params.bin");
        let mut params = null_mut();
        check(
            pouw_params_from_bytes(
                params_bytes.as_ptr(),
                params_bytes.len(),
                POUW_DEVICE_CPU,
                0,
                &mut params,
            ),
            PouwResult::Ok,
        );
        let text = read("genesis.cid");
        let mut cid = null_mut();
        check(
            pouw_cid_parse(text.as_ptr(), text.len(), &mut cid),
            PouwResult::Ok,
        );
        let genesis_cid = take(cid);
        let store_dir = dir.join("store");
        let genesis = std::fs::read(stored_file(&store_dir, &genesis_cid)).unwrap();
        let mut start = std::mem::MaybeUninit::<pouw_start>::zeroed();
        check(
            pouw_start_of_checkpoint(params, genesis.as_ptr(), genesis.len(), start.as_mut_ptr()),
            PouwResult::Ok,
        );
        let mut target = [0u8; 32];
        check(
            pouw_target_from_expected_steps(8, target.as_mut_ptr()),
            PouwResult::Ok,
        );
        Golden {
            params,
            genesis_cid,
            genesis,
            start: start.assume_init(),
            target,
            proof: read("proof.bin"),
            store_dir,
        }
    }
}

fn cid_text(cid: &[u8]) -> String {
    let mut out = null_mut();
    check(
        unsafe { pouw_cid_to_string(cid.as_ptr(), cid.len(), &mut out) },
        PouwResult::Ok,
    );
    String::from_utf8(take(out)).unwrap()
}

fn golden_verify(g: &Golden, store: *const pouw_store) -> PouwResult {
    golden_verdict(g, store).err().unwrap_or(PouwResult::Ok)
}

/// The golden block's verdict through `store`, or the failure.
fn golden_verdict(g: &Golden, store: *const pouw_store) -> Result<pouw_verdict, PouwResult> {
    let header = [0x42u8; 32];
    let miner = b"golden-miner";
    let mut verdict = std::mem::MaybeUninit::<pouw_verdict>::zeroed();
    let r = unsafe {
        pouw_verify(
            g.params,
            store,
            header.as_ptr(),
            miner.as_ptr(),
            miner.len(),
            &g.start,
            g.target.as_ptr(),
            g.proof.as_ptr(),
            g.proof.len(),
            verdict.as_mut_ptr(),
        )
    };
    match r {
        // SAFETY: written on success.
        PouwResult::Ok => Ok(unsafe { verdict.assume_init() }),
        code => Err(code),
    }
}

/// The CIDs `pouw_block_proof_required_cids` lists for `proof`.
fn required_cids(params: *const pouw_params, proof: &[u8]) -> Result<Vec<Vec<u8>>, PouwResult> {
    let mut count = 7usize;
    let mut buf: *mut pouw_buffer = sentinel();
    let r = unsafe {
        pouw_block_proof_required_cids(params, proof.as_ptr(), proof.len(), &mut count, &mut buf)
    };
    if r != PouwResult::Ok {
        assert!(
            count == 7 && buf == sentinel(),
            "outputs written on failure"
        );
        return Err(r);
    }
    let bytes = take(buf);
    let mut cids = Vec::new();
    let mut rest = &bytes[..];
    while let Some((&len, tail)) = rest.split_first() {
        let (cid, tail) = tail.split_at(len as usize);
        cids.push(cid.to_vec());
        rest = tail;
    }
    assert_eq!(cids.len(), count);
    Ok(cids)
}

/// The golden proof's required CIDs are in the golden store, and a callback store serving only
/// them and the genesis verifies it; over-limit writes are refused.
#[test]
fn golden_required_cids_suffice_to_verify_through_a_callback_store() {
    let g = golden();
    let required = required_cids(g.params, &g.proof).unwrap();
    assert!(required.len() >= 2, "{} CIDs", required.len());
    let unique: std::collections::BTreeSet<_> = required.iter().collect();
    assert_eq!(unique.len(), required.len(), "repeats");
    let blobs = Blobs::default();
    for cid in &required {
        let file = stored_file(&g.store_dir, cid);
        let bytes = std::fs::read(&file)
            .unwrap_or_else(|e| panic!("{} not in the golden store: {e}", file.display()));
        assert_eq!(&cid_of_bytes(&bytes), cid);
        blobs.map.lock().unwrap().insert(cid.clone(), bytes);
    }
    blobs
        .map
        .lock()
        .unwrap()
        .insert(g.genesis_cid.clone(), g.genesis.clone());
    let store = callback_store(&blobs, false);
    check(golden_verify(&g, store), PouwResult::Ok);
    // What verify asked for: every required CID, and nothing else but the start checkpoint.
    let asked: std::collections::BTreeSet<_> =
        blobs.asked.lock().unwrap().iter().cloned().collect();
    for cid in &required {
        assert!(
            asked.contains(cid),
            "{} required, not fetched",
            cid_text(cid)
        );
    }
    for cid in &asked {
        assert!(
            required.contains(cid) || *cid == g.genesis_cid,
            "{} fetched, not listed",
            cid_text(cid)
        );
    }
    // The first listed one is fetched first.
    assert!(
        blobs.asked.lock().unwrap()[..]
            .iter()
            .find(|c| **c != g.genesis_cid)
            == Some(&required[0])
    );

    // Without one of them: NOT_FOUND.
    let removed = blobs.map.lock().unwrap().remove(&required[0]).unwrap();
    check(golden_verify(&g, store), PouwResult::NotFound);
    blobs
        .map
        .lock()
        .unwrap()
        .insert(required[0].clone(), removed);

    // A callback writing past the limit: the sink refuses (holding at most the limit) with
    // LIMIT_EXCEEDED, and verification, for which a store's answer says nothing about the
    // block, reports BAD_BLOCK: undecided, not a rejection.
    blobs.mode(OVERSIZE);
    check(golden_verify(&g, store), PouwResult::BadBlock);
    assert!(!pouw_result_is_rejection(PouwResult::BadBlock as u32));
    let (code, held, limit) = blobs.refused.lock().unwrap().unwrap();
    assert_eq!(code, PouwResult::LimitExceeded);
    assert!(held <= limit && held + (1 << 16) > limit, "{held} {limit}");
    // ... whatever the callback returns after the refusal.
    blobs.mode(OVERSIZE_THEN_FAIL);
    check(golden_verify(&g, store), PouwResult::BadBlock);
    // Tampered bytes: BAD_BLOCK.
    blobs.mode(TAMPER);
    check(golden_verify(&g, store), PouwResult::BadBlock);
    blobs.mode(SERVE);
    check(golden_verify(&g, store), PouwResult::Ok);
    unsafe { pouw_store_free(store) };

    // Malformed proofs get their decoding code; NULLs are refused.
    assert_eq!(
        required_cids(g.params, &g.proof[..g.proof.len() / 2]),
        Err(PouwResult::Truncated)
    );
    assert_eq!(
        required_cids(g.params, b"nope, not a proof"),
        Err(PouwResult::BadMagic)
    );
    unsafe {
        let (mut count, mut buf) = (0usize, null_mut());
        let (p, pl) = (g.proof.as_ptr(), g.proof.len());
        check(
            pouw_block_proof_required_cids(null(), p, pl, &mut count, &mut buf),
            N,
        );
        check(
            pouw_block_proof_required_cids(g.params, null(), pl, &mut count, &mut buf),
            N,
        );
        check(
            pouw_block_proof_required_cids(g.params, p, pl, null_mut(), &mut buf),
            N,
        );
        check(
            pouw_block_proof_required_cids(g.params, p, pl, &mut count, null_mut()),
            N,
        );
        pouw_params_free(g.params);
    }
}

/// Opens an IPFS store at `endpoint` with `options`; on failure `*out` must be untouched.
fn open_ipfs(
    endpoint: &[u8],
    options: *const pouw_ipfs_options,
) -> Result<*mut pouw_store, PouwResult> {
    let mut out: *mut pouw_store = sentinel();
    match unsafe { pouw_store_open_ipfs(endpoint.as_ptr(), endpoint.len(), options, &mut out) } {
        PouwResult::Ok => Ok(out),
        code => {
            assert!(out == sentinel());
            Err(code)
        }
    }
}

/// IPFS options with every field set to a valid value.
fn every_ipfs_option() -> pouw_ipfs_options {
    pouw_ipfs_options {
        struct_size: std::mem::size_of::<pouw_ipfs_options>(),
        set: POUW_IPFS_OPTION_LOCAL_ONLY
            | POUW_IPFS_OPTION_CONNECT_TIMEOUT
            | POUW_IPFS_OPTION_BLOCK_TIMEOUT
            | POUW_IPFS_OPTION_ANSWER_GRACE
            | POUW_IPFS_OPTION_ADD_TIMEOUT_PER_MIB
            | POUW_IPFS_OPTION_PARALLEL_FETCHES,
        local_only: 1,
        connect_timeout_ms: 2000,
        block_timeout_ms: 250,
        answer_grace_ms: 300,
        add_timeout_per_mib_ms: 1000,
        parallel_fetches: 3,
    }
}

#[test]
fn ipfs_store_checks_its_endpoint_and_reports_an_unreachable_node() {
    assert_eq!(
        open_ipfs(b"ftp://127.0.0.1:5001", null()).err(),
        Some(PouwResult::InvalidParameters)
    );
    assert_eq!(
        open_ipfs(b"127.0.0.1:5001", null()).err(),
        Some(PouwResult::InvalidParameters)
    );
    assert_eq!(
        open_ipfs(b"http://\xff", null()).err(),
        Some(PouwResult::InvalidArgument)
    );
    unsafe {
        let mut out = null_mut();
        check(pouw_store_open_ipfs(null(), 0, null(), &mut out), N);
        check(
            pouw_store_open_ipfs(b"http://x".as_ptr(), 8, null(), null_mut()),
            N,
        );
    }
    // Nothing listens on the discard port: gets and puts are STORE failures.
    let options = every_ipfs_option();
    let store = open_ipfs(b"http://127.0.0.1:9", &options).unwrap();
    let cid = cid_of_bytes(b"anything");
    assert_eq!(store_get(store, &cid), Err(PouwResult::Store));
    assert!(last_message().contains("127.0.0.1:9"), "{}", last_message());
    assert_eq!(store_put(store, b"anything"), Err(PouwResult::Store));
    unsafe { pouw_store_free(store) };
    let store = open_ipfs(b"http://127.0.0.1:5001/", null()).unwrap();
    unsafe { pouw_store_free(store) };
}

/// A one-request IPFS node on loopback that answers every request with `answer` (or, with
/// `None`, never answers); returns its endpoint and the request lines it got.
fn fake_ipfs_node(answer: Option<&'static str>) -> (String, std::sync::mpsc::Receiver<String>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let (lines, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let _ = lines.send(line.trim_end().to_owned());
            match answer {
                Some(body) => {
                    let _ = write!(
                        conn,
                        "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n\
                         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                }
                // Hold the connection open, silent, until the client gives up.
                None => {
                    let mut rest = Vec::new();
                    let _ = std::io::Read::read_to_end(&mut reader, &mut rest);
                }
            }
        }
    });
    (endpoint, received)
}

#[test]
fn ipfs_options_reach_the_store() {
    let cid = cid_of_bytes(b"anything");
    // The block timeout and `local_only` reach the node's query; its "not found" is NOT_FOUND.
    let (endpoint, requests) = fake_ipfs_node(Some(r#"{"Message":"block not found","Code":0}"#));
    let options = every_ipfs_option();
    let store = open_ipfs(endpoint.as_bytes(), &options).unwrap();
    assert_eq!(store_get(store, &cid), Err(PouwResult::NotFound));
    let request = requests.recv().unwrap();
    assert!(
        request.contains("/api/v0/block/get?")
            && request.contains("timeout=250ms")
            && request.contains("offline=true"),
        "{request}"
    );
    unsafe { pouw_store_free(store) };
    // Unset is not zero: the same struct with no bits set asks with the defaults.
    let (endpoint, requests) = fake_ipfs_node(Some(r#"{"Message":"block not found","Code":0}"#));
    let mut defaults = options;
    defaults.set = 0;
    let store = open_ipfs(endpoint.as_bytes(), &defaults).unwrap();
    assert_eq!(store_get(store, &cid), Err(PouwResult::NotFound));
    let request = requests.recv().unwrap();
    assert!(
        request.contains("timeout=60000ms") && !request.contains("offline"),
        "{request}"
    );
    unsafe { pouw_store_free(store) };
    // A silent node: TIMEOUT once the block timeout and the answer grace have passed (0.55 s
    // here; the defaults would wait 70 s).
    let (endpoint, _requests) = fake_ipfs_node(None);
    let store = open_ipfs(endpoint.as_bytes(), &options).unwrap();
    let started = std::time::Instant::now();
    assert_eq!(store_get(store, &cid), Err(PouwResult::Timeout));
    let waited = started.elapsed();
    assert!(
        waited >= std::time::Duration::from_millis(500)
            && waited < std::time::Duration::from_secs(10),
        "{waited:?}"
    );
    unsafe { pouw_store_free(store) };
}

#[test]
fn ipfs_options_are_sized_and_checked() {
    let endpoint = b"http://127.0.0.1:5001";
    let open = |o: *const pouw_ipfs_options| {
        open_ipfs(endpoint, o).map(|store| unsafe { pouw_store_free(store) })
    };
    let o = every_ipfs_option();
    assert_eq!(open(&o), Ok(()));
    // Every field is read: a value out of its domain, set, is refused; the same value unset is
    // not read.
    type Setter = fn(&mut pouw_ipfs_options);
    let out_of_domain: [(u32, Setter); 6] = [
        (POUW_IPFS_OPTION_LOCAL_ONLY, |o| o.local_only = 2),
        (POUW_IPFS_OPTION_CONNECT_TIMEOUT, |o| {
            o.connect_timeout_ms = 0
        }),
        (POUW_IPFS_OPTION_BLOCK_TIMEOUT, |o| o.block_timeout_ms = 0),
        (POUW_IPFS_OPTION_ANSWER_GRACE, |o| {
            o.answer_grace_ms = 24 * 3600 * 1000 + 1
        }),
        (POUW_IPFS_OPTION_ADD_TIMEOUT_PER_MIB, |o| {
            o.add_timeout_per_mib_ms = u64::MAX
        }),
        (POUW_IPFS_OPTION_PARALLEL_FETCHES, |o| {
            o.parallel_fetches = 65
        }),
    ];
    for (bit, spoil) in out_of_domain {
        let mut bad = o;
        spoil(&mut bad);
        let expected = if bit == POUW_IPFS_OPTION_LOCAL_ONLY {
            PouwResult::InvalidArgument
        } else {
            PouwResult::InvalidParameters
        };
        assert_eq!(open(&bad), Err(expected), "bit {bit:#x}");
        bad.set &= !bit;
        assert_eq!(open(&bad), Ok(()), "bit {bit:#x} clear");
    }
    // The sized-struct rules: an older header's struct, a field past its size, a newer one's
    // with zero and with non-zero bytes this library does not know, unknown bits, a size too
    // small to hold `set`.
    let mut old = o;
    old.set = POUW_IPFS_OPTION_LOCAL_ONLY;
    old.struct_size = std::mem::offset_of!(pouw_ipfs_options, connect_timeout_ms);
    assert_eq!(open(&old), Ok(()));
    old.set |= POUW_IPFS_OPTION_BLOCK_TIMEOUT;
    assert_eq!(open(&old), Err(PouwResult::InvalidArgument));
    #[repr(C)]
    struct Newer {
        known: pouw_ipfs_options,
        added: u64,
    }
    let mut newer = Newer { known: o, added: 0 };
    newer.known.struct_size = std::mem::size_of::<Newer>();
    assert_eq!(open(std::ptr::addr_of!(newer).cast()), Ok(()));
    newer.added = 1;
    assert_eq!(
        open(std::ptr::addr_of!(newer).cast()),
        Err(PouwResult::InvalidArgument)
    );
    let mut bits = o;
    bits.set |= 1 << 6;
    assert_eq!(open(&bits), Err(PouwResult::InvalidArgument));
    let mut tiny = o;
    tiny.struct_size = 8;
    assert_eq!(open(&tiny), Err(PouwResult::InvalidArgument));
    // A garbage size (an uninitialised struct, a struct from before the sizing) is refused
    // before the library reads past the caller's struct.
    let mut garbage = o;
    garbage.struct_size = 40 << 32;
    assert_eq!(open(&garbage), Err(PouwResult::InvalidArgument));
}

#[test]
fn golden_proof_in_record_free_form_verifies_from_the_dataset() {
    let g = golden();
    let header = [0x42u8; 32];
    let miner = b"golden-miner";
    unsafe {
        // The golden parameters' dataset: the committed digits.
        let dir = TempDir::new("record-free");
        let src = root().join("tests/data/digits.csv.gz");
        let (src, dest) = (bytes_of(&src).to_vec(), dir.path().join("digits"));
        let dest = bytes_of(&dest).to_vec();
        let mut ds = null_mut();
        check(
            pouw_dataset_import_digits(src.as_ptr(), src.len(), dest.as_ptr(), dest.len(), &mut ds),
            PouwResult::Ok,
        );
        let mut rf = null_mut();
        check(
            pouw_block_proof_record_free(g.params, g.proof.as_ptr(), g.proof.len(), &mut rf),
            PouwResult::Ok,
        );
        let rf = take(rf);
        assert!(
            rf.len() * 2 < g.proof.len(),
            "{} vs {}",
            rf.len(),
            g.proof.len()
        );
        let s = bytes_of(&g.store_dir).to_vec();
        let mut store = null_mut();
        check(
            pouw_store_open_dir(s.as_ptr(), s.len(), &mut store),
            PouwResult::Ok,
        );
        let verify_rf = |proof: &[u8], out: *mut pouw_verdict| {
            pouw_verify_record_free(
                g.params,
                ds,
                store,
                header.as_ptr(),
                miner.as_ptr(),
                miner.len(),
                &g.start,
                g.target.as_ptr(),
                proof.as_ptr(),
                proof.len(),
                out,
            )
        };
        let full = golden_verdict(&g, store).unwrap();
        let mut compact = std::mem::MaybeUninit::<pouw_verdict>::zeroed();
        check(verify_rf(&rf, compact.as_mut_ptr()), PouwResult::Ok);
        let compact = compact.assume_init();
        assert_eq!(full.steps, compact.steps);
        // The record-free form scores as the self-contained one.
        let scores = |a: pouw_assessment| (a.start_quality.to_bits(), a.end_quality.to_bits());
        assert_eq!(
            scores(assess(g.params, null(), store, &g.start, &g.proof).unwrap()),
            scores(assess(g.params, ds, store, &g.start, &rf).unwrap())
        );
        assert_eq!(full.work, compact.work);
        assert_eq!(full.next.digest, compact.next.digest);
        // The last capacity digest changed: refused, the verdict untouched.
        let mut forged = rf.clone();
        *forged.last_mut().unwrap() ^= 1;
        let mut out = std::mem::MaybeUninit::<pouw_verdict>::zeroed();
        check(
            verify_rf(&forged, out.as_mut_ptr()),
            PouwResult::InvalidField,
        );
        // The self-contained bytes are not a record-free proof.
        check(verify_rf(&g.proof, out.as_mut_ptr()), PouwResult::BadMagic);
        check(verify_rf(&rf, null_mut()), PouwResult::NullArgument);
        pouw_store_free(store);
        pouw_dataset_free(ds);
        pouw_params_free(g.params);
    }
}

#[test]
fn verification_reports_progress_and_honours_its_cancel_token() {
    /// Counts calls per phase; the last fetched-bytes figure.
    #[derive(Default)]
    struct Seen {
        phases: [u32; 5],
        fetched: u64,
        total: u32,
    }
    unsafe extern "C" fn on_progress(
        phase: u32,
        _step: u64,
        _done: u32,
        total: u32,
        fetched: u64,
        user_data: *mut c_void,
    ) {
        let seen = &mut *(user_data as *mut Seen);
        seen.phases[phase as usize] += 1;
        seen.fetched = fetched;
        seen.total = total;
    }
    let g = golden();
    let header = [0x42u8; 32];
    let miner = b"golden-miner";
    unsafe {
        let s = bytes_of(&g.store_dir).to_vec();
        let mut store = null_mut();
        check(
            pouw_store_open_dir(s.as_ptr(), s.len(), &mut store),
            PouwResult::Ok,
        );
        let mut token = null_mut();
        check(pouw_cancel_token_new(&mut token), PouwResult::Ok);
        let run = |seen: &mut Seen, out: *mut pouw_verdict| {
            pouw_verify_with_progress(
                g.params,
                store,
                header.as_ptr(),
                miner.as_ptr(),
                miner.len(),
                &g.start,
                g.target.as_ptr(),
                g.proof.as_ptr(),
                g.proof.len(),
                Some(on_progress),
                seen as *mut Seen as *mut c_void,
                token,
                out,
            )
        };
        let mut seen = Seen::default();
        let mut verdict = std::mem::MaybeUninit::<pouw_verdict>::zeroed();
        check(run(&mut seen, verdict.as_mut_ptr()), PouwResult::Ok);
        assert_eq!(verdict.assume_init().opened_count, u64::from(seen.total));
        assert_eq!(
            seen.phases[..4],
            [1, seen.total, 1, 0],
            "checks once, every opened step, the companion; no scoring (code 3 is retired)"
        );
        assert!(seen.fetched > 0);
        // Cancelled before it starts: nothing fetched, the verdict untouched.
        check(pouw_cancel_token_cancel(token), PouwResult::Ok);
        let mut seen = Seen::default();
        let mut untouched = std::mem::MaybeUninit::<pouw_verdict>::zeroed();
        check(
            run(&mut seen, untouched.as_mut_ptr()),
            PouwResult::Cancelled,
        );
        assert_eq!(seen.fetched, 0);
        assert_eq!(untouched.assume_init().steps, 0);
        // No callback, no token: a plain verification.
        check(
            pouw_verify_with_progress(
                g.params,
                store,
                header.as_ptr(),
                miner.as_ptr(),
                miner.len(),
                &g.start,
                g.target.as_ptr(),
                g.proof.as_ptr(),
                g.proof.len(),
                None,
                null_mut(),
                null(),
                verdict.as_mut_ptr(),
            ),
            PouwResult::Ok,
        );
        pouw_cancel_token_free(token);
        pouw_store_free(store);
        pouw_params_free(g.params);
    }
}

#[test]
fn mine_options_are_sized_and_unset_is_not_zero() {
    let f = fixture();
    let never = [0u8; 32];
    let mine_to = |options: *const pouw_mine_options, target: &[u8; 32]| {
        let (mut proof, mut winning): (*mut pouw_buffer, *mut pouw_buffer) =
            (sentinel(), sentinel());
        let steps = AtomicU64::new(0);
        let r = unsafe {
            pouw_mine_with_options(
                f.params,
                f.dataset,
                f.store,
                HEADER.as_ptr(),
                MINER.as_ptr(),
                MINER.len(),
                f.genesis.as_ptr(),
                f.genesis.len(),
                target.as_ptr(),
                options,
                Some(count_steps),
                &steps as *const AtomicU64 as *mut c_void,
                null(),
                &mut proof,
                &mut winning,
            )
        };
        if r == PouwResult::Ok {
            take(proof);
            take(winning);
        }
        (r, steps.load(Ordering::SeqCst))
    };
    let mine = |options: *const pouw_mine_options| mine_to(options, &never);
    let spill = TempDir::new("spill");
    let dir = bytes_of(spill.path()).to_vec();
    let mut o = pouw_mine_options {
        struct_size: std::mem::size_of::<pouw_mine_options>(),
        set: POUW_MINE_OPTION_STEP_LIMIT
            | POUW_MINE_OPTION_CHECKPOINT_INTERVAL
            | POUW_MINE_OPTION_MAX_KEPT
            | POUW_MINE_OPTION_KEPT_MEMORY
            | POUW_MINE_OPTION_SPILL_DIR,
        step_limit: 3,
        checkpoint_interval: 2,
        max_kept: 2,
        kept_memory: 0,
        spill_dir: dir.as_ptr(),
        spill_dir_len: dir.len(),
    };
    // Every option set: the step limit holds (the target is never met).
    assert_eq!(mine(&o), (PouwResult::StepLimit, 3));
    // The kept memory and the spill directory reach the library: with every kept checkpoint
    // spilled (0 bytes in memory), a file in the directory's place fails the mine; with the
    // kept memory unset (the default holds these small checkpoints in memory), nothing spills
    // and the directory is never used.
    let not_a_dir = spill.path().join("a-file");
    std::fs::write(&not_a_dir, b"x").unwrap();
    let not_a_dir = bytes_of(&not_a_dir).to_vec();
    let mut spilling = o;
    spilling.spill_dir = not_a_dir.as_ptr();
    spilling.spill_dir_len = not_a_dir.len();
    assert_eq!(mine(&spilling).0, PouwResult::Io);
    spilling.set &= !POUW_MINE_OPTION_KEPT_MEMORY;
    assert_eq!(mine(&spilling), (PouwResult::StepLimit, 3));
    // Unset is not zero: a step limit of 0, set, stops before the first step; the same 0 with
    // its bit clear is no limit (but the parameters'), and mining finds a block.
    let mut zero = o;
    zero.set = POUW_MINE_OPTION_STEP_LIMIT;
    zero.step_limit = 0;
    assert_eq!(mine_to(&zero, &f.target), (PouwResult::StepLimit, 0));
    zero.set = 0;
    let (r, steps) = mine_to(&zero, &f.target);
    assert!(
        r == PouwResult::Ok && steps > 0,
        "{r:?} after {steps} steps"
    );
    // NULL: every default.
    assert_eq!(mine_to(null(), &f.target).0, PouwResult::Ok);
    o.set = POUW_MINE_OPTION_STEP_LIMIT;
    // A struct from an older header (only up to `step_limit`): the rest take their defaults.
    let mut old = o;
    old.struct_size = std::mem::offset_of!(pouw_mine_options, checkpoint_interval);
    assert_eq!(mine(&old), (PouwResult::StepLimit, 3));
    // ... but a field past its size cannot be set.
    old.set |= POUW_MINE_OPTION_MAX_KEPT;
    assert_eq!(mine(&old).0, PouwResult::InvalidArgument);
    // A struct from a newer header: accepted when the bytes this library does not know are zero.
    #[repr(C)]
    struct Newer {
        known: pouw_mine_options,
        added: u64,
    }
    let mut newer = Newer { known: o, added: 0 };
    newer.known.struct_size = std::mem::size_of::<Newer>();
    assert_eq!(
        mine(std::ptr::addr_of!(newer).cast()),
        (PouwResult::StepLimit, 3)
    );
    newer.added = 7;
    assert_eq!(
        mine(std::ptr::addr_of!(newer).cast()).0,
        PouwResult::InvalidArgument
    );
    // Unknown option bits and a size too small to hold `set` are refused.
    let mut bits = o;
    bits.set |= 1 << 20;
    assert_eq!(mine(&bits).0, PouwResult::InvalidArgument);
    let mut tiny = o;
    tiny.struct_size = 4;
    assert_eq!(mine(&tiny).0, PouwResult::InvalidArgument);
}

/// The digest of parameters made on the fixture's dataset with `options`, or the failure.
fn params_digest(options: *const pouw_params_options) -> Result<[u8; 32], PouwResult> {
    let f = fixture();
    let mut params: *mut pouw_params = sentinel();
    match unsafe { pouw_params_new_gan(f.dataset, options, &mut params) } {
        PouwResult::Ok => {
            let mut digest = [0u8; 32];
            unsafe {
                check(
                    pouw_params_digest(params, digest.as_mut_ptr()),
                    PouwResult::Ok,
                );
                pouw_params_free(params);
            }
            Ok(digest)
        }
        code => {
            assert!(params == sentinel());
            Err(code)
        }
    }
}

#[test]
fn params_options_are_sized_and_unset_is_not_zero() {
    let small = small_options();
    let base = params_digest(&small).unwrap();
    // NULL: the default parameters, as a struct with no bits set.
    let mut none = small;
    none.set = 0;
    assert_eq!(params_digest(null()), params_digest(&none));
    assert_ne!(params_digest(null()).unwrap(), base);
    // Unset is not zero: 0 opened steps, set, opens the winning step alone; the same 0 with its
    // bit clear is the default (16).
    let mut zero = small;
    zero.opened_steps = 0;
    let zero_set = params_digest(&zero).unwrap();
    assert_ne!(zero_set, base);
    zero.set &= !POUW_PARAMS_OPTION_OPENED_STEPS;
    let mut sixteen = small;
    sixteen.opened_steps = 16;
    assert_eq!(params_digest(&zero), params_digest(&sixteen));
    // A field set to a value out of its domain is refused; clear, the value is not read.
    let mut bad = small;
    bad.min_steps = 0;
    bad.set |= POUW_PARAMS_OPTION_MIN_STEPS;
    assert_eq!(params_digest(&bad), Err(PouwResult::InvalidParameters));
    bad.set &= !POUW_PARAMS_OPTION_MIN_STEPS;
    assert_eq!(params_digest(&bad), Ok(base));
    // The sized-struct rules: an older header's struct (up to `cuda_index`) keeps the defaults
    // past it; a field past its size cannot be set.
    let mut old = small;
    old.struct_size = std::mem::offset_of!(pouw_params_options, max_steps);
    old.set &= !POUW_PARAMS_OPTION_MAX_STEPS;
    old.max_steps = 200;
    let mut full = small;
    full.set &= !POUW_PARAMS_OPTION_MAX_STEPS;
    assert_eq!(params_digest(&old), params_digest(&full));
    old.set |= POUW_PARAMS_OPTION_MAX_STEPS;
    assert_eq!(params_digest(&old), Err(PouwResult::InvalidArgument));
    // cuda_index lies past `device`: the device bit needs both.
    let mut no_index = small;
    no_index.set = POUW_PARAMS_OPTION_DEVICE;
    no_index.struct_size = std::mem::offset_of!(pouw_params_options, cuda_index);
    assert_eq!(params_digest(&no_index), Err(PouwResult::InvalidArgument));
    #[repr(C)]
    struct Newer {
        known: pouw_params_options,
        added: u64,
    }
    let mut newer = Newer {
        known: small,
        added: 0,
    };
    newer.known.struct_size = std::mem::size_of::<Newer>();
    assert_eq!(params_digest(std::ptr::addr_of!(newer).cast()), Ok(base));
    newer.added = 9;
    assert_eq!(
        params_digest(std::ptr::addr_of!(newer).cast()),
        Err(PouwResult::InvalidArgument)
    );
    let mut bits = small;
    bits.set |= 1 << 9;
    assert_eq!(params_digest(&bits), Err(PouwResult::InvalidArgument));
    let mut tiny = small;
    tiny.struct_size = 8;
    assert_eq!(params_digest(&tiny), Err(PouwResult::InvalidArgument));
}

#[test]
fn reward_settlement_and_tie_break_through_the_c_api() {
    let f = fixture();
    let (other, _) = mine(f, &[0x5e; 32], &f.genesis).expect("a second block on the genesis");
    let settle = |later: &[&[u8]], out| unsafe {
        let (ptrs, lens): (Vec<*const u8>, Vec<usize>) =
            later.iter().map(|p| (p.as_ptr(), p.len())).unzip();
        pouw_settle(
            f.params,
            null(),
            f.store,
            &f.start,
            f.proof.as_ptr(),
            f.proof.len(),
            ptrs.as_ptr(),
            lens.as_ptr(),
            later.len(),
            out,
        )
    };
    let s: pouw_assessment = written(|out| settle(&[&other], out)).unwrap();
    let own = assess(f.params, null(), f.store, &f.start, &f.proof).unwrap();
    assert_ne!(s.start_quality.to_bits(), own.start_quality.to_bits());
    assert_eq!(
        written::<pouw_assessment>(|out| settle(&[], out)).unwrap_err(),
        PouwResult::InvalidArgument
    );
    let points = |score: f64| written(|out| unsafe { pouw_quality_points(score, out) });
    let (start, end) = (
        points(s.start_quality).unwrap(),
        points(s.end_quality).unwrap(),
    );
    assert_eq!(points(f64::NAN).unwrap_err(), PouwResult::InvalidField);
    let rule = pouw_reward_rule {
        max_adjustment_ppm: 250_000,
        full_improvement: 1 << 14,
    };
    let paid = written(|out| unsafe { pouw_reward(1_000_000, start, end, &rule, out) }).unwrap();
    assert!((750_000..=1_250_000).contains(&paid), "{paid}");
    let bad = pouw_reward_rule {
        full_improvement: 0,
        ..rule
    };
    assert_eq!(
        written(|out| unsafe { pouw_reward(1, 0, 0, &bad, out) }).unwrap_err(),
        PouwResult::InvalidParameters
    );
    let tie = |a: &[u8], b: &[u8]| -> pouw_tie_break {
        written(|out| unsafe {
            pouw_break_tie(
                f.params,
                null(),
                f.store,
                &f.start,
                a.as_ptr(),
                a.len(),
                b.as_ptr(),
                b.len(),
                out,
            )
        })
        .unwrap()
    };
    let (ab, ba) = (tie(&f.proof, &other), tie(&other, &f.proof));
    assert_eq!((ab.a_points, ab.b_points), (ba.b_points, ba.a_points));
    assert_eq!(ab.a_block_id, ba.b_block_id);
    assert_ne!(ab.prefers_b, ba.prefers_b);
    let preferred = written(|out| unsafe {
        pouw_prefer(
            ab.a_points,
            ab.a_block_id.as_ptr(),
            ab.b_points,
            ab.b_block_id.as_ptr(),
            out,
        )
    })
    .unwrap();
    assert_eq!(preferred, if ab.prefers_b { 1 } else { -1 });
}
