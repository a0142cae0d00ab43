//! Grows a dataset by submission (protocol section 7) as a chain runs it: trains the default
//! GAN on the dataset, issues a dataset request judged by that checkpoint, has the miners vote
//! it in over windows of blocks (the request's signal bit in their blocks' signal words), opens
//! it in the growth ledger with a budget, checks an honest submission of held-back real
//! records, a mixed one (a few real records among copies) and a junk one (noise, blank images,
//! other kinds of image, malformed records), one block each, appends the accepted records
//! crash-safely, verifies the consistency proofs from the old roots, pays the accepted
//! records, bans the junk submitter (its next block is refused) and reverts and re-applies a
//! block.
//!
//! The digits (default): the first 1500 are the dataset, the other 297 fresh. `--faces`: 80
//! LFW faces at 32x32 RGB are the dataset, 20 others fresh, LFW's non-face crops and upscaled
//! digits junk. The model's judgment is the distance rule (at 2% out of fold on the digits, 5%
//! on the faces); the logit rule is off (a discriminator that memorised 80 faces rejects 40% of
//! unseen faces at a 2% threshold, and on the digits it rejects no junk the other rules let
//! through; see README), its verdict printed beside the judge's.
//!
//! Writes to `out/submit/` (the growing dataset in `out/submit/dataset/`).
//!
//! ```text
//! cargo run --release --example submit -- [--faces] [STEPS]
//! ```

mod support;

use support::digits::shift;

use pouw::dataset::import::{import_digits_csv, import_image_folder};
use pouw::growth::{
    accepted_records, calibrate_threshold, signal_word_for, AppendProof, Budget, DatasetRequest,
    DuplicateIndex, GrowingDataset, Judge, Ledger, LedgerBlock, LedgerEntry, ReputationRule,
    RequestVote, Standing, Submission, Verdict, VoteState, DEFAULT_DISTANCE_REJECT_PER_MILLE,
    DEFAULT_REJECT_PER_MILLE,
};
use pouw::hash::{sha3_256, Digest, Xof};
use pouw::ident::cid_of;
use pouw::learning::gan::{GanSpec, GanTrainer};
use pouw::learning::DeviceChoice;
use pouw::learning::{
    batch_indices, checkpoint_digest, step_seed, Batch, ProofOfLearning, TaskSpec,
};
use pouw::Dataset;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

/// Digits the base dataset holds; the remaining 297 are held back as fresh real data.
const BASE: usize = 1500;

/// What the example grows and what is submitted to it.
struct Scene {
    /// The dataset the request grows.
    base: Dataset,
    /// Held-back real records.
    alice: Tagged,
    /// A few real records among copies.
    mallory: Tagged,
    /// Noise, blank images, other kinds of image, malformed records.
    junk: Tagged,
    /// The share of the dataset's own records the distance rule rejects out of fold.
    distance_reject_per_mille: u32,
}

fn main() -> pouw::Result<()> {
    tch::set_num_threads(1);
    let args: Vec<String> = std::env::args().skip(1).collect();
    let faces = args.iter().any(|a| a == "--faces");
    let steps: u64 = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map_or(400, |s| s.parse().expect("STEPS is a number"));
    let out = Path::new("out/submit");
    if out.exists() {
        std::fs::remove_dir_all(out).map_err(|e| pouw::Error::io(out, e))?;
    }
    std::fs::create_dir_all(out).map_err(|e| pouw::Error::io(out, e))?;

    // 1. The dataset to grow, as a growing dataset, and the three submissions.
    let scene = if faces {
        faces_scene(out)?
    } else {
        digits_scene(out)?
    };
    let Scene {
        base,
        alice,
        mallory,
        junk,
        distance_reject_per_mille,
    } = scene;
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

    // 3. The request: the distance rule judges; the logit rule is off (its threshold the lowest
    //    float). The logit threshold that would reject 2% of the dataset is calibrated all the
    //    same, for the "discriminator alone" figures.
    let cpu = GanTrainer::from_checkpoint(&spec, &checkpoint, DeviceChoice::Cpu)?;
    let logit_threshold =
        calibrate_threshold(&cpu, &spec, dataset.current(), DEFAULT_REJECT_PER_MILLE)?;
    let mut request = DatasetRequest::for_dataset(
        dataset.current(),
        spec.digest(),
        cid_of(&checkpoint),
        f32::MIN,
        1000,
    )?;
    request.distance_reject_per_mille = distance_reject_per_mille;
    println!(
        "request {}: {} more records of {:?}, logit rule off (the discriminator alone: logit under {logit_threshold:.5}, \
         {:.1}% of the dataset), ink {}..={}, shifted-copy radius {}, near copies: {:.1}% of the elements differing by more than {} \
         or {:.1}% by more than {}, flat squares of {} (0: off) but of the values {:?} or of {} within {} levels, distance rule at {:.1}% of the dataset out of fold, \
         at most {} records / {} bytes per submission",
        request.cid(),
        request.target_count,
        request.shape,
        f64::from(DEFAULT_REJECT_PER_MILLE) / 10.0,
        request.ink_min,
        request.ink_max,
        request.max_shift,
        f64::from(request.near_copy_per_mille) / 10.0,
        request.near_copy_tolerance,
        f64::from(request.noise_copy_per_mille) / 10.0,
        request.noise_copy_tolerance,
        request.flat_patch_side,
        request.flat_patch_ground_values(),
        request.near_flat_side,
        request.near_flat_tolerance,
        f64::from(request.distance_reject_per_mille) / 10.0,
        request.max_records,
        request.max_bytes
    );
    let judge = Judge::<GanTrainer>::new(&request, &spec, &checkpoint, dataset.current())?;
    let t = Instant::now();
    let mut index = DuplicateIndex::build(dataset.current(), &request)?;
    println!(
        "duplicate index over {} records built in {:.1} ms",
        index.len(),
        t.elapsed().as_secs_f64() * 1e3
    );

    // 4. The vote: windows of 10 blocks, 8 signalling blocks lock the request in; the miners
    //    signal in 6 blocks of the first counted window and 9 of the second.
    let vote = RequestVote {
        request: request.cid(),
        bit: 0,
        window: 10,
        threshold: 8,
        start_height: 10,
        timeout_height: 60,
        min_activation_height: 0,
    };
    let (yes, no) = (signal_word_for(&[vote.bit])?, signal_word_for(&[])?);
    let mut words: Vec<u32> = Vec::new();
    let mut ledger = Ledger::new(ReputationRule::default(), block_id(0))?;
    let budget = Budget {
        price: 10,
        cap: 5000,
    };
    println!(
        "\nvote on the request (bit {}, windows of {}, threshold {}):",
        vote.bit, vote.window, vote.threshold
    );
    loop {
        let height = words.len() as u64;
        let status = vote.status(&words)?;
        // The chain opens the request in the ledger in the first block the vote is active.
        let entries = if status.state == VoteState::Active && status.since == height {
            vec![LedgerEntry::open(&request, budget)]
        } else {
            Vec::new()
        };
        if height.is_multiple_of(u64::from(vote.window)) {
            let window = &words[words.len().saturating_sub(vote.window as usize)..];
            println!(
                "  height {height:>3}: {:>2} of the last {} blocks signalled, state {:?} since {}",
                window.iter().filter(|&&w| vote.signalled_by(w)).count(),
                window.len(),
                status.state,
                status.since
            );
        }
        if height > 0 {
            ledger.apply(&chain_block(height, &ledger, entries.clone()))?;
        }
        if !entries.is_empty() {
            break;
        }
        let in_window = height % u64::from(vote.window);
        let signals = match height / u64::from(vote.window) {
            1 => in_window < 6,
            2 => in_window < 9,
            _ => false,
        };
        words.push(if signals { yes } else { no });
    }
    let account = ledger.request(&request.cid()).expect("opened");
    println!(
        "  opened at height {} in the ledger: {} credits per record, {} in all ({} records)",
        ledger.height(),
        budget.price,
        budget.cap,
        account.limit
    );

    // 5. Check, append, prove, pay: one block per submission.
    let mut figures: BTreeMap<&'static str, Figure> = BTreeMap::new();
    let mut proofs = Vec::new();
    let mut blocks = Vec::new();
    let base_manifest = dataset.current().manifest().clone();
    for (who, batch) in [("alice", &alice), ("mallory", &mallory), ("junk", &junk)] {
        let submission = Submission {
            request: request.cid(),
            submitter: who.as_bytes().to_vec(),
            records: batch.records.clone(),
        };
        let wire = submission.to_bytes();
        let t = Instant::now();
        let received = Submission::from_bytes(&wire, &request)?;
        let accepted_so_far = ledger
            .request(&request.cid())
            .expect("open")
            .accepted_for_judge();
        let verdicts = judge.check(&index, &received, accepted_so_far)?;
        let check_ms = t.elapsed().as_secs_f64() * 1e3;
        let size = request.record_size();
        let scorable: Vec<&[u8]> = received
            .records
            .iter()
            .filter(|r| r.len() == size)
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
            let logit = if record.len() == size {
                logits.next()
            } else {
                None
            };
            if logit.is_some_and(|l| l.is_nan() || l < logit_threshold) {
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
        let block = chain_block(
            ledger.height() + 1,
            &ledger,
            vec![LedgerEntry::submission(&request, who.as_bytes(), &verdicts)],
        );
        ledger.apply(&block)?;
        blocks.push(block);
        let accepted = accepted_records(&received, &verdicts);
        println!(
            "  {} accepted in block {}; {who} is now {:?} ({:?}), {} credits",
            accepted.len(),
            ledger.height(),
            ledger.reputation().standing(who.as_bytes()),
            ledger.reputation().counts(who.as_bytes()),
            ledger.credits(who.as_bytes())
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

    // 6. The junk submitter, banned, tries again: a block settling it is refused whole.
    let again = chain_block(
        ledger.height() + 1,
        &ledger,
        vec![LedgerEntry::submission(
            &request,
            b"junk",
            &[Verdict::Accepted { logit: 0.0 }],
        )],
    );
    println!(
        "\njunk submits again (standing {:?}): {}",
        ledger.reputation().standing(b"junk"),
        ledger
            .apply(&again)
            .err()
            .map_or("applied (unexpected)".into(), |e| e.to_string())
    );
    assert_eq!(ledger.reputation().standing(b"junk"), Standing::Banned);
    // A reorganisation removes the last two blocks, then the chain returns to them.
    let digest = ledger.digest();
    for b in blocks.iter().rev().take(2) {
        ledger.revert(b)?;
    }
    let reverted = (ledger.height(), ledger.credits(b"mallory"));
    for b in &blocks[blocks.len() - 2..] {
        ledger.apply(b)?;
    }
    println!(
        "reorganised to height {} (mallory's credits {}) and back: ledger digest {} ({})",
        reverted.0,
        reverted.1,
        hex(&ledger.digest()),
        if ledger.digest() == digest {
            "the same"
        } else {
            "DIFFERENT"
        }
    );

    // 7. The figures.
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
    let targets: Vec<String> = [
        ("held-back real record", "accepted", ">= 95%"),
        ("uniform noise", "rejected", ">= 99%"),
        ("blank image", "rejected", ">= 99%"),
        ("other photograph", "rejected", ">= 90%"),
        ("shifted copy (<=2 px)", "rejected", "all"),
        ("shifted copy (3 px)", "rejected", "no rule"),
    ]
    .iter()
    .filter_map(|(tag, how, goal)| {
        let f = figures.get(tag)?;
        let n = if *how == "accepted" {
            f.accepted
        } else {
            f.total - f.accepted
        };
        Some(format!("{tag} {how} {:.1}% ({goal})", pct(n, f.total)))
    })
    .collect();
    println!("targets: {}", targets.join(", "));

    // 8. Anyone holding the base manifest and the final one checks the whole growth: a proof
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
    let account = ledger.request(&request.cid()).expect("open");
    println!(
        "\nledger at height {} (digest {}): request paid for {} of {} records",
        ledger.height(),
        hex(&ledger.digest()),
        account.accepted,
        account.limit
    );
    println!("  submitter  accepted  rejected  standing  credits");
    for (id, c) in ledger.reputation().iter() {
        println!(
            "  {:<9} {:>8} {:>9}  {:<8} {:>8}",
            String::from_utf8_lossy(id),
            c.accepted,
            c.rejected,
            format!("{:?}", ledger.reputation().standing(id)),
            ledger.credits(id)
        );
    }
    Ok(())
}

/// The chain's block identifier at `height` (a stand-in for its header hash).
fn block_id(height: u64) -> Digest {
    sha3_256(format!("submit example block {height}").as_bytes())
}

/// The ledger's part of the chain block at `height`, on top of the ledger's tip.
fn chain_block(height: u64, ledger: &Ledger, entries: Vec<LedgerEntry>) -> LedgerBlock {
    LedgerBlock {
        height,
        id: block_id(height),
        parent: ledger.tip(),
        entries,
    }
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

/// The first 1500 digits, and submissions of the other 297, of copies and of junk.
fn digits_scene(out: &Path) -> pouw::Result<Scene> {
    let rows = support::digits::rows(&support::digits_path());
    let base = import_digits_csv(
        support::digits_path(),
        out.join("import"),
        Some(BASE as u64),
    )?;
    let held = &rows[BASE..];
    let (alice_rows, bait) = held.split_at(held.len() - 5);
    let mut x = Xof::new("pouw/example", b"submit junk");
    let mut alice = Tagged::default();
    for r in alice_rows {
        alice.push("held-back real record", r.clone());
    }
    let mut mallory = Tagged::default();
    for r in bait {
        mallory.push("held-back real record", r.clone());
    }
    mallory.push("copy of an earlier record", bait[0].clone());
    mallory.push("shifted earlier record", shift(&bait[1], 1, 0));
    for k in 0..200 {
        let (dx, dy) = small_shift(&mut x);
        mallory.push("shifted copy (<=2 px)", shift(&rows[k * 7], dx, dy));
    }
    for k in 0..50 {
        let d = [(3, 0), (-3, 0), (0, 3), (0, -3)][k % 4];
        mallory.push("shifted copy (3 px)", shift(&rows[k * 11 + 3], d.0, d.1));
    }
    for k in 0..20 {
        mallory.push("exact copy of a record", rows[k * 13].clone());
    }
    for k in 0..50 {
        let copy = patched(&rows[k * 17 + 5], 8, 1, 3, 16, &mut x);
        mallory.push("patched copy (3x3 block)", copy);
    }
    for r in alice_rows.iter().take(10) {
        mallory.push("copy of alice's record", r.clone());
    }
    let mut junk = Tagged::default();
    for _ in 0..200 {
        junk.push(
            "uniform noise",
            (0..64).map(|_| x.uniform_below(17) as u8).collect(),
        );
    }
    for v in 0..=16u8 {
        junk.push("blank image", vec![v; 64]);
    }
    while junk.count("blank image") < 50 {
        let mut r = vec![0u8; 64];
        for _ in 0..1 + x.uniform_below(3) {
            r[x.uniform_below(64) as usize] = 1 + x.uniform_below(16) as u8;
        }
        if !junk.records.contains(&r) {
            junk.push("blank image", r);
        }
    }
    junk.push("malformed", vec![3u8; 63]);
    junk.push("malformed", vec![255u8; 64]);
    Ok(Scene {
        base,
        alice,
        mallory,
        junk,
        distance_reject_per_mille: DEFAULT_DISTANCE_REJECT_PER_MILLE,
    })
}

/// 80 LFW faces at 32x32 RGB, and submissions of the other 20, of copies and of junk (noise,
/// gray images, LFW's non-face crops, upscaled digits).
fn faces_scene(out: &Path) -> pouw::Result<Scene> {
    const SIDE: usize = 32;
    let size = 3 * SIDE * SIDE;
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let base = import_some(&data.join("lfw-faces"), 0..80, out, "import")?;
    let own = records(&base)?;
    let held = records(&import_some(&data.join("lfw-faces"), 80..100, out, "held")?)?;
    let nonfaces = records(&import_some(
        &data.join("lfw-nonfaces"),
        0..100,
        out,
        "nonfaces",
    )?)?;
    let digits = support::digits::rows(&support::digits_path());
    let mut x = Xof::new("pouw/example", b"submit faces");
    let (alice_faces, bait) = held.split_at(held.len() - 3);
    let mut alice = Tagged::default();
    for r in alice_faces {
        alice.push("held-back real record", r.clone());
    }
    let mut mallory = Tagged::default();
    for r in bait {
        mallory.push("held-back real record", r.clone());
    }
    for k in 0..20 {
        mallory.push("exact copy of a record", own[k * 3].clone());
        let (dx, dy) = small_shift(&mut x);
        mallory.push(
            "shifted copy (<=2 px)",
            shift_image(&own[k * 3 + 1], SIDE, dx, dy),
        );
    }
    for k in 0..10 {
        let copy = patched(&own[k * 7 + 2], SIDE, 3, 12, 255, &mut x);
        mallory.push("patched copy (12x12 block)", copy);
    }
    for r in nonfaces.iter().take(10) {
        mallory.push("other photograph", r.clone());
    }
    let mut junk = Tagged::default();
    for _ in 0..50 {
        junk.push(
            "uniform noise",
            (0..size).map(|_| x.uniform_below(256) as u8).collect(),
        );
    }
    for k in 0..50u32 {
        junk.push("blank image", vec![(k * 255 / 49) as u8; size]);
    }
    for r in nonfaces.iter().skip(10) {
        junk.push("other photograph", r.clone());
    }
    for d in digits.iter().take(50) {
        let plane: Vec<u8> = (0..SIDE * SIDE)
            .map(|p| d[(p / SIDE * 8 / SIDE) * 8 + (p % SIDE) * 8 / SIDE])
            .map(|v| (u32::from(v) * 255 / 16) as u8)
            .collect();
        junk.push("upscaled digit", plane.repeat(3));
    }
    junk.push("malformed", vec![3u8; size - 1]);
    Ok(Scene {
        base,
        alice,
        mallory,
        junk,
        distance_reject_per_mille: support::FACES_DISTANCE_REJECT_PER_MILLE,
    })
}

/// Imports the PNG files `range` (in name order) of `src` at 32x32 into `out/<name>`.
fn import_some(
    src: &Path,
    range: std::ops::Range<usize>,
    out: &Path,
    name: &str,
) -> pouw::Result<Dataset> {
    let folder = out.join(format!("{name}-src"));
    std::fs::create_dir_all(&folder).map_err(|e| pouw::Error::io(&folder, e))?;
    let mut files: Vec<_> = std::fs::read_dir(src)
        .map_err(|e| pouw::Error::io(src, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    files.sort();
    for f in &files[range] {
        let to = folder.join(f.file_name().unwrap_or_default());
        std::fs::copy(f, &to).map_err(|e| pouw::Error::io(&to, e))?;
    }
    import_image_folder(
        &folder,
        out.join(name),
        32,
        "LFW crops via scikit-image 0.25.2 (BSD-3-Clause package; no licence stated for the images)",
    )
}

fn records(ds: &Dataset) -> pouw::Result<Vec<Vec<u8>>> {
    (0..ds.len()).map(|i| Ok(ds.record(i)?.to_vec())).collect()
}

/// A shift of up to 2 pixels each way, not both zero.
fn small_shift(x: &mut Xof) -> (i32, i32) {
    loop {
        let d = (x.uniform_below(5) as i32 - 2, x.uniform_below(5) as i32 - 2);
        if d != (0, 0) {
            return d;
        }
    }
}

/// A channel-major image (`channels` planes of `side` pixels) with a `k`x`k` block of one
/// random level (up to `max`) pasted at a random place.
fn patched(record: &[u8], side: usize, channels: usize, k: usize, max: u8, x: &mut Xof) -> Vec<u8> {
    let mut out = record.to_vec();
    let top = x.uniform_below((side - k + 1) as u64) as usize;
    let left = x.uniform_below((side - k + 1) as u64) as usize;
    let level = x.uniform_below(u64::from(max) + 1) as u8;
    for c in 0..channels {
        for y in top..top + k {
            let row = c * side * side + y * side;
            out[row + left..row + left + k].fill(level);
        }
    }
    out
}

/// A channel-major image of `side` pixels translated by `(dx, dy)`, vacated pixels zero.
fn shift_image(record: &[u8], side: usize, dx: i32, dy: i32) -> Vec<u8> {
    let mut out = vec![0u8; record.len()];
    let s = side as i32;
    for (c, plane) in out.chunks_exact_mut(side * side).enumerate() {
        for y in 0..s {
            for x in 0..s {
                let (sx, sy) = (x - dx, y - dy);
                if (0..s).contains(&sx) && (0..s).contains(&sy) {
                    plane[(y * s + x) as usize] = record[c * side * side + (sy * s + sx) as usize];
                }
            }
        }
    }
    out
}
