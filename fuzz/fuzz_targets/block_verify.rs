//! Verifies arbitrary bytes (or an honest block proof with fuzzer-chosen byte flips, see
//! `patch.rs`) as a block proof, with the mock learner standing in for re-execution:
//! verification never panics, and accepts the honest proof and nothing else.
#![no_main]

use pouw_fuzz::chain;
use pouw_fuzz::mock;
use pouw_fuzz::patch;

use libfuzzer_sys::fuzz_target;
use mock::Mock;
use pouw::work::verify;

fuzz_target!(|data: &[u8]| {
    let c = chain::chain();
    let bytes = patch::input(data, &c.honest);
    let verdict = verify::<Mock>(&c.input(&c.store), &bytes);
    assert_eq!(
        verdict.is_ok(),
        bytes == c.honest,
        "accepted a proof that is not the honest one, or refused it: {verdict:?}"
    );
});
