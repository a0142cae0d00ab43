//! Grows the digits dataset by submission (protocol section 7): trains the default GAN on the
//! first 1500 digits, issues a dataset request judged by that checkpoint, checks an honest
//! submission of held-back digits and a junk submission (noise, blank images, shifted and exact
//! copies, malformed records), appends the accepted records crash-safely, verifies the
//! consistency proofs from the old roots, and updates the submitters' reputations.
//!
//! Writes to `out/submit/` (the growing dataset in `out/submit/dataset/`).
//!
//! ```text
//! cargo run --release --example submit -- [STEPS]
//! ```

mod support;

use support::digits::shift;

use pouw::dataset::import::{import_digits_csv, DigitsCsv};
use pouw::growth::{
    accepted_records, calibrate_threshold, AppendProof, DatasetRequest, DuplicateIndex,
    GrowingDataset, Judge, Reputation, ReputationRule, Submission, Verdict,
    DEFAULT_REJECT_PER_MILLE,
};
use pouw::hash::Xof;
use pouw::ident::cid_of;
use pouw::learning::gan::{GanSpec, GanTrainer};
use pouw::learning::DeviceChoice;
use pouw::learning::{
    batch_indices, checkpoint_digest, step_seed, Batch, ProofOfLearning, TaskSpec,
};
use std::collections::BTreeMap;
use std::time::Instant;

/// Records the base dataset holds; the remaining 297 digits are held back as fresh real data.
const BASE: usize = 1500;

fn main() -> pouw::Result<()> {
    tch::set_num_threads(1);
    let steps: u64 = std::env::args()
        .nth(1)
        .map_or(400, |s| s.parse().expect("STEPS is a number"));
    let out = std::path::Path::new("out/submit");
    if out.exists() {
        std::fs::remove_dir_all(out).map_err(|e| pouw::Error::io(out, e))?;
    }
    std::fs::create_dir_all(out).map_err(|e| pouw::Error::io(out, e))?;

    // 1. The dataset to grow: the first 1500 digits, as a growing dataset.
    let rows: Vec<Vec<u8>> = DigitsCsv::open(support::digits_path())?
        .map(|r| r.map(|r| r.to_vec()))
        .collect::<pouw::Result<_>>()?;
    let base = import_digits_csv(
        support::digits_path(),
        out.join("import"),
        Some(BASE as u64),
    )?;
    let mut dataset = GrowingDataset::create(out.join("dataset"), base.dir())?;
    println!(
        "dataset {} ({} records, root {})",
        dataset.current().cid(),
        dataset.current().len(),
        hex(&dataset.current().root())
    );

    // 2. The judge: the default GAN trained for the demo length on the base dataset.
    let spec = GanSpec::for_manifest(dataset.current().manifest())?;
    let mut trainer = GanTrainer::from_seed(&spec, &[0u8; 32], DeviceChoice::Cpu)?;
    let mut checkpoint = trainer.checkpoint()?;
    let bar = support::Progress::new("training the judge", steps);
    let start = Instant::now();
    for i in 1..=steps {
        let seed = step_seed(&[2u8; 32], &checkpoint_digest(&checkpoint), i);
        let batch = Batch::from_dataset(
            dataset.current(),
            &batch_indices(&seed, spec.batch_size(), dataset.current().len())?,
        )?;
        trainer.step(&seed, &batch)?;
        checkpoint = trainer.checkpoint()?;
        bar.update(i, "");
    }
    bar.finish();
    println!(
        "trained {steps} steps in {:.1} s; judge checkpoint {}",
        start.elapsed().as_secs_f64(),
        cid_of(&checkpoint)
    );

    // 3. The request: threshold calibrated so that 2% of the dataset's own digits fall under it.
    let cpu = GanTrainer::from_checkpoint(&spec, &checkpoint, DeviceChoice::Cpu)?;
    let threshold = calibrate_threshold(&cpu, &spec, dataset.current(), DEFAULT_REJECT_PER_MILLE)?;
    let request = DatasetRequest::for_dataset(
        dataset.current(),
        spec.digest(),
        cid_of(&checkpoint),
        threshold,
        1000,
    )?;
    println!(
        "request {}: {} more records of {:?}, logit threshold {threshold:.5} (rejects {:.1}% of the dataset), ink {}..={}, \
         shifted-copy radius {}, at most {} records / {} bytes per submission",
        request.cid(),
        request.target_count,
        request.shape,
        f64::from(DEFAULT_REJECT_PER_MILLE) / 10.0,
        request.ink_min,
        request.ink_max,
        request.max_shift,
        request.max_records,
        request.max_bytes
    );
    let judge = Judge::<GanTrainer>::new(&request, &spec, &checkpoint)?;
    let t = Instant::now();
    let mut index = DuplicateIndex::build(dataset.current(), &request)?;
    println!(
        "duplicate index over {} records built in {:.1} ms",
        index.len(),
        t.elapsed().as_secs_f64() * 1e3
    );

    // 4. Two submissions: alice sends held-back digits, mallory junk (and a few real digits,
    //    sent twice or shifted).
    let held = &rows[BASE..];
    let (alice_rows, bait) = held.split_at(held.len() - 5);
    let mut x = Xof::new("pouw/example", b"submit junk");
    let mut alice = Tagged::default();
    for r in alice_rows {
        alice.push("held-back real digit", r.clone());
    }
    let mut mallory = Tagged::default();
    for r in bait {
        mallory.push("held-back real digit", r.clone());
    }
    mallory.push("copy of an earlier record", bait[0].clone());
    mallory.push("shifted earlier record", shift(&bait[1], 1, 0));
    for _ in 0..200 {
        mallory.push(
            "uniform noise",
            (0..64).map(|_| x.uniform_below(17) as u8).collect(),
        );
    }
    for v in 0..=16u8 {
        mallory.push("blank image", vec![v; 64]);
    }
    while mallory.count("blank image") < 50 {
        let mut r = vec![0u8; 64];
        for _ in 0..1 + x.uniform_below(3) {
            r[x.uniform_below(64) as usize] = 1 + x.uniform_below(16) as u8;
        }
        if !mallory.records.contains(&r) {
            mallory.push("blank image", r);
        }
    }
    for k in 0..200 {
        let (dx, dy) = loop {
            let d = (x.uniform_below(5) as i32 - 2, x.uniform_below(5) as i32 - 2);
            if d != (0, 0) {
                break d;
            }
        };
        mallory.push("shifted copy (<=2 px)", shift(&rows[k * 7], dx, dy));
    }
    for k in 0..50 {
        let d = [(3, 0), (-3, 0), (0, 3), (0, -3)][k % 4];
        mallory.push("shifted copy (3 px)", shift(&rows[k * 11 + 3], d.0, d.1));
    }
    for k in 0..20 {
        mallory.push("exact copy of a record", rows[k * 13].clone());
    }
    for r in alice_rows.iter().take(10) {
        mallory.push("copy of alice's digit", r.clone());
    }
    mallory.push("malformed", vec![3u8; 63]);
    mallory.push("malformed", vec![255u8; 64]);

    // 5. Check, append, prove: alice first (a block), then mallory (the next block).
    let mut reputation = Reputation::new(ReputationRule::default())?;
    let mut figures: BTreeMap<&'static str, Figure> = BTreeMap::new();
    let mut accepted_total = 0u64;
    let mut proofs = Vec::new();
    let base_manifest = dataset.current().manifest().clone();
    for (who, batch) in [("alice", &alice), ("mallory", &mallory)] {
        let submission = Submission {
            request: request.cid(),
            submitter: who.as_bytes().to_vec(),
            records: batch.records.clone(),
        };
        let wire = submission.to_bytes();
        let t = Instant::now();
        let received = Submission::from_bytes(&wire, &request)?;
        let verdicts = judge.check(&index, &received, accepted_total)?;
        let check_ms = t.elapsed().as_secs_f64() * 1e3;
        let scorable: Vec<&[u8]> = received
            .records
            .iter()
            .filter(|r| r.len() == 64)
            .map(Vec::as_slice)
            .collect();
        let mut logits = judge.scores(&scorable)?.into_iter();
        println!(
            "\n{who}: {} records ({} bytes on the wire), checked in {check_ms:.1} ms",
            received.records.len(),
            wire.len()
        );
        for ((tag, record), verdict) in batch.tags.iter().zip(&received.records).zip(&verdicts) {
            let fig = figures.entry(tag).or_default();
            fig.total += 1;
            let logit = if record.len() == 64 {
                logits.next()
            } else {
                None
            };
            if logit.is_some_and(|l| l.is_nan() || l < request.threshold) {
                fig.discriminator_rejects += 1;
            }
            match verdict {
                Verdict::Accepted { .. } => fig.accepted += 1,
                Verdict::Rejected(r) => *fig.reasons.entry(r.name()).or_default() += 1,
            }
        }
        for (i, v) in verdicts
            .iter()
            .enumerate()
            .filter(|(i, _)| *i < 3 || *i + 3 >= verdicts.len())
        {
            println!("  record {i:>3} ({}): {}", batch.tags[i], describe(v));
        }
        let standing = reputation.record(who.as_bytes(), &verdicts)?;
        let accepted = accepted_records(&received, &verdicts);
        accepted_total += accepted.len() as u64;
        println!(
            "  {} accepted; {who} is now {standing:?} ({:?})",
            accepted.len(),
            reputation.counts(who.as_bytes())
        );
        if accepted.is_empty() {
            continue;
        }
        let old = dataset.current().manifest().clone();
        let proof = dataset.append(&accepted)?;
        for r in &accepted {
            index.insert(r)?;
        }
        let new = dataset.current().manifest();
        proof.verify_manifests(&old, new)?;
        println!(
            "  appended: {} -> {} records, root {} -> {}\n  dataset {} -> {}; consistency proof of {} nodes verifies",
            proof.old_size,
            proof.new_size,
            hex(&proof.old_root),
            hex(&proof.new_root),
            old.cid(),
            new.cid(),
            proof.nodes.len()
        );
        proofs.push(proof);
    }

    // 6. The figures.
    println!("\nverdicts by kind of record (discriminator alone: logit under the threshold):");
    for (tag, f) in &figures {
        println!(
            "  {tag:>26}: {:>3} records, accepted {:5.1}%, rejected {:5.1}% (discriminator alone rejects {:5.1}%)  {:?}",
            f.total,
            pct(f.accepted, f.total),
            pct(f.total - f.accepted, f.total),
            pct(f.discriminator_rejects, f.total),
            f.reasons
        );
    }
    let rejected = |tag: &str| {
        figures
            .get(tag)
            .map_or(0.0, |f| pct(f.total - f.accepted, f.total))
    };
    println!(
        "targets: held-back digits accepted {:.1}% (>= 90%), uniform noise rejected {:.1}% (>= 99%), blank rejected {:.1}% (>= 99%); \
         shifted copies rejected {:.1}% (<= 2 px) and {:.1}% (3 px)",
        100.0 - rejected("held-back real digit"),
        rejected("uniform noise"),
        rejected("blank image"),
        rejected("shifted copy (<=2 px)"),
        rejected("shifted copy (3 px)")
    );

    // 7. Anyone holding the base manifest and the final one checks the whole growth: a proof
    //    from the persisted tree, and the per-append proofs; a tampered proof fails.
    let final_manifest = dataset.current().manifest().clone();
    let whole = AppendProof {
        old_size: base_manifest.count,
        old_root: base_manifest.root,
        new_size: final_manifest.count,
        new_root: final_manifest.root,
        nodes: pouw::merkle::consistency_proof(dataset.current().tree(), base_manifest.count)?,
    };
    whole.verify_manifests(&base_manifest, &final_manifest)?;
    println!(
        "\nbase root {} ({} records) -> final root {} ({} records): consistency proof verifies ({} appends)",
        hex(&base_manifest.root),
        base_manifest.count,
        hex(&final_manifest.root),
        final_manifest.count,
        proofs.len()
    );
    let mut tampered = AppendProof::from_bytes(&whole.to_bytes())?;
    if let Some(node) = tampered.nodes.first_mut() {
        node[0] ^= 1;
    }
    println!(
        "tampered proof: {}",
        tampered
            .verify()
            .err()
            .map_or("verifies (unexpected)".into(), |e| e.to_string())
    );
    dataset.current().scrub()?;
    let table: Vec<String> = reputation
        .iter()
        .map(|(id, c)| {
            format!(
                "{} {:?} {c:?}",
                String::from_utf8_lossy(id),
                reputation.standing(id)
            )
        })
        .collect();
    println!(
        "reputation table of {} (digest {}): {}",
        reputation.len(),
        hex(&reputation.digest()),
        table.join("; ")
    );
    Ok(())
}

/// Records with a label each, in submission order.
#[derive(Default)]
struct Tagged {
    records: Vec<Vec<u8>>,
    tags: Vec<&'static str>,
}

impl Tagged {
    fn push(&mut self, tag: &'static str, record: Vec<u8>) {
        self.records.push(record);
        self.tags.push(tag);
    }

    fn count(&self, tag: &str) -> usize {
        self.tags.iter().filter(|t| **t == tag).count()
    }
}

#[derive(Default)]
struct Figure {
    total: usize,
    accepted: usize,
    discriminator_rejects: usize,
    reasons: BTreeMap<&'static str, usize>,
}

fn describe(v: &Verdict) -> String {
    match v {
        Verdict::Accepted { logit } => format!("accepted (logit {logit:.4})"),
        Verdict::Rejected(r) => format!("rejected: {} {r:?}", r.name()),
    }
}

fn pct(part: usize, whole: usize) -> f64 {
    100.0 * part as f64 / whole.max(1) as f64
}

fn hex(d: &[u8]) -> String {
    d.iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
        + ".."
}
