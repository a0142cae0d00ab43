//! `pouw proof show`: a block proof, human-readable or as JSON.

use crate::block::load_params;
use crate::{hex, read_bounded, Failure, Outcome};
use clap::Subcommand;
use pouw::work::{BlockProof, ProofLimits, RecordFreeProof};
use std::fmt::Write;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum ProofCommand {
    /// Decode a block proof, self-contained or record-free (under the parameters' limits), and
    /// print its fields.
    Show {
        /// The proof file.
        proof: PathBuf,
        /// The consensus parameters it was mined under.
        #[arg(long)]
        params: PathBuf,
        /// Print JSON (one object) instead of text.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(command: ProofCommand) -> Outcome {
    let ProofCommand::Show {
        proof,
        params,
        json,
    } = command;
    let params = load_params(&params)?;
    let limits = ProofLimits::of(&params);
    let bytes = read_bounded(
        &proof,
        limits.max_encoded_len(),
        "block proof under these parameters",
        Failure::Rejected,
    )?;
    let decoded = if bytes.starts_with(b"PWBR") {
        RecordFreeProof::from_bytes(&bytes, &limits).map(|rf| Shown {
            challenged: rf.capacity_digests.len(),
            proof: rf.proof,
            form: "record-free",
            size: bytes.len(),
        })
    } else {
        BlockProof::from_bytes(&bytes, &limits).map(|p| Shown {
            challenged: p.capacity.indices.len(),
            proof: p,
            form: "self-contained",
            size: bytes.len(),
        })
    };
    let shown = decoded.map_err(|e| Failure::Rejected(format!("{}: {e}", proof.display())))?;
    if json {
        println!("{}", to_json(&shown));
    } else {
        print!("{}", to_text(&shown));
    }
    Ok(())
}

/// A decoded proof file.
struct Shown {
    proof: BlockProof,
    form: &'static str,
    size: usize,
    challenged: usize,
}

fn to_text(shown: &Shown) -> String {
    let (p, size) = (&shown.proof, shown.size);
    let mut s = String::new();
    let _ = writeln!(s, "proof            {size} bytes, {}", shown.form);
    let _ = writeln!(s, "params digest    {}", hex(&p.params_digest));
    let _ = writeln!(s, "header           {}", hex(&p.header_hash));
    let _ = writeln!(
        s,
        "miner            {:?} ({})",
        String::from_utf8_lossy(&p.miner_id),
        hex(&p.miner_id)
    );
    let _ = writeln!(s, "steps            {}", p.steps);
    let _ = writeln!(s, "trajectory root  {}", hex(&p.trajectory_root));
    let _ = writeln!(s, "trajectory       {}", p.trajectory_cid);
    let _ = writeln!(s, "segment starts   {}", p.segments.len());
    let _ = writeln!(s, "openings         {}", p.openings.len());
    for o in &p.openings {
        let _ = writeln!(
            s,
            "  step {:>6}     start {}{}; {} record bytes",
            o.trajectory.step,
            o.start,
            o.end.map_or(String::new(), |e| format!(", end {e}")),
            o.records.len()
        );
    }
    let _ = writeln!(
        s,
        "capacity         {} records challenged, {} proof nodes",
        shown.challenged,
        p.capacity.proof.nodes.len()
    );
    s
}

/// JSON by hand: every value is a number or a string of hex digits and CID characters, which
/// need no escaping.
fn to_json(shown: &Shown) -> String {
    let (p, size) = (&shown.proof, shown.size);
    let openings: Vec<String> = p
        .openings
        .iter()
        .map(|o| {
            format!(
                "{{\"step\":{},\"start\":\"{}\",\"end\":{},\"record_bytes\":{}}}",
                o.trajectory.step,
                o.start,
                o.end.map_or("null".into(), |e| format!("\"{e}\"")),
                o.records.len()
            )
        })
        .collect();
    let indices: Vec<String> = p.capacity.indices.iter().map(u64::to_string).collect();
    format!(
        "{{\"bytes\":{size},\"form\":\"{}\",\"params_digest\":\"{}\",\"header\":\"{}\",\"miner_hex\":\"{}\",\
         \"steps\":{},\"trajectory_root\":\"{}\",\"trajectory\":\"{}\",\"openings\":[{}],\
         \"capacity_indices\":[{}],\"segment_starts\":{},\"challenged\":{}}}",
        shown.form,
        hex(&p.params_digest),
        hex(&p.header_hash),
        hex(&p.miner_id),
        p.steps,
        hex(&p.trajectory_root),
        p.trajectory_cid,
        openings.join(","),
        indices.join(","),
        p.segments.len(),
        shown.challenged
    )
}
