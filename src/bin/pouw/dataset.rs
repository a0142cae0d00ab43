//! `pouw dataset`: import, info, scrub, publish to and fetch from IPFS.

use crate::{hex, Failure, Outcome};
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use pouw::dataset::import::{
    import_digits_csv_with, import_idx_with, import_image_folder_with, ImportProgress,
};
use pouw::Dataset;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum DatasetCommand {
    /// Import a source into a new dataset directory.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Print a dataset's manifest: CID, Merkle root, records, layout, source, licence.
    Info {
        /// The dataset directory.
        dir: PathBuf,
    },
    /// Read every record and check it against the dataset's Merkle tree.
    Scrub {
        /// The dataset directory.
        dir: PathBuf,
    },
    /// Add a dataset's records and manifest to an IPFS node (pinned); prints its CID.
    Publish {
        /// The dataset directory.
        dir: PathBuf,
        /// The node's RPC API.
        #[arg(long, default_value = "http://127.0.0.1:5001")]
        ipfs: String,
    },
    /// Fetch a dataset by its CID from an IPFS node into a directory, every record checked
    /// against the manifest's Merkle root (an interrupted fetch resumes).
    Fetch {
        /// The dataset's CID (its manifest's).
        cid: pouw::ident::Cid,
        /// The directory to fetch into.
        dir: PathBuf,
        /// The node's RPC API.
        #[arg(long, default_value = "http://127.0.0.1:5001")]
        ipfs: String,
    },
}

#[derive(Subcommand)]
pub enum ImportCommand {
    /// The UCI optical digits CSV (optionally gzipped): 8x8 images, values 0 to 16.
    Digits {
        /// The CSV file.
        src: PathBuf,
        /// The new dataset directory.
        out: PathBuf,
        /// Import only the first this many records.
        #[arg(long)]
        limit: Option<u64>,
    },
    /// An MNIST-style IDX images file (optionally gzipped).
    Idx {
        /// The IDX file.
        src: PathBuf,
        /// The new dataset directory.
        out: PathBuf,
        /// The data's licence, recorded in the manifest.
        #[arg(long)]
        licence: String,
    },
    /// A folder of PNG or JPEG images (CelebA's layout), center-cropped and resized to RGB squares.
    Images {
        /// The folder.
        src: PathBuf,
        /// The new dataset directory.
        out: PathBuf,
        /// Side of the square images, in pixels.
        #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=4096))]
        size: u32,
        /// The images' licence, recorded in the manifest.
        #[arg(long)]
        licence: String,
    },
}

pub fn run(command: DatasetCommand) -> Outcome {
    match command {
        DatasetCommand::Import(import) => {
            let bar = ProgressBar::new_spinner();
            if let Ok(style) = ProgressStyle::with_template(
                "importing [{elapsed_precise}] {wide_bar} {pos}/{len} records ({per_sec})",
            ) {
                bar.set_style(style);
            }
            let mut report = |p: &ImportProgress| {
                if let Some(total) = p.total {
                    bar.set_length(total);
                }
                bar.set_position(p.records);
            };
            let out = match &import {
                ImportCommand::Digits { out, .. }
                | ImportCommand::Idx { out, .. }
                | ImportCommand::Images { out, .. } => out.clone(),
            };
            // An import writes a new dataset: it never replaces one, and a failed one leaves
            // nothing behind.
            let existed = out.exists();
            if existed && out.read_dir().map_or(true, |mut d| d.next().is_some()) {
                return Err(Failure::Error(format!(
                    "{}: exists and is not empty; an import writes a new dataset (remove it or \
                     choose another directory)",
                    out.display()
                )));
            }
            let ds = match import {
                ImportCommand::Digits { src, out, limit } => {
                    import_digits_csv_with(src, out, limit, &mut report)
                }
                ImportCommand::Idx { src, out, licence } => {
                    import_idx_with(src, out, &licence, &mut report)
                }
                ImportCommand::Images {
                    src,
                    out,
                    size,
                    licence,
                } => import_image_folder_with(src, out, size, &licence, &mut report),
            };
            bar.finish_and_clear();
            let ds = match ds {
                Ok(ds) => ds,
                Err(e) => {
                    if !existed {
                        let _ = std::fs::remove_dir_all(&out);
                    }
                    return Err(e.into());
                }
            };
            info(&ds);
        }
        DatasetCommand::Info { dir } => info(&Dataset::open(dir)?),
        DatasetCommand::Publish { dir, ipfs } => {
            let ds = Dataset::open(&dir)?;
            let cid = pouw::ipfs::publish_dataset(&pouw::ipfs::IpfsStore::new(&ipfs)?, &ds)?;
            println!("{cid}  {}", dir.display());
        }
        DatasetCommand::Fetch { cid, dir, ipfs } => {
            let store = pouw::ipfs::IpfsStore::new(&ipfs)?;
            let (ds, report) = pouw::ipfs::fetch_dataset(&store, &cid, &dir)?;
            println!(
                "fetched {} leaves ({} bytes), {} already on disk",
                report.fetched_leaves, report.fetched_bytes, report.reused_leaves
            );
            info(&ds);
        }
        DatasetCommand::Scrub { dir } => {
            let ds = Dataset::open(&dir)?;
            ds.scrub()?;
            println!(
                "{}: {} records match root {}",
                dir.display(),
                ds.len(),
                hex(&ds.root())
            );
        }
    }
    Ok(())
}

fn info(ds: &Dataset) {
    let m = ds.manifest();
    println!("dataset   {}", ds.dir().display());
    println!("cid       {}", ds.cid());
    println!("root      {}", hex(&m.root));
    println!("data      {} (records.bin, as IPFS names it)", m.records);
    println!(
        "records   {} of {} bytes, shape {:?}, {:?} values 0..={}",
        m.count, m.record_size, m.shape, m.dtype, m.value_max
    );
    println!("source    {}", m.source);
    println!("licence   {}", m.licence);
}
