//! The seed's scale, end to end: imports a folder of face images (CelebA's layout: a flat folder
//! of JPEG or PNG files) as 64x64 RGB, mines one block of exactly STEPS steps with the default
//! model (generator 160, discriminator 40 filters), verifies it, prints sizes and timings, and
//! writes a sample grid of the winning checkpoint to `out/faces/samples.png`. The checkpoints
//! (244 MB each) are removed when it is done.
//!
//! ```text
//! cargo run --release --example faces -- [--steps N] [--folder DIR] [--licence TEXT]
//! ```
//!
//! Without `--folder` it uses the bundled faces, `tests/data/lfw-faces` (100 LFW crops as
//! shipped by scikit-image: 25x25 grayscale, so they are scaled up to 64x64 and repeated in the
//! three channels; the shapes, hence the sizes and timings, are the seed's; see the folder's
//! README for their provenance and licence). The test suite runs it with `--steps 2`.

mod support;

use pouw::dataset::import::import_image_folder;
use pouw::learning::gan::render::{sample_grid, write_png};
use pouw::learning::gan::{GanSpec, GanTrainer};
use pouw::learning::DeviceChoice;
use pouw::learning::{BlobStore, DirStore, ProofOfLearning, TaskSpec};
use pouw::work::{
    assess, mine, verify, verify_record_free, AssessInput, ConsensusParams, MineInput, MineOptions,
    MineOutcome, Start, Target, VerifyInput,
};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

const BUNDLED_LICENCE: &str = "LFW (Labeled Faces in the Wild) crops as shipped in scikit-image \
     0.25.2's skimage/data/lfw_subset.npy (package BSD-3-Clause); LFW's authors state no licence \
     for its images, collected from news photographs for research";

fn main() -> pouw::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| support::flag(&args, name);
    let steps: u64 = match flag("--steps")?.map(|s| s.parse::<u64>()) {
        None => 8,
        Some(Ok(n)) if n >= 1 => n,
        Some(_) => {
            return Err(pouw::Error::InvalidParameters(
                "--steps takes a number of steps, at least 1".into(),
            ))
        }
    };
    let folder = flag("--folder")?.map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/lfw-faces"),
        PathBuf::from,
    );
    let licence = flag("--licence")?.unwrap_or_else(|| BUNDLED_LICENCE.to_owned());
    let threads = std::env::var("POUW_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(2);
    tch::set_num_threads(threads);
    let out = PathBuf::from("out/faces");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).map_err(|e| pouw::Error::io(&out, e))?;

    let started = Instant::now();
    let dataset = import_image_folder(&folder, out.join("dataset"), 64, &licence)?;
    println!(
        "dataset   {} images from {} as 64x64 RGB ({} bytes a record) in {:.1} s; CID {}",
        dataset.len(),
        folder.display(),
        dataset.record_size(),
        started.elapsed().as_secs_f64(),
        dataset.cid()
    );
    let spec = GanSpec::for_manifest(dataset.manifest())?;
    let mut params = ConsensusParams::new(spec, dataset.root(), dataset.len());
    // A block of exactly `steps` steps: tickets count from `steps` on, and any ticket wins.
    params.min_steps = steps;
    params.max_steps = params.max_steps.max(steps);
    let target = Target::from_expected_steps(1);
    println!(
        "model     generator {} / discriminator {} filters, batch {}, {} intra-op thread(s)",
        params.spec.g_filters, params.spec.d_filters, params.spec.batch_size, threads
    );
    let store = DirStore::new(out.join("checkpoints"))?;
    let genesis = GanTrainer::from_seed(&params.spec, &[0; 32], DeviceChoice::Cpu)?.checkpoint()?;
    store.put(&genesis)?;
    let (header, miner) = (pouw::hash::sha3_256(b"faces block header"), b"faces-miner");
    let input = MineInput {
        header_hash: header,
        miner_id: miner,
        start: &genesis,
        params: &params,
        target,
        dataset: &dataset,
        store: &store,
    };
    let started = Instant::now();
    let outcome = mine::<GanTrainer>(
        &input,
        MineOptions::default(),
        &mut |p| {
            eprintln!(
                "  step {} ({:.0} s)",
                p.step,
                started.elapsed().as_secs_f64()
            )
        },
        &AtomicBool::new(false),
    )?;
    let MineOutcome::Found(block) = outcome else {
        return Err(pouw::Error::InvalidParameters(format!(
            "no block: {outcome:?}"
        )));
    };
    let mining = started.elapsed().as_secs_f64();
    let proof = block.proof.to_bytes();
    println!(
        "mined     {} steps in {mining:.1} s ({:.2} s a step, openings included); checkpoint {} \
         bytes; proof {} bytes, {} steps opened",
        block.proof.steps,
        mining / block.proof.steps as f64,
        params.spec.checkpoint_size(),
        proof.len(),
        block.proof.openings.len()
    );
    let start = Start::of_checkpoint::<GanTrainer>(&params.spec, &genesis)?;
    let fetched = support::verifier_fetch_bytes(&store, &block.proof, &start.cid);
    let input = VerifyInput {
        header_hash: header,
        miner_id: miner,
        start: &start,
        params: &params,
        target,
        store: &store,
        device: DeviceChoice::Cpu,
    };
    let started = Instant::now();
    let verdict = verify::<GanTrainer>(&input, &proof)?;
    let verifying = started.elapsed().as_secs_f64();
    println!(
        "verified  in {verifying:.1} s ({:.2} s an opened step); a verifier fetches {:.1} MiB",
        verifying / block.proof.openings.len() as f64,
        fetched as f64 / (1 << 20) as f64,
    );
    let started = Instant::now();
    let scores = assess::<GanTrainer>(
        &AssessInput {
            start: &start,
            params: &params,
            store: &store,
            device: DeviceChoice::Cpu,
        },
        &block.proof,
    )?;
    println!(
        "assessed  in {:.1} s: quality {:.4} -> {:.4} (sliced Wasserstein, lower is better)",
        started.elapsed().as_secs_f64(),
        scores.start_quality,
        scores.end_quality
    );
    // The record-free form, for verifiers holding the dataset: the same verdict.
    let compact = block.proof.record_free().to_bytes();
    let started = Instant::now();
    let same = verify_record_free::<GanTrainer>(&input, &dataset, &compact)?;
    if same != verdict {
        return Err(pouw::Error::InvalidField {
            what: "record-free verdict",
            detail: "differs from the self-contained form's".into(),
        });
    }
    println!(
        "proofs    self-contained {} bytes; record-free {} bytes ({:.1} KiB), same verdict in {:.1} s",
        proof.len(),
        compact.len(),
        compact.len() as f64 / 1024.0,
        started.elapsed().as_secs_f64()
    );
    let winner =
        GanTrainer::from_checkpoint(&params.spec, &block.winning_checkpoint, DeviceChoice::Cpu)?;
    let grid = out.join("samples.png");
    write_png(&sample_grid(&winner, &[3u8; 32], 8, 8, 2)?, &grid)?;
    println!("wrote     {}", grid.display());
    let checkpoints = out.join("checkpoints");
    std::fs::remove_dir_all(&checkpoints).map_err(|e| pouw::Error::io(&checkpoints, e))?;
    Ok(())
}
