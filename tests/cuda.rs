//! CUDA checks (feature `cuda`), run on a CUDA machine by `scripts/cuda-check.sh`: two CUDA runs
//! give the same digests, and CPU re-execution of CUDA steps passes tolerance mode. Prints the
//! measured relative distances, which document the tolerance.
#![cfg(feature = "cuda")]

mod common;

use pouw::learning::gan::{DeviceChoice, GanSpec, GanTrainer, DEFAULT_TOLERANCE};
use pouw::learning::{
    batch_indices, checkpoint_digest, step_seed, verify_step, Batch, CheckpointStore, MemStore,
    ProofOfLearning, StepContext, StepOpening, TaskSpec, Trajectory, VerifyMode,
};

const STEPS: u64 = 5;

fn cuda_spec(ds: &pouw::Dataset) -> Option<GanSpec> {
    if !tch::Cuda::is_available() {
        eprintln!("skipped: no CUDA device");
        return None;
    }
    let mut spec = GanSpec::for_manifest(ds.manifest()).unwrap();
    spec.device = DeviceChoice::Cuda(0);
    Some(spec)
}

/// Trains `STEPS` steps, returning the trajectory and the stored checkpoints' CIDs.
fn train(
    spec: &GanSpec,
    ds: &pouw::Dataset,
    store: &MemStore,
) -> (Trajectory, Vec<pouw::ident::Cid>) {
    let mut trainer = GanTrainer::from_seed(spec, &[4u8; 32]).unwrap();
    let bytes = trainer.checkpoint().unwrap();
    let mut trajectory = Trajectory::new(checkpoint_digest(&bytes));
    let mut cids = vec![store.put(&bytes).unwrap()];
    for i in 1..=STEPS {
        let seed = step_seed(&[8u8; 32], trajectory.digest(i - 1).unwrap(), i);
        let batch = Batch::from_dataset(
            ds,
            &batch_indices(&seed, spec.batch_size(), ds.len()).unwrap(),
        )
        .unwrap();
        trainer.step(&seed, &batch).unwrap();
        let bytes = trainer.checkpoint().unwrap();
        trajectory.push(checkpoint_digest(&bytes));
        cids.push(store.put(&bytes).unwrap());
    }
    (trajectory, cids)
}

#[test]
fn initial_state_is_identical_on_cpu_and_cuda() {
    let (_dir, ds) = common::digits_dataset();
    let Some(spec) = cuda_spec(&ds) else { return };
    let mut cpu = spec.clone();
    cpu.device = DeviceChoice::Cpu;
    let a = GanTrainer::from_seed(&spec, &[4u8; 32])
        .unwrap()
        .checkpoint()
        .unwrap();
    let b = GanTrainer::from_seed(&cpu, &[4u8; 32])
        .unwrap()
        .checkpoint()
        .unwrap();
    assert_eq!(checkpoint_digest(&a), checkpoint_digest(&b));
}

#[test]
fn two_cuda_runs_give_identical_digests() {
    let (_dir, ds) = common::digits_dataset();
    let Some(spec) = cuda_spec(&ds) else { return };
    let (a, _) = train(&spec, &ds, &MemStore::default());
    let (b, _) = train(&spec, &ds, &MemStore::default());
    assert_eq!(a.root(), b.root());
    println!(
        "CUDA trajectory root after {STEPS} steps: {:02x?}",
        a.root()
    );
}

#[test]
fn cpu_reexecution_of_cuda_steps_passes_tolerance_mode() {
    let (_dir, ds) = common::digits_dataset();
    let Some(spec) = cuda_spec(&ds) else { return };
    let store = MemStore::default();
    let (trajectory, cids) = train(&spec, &ds, &store);
    let mut cpu = spec.clone();
    cpu.device = DeviceChoice::Cpu;
    let ctx = StepContext {
        anchor: [8u8; 32],
        trajectory_root: trajectory.root(),
        trajectory_len: trajectory.len(),
        dataset_root: ds.root(),
        dataset_len: ds.len(),
    };
    for step in 1..=STEPS {
        let opening = StepOpening::new(
            &trajectory,
            step,
            &[8u8; 32],
            &ds,
            spec.batch_size(),
            cids[step as usize - 1],
            Some(cids[step as usize]),
        )
        .unwrap();
        let exact = verify_step::<GanTrainer>(&cpu, &ctx, &opening, &store, VerifyMode::Exact);
        let report = verify_step::<GanTrainer>(
            &cpu,
            &ctx,
            &opening,
            &store,
            VerifyMode::Tolerance(DEFAULT_TOLERANCE),
        )
        .unwrap();
        println!(
            "step {step}: CPU exact re-execution {:?}; relative distances {:?}",
            exact.map(|_| "equal"),
            report.distances
        );
    }
}
