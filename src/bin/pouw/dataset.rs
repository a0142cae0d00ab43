//! `pouw dataset`: import, info, scrub.

use crate::{hex, Outcome};
use clap::Subcommand;
use pouw::dataset::import::{import_digits_csv, import_idx, import_image_folder};
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
        #[arg(long, default_value_t = 64)]
        size: u32,
        /// The images' licence, recorded in the manifest.
        #[arg(long)]
        licence: String,
    },
}

pub fn run(command: DatasetCommand) -> Outcome {
    match command {
        DatasetCommand::Import(import) => {
            let ds = match import {
                ImportCommand::Digits { src, out, limit } => import_digits_csv(src, out, limit)?,
                ImportCommand::Idx { src, out, licence } => import_idx(src, out, &licence)?,
                ImportCommand::Images {
                    src,
                    out,
                    size,
                    licence,
                } => import_image_folder(src, out, size, &licence)?,
            };
            info(&ds);
        }
        DatasetCommand::Info { dir } => info(&Dataset::open(dir)?),
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
    println!(
        "records   {} of {} bytes, shape {:?}, {:?} values 0..={}",
        m.count, m.record_size, m.shape, m.dtype, m.value_max
    );
    println!("source    {}", m.source);
    println!("licence   {}", m.licence);
}
