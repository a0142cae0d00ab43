//! Decodes arbitrary bytes as a capacity response under the default limits: it must never panic,
//! and whatever decodes must re-encode to the identical bytes (one encoding per value).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pouw::capacity::{CapacityResponse, ResponseLimits};

fuzz_target!(|data: &[u8]| {
    if let Ok(response) = CapacityResponse::from_bytes(data, &ResponseLimits::default()) {
        assert_eq!(
            response.to_bytes(),
            data,
            "a decoded response re-encodes differently"
        );
    }
});
