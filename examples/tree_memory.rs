//! Builds the Merkle tree of an existing records file and writes it next to it, for measuring the
//! build's peak memory (`scripts/measure-tree-memory.sh` runs it under `/usr/bin/time -v`).
//!
//! ```text
//! cargo run --release --no-default-features --example tree_memory -- RECORDS_FILE RECORD_SIZE
//! ```

use pouw::dataset::build_tree_from_file;
use pouw::merkle::TreeFile;
use std::time::Instant;

fn main() -> pouw::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = std::path::PathBuf::from(args.next().expect("RECORDS_FILE"));
    let record_size: u64 = args.next().expect("RECORD_SIZE").parse().expect("a number");
    let len = std::fs::metadata(&path)
        .map_err(|e| pouw::Error::io(&path, e))?
        .len();
    let t = Instant::now();
    let tree = build_tree_from_file(&path, record_size, len / record_size)?;
    let elapsed = t.elapsed();
    let out = path.with_extension("tree");
    TreeFile::write(&out, &tree, record_size)?;
    let tree_bytes = std::fs::metadata(&out)
        .map_err(|e| pouw::Error::io(&out, e))?
        .len();
    println!(
        "{} records of {record_size} B ({:.0} MiB) in {:.2} s ({:.0} MB/s); tree file {:.1} MiB",
        len / record_size,
        len as f64 / (1 << 20) as f64,
        elapsed.as_secs_f64(),
        len as f64 / elapsed.as_secs_f64() / 1e6,
        tree_bytes as f64 / (1 << 20) as f64
    );
    Ok(())
}
