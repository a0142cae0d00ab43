//! Decodes arbitrary bytes (or a valid dataset request with fuzzer-chosen byte flips, see
//! `patch.rs`) as a dataset request: never panics, whatever decodes is valid, re-encodes to the
//! same bytes (the request's CID names exactly one encoding) and decodes again to the same value.
#![no_main]

use pouw_fuzz::patch;

use libfuzzer_sys::fuzz_target;
use pouw::dataset::DType;
use pouw::growth::DatasetRequest;
use pouw::ident::cid_of;
use std::sync::OnceLock;

fn template() -> &'static [u8] {
    static T: OnceLock<Vec<u8>> = OnceLock::new();
    T.get_or_init(|| {
        let request = DatasetRequest {
            dataset: cid_of(b"fuzz dataset"),
            shape: vec![1, 8, 8],
            dtype: DType::U8,
            value_max: 16,
            target_count: 100,
            spec: [3; 32],
            model: cid_of(b"fuzz judge"),
            threshold: -0.5,
            distance_reject_per_mille: 20,
            ink_min: 4,
            ink_max: 60,
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
            max_records: 16,
            max_bytes: 1024,
        };
        request.validate().expect("valid template");
        request.to_bytes()
    })
}

fuzz_target!(|data: &[u8]| {
    let bytes = patch::input(data, template());
    if let Ok(request) = DatasetRequest::from_bytes(&bytes) {
        assert!(
            request.validate().is_ok(),
            "a decoded request does not validate"
        );
        assert_eq!(
            request.to_bytes(),
            bytes,
            "a decoded request re-encodes differently"
        );
        assert_eq!(
            DatasetRequest::from_bytes(&bytes).ok(),
            Some(request.clone()),
            "decoding is not deterministic"
        );
        assert_eq!(request.cid(), cid_of(&bytes));
        let _ = request.record_size();
    }
});
