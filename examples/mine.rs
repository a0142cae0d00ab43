//! The main demo: mines one block on the bundled UCI digits with the default parameters, verifies
//! it, prints the verdict, the proof size and mining versus verification time, and writes a PNG
//! of samples from the winning checkpoint to `out/demo/samples.png`.
//!
//! ```text
//! cargo run --release --example mine
//! cargo run --release --example mine -- --ipfs http://127.0.0.1:5001 [--verify-from URL]
//! ```
//!
//! With `--ipfs`, the dataset is published to that IPFS node and the checkpoints are stored there;
//! the verifier reads them from `--verify-from` (another node, which gets them by bitswap) or
//! from the same node. `scripts/demo.sh --ipfs` starts two loopback nodes and runs this.
//!
//! Intra-op threads default to 1 (fastest for this small model on small machines; training is
//! bitwise identical at any count); set `POUW_THREADS` to change it.

mod support;

use pouw::dataset::import::import_digits_csv;
use pouw::ident::cid_of;
use pouw::ipfs::{publish_dataset, IpfsStore};
use pouw::learning::gan::render::{sample_grid, write_png};
use pouw::learning::gan::{GanSpec, GanTrainer};
use pouw::learning::DeviceChoice;
use pouw::learning::{BlobStore, DirStore, ProofOfLearning, TaskSpec};
use pouw::work::{
    assess, mine, verify, AssessInput, ConsensusParams, MineInput, MineOptions, MineOutcome, Start,
    Target, VerifyInput,
};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

/// Expected training steps per block in the demo.
const EXPECTED_STEPS: u64 = 512;

fn main() -> pouw::Result<()> {
    let threads = std::env::var("POUW_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(1);
    tch::set_num_threads(threads);
    let out = std::path::Path::new("out/demo");
    std::fs::create_dir_all(out).map_err(|e| pouw::Error::io(out, e))?;

    let dataset = import_digits_csv(support::digits_path(), out.join("digits"), None)?;
    let spec = GanSpec::for_manifest(dataset.manifest())?;
    let params = ConsensusParams::new(spec, dataset.root(), dataset.len());
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| support::flag(&args, name);
    let (store, verifier_store): (Box<dyn BlobStore>, Box<dyn BlobStore>) = match flag("--ipfs")? {
        Some(node) => {
            let miner_node = IpfsStore::new(&node)?;
            let cid = publish_dataset(&miner_node, &dataset)?;
            println!("ipfs      dataset published to {node} as {cid}");
            let verifier = flag("--verify-from")?.unwrap_or(node);
            println!("ipfs      checkpoints stored on the miner's node, verified from {verifier}");
            (Box::new(miner_node), Box::new(IpfsStore::new(&verifier)?))
        }
        None => {
            let dir = DirStore::new(out.join("checkpoints"))?;
            (Box::new(dir.clone()), Box::new(dir))
        }
    };
    let genesis =
        GanTrainer::from_seed(&params.spec, &[0u8; 32], DeviceChoice::Cpu)?.checkpoint()?;
    let genesis_cid = store.put(&genesis)?;
    let target = Target::from_expected_steps(EXPECTED_STEPS);
    let header = pouw::hash::sha3_256(b"demo block header");
    let miner = b"demo-miner";
    println!(
        "dataset   {} ({} records of {} bytes), root {}",
        dataset.cid(),
        dataset.len(),
        dataset.record_size(),
        hex(&dataset.root())
    );
    println!(
        "params    digest {} (task spec {}), {} intra-op thread(s)",
        hex(&params.digest()),
        hex(&params.spec.digest()),
        threads
    );
    println!(
        "target    {} expected steps per block; start checkpoint {genesis_cid}",
        EXPECTED_STEPS
    );

    let input = MineInput {
        header_hash: header,
        miner_id: miner,
        start: &genesis,
        params: &params,
        target,
        dataset: &dataset,
        store: store.as_ref(),
    };
    let bar = support::Progress::new("mining", EXPECTED_STEPS * 2);
    let started = Instant::now();
    let outcome = mine::<GanTrainer>(
        &input,
        MineOptions::default(),
        &mut |p| bar.update(p.step, ""),
        &AtomicBool::new(false),
    )?;
    bar.finish();
    let block = match outcome {
        MineOutcome::Found(block) => block,
        other => {
            println!("no block: {other:?}");
            return Ok(());
        }
    };
    let mining = started.elapsed();
    let proof = block.proof.to_bytes();
    println!(
        "mined     block at step {} in {:.2} s; proof {} bytes, {} steps opened",
        block.proof.steps,
        mining.as_secs_f64(),
        proof.len(),
        block.proof.openings.len()
    );

    let required = block.proof.required_cids();
    println!(
        "fetches   the verifier needs {} objects: {}",
        required.len(),
        required
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let start = Start::of_checkpoint::<GanTrainer>(&params.spec, &genesis)?;
    let started = Instant::now();
    let verdict = verify::<GanTrainer>(
        &VerifyInput {
            header_hash: header,
            miner_id: miner,
            start: &start,
            params: &params,
            target,
            store: verifier_store.as_ref(),
            device: DeviceChoice::Cpu,
        },
        &proof,
    )?;
    let verifying = started.elapsed();
    println!(
        "verified  in {:.2} s ({:.1}% of mining): {} steps, work {} expected steps",
        verifying.as_secs_f64(),
        100.0 * verifying.as_secs_f64() / mining.as_secs_f64(),
        verdict.steps,
        verdict.work,
    );
    let started = Instant::now();
    let scores = assess::<GanTrainer>(
        &AssessInput {
            start: &start,
            params: &params,
            store: verifier_store.as_ref(),
            device: DeviceChoice::Cpu,
        },
        &block.proof,
    )?;
    println!(
        "assessed  in {:.2} s: quality {:.4} -> {:.4} (sliced Wasserstein, lower is better)",
        started.elapsed().as_secs_f64(),
        scores.start_quality,
        scores.end_quality
    );
    println!(
        "next      block starts from {} (= {}), step counter {}",
        verdict.next.cid,
        cid_of(&block.winning_checkpoint),
        verdict.next.steps
    );
    let winner =
        GanTrainer::from_checkpoint(&params.spec, &block.winning_checkpoint, DeviceChoice::Cpu)?;
    write_png(
        &sample_grid(&winner, &[3u8; 32], 8, 8, 4)?,
        out.join("samples.png"),
    )?;
    println!("wrote     {}/samples.png", out.display());
    Ok(())
}

fn hex(d: &[u8; 32]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}
