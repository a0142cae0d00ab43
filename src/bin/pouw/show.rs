//! `pouw proof show`: a block proof, human-readable or as JSON.

use crate::block::load_params;
use crate::{hex, read, Failure, Outcome};
use clap::Subcommand;
use pouw::work::{BlockProof, ProofLimits};
use std::fmt::Write;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum ProofCommand {
    /// Decode a block proof (under the parameters' limits) and print its fields.
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
    let bytes = read(&proof)?;
    let p = BlockProof::from_bytes(&bytes, &ProofLimits::of(&params))
        .map_err(|e| Failure::Rejected(format!("{}: {e}", proof.display())))?;
    if json {
        println!("{}", to_json(&p, bytes.len()));
    } else {
        print!("{}", to_text(&p, bytes.len()));
    }
    Ok(())
}

fn to_text(p: &BlockProof, size: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "proof            {size} bytes");
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
        p.capacity.indices.len(),
        p.capacity.proof.nodes.len()
    );
    s
}

/// JSON by hand: every value is a number or a string of hex digits and CID characters, which
/// need no escaping.
fn to_json(p: &BlockProof, size: usize) -> String {
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
        "{{\"bytes\":{size},\"params_digest\":\"{}\",\"header\":\"{}\",\"miner_hex\":\"{}\",\
         \"steps\":{},\"trajectory_root\":\"{}\",\"trajectory\":\"{}\",\"openings\":[{}],\
         \"capacity_indices\":[{}]}}",
        hex(&p.params_digest),
        hex(&p.header_hash),
        hex(&p.miner_id),
        p.steps,
        hex(&p.trajectory_root),
        p.trajectory_cid,
        openings.join(","),
        indices.join(",")
    )
}
