//! The GAN task spec: every consensus parameter of the DCGAN task, with a canonical encoding.

use super::checkpoint::{CheckpointFormat, CheckpointLayout};
use super::layout::{checkpoint_tensors, Layout};
use crate::codec::{Decoder, Encoder};
use crate::dataset::Manifest;
use crate::error::{Error, Result};
use crate::ident::{cid_from_bytes, Cid};
use crate::learning::TaskSpec;

const MAGIC: &[u8; 4] = b"PWGS";
/// Version 2: precision `Exact` (code 2) and no backend profile.
const FORMAT_VERSION: u32 = 2;

/// The arithmetic of training.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Precision {
    /// Float32 state, every step on exact arithmetic ([`crate::learning::exact`] with the
    /// `torch` feature): products of operands quantized to integers with float64 sums below
    /// `2^53`, exact sums, correctly rounded element-wise operations and the module's own
    /// transcendental functions. The same bits on every device. Encoded as 2 (1 was plain
    /// float32, which only reproduced on one machine type).
    Exact,
}

/// Parameters of the DCGAN task. Defaults follow the seed article (generator filters 160,
/// discriminator filters 40) and DCGAN practice (latent 100, Adam 2e-4, beta1 0.5, batch 64).
#[derive(Clone, Debug, PartialEq)]
pub struct GanSpec {
    /// CID of the dataset manifest.
    pub dataset: Cid,
    /// Image channels (records are `[channels, size, size]`).
    pub channels: u32,
    /// Image side: a power of two from 8 to 64.
    pub image_size: u32,
    /// The largest record value; records scale to `[-1, 1]` by it.
    pub value_max: u32,
    /// Latent size.
    pub latent: u32,
    /// Generator base filters.
    pub g_filters: u32,
    /// Discriminator base filters.
    pub d_filters: u32,
    /// Adam learning rate.
    pub learning_rate: f32,
    /// Adam beta1.
    pub beta1: f32,
    /// Adam beta2.
    pub beta2: f32,
    /// Adam epsilon.
    pub eps: f32,
    /// Records per batch.
    pub batch_size: u32,
    /// The arithmetic.
    pub precision: Precision,
}

/// Limits on decoded specs, so a hostile spec cannot ask for an enormous model.
const MAX_LATENT: u32 = 1024;
const MAX_FILTERS: u32 = 1024;
const MAX_BATCH: u32 = 4096;
const MAX_CHANNELS: u32 = 4;

impl GanSpec {
    /// The encoding of this spec's checkpoints (needs no libtorch).
    pub fn checkpoint_format(&self) -> Result<CheckpointFormat> {
        let (gen, dis) = (Layout::generator(self), Layout::discriminator(self));
        Ok(CheckpointFormat::new(CheckpointLayout::new(
            &checkpoint_tensors(&gen, &dis),
        )?))
    }

    /// The default task over the images of `manifest` (shape `[C, S, S]`, `S` a power of two in
    /// 8..=64).
    pub fn for_manifest(manifest: &Manifest) -> Result<Self> {
        let (channels, h, w) = manifest.image_dims().ok_or_else(|| {
            Error::InvalidParameters(format!(
                "records of shape {:?} are not images",
                manifest.shape
            ))
        })?;
        if h != w {
            return Err(Error::InvalidParameters(format!(
                "images of {h}x{w} are not square"
            )));
        }
        let spec = GanSpec {
            dataset: manifest.cid(),
            channels,
            image_size: h,
            value_max: manifest.value_max,
            latent: 100,
            g_filters: 160,
            d_filters: 40,
            learning_rate: 2e-4,
            beta1: 0.5,
            beta2: 0.999,
            eps: 1e-8,
            batch_size: 64,
            precision: Precision::Exact,
        };
        spec.validate()?;
        Ok(spec)
    }

    /// Checks every field's domain.
    pub fn validate(&self) -> Result<()> {
        let check = |ok: bool, what: &str, value: String, range: &str| {
            if ok {
                Ok(())
            } else {
                Err(Error::InvalidParameters(format!(
                    "{what} {value} out of range ({range})"
                )))
            }
        };
        let size = self.image_size;
        check(
            size.is_power_of_two() && (8..=64).contains(&size),
            "image size",
            size.to_string(),
            "a power of two from 8 to 64",
        )?;
        let within = |v: u32, low: u32, high: u32| (low..=high).contains(&v);
        let ranges = [
            ("channels", self.channels, 1, MAX_CHANNELS),
            ("value max", self.value_max, 1, 255),
            ("latent size", self.latent, 1, MAX_LATENT),
            ("generator filters", self.g_filters, 1, MAX_FILTERS),
            ("discriminator filters", self.d_filters, 1, MAX_FILTERS),
            ("batch size", self.batch_size, 2, MAX_BATCH),
        ];
        for (what, v, low, high) in ranges {
            check(
                within(v, low, high),
                what,
                v.to_string(),
                &format!("{low} to {high}"),
            )?;
        }
        let unit = |v: f32| v.is_finite() && v > 0.0 && v < 1.0;
        for (what, v) in [("learning rate", self.learning_rate), ("beta1", self.beta1)]
            .into_iter()
            .chain([("beta2", self.beta2), ("epsilon", self.eps)])
        {
            check(unit(v), what, v.to_string(), "strictly between 0 and 1")?;
        }
        Ok(())
    }

    /// Number of up-sampling blocks: `log2(image_size) - 2`.
    pub fn depth(&self) -> u32 {
        self.image_size.trailing_zeros() - 2
    }
}

impl TaskSpec for GanSpec {
    fn to_bytes(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        e.raw(MAGIC)
            .u32(FORMAT_VERSION)
            .bytes(&self.dataset.to_bytes());
        e.u32(self.channels)
            .u32(self.image_size)
            .u32(self.value_max);
        e.u32(self.latent).u32(self.g_filters).u32(self.d_filters);
        for v in [self.learning_rate, self.beta1, self.beta2, self.eps] {
            e.u32(v.to_bits());
        }
        e.u32(self.batch_size);
        e.u8(match self.precision {
            Precision::Exact => 2,
        });
        e.finish()
    }

    fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut d = Decoder::new(bytes);
        d.magic(MAGIC, "GAN spec")?;
        let version = d.u32("spec version")?;
        if version != FORMAT_VERSION {
            return Err(Error::UnsupportedVersion {
                what: "GAN spec",
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        let dataset = cid_from_bytes(d.bytes("dataset cid", 64)?)?;
        let mut u = |what| d.u32(what);
        let (channels, image_size, value_max) = (u("channels")?, u("image size")?, u("value max")?);
        let (latent, g_filters, d_filters) = (u("latent")?, u("g filters")?, u("d filters")?);
        let (learning_rate, beta1, beta2, eps) = (
            f32::from_bits(u("lr")?),
            f32::from_bits(u("beta1")?),
            f32::from_bits(u("beta2")?),
            f32::from_bits(u("eps")?),
        );
        let batch_size = u("batch size")?;
        let precision = match d.u8("precision")? {
            2 => Precision::Exact,
            p => {
                return Err(Error::InvalidField {
                    what: "precision",
                    detail: format!("unknown code {p}"),
                })
            }
        };
        d.finish()?;
        let spec = GanSpec {
            dataset,
            channels,
            image_size,
            value_max,
            latent,
            g_filters,
            d_filters,
            learning_rate,
            beta1,
            beta2,
            eps,
            batch_size,
            precision,
        };
        spec.validate()?;
        Ok(spec)
    }

    fn dataset(&self) -> &Cid {
        &self.dataset
    }

    fn batch_size(&self) -> u32 {
        self.batch_size
    }

    fn record_size(&self) -> usize {
        (self.channels * self.image_size * self.image_size) as usize
    }

    fn checkpoint_size(&self) -> u64 {
        // Valid specs have valid layouts (names and shapes fixed by the code, sizes bounded).
        self.checkpoint_format()
            .map_or(u64::MAX, |f| f.size() as u64)
    }
}
