//! `pouw`: the command for node operators. Datasets (import, info, scrub, publish and fetch by
//! CID), CIDs, consensus parameters and the genesis checkpoint, mining, verifying and auditing
//! blocks, reading proofs, measuring the machine.
//!
//! Exit codes a script can rely on: 0 done (a block valid, an audit clean); 1 the block is
//! invalid (`verify`), or the audit found a wrong step (`audit`, which writes the fraud proof);
//! 2 the command line is wrong; 3 anything else failed (a file missing or malformed, a store
//! miss, libtorch). Errors go to stderr as one line naming the file and the problem.

mod bench;
mod block;
mod dataset;
mod show;

use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Proof of useful work: datasets, mining, verification.
#[derive(Parser)]
#[command(name = "pouw", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Import, inspect and check datasets.
    #[command(subcommand)]
    Dataset(dataset::DatasetCommand),
    /// Print the CID of each file: the one `ipfs add --cid-version 1 --raw-leaves --hash
    /// sha3-256 --chunker size-262144` gives it, as `pouw` names checkpoints and datasets.
    Cid {
        /// Files to name.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Write consensus parameters for a dataset and put the genesis checkpoint in a store.
    Init(block::InitArgs),
    /// Mine a block.
    Mine(block::MineArgs),
    /// Verify a block proof (exit 0 valid, 1 invalid).
    Verify(block::VerifyArgs),
    /// Replay a whole block (exit 0 every step agrees, 1 a wrong step: writes its fraud proof).
    Audit(block::AuditArgs),
    /// Read proofs.
    #[command(subcommand)]
    Proof(show::ProofCommand),
    /// Measure this machine: hashing (tree build, CIDs), the exact step, verifying a block
    /// against mining it, with the ratios the project's benches print.
    Bench(bench::BenchArgs),
}

/// How a command failed.
pub enum Failure {
    /// The block is invalid, or an audit found a wrong step: exit 1.
    Rejected(String),
    /// Anything else: exit 3.
    Error(String),
}

impl From<pouw::Error> for Failure {
    fn from(e: pouw::Error) -> Self {
        Failure::Error(e.to_string())
    }
}

impl From<pouw::work::VerifyError> for Failure {
    /// An invalid block is a rejection (exit 1); an undecided verification this node's failure
    /// (exit 3).
    fn from(e: pouw::work::VerifyError) -> Self {
        match e {
            pouw::work::VerifyError::Invalid(r) => Failure::Rejected(r.to_string()),
            pouw::work::VerifyError::Undecided(e) => Failure::Error(e.to_string()),
        }
    }
}

/// What a command returns.
pub type Outcome = Result<(), Failure>;

/// Reads a file, naming it in the error.
pub fn read(path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| Failure::Error(format!("{}: {e}", path.display())))
}

/// Reads a file of at most `limit` bytes (`what` it is, for the error), refusing a larger one
/// before reading it (no `what` is that large) with the failure `refuse` makes of the message.
pub fn read_bounded(
    path: &Path,
    limit: u64,
    what: &str,
    refuse: fn(String) -> Failure,
) -> Result<Vec<u8>, Failure> {
    let len = std::fs::metadata(path)
        .map_err(|e| Failure::Error(format!("{}: {e}", path.display())))?
        .len();
    if len > limit {
        return Err(refuse(format!(
            "{}: {len} bytes, more than any {what} can be ({limit})",
            path.display()
        )));
    }
    read(path)
}

/// Checks, before any work, that a file can be written at `path`: not a directory, in a
/// directory that exists (a long run must not end in an error about its output).
pub fn check_output(path: &Path) -> Result<(), Failure> {
    let bad = |why: &str| Err(Failure::Error(format!("{}: {why}", path.display())));
    if path.is_dir() {
        return bad("is a directory; name a file to write");
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !parent.is_dir() {
        return bad("its directory does not exist");
    }
    Ok(())
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Dataset(c) => dataset::run(c),
        Command::Cid { files } => files.iter().try_for_each(|f| {
            let (cid, _) = pouw::ident::unixfs::cid_of_file(f)?;
            println!("{cid}  {}", f.display());
            Ok(())
        }),
        Command::Init(a) => block::init(a),
        Command::Mine(a) => block::mine(a),
        Command::Verify(a) => block::verify(a),
        Command::Audit(a) => block::audit(a),
        Command::Proof(c) => show::run(c),
        Command::Bench(a) => bench::run(a),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Rejected(message)) => {
            eprintln!("pouw: rejected: {message}");
            ExitCode::from(1)
        }
        Err(Failure::Error(message)) => {
            eprintln!("pouw: error: {message}");
            ExitCode::from(3)
        }
    }
}
