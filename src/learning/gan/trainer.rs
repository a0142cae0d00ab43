//! [`GanTrainer`]: the DCGAN on libtorch as a [`ProofOfLearning`].

use super::checkpoint::{self, NamedF32};
use super::determinism;
use super::model::{discriminate, generate, Layout};
use super::noise::gaussian;
use super::quality::sliced_wasserstein;
use super::spec::{DeviceChoice, GanSpec};
use crate::error::{Error, Result};
use crate::hash::{tag, Digest, Xof};
use crate::learning::{Batch, ProofOfLearning, TaskSpec};
use tch::{Device, Reduction, Tensor};

/// Reference samples and projections of the quality score.
const QUALITY_PROJECTIONS: usize = 64;

/// The DCGAN trainer: generator, discriminator, both Adam optimisers' moments and the step count.
///
/// One step is one discriminator update (real batch labelled 1, generated batch labelled 0,
/// BCE-with-logits) then one generator update (generated batch labelled 1 under the updated
/// discriminator), each with Adam. The latent noise of a step comes from its seed.
pub struct GanTrainer {
    spec: GanSpec,
    device: Device,
    gen: Layout,
    dis: Layout,
    g: Vec<Tensor>,
    d: Vec<Tensor>,
    g_moments: [Vec<Tensor>; 2],
    d_moments: [Vec<Tensor>; 2],
    steps: u64,
}

impl std::fmt::Debug for GanTrainer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GanTrainer")
            .field("device", &self.device)
            .field("steps", &self.steps)
            .finish_non_exhaustive()
    }
}

fn torch<T>(r: std::result::Result<T, tch::TchError>) -> Result<T> {
    r.map_err(|e| Error::Torch(e.to_string()))
}

/// The libtorch device a choice resolves to.
pub fn resolve_device(choice: DeviceChoice) -> Device {
    match choice {
        DeviceChoice::Cpu => Device::Cpu,
        DeviceChoice::Cuda(i) => Device::Cuda(i),
        DeviceChoice::Auto => Device::cuda_if_available(),
    }
}

impl GanTrainer {
    fn with_weights(spec: &GanSpec, seed_or_values: Init<'_>) -> Result<Self> {
        spec.validate()?;
        determinism::configure()?;
        let device = resolve_device(spec.device);
        if let Device::Cuda(i) = device {
            if !tch::Cuda::is_available() || i as i64 >= tch::Cuda::device_count() {
                return Err(Error::InvalidParameters(format!(
                    "CUDA device {i} is not available"
                )));
            }
        }
        let (gen, dis) = (Layout::generator(spec), Layout::discriminator(spec));
        let mut t = GanTrainer {
            spec: spec.clone(),
            device,
            g: Vec::new(),
            d: Vec::new(),
            g_moments: [gen.zeros(device), gen.zeros(device)],
            d_moments: [dis.zeros(device), dis.zeros(device)],
            gen,
            dis,
            steps: 0,
        };
        match seed_or_values {
            Init::Seed(seed) => {
                t.g = t.gen.init(seed, device);
                t.d = t.dis.init(seed, device);
            }
            Init::Checkpoint(bytes) => t.load(bytes)?,
        }
        for w in t.g.iter_mut().chain(t.d.iter_mut()) {
            *w = w.set_requires_grad(true);
        }
        Ok(t)
    }

    /// The names and shapes of every tensor a checkpoint holds, in [`GanTrainer::all_tensors`] order.
    fn expected_tensors(&self) -> Vec<(String, Vec<usize>)> {
        let shapes = |layout: &Layout, prefix: &str| -> Vec<(String, Vec<usize>)> {
            layout
                .tensors
                .iter()
                .map(|t| {
                    (
                        format!("{prefix}{}", t.name),
                        t.shape.iter().map(|&d| d as usize).collect(),
                    )
                })
                .collect()
        };
        let mut out = shapes(&self.gen, "");
        out.extend(shapes(&self.dis, ""));
        for layout in [&self.gen, &self.dis] {
            for moment in ["m", "v"] {
                out.extend(shapes(layout, &format!("adam.{moment}.")));
            }
        }
        out
    }

    /// Every state tensor, in [`GanTrainer::expected_tensors`] order.
    fn all_tensors(&self) -> impl Iterator<Item = &Tensor> {
        self.g
            .iter()
            .chain(&self.d)
            .chain(&self.g_moments[0])
            .chain(&self.g_moments[1])
            .chain(&self.d_moments[0])
            .chain(&self.d_moments[1])
    }

    fn load(&mut self, bytes: &[u8]) -> Result<()> {
        let expected = self.expected_tensors();
        let decoded = checkpoint::decode(bytes, &expected)?;
        let mut tensors = expected
            .iter()
            .zip(decoded.values)
            .map(|((_, shape), values)| {
                let shape: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
                Tensor::from_slice(&values)
                    .reshape(&shape)
                    .to_device(self.device)
            });
        let mut take = |n: usize| (&mut tensors).take(n).collect::<Vec<_>>();
        let (ng, nd) = (self.gen.tensors.len(), self.dis.tensors.len());
        self.g = take(ng);
        self.d = take(nd);
        self.g_moments = [take(ng), take(ng)];
        self.d_moments = [take(nd), take(nd)];
        self.steps = decoded.step;
        Ok(())
    }

    /// On the CPU, pins this thread's matrix products to one MKL thread until dropped.
    fn pin_blas(&self) -> Result<Option<determinism::SingleThreadedBlas>> {
        match self.device {
            Device::Cpu => determinism::single_threaded_blas().map(Some),
            _ => Ok(None),
        }
    }

    /// The spec.
    pub fn spec(&self) -> &GanSpec {
        &self.spec
    }

    /// The device training runs on.
    pub fn device(&self) -> Device {
        self.device
    }

    /// Records (u8) to images in `[-1, 1]`, `[B, C, S, S]` on the device.
    fn images(&self, batch: &Batch) -> Result<Tensor> {
        let s = i64::from(self.spec.image_size);
        if batch.record_size != self.spec.record_size() || batch.is_empty() {
            return Err(Error::WrongBatch(format!(
                "records of {} bytes, the spec needs {}",
                batch.record_size,
                self.spec.record_size()
            )));
        }
        let scale = 2.0 / self.spec.value_max as f32;
        let values: Vec<f32> = batch
            .records
            .iter()
            .map(|&v| f32::from(v) * scale - 1.0)
            .collect();
        Ok(Tensor::from_slice(&values)
            .reshape([batch.len() as i64, i64::from(self.spec.channels), s, s])
            .to_device(self.device))
    }

    /// Latent noise `[n, latent, 1, 1]` from a stream.
    fn latent(&self, xof: &mut Xof, n: usize) -> Tensor {
        let values = gaussian(xof, n * self.spec.latent as usize, 0.0, 1.0);
        Tensor::from_slice(&values)
            .reshape([n as i64, i64::from(self.spec.latent), 1, 1])
            .to_device(self.device)
    }

    /// One Adam update (PyTorch's single-tensor formulation) of `weights` by `grads`.
    fn adam(
        spec: &GanSpec,
        weights: &mut [Tensor],
        moments: &mut [Vec<Tensor>; 2],
        grads: &[Tensor],
        t: u64,
    ) -> Result<()> {
        let (b1, b2) = (f64::from(spec.beta1), f64::from(spec.beta2));
        let step_size = f64::from(spec.learning_rate) / (1.0 - b1.powi(t as i32));
        let bias_correction2_sqrt = (1.0 - b2.powi(t as i32)).sqrt();
        let eps = f64::from(spec.eps);
        tch::no_grad(|| -> Result<()> {
            let [m, v] = moments;
            for (((w, m), v), g) in weights
                .iter_mut()
                .zip(m.iter_mut())
                .zip(v.iter_mut())
                .zip(grads)
            {
                let _ = torch(m.f_lerp_(g, 1.0 - b1))?;
                let _ = torch(v.f_mul_scalar_(b2))?;
                let _ = torch(v.f_addcmul_(&torch(g.f_mul_scalar(1.0 - b2))?, g))?;
                let mut denom = torch(v.f_sqrt())?;
                let _ = torch(denom.f_div_scalar_(bias_correction2_sqrt))?;
                let _ = torch(denom.f_add_scalar_(eps))?;
                let _ = torch(w.f_addcdiv_(&torch(m.f_mul_scalar(-step_size))?, &denom))?;
            }
            Ok(())
        })
    }

    fn bce(logits: &Tensor, target: f64) -> Result<Tensor> {
        let labels = torch(logits.f_full_like(target))?;
        torch(logits.f_binary_cross_entropy_with_logits(
            &labels,
            None::<&Tensor>,
            None::<&Tensor>,
            Reduction::Mean,
        ))
    }

    /// The discriminator's logits (higher: more plausible as real data) for each record of
    /// `batch`, in one forward pass without gradients. Deterministic for the same batch; with
    /// batch norm in the discriminator (images of 16 pixels and more) a record's logit depends on
    /// the batch it is scored in, so callers fix the batching.
    pub fn discriminator_logits(&self, batch: &Batch) -> Result<Vec<f32>> {
        let images = self.images(batch)?;
        let _pin = self.pin_blas()?;
        let logits = tch::no_grad(|| discriminate(&self.dis, &self.d, &images));
        to_host(&logits)
    }

    /// Generated images for latent `z`, without gradients, copied to the host.
    pub fn sample(&self, z_seed: &Digest, n: usize) -> Result<Vec<f32>> {
        let z = self.latent(&mut Xof::new(tag::QUALITY, z_seed), n);
        let _pin = self.pin_blas()?;
        let images = tch::no_grad(|| generate(&self.gen, &self.g, &z));
        to_host(&images)
    }
}

enum Init<'a> {
    Seed(&'a Digest),
    Checkpoint(&'a [u8]),
}

fn to_host(t: &Tensor) -> Result<Vec<f32>> {
    let t = torch(t.f_to_device(Device::Cpu))?.contiguous();
    let numel = t.numel();
    let mut out = vec![0f32; numel];
    torch(t.f_copy_data(&mut out, numel))?;
    Ok(out)
}

impl ProofOfLearning for GanTrainer {
    type Spec = GanSpec;

    fn from_seed(spec: &GanSpec, seed: &Digest) -> Result<Self> {
        Self::with_weights(spec, Init::Seed(seed))
    }

    fn from_checkpoint(spec: &GanSpec, bytes: &[u8]) -> Result<Self> {
        Self::with_weights(spec, Init::Checkpoint(bytes))
    }

    fn step(&mut self, step_seed: &Digest, batch: &Batch) -> Result<()> {
        if batch.len() != self.spec.batch_size as usize {
            return Err(Error::WrongBatch(format!(
                "{} records, the spec needs {}",
                batch.len(),
                self.spec.batch_size
            )));
        }
        let real = self.images(batch)?;
        let z = self.latent(&mut Xof::new(tag::NOISE, step_seed), batch.len());
        let t = self.steps + 1;
        let _pin = self.pin_blas()?;

        let fake = generate(&self.gen, &self.g, &z);
        let loss_d = torch(
            Self::bce(&discriminate(&self.dis, &self.d, &real), 1.0)?.f_add(&Self::bce(
                &discriminate(&self.dis, &self.d, &fake.detach()),
                0.0,
            )?),
        )?;
        let grads = torch(Tensor::f_run_backward(&[&loss_d], &self.d, false, false))?;
        Self::adam(&self.spec, &mut self.d, &mut self.d_moments, &grads, t)?;

        let loss_g = Self::bce(&discriminate(&self.dis, &self.d, &fake), 1.0)?;
        let grads = torch(Tensor::f_run_backward(&[&loss_g], &self.g, false, false))?;
        Self::adam(&self.spec, &mut self.g, &mut self.g_moments, &grads, t)?;

        self.steps = t;
        Ok(())
    }

    fn checkpoint(&self) -> Result<Vec<u8>> {
        // Host copies only where the state is on a device; CPU tensors are read in place, so
        // the bytes are copied once, into the checkpoint.
        let host = self
            .all_tensors()
            .map(|t| Ok(torch(t.f_to_device(Device::Cpu))?.contiguous()))
            .collect::<Result<Vec<_>>>()?;
        let named = self
            .expected_tensors()
            .into_iter()
            .zip(&host)
            .map(|((name, shape), t)| {
                let len = t.numel() * 4;
                let bytes = if len == 0 {
                    &[][..]
                } else {
                    // SAFETY: `t` is a contiguous float32 CPU tensor of `numel` elements, alive and
                    // unmodified until `encode` returns (it is borrowed from `host`).
                    unsafe { std::slice::from_raw_parts(t.data_ptr() as *const u8, len) }
                };
                NamedF32 { name, shape, bytes }
            })
            .collect::<Vec<_>>();
        checkpoint::encode(named, self.steps)
    }

    fn steps(&self) -> u64 {
        self.steps
    }

    fn quality(&self, seed: &Digest, reference: &Batch) -> Result<f64> {
        let n = reference.len();
        let dims = self.spec.record_size();
        if n < 2 || reference.record_size != dims {
            return Err(Error::WrongBatch(format!(
                "quality needs at least 2 records of {dims} bytes"
            )));
        }
        let generated = self.sample(seed, n)?;
        let scale = 2.0 / self.spec.value_max as f32;
        let real: Vec<f32> = reference
            .records
            .iter()
            .map(|&v| f32::from(v) * scale - 1.0)
            .collect();
        Ok(sliced_wasserstein(
            &generated,
            &real,
            dims,
            QUALITY_PROJECTIONS,
            seed,
        ))
    }

    fn relative_distance(&self, other: &Self) -> Result<Vec<(String, f64)>> {
        let groups: [(&str, Vec<&Tensor>, Vec<&Tensor>); 4] = [
            (
                "generator",
                self.g.iter().collect(),
                other.g.iter().collect(),
            ),
            (
                "discriminator",
                self.d.iter().collect(),
                other.d.iter().collect(),
            ),
            (
                "generator-adam",
                self.g_moments.iter().flatten().collect(),
                other.g_moments.iter().flatten().collect(),
            ),
            (
                "discriminator-adam",
                self.d_moments.iter().flatten().collect(),
                other.d_moments.iter().flatten().collect(),
            ),
        ];
        groups
            .into_iter()
            .map(|(name, a, b)| {
                let (mut diff, mut norm) = (0f64, 0f64);
                for (x, y) in a.iter().zip(&b) {
                    let (x, y) = (to_host(x)?, to_host(y)?);
                    for (p, q) in x.iter().zip(&y) {
                        diff += (f64::from(*p) - f64::from(*q)).powi(2);
                        norm += f64::from(*q).powi(2);
                    }
                }
                Ok((
                    name.to_owned(),
                    if norm == 0.0 {
                        diff.sqrt()
                    } else {
                        (diff / norm).sqrt()
                    },
                ))
            })
            .collect()
    }
}
