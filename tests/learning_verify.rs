//! Step openings and their verifier: honest steps re-execute to the same digest; tampered
//! checkpoints, batches and seeds are each rejected with their typed error.
#![cfg(feature = "torch")]

mod common;

use pouw::learning::gan::{GanSpec, GanTrainer};
use pouw::learning::DeviceChoice;
use pouw::learning::{
    batch_indices, checkpoint_digest, step_seed, verify_step, Batch, BlobStore, MemStore,
    ProofOfLearning, Reexecution, Schedule, StepContext, StepOpening, Trajectory,
};
use pouw::Error;

/// The names of the current protocol version.
const UNIXFS: pouw::ident::CidProfile = pouw::ident::CidProfile::UnixFs;

struct Run {
    _dir: tempfile::TempDir,
    ds: pouw::Dataset,
    spec: GanSpec,
    store: MemStore,
    trajectory: Trajectory,
    cids: Vec<pouw::ident::Cid>,
    anchor: [u8; 32],
}

fn small_spec(ds: &pouw::Dataset) -> GanSpec {
    let mut spec = GanSpec::for_manifest(ds.manifest()).unwrap();
    spec.g_filters = 32;
    spec.d_filters = 16;
    spec.batch_size = 16;
    spec
}

/// Trains 3 steps, storing every checkpoint.
fn run() -> Run {
    let (dir, ds) = common::digits_dataset();
    let spec = small_spec(&ds);
    let store = MemStore::default();
    let anchor = [5u8; 32];
    let mut trainer = GanTrainer::from_seed(&spec, &[1u8; 32], DeviceChoice::Cpu).unwrap();
    let bytes = trainer.checkpoint().unwrap();
    let mut trajectory = Trajectory::new(checkpoint_digest(&bytes));
    let mut cids = vec![store.put(&bytes).unwrap()];
    for i in 1..=3 {
        let seed = step_seed(&anchor, &trajectory.root(), i);
        let indices = batch_indices(&seed, spec.batch_size, ds.len()).unwrap();
        trainer
            .step(&seed, &Batch::from_dataset(&ds, &indices).unwrap())
            .unwrap();
        let bytes = trainer.checkpoint().unwrap();
        trajectory.push(checkpoint_digest(&bytes));
        cids.push(store.put(&bytes).unwrap());
    }
    Run {
        _dir: dir,
        ds,
        spec,
        store,
        trajectory,
        cids,
        anchor,
    }
}

impl Run {
    fn schedule(&self) -> Schedule {
        Schedule::new(self.anchor, self.spec.batch_size, self.ds.len())
    }

    fn ctx(&self) -> StepContext {
        StepContext {
            schedule: self.schedule(),
            trajectory_root: self.trajectory.root(),
            trajectory_len: self.trajectory.len(),
            dataset_root: self.ds.root(),
        }
    }

    fn open(&self, step: u64) -> StepOpening {
        let (start, end) = (self.cids[step as usize - 1], Some(self.cids[step as usize]));
        StepOpening::new(
            &self.trajectory,
            step,
            &self.schedule(),
            &self.ds,
            start,
            end,
        )
        .unwrap()
    }

    fn verify(&self, ctx: &StepContext, opening: &StepOpening) -> pouw::Result<()> {
        verify_step::<GanTrainer>(&self.spec, ctx, opening, &cpu(&self.store)).map(|_| ())
    }
}

/// Re-execution on the CPU from a start of counter 0, checkpoints named by UnixFS CIDs.
fn cpu(store: &dyn BlobStore) -> Reexecution<'_> {
    Reexecution {
        store,
        start_steps: 0,
        names: UNIXFS,
        device: DeviceChoice::Cpu,
    }
}

#[test]
fn honest_steps_verify_exactly() {
    let r = run();
    for step in 1..=3 {
        r.verify(&r.ctx(), &r.open(step)).unwrap();
    }
}

#[test]
fn tampered_start_checkpoint_is_rejected() {
    let r = run();
    let mut opening = r.open(2);
    // A checkpoint that exists in the store but is not W_1.
    opening.start = r.cids[0];
    assert!(matches!(
        r.verify(&r.ctx(), &opening),
        Err(Error::CheckpointDigest { step: 1 })
    ));
    // Bytes altered in the store: the CID no longer names them.
    let mut bytes = r.store.get(&r.cids[1], u64::MAX).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    let forged = MemStore::default();
    let cid = forged.put(&bytes).unwrap();
    let mut opening = r.open(2);
    opening.start = cid;
    assert!(matches!(
        verify_step::<GanTrainer>(&r.spec, &r.ctx(), &opening, &cpu(&forged)).map(|_| ()),
        Err(Error::CheckpointDigest { step: 1 })
    ));
}

#[test]
fn wrong_batch_records_are_rejected() {
    let r = run();
    let mut opening = r.open(1);
    opening.records[0] ^= 1;
    assert!(matches!(
        r.verify(&r.ctx(), &opening),
        Err(Error::RootMismatch)
    ));
    let mut opening = r.open(1);
    opening.records.truncate(opening.records.len() - 64);
    assert!(matches!(
        r.verify(&r.ctx(), &opening),
        Err(Error::WrongBatch(_))
    ));
}

#[test]
fn wrong_step_seed_is_rejected() {
    let r = run();
    // Another anchor derives another seed: other batch indices, whose multiproof needs another
    // number of nodes than the opening carries (for this run's batch).
    let mut ctx = r.ctx();
    ctx.schedule = Schedule::new([6u8; 32], r.spec.batch_size, r.ds.len());
    let err = r.verify(&ctx, &r.open(1)).unwrap_err();
    assert!(matches!(err, Error::ProofLength { .. }), "{err:?}");
    // The right batch, a wrong digest claimed for the step's result.
    let mut opening = r.open(3);
    let mut trajectory = Trajectory::new(*r.trajectory.digest(0).unwrap());
    for i in 1..=3u64 {
        let d = if i == 3 {
            [0xAA; 32]
        } else {
            *r.trajectory.digest(i).unwrap()
        };
        trajectory.push(d);
    }
    opening.trajectory = trajectory.open(3).unwrap();
    let mut ctx = r.ctx();
    ctx.trajectory_root = trajectory.root();
    assert!(matches!(
        r.verify(&ctx, &opening),
        Err(Error::StepMismatch { step: 3 })
    ));
}

#[test]
fn opening_against_another_trajectory_root_is_rejected() {
    let r = run();
    let mut ctx = r.ctx();
    ctx.trajectory_root = [0u8; 32];
    assert!(matches!(
        r.verify(&ctx, &r.open(2)),
        Err(Error::RootMismatch)
    ));
}

fn edit_checkpoint(
    bytes: &[u8],
    edit: impl FnOnce(&mut Vec<(String, safetensors::tensor::Dtype, Vec<usize>, Vec<u8>)>),
) -> Vec<u8> {
    let st = safetensors::SafeTensors::deserialize(bytes).unwrap();
    let mut tensors: Vec<_> = st
        .tensors()
        .into_iter()
        .map(|(n, v)| (n, v.dtype(), v.shape().to_vec(), v.data().to_vec()))
        .collect();
    edit(&mut tensors);
    let views: Vec<_> = tensors
        .iter()
        .map(|(n, d, s, b)| {
            (
                n.clone(),
                safetensors::tensor::TensorView::new(*d, s.clone(), b).unwrap(),
            )
        })
        .collect();
    let meta = Some(std::collections::HashMap::from([(
        "format".to_owned(),
        "pouw-gan-checkpoint-v2".to_owned(),
    )]));
    safetensors::serialize(views, &meta).unwrap()
}

#[test]
fn malformed_checkpoints_are_typed_errors() {
    let (_dir, ds) = common::digits_dataset();
    let spec = small_spec(&ds);
    let bytes = GanTrainer::from_seed(&spec, &[1u8; 32], DeviceChoice::Cpu)
        .unwrap()
        .checkpoint()
        .unwrap();
    let load = |b: &[u8]| GanTrainer::from_checkpoint(&spec, b, DeviceChoice::Cpu).map(|_| ());
    load(&bytes).unwrap();
    assert_eq!(
        edit_checkpoint(&bytes, |_| {}),
        bytes,
        "the safetensors library writes the same tensors to the same bytes"
    );
    let tensor_error = |b: &[u8], want: &str, mention: &str| match load(b) {
        Err(Error::CheckpointTensor { name, detail }) => {
            assert_eq!(name, want, "{detail}");
            assert!(detail.contains(mention), "{detail}");
        }
        other => panic!("expected a CheckpointTensor error for {want}, got {other:?}"),
    };

    let missing = edit_checkpoint(&bytes, |t| t.retain(|(n, ..)| n != "gen.b0.conv"));
    tensor_error(&missing, "gen.b0.conv", "gen.b1.conv");
    let extra = edit_checkpoint(&bytes, |t| {
        t.push((
            "extra".into(),
            safetensors::tensor::Dtype::F32,
            vec![1],
            vec![0; 4],
        ))
    });
    tensor_error(&extra, "gen.b0.bn.scale", "extra");
    let reshaped = edit_checkpoint(&bytes, |t| {
        let x = t.iter_mut().find(|(n, ..)| n == "dis.b0.conv").unwrap();
        let numel: usize = x.2.iter().product();
        x.2 = vec![numel];
    });
    tensor_error(&reshaped, "dis.b0.conv", "canonical");
    let nan = edit_checkpoint(&bytes, |t| {
        let x = t
            .iter_mut()
            .find(|(n, ..)| n == "adam.v.gen.b0.conv")
            .unwrap();
        x.3[..4].copy_from_slice(&f32::NAN.to_le_bytes());
    });
    tensor_error(&nan, "adam.v.gen.b0.conv", "non-finite");
    let retyped = edit_checkpoint(&bytes, |t| {
        let x = t.iter_mut().find(|(n, ..)| n == "gen.b0.bn.shift").unwrap();
        x.1 = safetensors::tensor::Dtype::I32;
    });
    tensor_error(&retyped, "gen.b0.bn.shift", "gen.b0.conv");
    let metadata = {
        let mut b = bytes.clone();
        let at = b.windows(2).position(|w| w == b"v2").unwrap();
        b[at + 1] = b'3';
        b
    };
    assert!(matches!(
        load(&metadata),
        Err(Error::InvalidField {
            what: "checkpoint",
            ..
        })
    ));
    for cut in [0, 7, 8, 100, bytes.len() / 2, bytes.len() - 1] {
        assert!(
            matches!(load(&bytes[..cut]), Err(Error::Truncated { .. })),
            "cut at {cut}"
        );
    }
    let mut long = bytes.clone();
    long.push(0);
    assert!(matches!(load(&long), Err(Error::LimitExceeded { .. })));
}

#[test]
fn python_safetensors_reads_a_checkpoint() {
    let python = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    let has_package = python.exists()
        && std::process::Command::new(&python)
            .args(["-c", "import safetensors"])
            .status()
            .is_ok_and(|s| s.success());
    assert!(
        has_package,
        "Python's safetensors is missing from .venv: run scripts/setup.sh"
    );
    let (dir, ds) = common::digits_dataset();
    let spec = small_spec(&ds);
    let path = dir.path().join("ckpt.safetensors");
    let bytes = GanTrainer::from_seed(&spec, &[1u8; 32], DeviceChoice::Cpu)
        .unwrap()
        .checkpoint()
        .unwrap();
    std::fs::write(&path, &bytes).unwrap();
    let script = "import sys\nfrom safetensors import safe_open\nf = safe_open(sys.argv[1], 'np')\nprint(f.metadata()['format'], len(list(f.keys())), f.get_tensor('gen.b0.conv').shape, int(f.get_tensor('step')))";
    let out = std::process::Command::new(&python)
        .args(["-c", script])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let names = safetensors::SafeTensors::deserialize(&bytes)
        .unwrap()
        .names()
        .len();
    assert_eq!(
        text.trim(),
        format!(
            "pouw-gan-checkpoint-v2 {names} (100, {}, 4, 4) 0",
            spec.g_filters
        )
    );
}
