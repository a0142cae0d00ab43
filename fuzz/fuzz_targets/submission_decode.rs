//! Decodes arbitrary bytes (or a valid submission with fuzzer-chosen byte flips, see `patch.rs`)
//! as a submission to a fixed request: never panics, respects the request's limits, and whatever
//! decodes re-encodes to the same bytes.
#![no_main]

use pouw_fuzz::patch;

use libfuzzer_sys::fuzz_target;
use pouw::dataset::DType;
use pouw::growth::{DatasetRequest, Submission};
use pouw::ident::cid_of;
use std::sync::OnceLock;

struct Scenario {
    request: DatasetRequest,
    template: Vec<u8>,
}

fn scenario() -> &'static Scenario {
    static S: OnceLock<Scenario> = OnceLock::new();
    S.get_or_init(|| {
        let request = DatasetRequest {
            dataset: cid_of(b"fuzz dataset"),
            shape: vec![1, 8, 8],
            dtype: DType::U8,
            value_max: 16,
            target_count: 100,
            spec: [3; 32],
            model: cid_of(b"fuzz judge"),
            threshold: 0.0,
            distance_reject_per_mille: 20,
            ink_min: 1,
            ink_max: 64,
            max_shift: 2,
            near_copy_per_mille: 150,
            near_copy_tolerance: 0,
            noise_copy_per_mille: 0,
            noise_copy_tolerance: 0,
            copy_transforms: 3,
            flat_patch_side: 0,
            flat_patch_grounds: [0; 32],
            near_flat_side: 0,
            near_flat_tolerance: 0,
            levels_per_mille: 100,
            levels_tolerance: 4,
            negative_rule: true,
            max_records: 6,
            max_bytes: 256,
        };
        let submission = Submission {
            request: request.cid(),
            submitter: b"fuzzer".to_vec(),
            records: vec![vec![1; 64], vec![2; 10], Vec::new(), vec![3; 64]],
        };
        let template = submission.to_bytes();
        Submission::from_bytes(&template, &request).expect("valid template");
        Scenario { request, template }
    })
}

fuzz_target!(|data: &[u8]| {
    let s = scenario();
    let bytes = patch::input(data, &s.template);
    if let Ok(submission) = Submission::from_bytes(&bytes, &s.request) {
        assert!(
            submission.check_envelope(&s.request).is_ok(),
            "a decoded submission breaks the request's limits"
        );
        assert!(submission.records.len() <= s.request.max_records as usize);
        assert_eq!(
            submission.to_bytes(),
            bytes,
            "a decoded submission re-encodes differently"
        );
    }
});
