//! The growth C API called as C would call it: dataset requests, submission checks giving the
//! verdicts of the Rust API, consistency proofs of a real append (valid and tampered), the
//! reputation table, NULL and zero-length arguments; and the golden consistency proof the Go
//! tests read (`ffi/go/testdata/consistency.txt`).
#![cfg(feature = "torch")]

mod common;
#[path = "../../examples/support/digits.rs"]
mod digits;

use common::*;
use digits::shift;
use pouw::dataset::import::import_digits_csv;
use pouw::growth::{
    calibrate_threshold, dataset_ink_bounds, AppendProof, DatasetRequest, DuplicateIndex,
    GrowingDataset, Judge, Reputation, ReputationRule, Submission, Verdict,
};
use pouw::ident::cid_of;
use pouw::learning::gan::{GanSpec, GanTrainer};
use pouw::learning::DeviceChoice;
use pouw::learning::{
    batch_indices, checkpoint_digest, step_seed, Batch, ProofOfLearning, TaskSpec,
};
use pouw::work::ConsensusParams;
use pouw::Dataset;
use pouw_ffi::*;
use std::ptr::{null, null_mut};
use std::sync::OnceLock;

const N: PouwResult = PouwResult::NullArgument;

/// Request options with every field unset, sized as this header declares them.
fn request_options() -> pouw_dataset_request_options {
    pouw_dataset_request_options {
        struct_size: std::mem::size_of::<pouw_dataset_request_options>(),
        ..Default::default()
    }
}

/// A non-NULL pointer no call may write through or free: failures must leave it in place.
fn sentinel<T>() -> *mut T {
    std::ptr::NonNull::dangling().as_ptr()
}

/// Every digits row (64 pixels, 0..=16).
fn rows() -> &'static [Vec<u8>] {
    static ROWS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    ROWS.get_or_init(|| digits::rows(&digits_path()))
}

/// The growth setup: the first 1500 digits (the rest are held back as fresh records), small
/// parameters, a judge checkpoint trained a few steps, the threshold at the median logit of
/// the dataset, and the request, judge and Rust counterparts.
struct Growth {
    _dir: TempDir,
    dataset: *mut pouw_dataset,
    params: *mut pouw_params,
    request: *mut pouw_dataset_request,
    judge: *mut pouw_judge,
    checkpoint: Vec<u8>,
    threshold: f32,
    rust_dataset: Dataset,
    rust_request: DatasetRequest,
    rust_judge: Judge<GanTrainer>,
    rust_index: DuplicateIndex,
}

unsafe impl Send for Growth {}
unsafe impl Sync for Growth {}

const TARGET_COUNT: u64 = 1000;
const JUDGE_STEPS: u64 = 5;

fn growth() -> &'static Growth {
    static G: OnceLock<Growth> = OnceLock::new();
    G.get_or_init(|| unsafe {
        let dir = TempDir::new("growth");
        let rust_dataset =
            import_digits_csv(digits_path(), dir.path().join("digits"), Some(1500)).unwrap();
        let d = bytes_of(rust_dataset.dir());
        let mut dataset = null_mut();
        check(
            pouw_dataset_open(d.as_ptr(), d.len(), &mut dataset),
            PouwResult::Ok,
        );
        let mut params = null_mut();
        check(
            pouw_params_new_gan(dataset, &small_options(), &mut params),
            PouwResult::Ok,
        );
        let mut buf = null_mut();
        check(pouw_params_to_bytes(params, &mut buf), PouwResult::Ok);
        let spec = ConsensusParams::<GanSpec>::from_bytes(&take(buf))
            .unwrap()
            .spec;

        // The judge checkpoint: a few steps of the small GAN (seeds as in examples/train.rs).
        let mut trainer = GanTrainer::from_seed(&spec, &[0u8; 32], DeviceChoice::Cpu).unwrap();
        let mut checkpoint = trainer.checkpoint().unwrap();
        for i in 1..=JUDGE_STEPS {
            let seed = step_seed(&[2u8; 32], &checkpoint_digest(&checkpoint), i);
            let indices = batch_indices(&seed, spec.batch_size(), rust_dataset.len()).unwrap();
            trainer
                .step(
                    &seed,
                    &Batch::from_dataset(&rust_dataset, &indices).unwrap(),
                )
                .unwrap();
            checkpoint = trainer.checkpoint().unwrap();
        }

        // The threshold through the C API, as the Rust API computes it.
        let mut threshold = f32::NAN;
        check(
            pouw_judge_calibrate_threshold(
                params,
                checkpoint.as_ptr(),
                checkpoint.len(),
                dataset,
                500,
                &mut threshold,
            ),
            PouwResult::Ok,
        );
        assert_eq!(
            threshold.to_bits(),
            calibrate_threshold(&trainer, &spec, &rust_dataset, 500)
                .unwrap()
                .to_bits()
        );

        // Digits are strokes on a blank ground: the request bounds their ink (off by default).
        let mut options = request_options();
        options.set = POUW_REQUEST_OPTION_INK;
        check(
            pouw_dataset_ink_bounds(dataset, &mut options.ink_min, &mut options.ink_max),
            PouwResult::Ok,
        );
        let mut request = null_mut();
        check(
            pouw_dataset_request_new(
                dataset,
                params,
                checkpoint.as_ptr(),
                checkpoint.len(),
                threshold,
                TARGET_COUNT,
                &options,
                &mut request,
            ),
            PouwResult::Ok,
        );
        let mut rust_request = DatasetRequest::for_dataset(
            &rust_dataset,
            spec.digest(),
            cid_of(&checkpoint),
            threshold,
            TARGET_COUNT,
        )
        .unwrap();
        (rust_request.ink_min, rust_request.ink_max) = dataset_ink_bounds(&rust_dataset).unwrap();
        assert_eq!(
            (options.ink_min, options.ink_max),
            (rust_request.ink_min, rust_request.ink_max)
        );
        let mut judge = null_mut();
        check(
            pouw_judge_new(
                request,
                params,
                checkpoint.as_ptr(),
                checkpoint.len(),
                dataset,
                &mut judge,
            ),
            PouwResult::Ok,
        );
        let rust_judge =
            Judge::<GanTrainer>::new(&rust_request, &spec, &checkpoint, &rust_dataset).unwrap();
        let rust_index = DuplicateIndex::build(&rust_dataset, &rust_request).unwrap();
        Growth {
            _dir: dir,
            dataset,
            params,
            request,
            judge,
            checkpoint,
            threshold,
            rust_dataset,
            rust_request,
            rust_judge,
            rust_index,
        }
    })
}

/// A mixed batch of 64-pixel records: 80 held-back real digits, then junk of every model-free
/// kind (blank, nearly blank, dense noise, out-of-range values, duplicates of the dataset and
/// within the batch, shifted copies).
fn mixed_batch() -> Vec<Vec<u8>> {
    let rows = rows();
    let mut records: Vec<Vec<u8>> = rows[1500..1580].to_vec();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut noise = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % 17) as u8
    };
    records.push(vec![0; 64]);
    let mut nearly_blank = vec![0; 64];
    nearly_blank[27] = 16;
    records.push(nearly_blank);
    records.push((0..64).map(|_| noise()).collect());
    records.push((0..64).map(|i| 1 + (i % 16) as u8).collect());
    let mut out_of_range = rows[1590].clone();
    out_of_range[5] = 200;
    records.push(out_of_range);
    records.push(rows[3].clone());
    records.push(rows[1500].clone());
    records.push(shift(&rows[10], 1, 0));
    records.push(shift(&rows[1501], 0, 1));
    records.push(shift(&rows[20], -2, -1));
    records
}

fn code_of(v: &Verdict) -> u32 {
    match v {
        Verdict::Accepted { .. } => POUW_RECORD_ACCEPTED,
        Verdict::Rejected(r) => r.code(),
    }
}

/// Codes and logits (NaN where the Rust verdict carries none) of Rust verdicts.
fn expected(verdicts: &[Verdict]) -> (Vec<u32>, Vec<u32>) {
    let logit = |v: &Verdict| match v {
        Verdict::Accepted { logit }
        | Verdict::Rejected(pouw::growth::Rejection::Implausible { logit }) => *logit,
        _ => f32::NAN,
    };
    (
        verdicts.iter().map(code_of).collect(),
        verdicts.iter().map(|v| logit(v).to_bits()).collect(),
    )
}

/// Checks `records` (all of `size` bytes) through `pouw_judge_check`.
fn c_check(
    g: &Growth,
    submitter: &[u8],
    records: &[Vec<u8>],
    size: usize,
    accepted_so_far: u64,
) -> Result<(Vec<u32>, Vec<u32>), PouwResult> {
    let flat: Vec<u8> = records.concat();
    let n = records.len();
    let (mut codes, mut logits, mut count) =
        (vec![u32::MAX; n], vec![f32::INFINITY; n], usize::MAX);
    let r = unsafe {
        pouw_judge_check(
            g.judge,
            submitter.as_ptr(),
            submitter.len(),
            flat.as_ptr(),
            flat.len(),
            size,
            accepted_so_far,
            codes.as_mut_ptr(),
            n,
            logits.as_mut_ptr(),
            n,
            &mut count,
        )
    };
    if r != PouwResult::Ok {
        assert_eq!(count, usize::MAX, "count written on failure");
        assert!(
            codes.iter().all(|&c| c == u32::MAX),
            "codes written on failure"
        );
        return Err(r);
    }
    assert_eq!(count, n);
    Ok((codes, logits.iter().map(|l| l.to_bits()).collect()))
}

/// Checks an encoded submission through `pouw_judge_check_encoded` with arrays of `capacity`.
fn c_check_encoded(
    g: &Growth,
    bytes: &[u8],
    accepted_so_far: u64,
    capacity: usize,
) -> Result<(Vec<u32>, Vec<u32>), PouwResult> {
    let (mut codes, mut logits, mut count) = (
        vec![u32::MAX; capacity],
        vec![f32::INFINITY; capacity],
        usize::MAX,
    );
    let r = unsafe {
        pouw_judge_check_encoded(
            g.judge,
            bytes.as_ptr(),
            bytes.len(),
            accepted_so_far,
            codes.as_mut_ptr(),
            capacity,
            logits.as_mut_ptr(),
            capacity,
            &mut count,
        )
    };
    if r != PouwResult::Ok {
        assert_eq!(count, usize::MAX, "count written on failure");
        assert!(
            codes.iter().all(|&c| c == u32::MAX),
            "codes written on failure"
        );
        return Err(r);
    }
    codes.truncate(count);
    Ok((codes, logits[..count].iter().map(|l| l.to_bits()).collect()))
}

fn rust_submission(g: &Growth, submitter: &[u8], records: Vec<Vec<u8>>) -> Submission {
    Submission {
        request: g.rust_request.cid(),
        submitter: submitter.to_vec(),
        records,
    }
}

#[test]
fn submission_check_gives_the_verdicts_of_the_rust_api() {
    let g = growth();
    let records = mixed_batch();
    let rust = rust_submission(g, b"carol", records.clone());
    let verdicts = g.rust_judge.check(&g.rust_index, &rust, 0).unwrap();
    let accepted = verdicts.iter().filter(|v| v.is_accepted()).count();
    let implausible = verdicts
        .iter()
        .filter(|v| code_of(v) == POUW_RECORD_IMPLAUSIBLE)
        .count();
    eprintln!(
        "{} records: {accepted} accepted, {implausible} implausible (threshold {})",
        verdicts.len(),
        g.threshold
    );
    assert!(
        accepted > 0 && implausible > 0,
        "the threshold should split the real digits: {verdicts:?}"
    );
    for code in [3, 2, 4, 5, 6, 7] {
        assert!(
            verdicts.iter().any(|v| code_of(v) == code),
            "no rejection {code} in the batch"
        );
    }

    // The flat form and the encoded form give the Rust verdicts, logits bit for bit.
    let want = expected(&verdicts);
    assert_eq!(c_check(g, b"carol", &records, 64, 0).unwrap(), want);
    assert_eq!(
        c_check_encoded(g, &rust.to_bytes(), 0, records.len()).unwrap(),
        want
    );
    // Larger arrays than needed are fine.
    assert_eq!(c_check_encoded(g, &rust.to_bytes(), 0, 1024).unwrap(), want);

    // Records of another size: every one rejected as wrong size (flat form), and a record of
    // the wrong size among good ones (encoded form).
    let halves: Vec<Vec<u8>> = records.iter().map(|r| r[..32].to_vec()).collect();
    let (codes, _) = c_check(g, b"carol", &halves, 32, 0).unwrap();
    assert!(codes.iter().all(|&c| c == POUW_RECORD_WRONG_SIZE));
    let mut mixed_sizes = records.clone();
    mixed_sizes.insert(3, vec![1; 63]);
    let rust_mixed = rust_submission(g, b"carol", mixed_sizes);
    let want_mixed = expected(&g.rust_judge.check(&g.rust_index, &rust_mixed, 0).unwrap());
    assert_eq!(want_mixed.0[3], POUW_RECORD_WRONG_SIZE);
    assert_eq!(
        c_check_encoded(g, &rust_mixed.to_bytes(), 0, rust_mixed.records.len()).unwrap(),
        want_mixed
    );

    // The request's target caps acceptances: the Rust verdicts again.
    let capped = g
        .rust_judge
        .check(&g.rust_index, &rust, TARGET_COUNT - 2)
        .unwrap();
    let want_capped = expected(&capped);
    assert_eq!(
        want_capped
            .0
            .iter()
            .filter(|&&c| c == POUW_RECORD_ACCEPTED)
            .count(),
        2
    );
    assert!(want_capped.0.contains(&POUW_RECORD_REQUEST_FILLED));
    assert_eq!(
        c_check(g, b"carol", &records, 64, TARGET_COUNT - 2).unwrap(),
        want_capped
    );

    // pouw_submission_encode gives the Rust encoding.
    let lens: Vec<usize> = rust_mixed.records.iter().map(Vec::len).collect();
    let flat = rust_mixed.records.concat();
    let mut buf = null_mut();
    unsafe {
        check(
            pouw_submission_encode(
                g.request,
                b"carol".as_ptr(),
                5,
                flat.as_ptr(),
                flat.len(),
                lens.as_ptr(),
                lens.len(),
                &mut buf,
            ),
            PouwResult::Ok,
        );
    }
    assert_eq!(take(buf), rust_mixed.to_bytes());

    // Reputation through the C API counts like the Rust API.
    let mut rep = null_mut();
    let mut rule = std::mem::MaybeUninit::<pouw_reputation_rule>::uninit();
    unsafe {
        check(
            pouw_reputation_rule_default(rule.as_mut_ptr()),
            PouwResult::Ok,
        );
        check(pouw_reputation_new(rule.as_ptr(), &mut rep), PouwResult::Ok);
        let mut standing = u32::MAX;
        check(
            pouw_reputation_record(
                rep,
                b"carol".as_ptr(),
                5,
                want.0.as_ptr(),
                want.0.len(),
                &mut standing,
            ),
            PouwResult::Ok,
        );
        let mut rust_rep = Reputation::new(ReputationRule::default()).unwrap();
        rust_rep.record(b"carol", &verdicts).unwrap();
        let mut buf = null_mut();
        check(pouw_reputation_to_bytes(rep, &mut buf), PouwResult::Ok);
        assert_eq!(take(buf), rust_rep.to_bytes());
        assert_eq!(standing, POUW_STANDING_NORMAL);
        let mut s = pouw_submitter_standing {
            accepted: 0,
            rejected: 0,
            standing: 9,
        };
        check(
            pouw_reputation_standing(rep, b"carol".as_ptr(), 5, &mut s),
            PouwResult::Ok,
        );
        let counts = rust_rep.counts(b"carol");
        assert_eq!(
            (s.accepted, s.rejected, s.standing),
            (counts.accepted, counts.rejected, POUW_STANDING_NORMAL)
        );
        pouw_reputation_free(rep);
    }
}

#[test]
fn checks_on_many_threads_agree() {
    let g = growth();
    let records = mixed_batch();
    let first = c_check(g, b"dave", &records, 64, 0).unwrap();
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..3)
            .map(|_| s.spawn(|| c_check(g, b"dave", &records, 64, 0).unwrap()))
            .collect();
        for w in workers {
            assert_eq!(w.join().unwrap(), first);
        }
    });
}

#[test]
fn check_arguments_give_typed_codes_and_leave_outputs_untouched() {
    let g = growth();
    let records = mixed_batch();
    let n = records.len();
    // Arrays one short, for either output.
    let flat = records.concat();
    let (mut codes, mut logits, mut count) =
        (vec![u32::MAX; n], vec![f32::INFINITY; n], usize::MAX);
    unsafe {
        let c = |codes_len, logits: *mut f32, logits_len, codes: *mut u32, count: *mut usize| {
            pouw_judge_check(
                g.judge,
                b"eve".as_ptr(),
                3,
                flat.as_ptr(),
                flat.len(),
                64,
                0,
                codes,
                codes_len,
                logits,
                logits_len,
                count,
            )
        };
        check(
            c(
                n - 1,
                logits.as_mut_ptr(),
                n,
                codes.as_mut_ptr(),
                &mut count,
            ),
            PouwResult::BufferTooSmall,
        );
        check(
            c(
                n,
                logits.as_mut_ptr(),
                n - 1,
                codes.as_mut_ptr(),
                &mut count,
            ),
            PouwResult::BufferTooSmall,
        );
        // No logits asked for: fine.
        check(
            c(n, null_mut(), 0, codes.as_mut_ptr(), &mut count),
            PouwResult::Ok,
        );
        assert_eq!(count, n);
        assert_eq!(codes, c_check(g, b"eve", &records, 64, 0).unwrap().0);
        let (mut codes, mut count) = (vec![u32::MAX; n], usize::MAX);
        // NULL arguments.
        check(c(n, null_mut(), 0, null_mut(), &mut count), N);
        check(c(n, null_mut(), 0, codes.as_mut_ptr(), null_mut()), N);
        let (cp, cl, lp) = (codes.as_mut_ptr(), n, logits.as_mut_ptr());
        check(
            pouw_judge_check(
                null(),
                b"e".as_ptr(),
                1,
                flat.as_ptr(),
                flat.len(),
                64,
                0,
                cp,
                cl,
                lp,
                cl,
                &mut count,
            ),
            N,
        );
        check(
            pouw_judge_check(
                g.judge,
                null(),
                1,
                flat.as_ptr(),
                flat.len(),
                64,
                0,
                cp,
                cl,
                lp,
                cl,
                &mut count,
            ),
            N,
        );
        check(
            pouw_judge_check(
                g.judge,
                b"e".as_ptr(),
                1,
                null(),
                flat.len(),
                64,
                0,
                cp,
                cl,
                lp,
                cl,
                &mut count,
            ),
            N,
        );
        // Zero and odd lengths.
        let r = |sub: &[u8], len: usize, size: usize, count: &mut usize| {
            pouw_judge_check(
                g.judge,
                sub.as_ptr(),
                sub.len(),
                flat.as_ptr(),
                len,
                size,
                0,
                cp,
                cl,
                lp,
                cl,
                count,
            )
        };
        check(
            r(b"e", flat.len(), 0, &mut count),
            PouwResult::InvalidArgument,
        );
        check(
            r(b"e", flat.len() - 1, 64, &mut count),
            PouwResult::InvalidArgument,
        );
        check(r(b"", flat.len(), 64, &mut count), PouwResult::InvalidField);
        check(
            r(&[7; 65], flat.len(), 64, &mut count),
            PouwResult::InvalidField,
        );
        assert_eq!(count, usize::MAX);
        assert!(codes.iter().all(|&c| c == u32::MAX));
        // Over the request's limit of 1024 records: refused as a whole.
        let many = vec![1u8; 1025];
        check(
            pouw_judge_check(
                g.judge,
                b"e".as_ptr(),
                1,
                many.as_ptr(),
                many.len(),
                1,
                0,
                cp,
                cl,
                null_mut(),
                0,
                &mut count,
            ),
            PouwResult::BufferTooSmall,
        );
        let mut big = vec![0u32; 1025];
        check(
            pouw_judge_check(
                g.judge,
                b"e".as_ptr(),
                1,
                many.as_ptr(),
                many.len(),
                1,
                0,
                big.as_mut_ptr(),
                1025,
                null_mut(),
                0,
                &mut count,
            ),
            PouwResult::LimitExceeded,
        );
        // An empty submission (NULL records of length 0) has no verdicts.
        let (mut one, mut zero_count) = ([u32::MAX], usize::MAX);
        check(
            pouw_judge_check(
                g.judge,
                b"e".as_ptr(),
                1,
                null(),
                0,
                64,
                0,
                one.as_mut_ptr(),
                1,
                null_mut(),
                0,
                &mut zero_count,
            ),
            PouwResult::Ok,
        );
        assert_eq!((zero_count, one[0]), (0, u32::MAX));

        // The encoded form: NULLs, empty and malformed bytes, another request's submission.
        let bytes = rust_submission(g, b"eve", records.clone()).to_bytes();
        let e = |b: *const u8, len: usize, codes: *mut u32, count: *mut usize| {
            pouw_judge_check_encoded(g.judge, b, len, 0, codes, n, null_mut(), 0, count)
        };
        let mut count = usize::MAX;
        check(
            pouw_judge_check_encoded(
                null(),
                bytes.as_ptr(),
                bytes.len(),
                0,
                cp,
                n,
                null_mut(),
                0,
                &mut count,
            ),
            N,
        );
        check(e(null(), bytes.len(), cp, &mut count), N);
        check(e(bytes.as_ptr(), bytes.len(), null_mut(), &mut count), N);
        check(e(bytes.as_ptr(), bytes.len(), cp, null_mut()), N);
        check(e(null(), 0, cp, &mut count), PouwResult::Truncated);
        check(
            e(bytes.as_ptr(), bytes.len() - 1, cp, &mut count),
            PouwResult::Truncated,
        );
        check(e(b"PWSX".as_ptr(), 4, cp, &mut count), PouwResult::BadMagic);
        let mut other = g.rust_request.clone();
        other.target_count += 1;
        let foreign = Submission {
            request: other.cid(),
            submitter: b"eve".to_vec(),
            records: records.clone(),
        }
        .to_bytes();
        check(
            e(foreign.as_ptr(), foreign.len(), cp, &mut count),
            PouwResult::InvalidField,
        );
        check(
            c_check_encoded(g, &bytes, 0, n - 1).unwrap_err(),
            PouwResult::BufferTooSmall,
        );
        assert_eq!(count, usize::MAX);
        assert!(codes.iter().all(|&c| c == u32::MAX));
    }
}

#[test]
fn requests_round_trip_and_judges_refuse_other_models() {
    let g = growth();
    unsafe {
        let mut buf = null_mut();
        check(
            pouw_dataset_request_to_bytes(g.request, &mut buf),
            PouwResult::Ok,
        );
        let bytes = take(buf);
        assert_eq!(bytes, g.rust_request.to_bytes());
        check(
            pouw_dataset_request_cid(g.request, &mut buf),
            PouwResult::Ok,
        );
        assert_eq!(take(buf), g.rust_request.cid().to_bytes());
        let mut max = 0u32;
        check(
            pouw_dataset_request_max_records(g.request, &mut max),
            PouwResult::Ok,
        );
        assert_eq!(max, g.rust_request.max_records);
        let mut back = null_mut();
        check(
            pouw_dataset_request_from_bytes(bytes.as_ptr(), bytes.len(), &mut back),
            PouwResult::Ok,
        );
        check(
            pouw_dataset_request_to_bytes(back, &mut buf),
            PouwResult::Ok,
        );
        assert_eq!(take(buf), bytes);
        pouw_dataset_request_free(back);

        // Malformed request bytes get typed codes and write nothing.
        let mut out: *mut pouw_dataset_request = sentinel();
        check(
            pouw_dataset_request_from_bytes(null(), 0, &mut out),
            PouwResult::Truncated,
        );
        check(
            pouw_dataset_request_from_bytes(bytes.as_ptr(), bytes.len() - 1, &mut out),
            PouwResult::Truncated,
        );
        let mut long = bytes.clone();
        long.push(0);
        check(
            pouw_dataset_request_from_bytes(long.as_ptr(), long.len(), &mut out),
            PouwResult::TrailingBytes,
        );
        let mut version = bytes.clone();
        version[4] = 9;
        check(
            pouw_dataset_request_from_bytes(version.as_ptr(), version.len(), &mut out),
            PouwResult::UnsupportedVersion,
        );
        let mut nan = g.rust_request.clone();
        nan.threshold = f32::NAN;
        let nan = nan.to_bytes();
        check(
            pouw_dataset_request_from_bytes(nan.as_ptr(), nan.len(), &mut out),
            PouwResult::InvalidField,
        );
        assert_eq!(out, sentinel());
        // A request with a non-finite threshold or no target is refused at creation too.
        let ck = &g.checkpoint;
        check(
            pouw_dataset_request_new(
                g.dataset,
                g.params,
                ck.as_ptr(),
                ck.len(),
                f32::INFINITY,
                10,
                null(),
                &mut out,
            ),
            PouwResult::InvalidField,
        );
        check(
            pouw_dataset_request_new(
                g.dataset,
                g.params,
                ck.as_ptr(),
                ck.len(),
                0.0,
                0,
                null(),
                &mut out,
            ),
            PouwResult::InvalidField,
        );
        assert_eq!(out, sentinel());

        // The judge refuses a checkpoint other than the request's (an empty one included).
        let mut judge: *mut pouw_judge = sentinel();
        let mut other = ck.clone();
        *other.last_mut().unwrap() ^= 1;
        check(
            pouw_judge_new(
                g.request,
                g.params,
                other.as_ptr(),
                other.len(),
                g.dataset,
                &mut judge,
            ),
            PouwResult::InvalidField,
        );
        check(
            pouw_judge_new(g.request, g.params, null(), 0, g.dataset, &mut judge),
            PouwResult::InvalidField,
        );
        // ... and parameters of another task spec.
        let mut opts = small_options();
        opts.batch_size = 32;
        let mut params = null_mut();
        check(
            pouw_params_new_gan(g.dataset, &opts, &mut params),
            PouwResult::Ok,
        );
        check(
            pouw_judge_new(
                g.request,
                params,
                ck.as_ptr(),
                ck.len(),
                g.dataset,
                &mut judge,
            ),
            PouwResult::InvalidField,
        );
        pouw_params_free(params);
        assert_eq!(judge, sentinel());
        // The checkpoint's bytes are checked too: a request naming garbage bytes gets a tensor code.
        let garbage = b"not a checkpoint".to_vec();
        let mut request = null_mut();
        check(
            pouw_dataset_request_new(
                g.dataset,
                g.params,
                garbage.as_ptr(),
                garbage.len(),
                0.0,
                5,
                null(),
                &mut request,
            ),
            PouwResult::Ok,
        );
        let r = pouw_judge_new(
            request,
            g.params,
            garbage.as_ptr(),
            garbage.len(),
            g.dataset,
            &mut judge,
        );
        assert!(
            matches!(
                r,
                PouwResult::CheckpointTensor
                    | PouwResult::Torch
                    | PouwResult::InvalidField
                    | PouwResult::Truncated
            ),
            "{r:?}"
        );
        pouw_dataset_request_free(request);
        let mut t = f32::NAN;
        check(
            pouw_judge_calibrate_threshold(
                g.params,
                ck.as_ptr(),
                ck.len(),
                g.dataset,
                1000,
                &mut t,
            ),
            PouwResult::InvalidParameters,
        );
        assert!(t.is_nan());
    }
    let _ = &g.rust_dataset;
}

#[test]
fn the_copy_rules_are_fitted_under_the_transforms_the_options_set() {
    // 64 hash-stream 8x8 records, the last the mirror image of the first: under the mirror the
    // closest two are one record, without it every two are far apart.
    let dir = TempDir::new("transforms");
    let mut w = pouw::dataset::DatasetWriter::create(
        dir.path().join("d"),
        vec![1, 8, 8],
        pouw::dataset::DType::U8,
        16,
        "test",
        "none",
    )
    .unwrap();
    let mut xof = pouw::hash::Xof::new("pouw/test-transforms", &[0; 32]);
    let mut first = vec![0u8; 64];
    for i in 0..64 {
        let mut r = vec![0u8; 64];
        xof.fill(&mut r);
        r.iter_mut().for_each(|v| *v %= 17);
        if i == 0 {
            first = r.clone();
        }
        if i == 63 {
            r = first
                .chunks(8)
                .flat_map(|row| row.iter().rev().copied())
                .collect();
        }
        w.push(&r).unwrap();
    }
    let rust_dataset = w.finish().unwrap();
    let g = growth();
    let ck = &g.checkpoint;
    unsafe {
        let d = bytes_of(rust_dataset.dir());
        let mut dataset = null_mut();
        check(
            pouw_dataset_open(d.as_ptr(), d.len(), &mut dataset),
            PouwResult::Ok,
        );
        let make = |transforms: u32| {
            let options = pouw_dataset_request_options {
                set: POUW_REQUEST_OPTION_COPY_TRANSFORMS,
                copy_transforms: transforms,
                ..request_options()
            };
            let mut out = null_mut();
            check(
                pouw_dataset_request_new(
                    dataset,
                    g.params,
                    ck.as_ptr(),
                    ck.len(),
                    g.threshold,
                    TARGET_COUNT,
                    &options,
                    &mut out,
                ),
                PouwResult::Ok,
            );
            let mut buf = null_mut();
            check(pouw_dataset_request_to_bytes(out, &mut buf), PouwResult::Ok);
            pouw_dataset_request_free(out);
            DatasetRequest::from_bytes(&take(buf)).unwrap()
        };
        let (inverted, mirrored) = (make(POUW_COPY_INVERTED), make(POUW_COPY_MIRRORED));
        for (request, transforms) in [
            (&inverted, POUW_COPY_INVERTED),
            (&mirrored, POUW_COPY_MIRRORED),
        ] {
            let rust = DatasetRequest::for_dataset_with_transforms(
                &rust_dataset,
                request.spec,
                request.model,
                g.threshold,
                TARGET_COUNT,
                transforms,
            )
            .unwrap();
            assert_eq!(request, &rust);
        }
        // The mirror finds the exact pair: no tolerance; without it the records are far apart.
        assert_eq!(mirrored.near_copy_tolerance, 0);
        assert!(inverted.near_copy_tolerance > 0, "{inverted:?}");
        pouw_dataset_free(dataset);
    }
}

#[test]
fn request_options_set_the_rules_under_the_sized_struct_rules() {
    let g = growth();
    let ck = &g.checkpoint;
    let make = |options: *const pouw_dataset_request_options| unsafe {
        let mut out: *mut pouw_dataset_request = sentinel();
        let r = pouw_dataset_request_new(
            g.dataset,
            g.params,
            ck.as_ptr(),
            ck.len(),
            g.threshold,
            TARGET_COUNT,
            options,
            &mut out,
        );
        if r != PouwResult::Ok {
            assert_eq!(out, sentinel(), "a failed call writes no request");
            return Err(r);
        }
        let mut buf = null_mut();
        check(pouw_dataset_request_to_bytes(out, &mut buf), PouwResult::Ok);
        pouw_dataset_request_free(out);
        Ok(DatasetRequest::from_bytes(&take(buf)).unwrap())
    };
    // The defaults (NULL or nothing set): `for_dataset`'s, the ink rule off.
    let defaults = DatasetRequest {
        ink_min: 0,
        ink_max: 64,
        ..g.rust_request.clone()
    };
    assert_eq!(make(null()), Ok(defaults.clone()));
    assert_eq!(make(&request_options()), Ok(defaults.clone()));
    let all = POUW_REQUEST_OPTION_DISTANCE
        | POUW_REQUEST_OPTION_INK
        | POUW_REQUEST_OPTION_MAX_SHIFT
        | POUW_REQUEST_OPTION_MAX_RECORDS
        | POUW_REQUEST_OPTION_MAX_BYTES
        | POUW_REQUEST_OPTION_NEAR_COPY
        | POUW_REQUEST_OPTION_COPY_TRANSFORMS
        | POUW_REQUEST_OPTION_NEGATIVE_RULE
        | POUW_REQUEST_OPTION_LEVELS
        | POUW_REQUEST_OPTION_NOISE_COPY
        | POUW_REQUEST_OPTION_FLAT_PATCH
        | POUW_REQUEST_OPTION_NEAR_FLAT;
    // The digits' fitted flat-patch rule: squares of 2, their blank ground (0) and full ink
    // (16) exempt.
    let mut digit_grounds = [0u8; 32];
    (digit_grounds[0], digit_grounds[2]) = (1, 1);
    assert_eq!(
        (defaults.flat_patch_side, defaults.flat_patch_grounds),
        (2, digit_grounds)
    );
    // Its near point: squares of 3 within 2 levels (a sixteenth of 16 is under 2).
    assert_eq!(
        (defaults.near_flat_side, defaults.near_flat_tolerance),
        (3, 2)
    );
    let mut two_grounds = [0u8; 32];
    two_grounds[0] = 0b11;
    assert_eq!(
        defaults.copy_transforms,
        POUW_COPY_MIRRORED | POUW_COPY_INVERTED | POUW_COPY_FLIPPED | POUW_COPY_TURNED
    );
    assert!(defaults.negative_rule);
    let o = pouw_dataset_request_options {
        set: all,
        distance_reject_per_mille: 0,
        ink_min: 3,
        ink_max: 60,
        max_shift: 0,
        max_records: 7,
        max_bytes: 300,
        near_copy_per_mille: 100,
        near_copy_tolerance: 2,
        copy_transforms: POUW_COPY_INVERTED,
        negative_rule: 0,
        levels_per_mille: 50,
        levels_tolerance: 3,
        noise_copy_per_mille: 20,
        noise_copy_tolerance: 4,
        flat_patch_side: 5,
        flat_patch_grounds: two_grounds,
        near_flat_side: 4,
        near_flat_tolerance: 3,
        ..request_options()
    };
    assert_eq!(
        make(&o),
        Ok(DatasetRequest {
            distance_reject_per_mille: 0,
            ink_min: 3,
            ink_max: 60,
            max_shift: 0,
            max_records: 7,
            max_bytes: 300,
            near_copy_per_mille: 100,
            near_copy_tolerance: 2,
            copy_transforms: POUW_COPY_INVERTED,
            negative_rule: false,
            levels_per_mille: 50,
            levels_tolerance: 3,
            noise_copy_per_mille: 20,
            noise_copy_tolerance: 4,
            flat_patch_side: 5,
            flat_patch_grounds: two_grounds,
            near_flat_side: 4,
            near_flat_tolerance: 3,
            ..defaults.clone()
        })
    );
    // A field counts only when its bit is set; the byte limit follows the record limit.
    let records_only = pouw_dataset_request_options {
        set: POUW_REQUEST_OPTION_MAX_RECORDS,
        ..o
    };
    assert_eq!(
        make(&records_only),
        Ok(DatasetRequest {
            max_records: 7,
            max_bytes: 7 * 64,
            ..defaults.clone()
        })
    );
    // Rules out of their domain.
    for bad in [
        pouw_dataset_request_options {
            set: POUW_REQUEST_OPTION_DISTANCE,
            distance_reject_per_mille: 1000,
            ..o
        },
        pouw_dataset_request_options {
            set: POUW_REQUEST_OPTION_INK,
            ink_min: 9,
            ink_max: 8,
            ..o
        },
        pouw_dataset_request_options {
            set: POUW_REQUEST_OPTION_INK,
            ink_max: 65,
            ..o
        },
        pouw_dataset_request_options {
            set: POUW_REQUEST_OPTION_MAX_SHIFT,
            max_shift: 8,
            ..o
        },
        pouw_dataset_request_options {
            set: POUW_REQUEST_OPTION_MAX_RECORDS,
            max_records: 0,
            ..o
        },
        pouw_dataset_request_options {
            set: POUW_REQUEST_OPTION_MAX_BYTES,
            max_bytes: 63,
            ..o
        },
        pouw_dataset_request_options {
            set: POUW_REQUEST_OPTION_NEAR_COPY,
            near_copy_per_mille: 1000,
            ..o
        },
        pouw_dataset_request_options {
            set: POUW_REQUEST_OPTION_NEAR_COPY,
            near_copy_tolerance: 16,
            ..o
        },
        pouw_dataset_request_options {
            set: POUW_REQUEST_OPTION_COPY_TRANSFORMS,
            copy_transforms: 16,
            ..o
        },
        pouw_dataset_request_options {
            set: POUW_REQUEST_OPTION_COPY_TRANSFORMS,
            copy_transforms: POUW_COPY_TURNED,
            ..o
        },
        pouw_dataset_request_options {
            set: POUW_REQUEST_OPTION_NEGATIVE_RULE,
            negative_rule: 2,
            ..o
        },
        pouw_dataset_request_options {
            set: POUW_REQUEST_OPTION_LEVELS,
            levels_per_mille: 1000,
            ..o
        },
        pouw_dataset_request_options {
            set: POUW_REQUEST_OPTION_LEVELS,
            levels_tolerance: 256,
            ..o
        },
        pouw_dataset_request_options {
            set: POUW_REQUEST_OPTION_NOISE_COPY,
            noise_copy_per_mille: 1000,
            ..o
        },
        pouw_dataset_request_options {
            set: POUW_REQUEST_OPTION_NOISE_COPY,
            noise_copy_tolerance: 16,
            ..o
        },
        // A side of 1 or past the 8x8 image, a ground above the largest value (17), grounds
        // with the rule off.
        pouw_dataset_request_options {
            set: POUW_REQUEST_OPTION_FLAT_PATCH,
            flat_patch_side: 1,
            ..o
        },
        pouw_dataset_request_options {
            set: POUW_REQUEST_OPTION_FLAT_PATCH,
            flat_patch_side: 9,
            ..o
        },
        pouw_dataset_request_options {
            set: POUW_REQUEST_OPTION_FLAT_PATCH,
            flat_patch_grounds: {
                let mut g = two_grounds;
                g[2] = 0b10;
                g
            },
            ..o
        },
        pouw_dataset_request_options {
            set: POUW_REQUEST_OPTION_FLAT_PATCH,
            flat_patch_side: 0,
            ..o
        },
        // The near point: a side of 1, a tolerance of 0 or of the largest value with it on, a
        // tolerance with it off.
        pouw_dataset_request_options {
            set: POUW_REQUEST_OPTION_NEAR_FLAT,
            near_flat_side: 1,
            ..o
        },
        pouw_dataset_request_options {
            set: POUW_REQUEST_OPTION_NEAR_FLAT,
            near_flat_tolerance: 0,
            ..o
        },
        pouw_dataset_request_options {
            set: POUW_REQUEST_OPTION_NEAR_FLAT,
            near_flat_tolerance: 16,
            ..o
        },
        pouw_dataset_request_options {
            set: POUW_REQUEST_OPTION_NEAR_FLAT,
            near_flat_side: 0,
            ..o
        },
    ] {
        assert_eq!(make(&bad), Err(PouwResult::InvalidField), "{bad:?}");
    }
    // Malformed structs: an unknown bit, a size too small or too large, a set field beyond the
    // caller's size.
    let size = std::mem::size_of::<pouw_dataset_request_options>();
    for bad in [
        pouw_dataset_request_options { set: 1 << 12, ..o },
        pouw_dataset_request_options {
            struct_size: 4,
            ..o
        },
        pouw_dataset_request_options {
            struct_size: 8192,
            ..o
        },
        pouw_dataset_request_options {
            struct_size: std::mem::offset_of!(pouw_dataset_request_options, ink_min),
            set: POUW_REQUEST_OPTION_INK,
            ..o
        },
    ] {
        assert_eq!(make(&bad), Err(PouwResult::InvalidArgument), "{bad:?}");
    }
    // A shorter struct (an older header) sets what it holds.
    let short = pouw_dataset_request_options {
        struct_size: std::mem::offset_of!(pouw_dataset_request_options, ink_min),
        set: POUW_REQUEST_OPTION_DISTANCE,
        distance_reject_per_mille: 50,
        ..o
    };
    assert!(short.struct_size < size);
    assert_eq!(
        make(&short),
        Ok(DatasetRequest {
            distance_reject_per_mille: 50,
            ..defaults
        })
    );
}

#[test]
fn null_arguments_of_growth_calls_are_rejected() {
    let g = growth();
    let ck = &g.checkpoint;
    let (c, cl) = (ck.as_ptr(), ck.len());
    let root = [1u8; 32];
    unsafe {
        let mut buf: *mut pouw_buffer = sentinel();
        let mut req: *mut pouw_dataset_request = sentinel();
        let mut judge: *mut pouw_judge = sentinel();
        let mut rep: *mut pouw_reputation = sentinel();
        let mut max = 7u32;
        let mut t = 7f32;
        check(
            pouw_dataset_request_new(null(), g.params, c, cl, 0.0, 5, null(), &mut req),
            N,
        );
        check(
            pouw_dataset_request_new(g.dataset, null(), c, cl, 0.0, 5, null(), &mut req),
            N,
        );
        check(
            pouw_dataset_request_new(g.dataset, g.params, null(), cl, 0.0, 5, null(), &mut req),
            N,
        );
        check(
            pouw_dataset_request_new(g.dataset, g.params, c, cl, 0.0, 5, null(), null_mut()),
            N,
        );
        let (mut lo, mut hi) = (7u32, 7u32);
        check(pouw_dataset_ink_bounds(null(), &mut lo, &mut hi), N);
        check(pouw_dataset_ink_bounds(g.dataset, null_mut(), &mut hi), N);
        check(pouw_dataset_ink_bounds(g.dataset, &mut lo, null_mut()), N);
        assert_eq!((lo, hi), (7, 7));
        check(pouw_dataset_request_from_bytes(null(), 5, &mut req), N);
        check(pouw_dataset_request_from_bytes(c, cl, null_mut()), N);
        check(pouw_dataset_request_to_bytes(null(), &mut buf), N);
        check(pouw_dataset_request_to_bytes(g.request, null_mut()), N);
        check(pouw_dataset_request_cid(null(), &mut buf), N);
        check(pouw_dataset_request_cid(g.request, null_mut()), N);
        check(pouw_dataset_request_max_records(null(), &mut max), N);
        check(pouw_dataset_request_max_records(g.request, null_mut()), N);
        check(
            pouw_judge_calibrate_threshold(null(), c, cl, g.dataset, 20, &mut t),
            N,
        );
        check(
            pouw_judge_calibrate_threshold(g.params, null(), cl, g.dataset, 20, &mut t),
            N,
        );
        check(
            pouw_judge_calibrate_threshold(g.params, c, cl, null(), 20, &mut t),
            N,
        );
        check(
            pouw_judge_calibrate_threshold(g.params, c, cl, g.dataset, 20, null_mut()),
            N,
        );
        check(
            pouw_judge_new(null(), g.params, c, cl, g.dataset, &mut judge),
            N,
        );
        check(
            pouw_judge_new(g.request, null(), c, cl, g.dataset, &mut judge),
            N,
        );
        check(
            pouw_judge_new(g.request, g.params, null(), cl, g.dataset, &mut judge),
            N,
        );
        check(
            pouw_judge_new(g.request, g.params, c, cl, null(), &mut judge),
            N,
        );
        check(
            pouw_judge_new(g.request, g.params, c, cl, g.dataset, null_mut()),
            N,
        );
        let lens = [1usize];
        check(
            pouw_submission_encode(null(), b"s".as_ptr(), 1, c, 1, lens.as_ptr(), 1, &mut buf),
            N,
        );
        check(
            pouw_submission_encode(g.request, null(), 1, c, 1, lens.as_ptr(), 1, &mut buf),
            N,
        );
        check(
            pouw_submission_encode(
                g.request,
                b"s".as_ptr(),
                1,
                null(),
                1,
                lens.as_ptr(),
                1,
                &mut buf,
            ),
            N,
        );
        check(
            pouw_submission_encode(g.request, b"s".as_ptr(), 1, c, 1, null(), 1, &mut buf),
            N,
        );
        check(
            pouw_submission_encode(
                g.request,
                b"s".as_ptr(),
                1,
                c,
                1,
                lens.as_ptr(),
                1,
                null_mut(),
            ),
            N,
        );
        // Lengths that do not add up; an empty submitter; too many records.
        check(
            pouw_submission_encode(
                g.request,
                b"s".as_ptr(),
                1,
                c,
                2,
                lens.as_ptr(),
                1,
                &mut buf,
            ),
            PouwResult::InvalidArgument,
        );
        check(
            pouw_submission_encode(
                g.request,
                b"s".as_ptr(),
                1,
                c,
                1,
                [usize::MAX, 2].as_ptr(),
                2,
                &mut buf,
            ),
            PouwResult::InvalidArgument,
        );
        check(
            pouw_submission_encode(g.request, null(), 0, c, 1, lens.as_ptr(), 1, &mut buf),
            PouwResult::InvalidField,
        );
        let zeros = vec![0usize; 1025];
        check(
            pouw_submission_encode(
                g.request,
                b"s".as_ptr(),
                1,
                null(),
                0,
                zeros.as_ptr(),
                1025,
                &mut buf,
            ),
            PouwResult::LimitExceeded,
        );
        // An empty submission encodes.
        let mut empty = null_mut();
        check(
            pouw_submission_encode(
                g.request,
                b"s".as_ptr(),
                1,
                null(),
                0,
                null(),
                0,
                &mut empty,
            ),
            PouwResult::Ok,
        );
        assert_eq!(
            take(empty),
            Submission {
                request: g.rust_request.cid(),
                submitter: b"s".to_vec(),
                records: vec![]
            }
            .to_bytes()
        );
        // Consistency proofs.
        check(
            pouw_verify_consistency(1, null(), 2, root.as_ptr(), root.as_ptr(), 32),
            N,
        );
        check(
            pouw_verify_consistency(1, root.as_ptr(), 2, null(), root.as_ptr(), 32),
            N,
        );
        check(
            pouw_verify_consistency(1, root.as_ptr(), 2, root.as_ptr(), null(), 32),
            N,
        );
        let mut info = pouw_append_proof_info {
            old_size: 7,
            old_root: [7; 32],
            new_size: 7,
            new_root: [7; 32],
        };
        check(pouw_append_proof_verify(null(), 10, &mut info), N);
        check(pouw_append_proof_verify(c, cl, null_mut()), N);
        assert_eq!(info.old_size, 7);
        // Reputation.
        let mut rule = pouw_reputation_rule {
            ban_min_rejected: 0,
            ban_rejected_per_mille: 0,
            promote_min_accepted: 0,
            promote_rejected_per_mille: 0,
        };
        check(pouw_reputation_rule_default(null_mut()), N);
        check(pouw_reputation_rule_default(&mut rule), PouwResult::Ok);
        check(pouw_reputation_new(null(), &mut rep), N);
        check(pouw_reputation_new(&rule, null_mut()), N);
        check(pouw_reputation_from_bytes(null(), 3, &mut rep), N);
        check(pouw_reputation_from_bytes(c, cl, null_mut()), N);
        assert_eq!(rep, sentinel());
        let mut table = null_mut();
        check(pouw_reputation_new(&rule, &mut table), PouwResult::Ok);
        let mut standing = 7u32;
        let mut s = pouw_submitter_standing {
            accepted: 7,
            rejected: 7,
            standing: 7,
        };
        let mut d = [7u8; 32];
        check(pouw_reputation_to_bytes(null(), &mut buf), N);
        check(pouw_reputation_to_bytes(table, null_mut()), N);
        check(pouw_reputation_digest(null(), d.as_mut_ptr()), N);
        check(pouw_reputation_digest(table, null_mut()), N);
        check(
            pouw_reputation_record(
                null_mut(),
                b"s".as_ptr(),
                1,
                [0u32].as_ptr(),
                1,
                &mut standing,
            ),
            N,
        );
        check(
            pouw_reputation_record(table, null(), 1, [0u32].as_ptr(), 1, &mut standing),
            N,
        );
        check(
            pouw_reputation_record(table, b"s".as_ptr(), 1, null(), 1, &mut standing),
            N,
        );
        check(
            pouw_reputation_record(table, b"s".as_ptr(), 1, [0u32].as_ptr(), 1, null_mut()),
            N,
        );
        check(
            pouw_reputation_standing(null(), b"s".as_ptr(), 1, &mut s),
            N,
        );
        check(pouw_reputation_standing(table, null(), 1, &mut s), N);
        check(
            pouw_reputation_standing(table, b"s".as_ptr(), 1, null_mut()),
            N,
        );
        assert_eq!((standing, s.accepted, d), (7, 7, [7; 32]));
        pouw_reputation_free(table);
        assert_eq!((buf, req, judge), (sentinel(), sentinel(), sentinel()));
    }
}

#[test]
fn free_accepts_null() {
    unsafe {
        pouw_dataset_request_free(null_mut());
        pouw_judge_free(null_mut());
        pouw_reputation_free(null_mut());
    }
}

// ---- Consistency proofs of a real append ----

/// Where the Go tests read the golden consistency proof.
fn golden_path() -> std::path::PathBuf {
    root().join("ffi/go/testdata/consistency.txt")
}

const REGENERATE: &str =
    "POUW_UPDATE_GOLDEN=1 cargo test -p pouw-ffi --test growth_api consistency";

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The append proof of the first 100 digits grown by rows 100..107, made by a real append.
fn real_append() -> AppendProof {
    let dir = TempDir::new("append");
    let src = dir.path().join("src");
    import_digits_csv(digits_path(), &src, Some(100)).unwrap();
    let mut g = GrowingDataset::create(dir.path().join("home"), &src).unwrap();
    let new: Vec<&[u8]> = rows()[100..107].iter().map(Vec::as_slice).collect();
    g.append(&new).unwrap()
}

fn verify_c(
    old_size: u64,
    old_root: &[u8; 32],
    new_size: u64,
    new_root: &[u8; 32],
    nodes: &[[u8; 32]],
) -> PouwResult {
    let flat = nodes.concat();
    unsafe {
        pouw_verify_consistency(
            old_size,
            old_root.as_ptr(),
            new_size,
            new_root.as_ptr(),
            flat.as_ptr(),
            flat.len(),
        )
    }
}

#[test]
fn consistency_proof_of_a_real_append_verifies_and_tampering_fails() {
    let p = real_append();
    assert!(!p.nodes.is_empty());
    check(
        verify_c(p.old_size, &p.old_root, p.new_size, &p.new_root, &p.nodes),
        PouwResult::Ok,
    );
    let m = PouwResult::ConsistencyMismatch;
    for i in 0..p.nodes.len() {
        let mut nodes = p.nodes.clone();
        nodes[i][0] ^= 1;
        check(
            verify_c(p.old_size, &p.old_root, p.new_size, &p.new_root, &nodes),
            m,
        );
    }
    let mut bad = p.old_root;
    bad[31] ^= 0x80;
    check(
        verify_c(p.old_size, &bad, p.new_size, &p.new_root, &p.nodes),
        m,
    );
    check(
        verify_c(p.old_size, &p.old_root, p.new_size, &bad, &p.nodes),
        m,
    );
    check(
        verify_c(
            p.old_size + 1,
            &p.old_root,
            p.new_size,
            &p.new_root,
            &p.nodes,
        ),
        m,
    );
    // (A new size differing in low bits only may still verify: RFC 9162 proofs take the sizes
    // from the caller, who has them from the same trusted source as the roots.)
    check(
        verify_c(p.old_size, &p.old_root, p.old_size, &p.new_root, &p.nodes),
        m,
    );
    check(
        verify_c(0, &p.old_root, p.new_size, &p.new_root, &p.nodes),
        m,
    );
    check(
        verify_c(p.new_size, &p.new_root, p.old_size, &p.old_root, &p.nodes),
        m,
    );
    check(
        verify_c(
            p.old_size,
            &p.old_root,
            p.new_size,
            &p.new_root,
            &p.nodes[1..],
        ),
        m,
    );
    check(
        verify_c(p.old_size, &p.old_root, p.new_size, &p.new_root, &[]),
        m,
    );
    let mut extra = p.nodes.clone();
    extra.push([0; 32]);
    check(
        verify_c(p.old_size, &p.old_root, p.new_size, &p.new_root, &extra),
        m,
    );
    // Equal sizes: only the same root and an empty proof.
    check(
        verify_c(p.new_size, &p.new_root, p.new_size, &p.new_root, &[]),
        PouwResult::Ok,
    );
    check(verify_c(p.new_size, &p.new_root, p.new_size, &bad, &[]), m);
    // A byte length that is not whole nodes.
    let flat = p.nodes.concat();
    let r = unsafe {
        pouw_verify_consistency(
            p.old_size,
            p.old_root.as_ptr(),
            p.new_size,
            p.new_root.as_ptr(),
            flat.as_ptr(),
            flat.len() - 1,
        )
    };
    check(r, PouwResult::InvalidArgument);
    // No nodes: NULL with length 0 is an empty proof.
    let r = unsafe {
        pouw_verify_consistency(
            p.old_size,
            p.old_root.as_ptr(),
            p.new_size,
            p.new_root.as_ptr(),
            null(),
            0,
        )
    };
    check(r, m);

    // The encoded append proof.
    let bytes = p.to_bytes();
    let mut info = pouw_append_proof_info {
        old_size: 0,
        old_root: [0; 32],
        new_size: 0,
        new_root: [0; 32],
    };
    unsafe {
        check(
            pouw_append_proof_verify(bytes.as_ptr(), bytes.len(), &mut info),
            PouwResult::Ok,
        );
        assert_eq!(
            (info.old_size, info.old_root, info.new_size, info.new_root),
            (p.old_size, p.old_root, p.new_size, p.new_root)
        );
        let mut untouched = pouw_append_proof_info {
            old_size: 9,
            old_root: [9; 32],
            new_size: 9,
            new_root: [9; 32],
        };
        check(
            pouw_append_proof_verify(null(), 0, &mut untouched),
            PouwResult::Truncated,
        );
        check(
            pouw_append_proof_verify(bytes.as_ptr(), bytes.len() - 1, &mut untouched),
            PouwResult::Truncated,
        );
        let mut tampered = bytes.clone();
        *tampered.last_mut().unwrap() ^= 1;
        check(
            pouw_append_proof_verify(tampered.as_ptr(), tampered.len(), &mut untouched),
            m,
        );
        let mut magic = bytes.clone();
        magic[0] = b'X';
        check(
            pouw_append_proof_verify(magic.as_ptr(), magic.len(), &mut untouched),
            PouwResult::BadMagic,
        );
        assert_eq!((untouched.old_size, untouched.new_root), (9, [9; 32]));
    }

    // The golden proof the Go tests read.
    let mut text = String::from(
        "# A consistency proof made by a real append: the first 100 UCI digits, then rows 100..107.\n",
    );
    text.push_str(&format!("# Regenerate: {REGENERATE}\n"));
    text.push_str(&format!(
        "old_size {}\nold_root {}\nnew_size {}\nnew_root {}\n",
        p.old_size,
        hex(&p.old_root),
        p.new_size,
        hex(&p.new_root)
    ));
    for n in &p.nodes {
        text.push_str(&format!("node {}\n", hex(n)));
    }
    text.push_str(&format!("encoded {}\n", hex(&bytes)));
    let path = golden_path();
    if std::env::var_os("POUW_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &text).unwrap();
        eprintln!("wrote {}", path.display());
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == text,
        "{} is stale or missing; regenerate it with `{REGENERATE}`",
        path.display()
    );
}

#[test]
fn reputation_tables_round_trip_ban_and_refuse_bad_input() {
    let rule = pouw_reputation_rule {
        ban_min_rejected: 2,
        ban_rejected_per_mille: 500,
        promote_min_accepted: 3,
        promote_rejected_per_mille: 100,
    };
    unsafe {
        let mut rep = null_mut();
        check(pouw_reputation_new(&rule, &mut rep), PouwResult::Ok);
        let mut standing = u32::MAX;
        let record = |rep, who: &[u8], codes: &[u32], standing: &mut u32| {
            pouw_reputation_record(
                rep,
                who.as_ptr(),
                who.len(),
                codes.as_ptr(),
                codes.len(),
                standing,
            )
        };
        check(
            record(rep, b"good", &[0, 0, 0, 9, 9], &mut standing),
            PouwResult::Ok,
        );
        assert_eq!(standing, POUW_STANDING_PROMOTED);
        check(
            record(rep, b"bad", &[1, 8, 0], &mut standing),
            PouwResult::Ok,
        );
        assert_eq!(standing, POUW_STANDING_BANNED);
        // A banned submitter, an unknown code, an empty identifier: refused, table unchanged.
        let mut buf = null_mut();
        check(pouw_reputation_to_bytes(rep, &mut buf), PouwResult::Ok);
        let before = take(buf);
        standing = 77;
        check(
            record(rep, b"bad", &[0], &mut standing),
            PouwResult::InvalidParameters,
        );
        check(
            record(rep, b"new", &[0, 19], &mut standing),
            PouwResult::InvalidArgument,
        );
        check(
            record(rep, b"", &[0], &mut standing),
            PouwResult::InvalidField,
        );
        check(
            record(rep, &[1; 65], &[0], &mut standing),
            PouwResult::InvalidField,
        );
        assert_eq!(standing, 77);
        // No verdicts: the standing, nothing counted.
        check(
            pouw_reputation_record(rep, b"good".as_ptr(), 4, null(), 0, &mut standing),
            PouwResult::Ok,
        );
        assert_eq!(standing, POUW_STANDING_PROMOTED);
        check(pouw_reputation_to_bytes(rep, &mut buf), PouwResult::Ok);
        let bytes = take(buf);
        assert_eq!(bytes, before);
        let rust = Reputation::from_bytes(&bytes).unwrap();
        assert_eq!(
            (
                rust.counts(b"good").accepted,
                rust.counts(b"good").rejected,
                rust.counts(b"bad").rejected
            ),
            (3, 0, 2)
        );
        let mut d = [0u8; 32];
        check(pouw_reputation_digest(rep, d.as_mut_ptr()), PouwResult::Ok);
        assert_eq!(d, rust.digest());
        let mut s = pouw_submitter_standing {
            accepted: 9,
            rejected: 9,
            standing: 9,
        };
        check(
            pouw_reputation_standing(rep, b"nobody".as_ptr(), 6, &mut s),
            PouwResult::Ok,
        );
        assert_eq!(
            (s.accepted, s.rejected, s.standing),
            (0, 0, POUW_STANDING_NORMAL)
        );
        check(
            pouw_reputation_standing(rep, b"bad".as_ptr(), 3, &mut s),
            PouwResult::Ok,
        );
        assert_eq!(
            (s.accepted, s.rejected, s.standing),
            (1, 2, POUW_STANDING_BANNED)
        );

        // Decoding: the same table back; malformed bytes get typed codes.
        let mut back = null_mut();
        check(
            pouw_reputation_from_bytes(bytes.as_ptr(), bytes.len(), &mut back),
            PouwResult::Ok,
        );
        check(pouw_reputation_to_bytes(back, &mut buf), PouwResult::Ok);
        assert_eq!(take(buf), bytes);
        pouw_reputation_free(back);
        let mut out: *mut pouw_reputation = sentinel();
        check(
            pouw_reputation_from_bytes(null(), 0, &mut out),
            PouwResult::Truncated,
        );
        check(
            pouw_reputation_from_bytes(bytes.as_ptr(), bytes.len() - 1, &mut out),
            PouwResult::Truncated,
        );
        let mut long = bytes.clone();
        long.push(1);
        check(
            pouw_reputation_from_bytes(long.as_ptr(), long.len(), &mut out),
            PouwResult::TrailingBytes,
        );
        assert_eq!(out, sentinel());
        // An invalid rule.
        let bad_rule = pouw_reputation_rule {
            ban_min_rejected: 0,
            ..rule
        };
        check(
            pouw_reputation_new(&bad_rule, &mut out),
            PouwResult::InvalidField,
        );
        let bad_rule = pouw_reputation_rule {
            promote_rejected_per_mille: 600,
            ..rule
        };
        check(
            pouw_reputation_new(&bad_rule, &mut out),
            PouwResult::InvalidField,
        );
        assert_eq!(out, sentinel());
        pouw_reputation_free(rep);
    }
}
