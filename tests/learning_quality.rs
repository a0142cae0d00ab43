//! Training still learns on exact arithmetic: on the digits over 400 steps, the quality curve of
//! the exact step stays within the run-to-run spread of the float32 PyTorch reference of the
//! same model and hyperparameters (`benches/pytorch_train.py`, several seeds each). The curves
//! and a plot of both: `cargo run --release --example train -- --compare`.
#![cfg(feature = "torch")]

mod common;

use common::support::quality::{
    exact_curve, pytorch_scores, pytorch_train, spread, Curve, RecordsFile, Scorer,
};
use pouw::learning::gan::GanSpec;

const RUNS: u8 = 4;
const STEPS: u64 = 400;
const EVERY: u64 = 50;

#[test]
fn exact_training_stays_within_the_spread_of_float32_pytorch() {
    let (dir, ds) = common::digits_dataset();
    let spec = GanSpec::for_manifest(ds.manifest()).unwrap();
    let scorer = Scorer::new(&ds).unwrap();
    // The reference trains in child processes while the exact runs train here.
    let work = dir.path().to_path_buf();
    let records = RecordsFile::write(&ds, &work).unwrap();
    let pytorch = std::thread::spawn(move || {
        for run in 0..RUNS {
            pytorch_train(&records, run, STEPS, EVERY, &work, &|_| {}).unwrap();
        }
    });
    let exact: Vec<Curve> = (0..RUNS)
        .map(|run| {
            exact_curve(&ds, &spec, run, STEPS, EVERY, &scorer, &|_| {})
                .unwrap()
                .0
        })
        .collect();
    pytorch.join().unwrap();
    let reference: Vec<Curve> = (0..RUNS)
        .map(|run| {
            pytorch_scores(&spec, run, STEPS, EVERY, &scorer, dir.path())
                .unwrap()
                .0
        })
        .collect();
    let (e, f) = (spread(&exact), spread(&reference));
    for ((t, me, se), (_, mf, sf)) in e.iter().zip(&f) {
        println!("step {t:>3}: exact {me:.4} +- {se:.4}, PyTorch float32 {mf:.4} +- {sf:.4}");
    }
    // Within two run-to-run standard deviations (the larger of the two sides': four runs
    // estimate each loosely) at every evaluation step.
    for ((t, me, se), (_, mf, sf)) in e.iter().zip(&f) {
        let spread = 2.0 * se.max(*sf) + 0.005;
        assert!(
            (me - mf).abs() <= spread,
            "step {t}: exact mean {me:.4} is {:.4} from the float32 mean {mf:.4}, over {spread:.4}",
            (me - mf).abs()
        );
    }
    // Both learn: the score at least halves.
    let (first, last) = (0, e.len() - 1);
    assert!(e[last].1 < 0.5 * e[first].1, "exact step: {:?}", e);
    assert!(f[last].1 < 0.5 * f[first].1, "PyTorch: {:?}", f);
}
