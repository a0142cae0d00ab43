//! A libtorch failure anywhere in verification (an out-of-memory, a shape libtorch rejects)
//! reaches the caller as `Error::Torch`, never as a panic: the golden proof is verified with a
//! genuine libtorch error injected at each of its libtorch calls in turn.
#![cfg(feature = "torch")]

mod common;

use common::flat::verify;

use common::golden::Golden;
use pouw::learning::exact::fault;
use pouw::learning::gan::GanTrainer;
use pouw::Error;

#[test]
fn libtorch_failures_during_verification_are_errors_not_panics() {
    let golden = Golden::load();
    fault::fail_call(None);
    verify::<GanTrainer>(&golden.input(), &golden.proof).expect("golden proof verifies");
    let total = fault::calls();
    eprintln!("verification made {total} libtorch calls");
    assert!(
        total > 1000,
        "verification made only {total} libtorch calls"
    );

    let mut panicked = Vec::new();
    let mut wrong = Vec::new();
    for n in 1..=total {
        fault::fail_call(Some(n));
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            verify::<GanTrainer>(&golden.input(), &golden.proof)
        }));
        fault::fail_call(None);
        match outcome {
            Err(_) => panicked.push(n),
            Ok(Err(Error::Torch(_))) => {}
            Ok(other) => wrong.push((n, format!("{:?}", other.map(|v| v.steps)))),
        }
    }
    assert!(
        panicked.is_empty(),
        "panicked at libtorch calls {panicked:?} of {total}"
    );
    assert!(wrong.is_empty(), "not Error::Torch: {wrong:?}");

    // The verifier is unharmed: the same proof verifies again.
    verify::<GanTrainer>(&golden.input(), &golden.proof).expect("verifies after the faults");
}
