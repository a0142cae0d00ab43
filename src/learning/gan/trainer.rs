//! [`GanTrainer`]: the DCGAN on exact arithmetic as a [`ProofOfLearning`].

use super::checkpoint::CheckpointLayout;
use super::inference::{
    channel_sums, discriminate_inference, hidden_statistics, norm_layers, Until, FEATURE_LAYERS,
};
use super::layers::bce_grad;
use super::layout::{checkpoint_tensors, Layout};
use super::liveness::{check_dense, check_gradients, check_moved, snapshot};
use super::model::{
    discriminate, discriminator_backward, generate, generator_backward, host_tensor,
    host_tensor_of_bytes, init_weights, zeros, Keep, Wanted,
};
use super::noise::gaussian;
use super::quality::sliced_wasserstein;
use super::spec::GanSpec;
use crate::error::{Error, Result};
use crate::hash::{tag, Digest, Xof};
use crate::learning::exact::{
    kind_of, torch, AdamConstants, Exact, Kernels, Products, StepProfile,
};
use crate::learning::{
    Batch, ChannelMoments, ChannelSums, DeviceChoice, ProofOfLearning, TaskSpec,
};
use rayon::prelude::*;
use tch::{Device, Kind, Tensor};

/// Reference samples and projections of the quality score.
const QUALITY_PROJECTIONS: usize = 64;

/// The DCGAN trainer: generator, discriminator, both Adam optimisers' moments and the step count.
///
/// One step is one discriminator update (real batch labelled 1, generated batch labelled 0,
/// binary cross-entropy with logits) then one generator update (the same generated batch
/// labelled 1 under the updated discriminator), each with Adam. The latent noise of a step
/// comes from its seed. Every operation is exact arithmetic ([`crate::learning::exact`]): the
/// same inputs give the same checkpoint bytes on any CPU or CUDA device at any thread count.
pub struct GanTrainer {
    spec: GanSpec,
    device: Device,
    exact: Exact,
    gen: Layout,
    dis: Layout,
    g: Vec<Tensor>,
    d: Vec<Tensor>,
    g_moments: [Vec<Tensor>; 2],
    d_moments: [Vec<Tensor>; 2],
    steps: u64,
    layout: CheckpointLayout,
}

impl std::fmt::Debug for GanTrainer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GanTrainer")
            .field("device", &self.device)
            .field("steps", &self.steps)
            .finish_non_exhaustive()
    }
}

/// The libtorch device a choice resolves to.
fn resolve_device(choice: DeviceChoice) -> Device {
    match choice {
        DeviceChoice::Cpu => Device::Cpu,
        DeviceChoice::Cuda(i) => Device::Cuda(i),
        DeviceChoice::Auto => Device::cuda_if_available(),
    }
}

impl GanTrainer {
    fn with_weights(
        spec: &GanSpec,
        seed_or_values: Init<'_>,
        choice: DeviceChoice,
    ) -> Result<Self> {
        spec.validate()?;
        let device = resolve_device(choice);
        if let Device::Cuda(i) = device {
            if !tch::Cuda::is_available() || i as i64 >= tch::Cuda::device_count() {
                return Err(Error::InvalidParameters(format!(
                    "CUDA device {i} is not available on this node"
                )));
            }
        }
        Exact::self_test(device)?;
        let (gen, dis) = (Layout::generator(spec), Layout::discriminator(spec));
        let layout = CheckpointLayout::new(&checkpoint_tensors(&gen, &dis))?;
        let mut t = GanTrainer {
            spec: spec.clone(),
            device,
            exact: Exact::new(device),
            g: Vec::new(),
            d: Vec::new(),
            g_moments: [zeros(&gen, device)?, zeros(&gen, device)?],
            d_moments: [zeros(&dis, device)?, zeros(&dis, device)?],
            gen,
            dis,
            steps: 0,
            layout,
        };
        match seed_or_values {
            Init::Seed(seed) => {
                t.g = init_weights(&t.gen, seed, device)?;
                t.d = init_weights(&t.dis, seed, device)?;
            }
            Init::Checkpoint(bytes) => t.load(bytes)?,
        }
        Ok(t)
    }

    /// Every state tensor, in [`checkpoint_tensors`] order.
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
        // Each tensor straight from its bytes (checked finite), one copy, tensors side by side.
        let (step, raw) = self.layout.decode_bytes(bytes)?;
        let list = checkpoint_tensors(&self.gen, &self.dis);
        let device = self.device;
        let tensors = list
            .par_iter()
            .zip(raw.par_iter())
            .map(|((_, shape), raw)| {
                let shape: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
                host_tensor_of_bytes(raw, &shape, device)
            })
            .collect::<Result<Vec<_>>>()?;
        let mut tensors = tensors.into_iter();
        let mut take = |n: usize| (&mut tensors).take(n).collect::<Vec<_>>();
        let (ng, nd) = (self.gen.tensors.len(), self.dis.tensors.len());
        self.g = take(ng);
        self.d = take(nd);
        self.g_moments = [take(ng), take(ng)];
        self.d_moments = [take(nd), take(nd)];
        self.steps = step;
        Ok(())
    }

    /// The spec.
    pub fn spec(&self) -> &GanSpec {
        &self.spec
    }

    /// The device training runs on.
    pub fn device(&self) -> Device {
        self.device
    }

    /// The size of this spec's checkpoints, in bytes (every checkpoint of a spec has the same).
    pub fn checkpoint_size(&self) -> usize {
        self.layout.size()
    }

    /// Calls `encode` with the step counter and every state tensor's float32 bytes, in
    /// checkpoint order.
    fn with_host_tensors<T>(&self, encode: impl FnOnce(u64, &[&[u8]]) -> Result<T>) -> Result<T> {
        // Host copies only where the state is on a device; CPU tensors are read in place, so
        // the bytes are copied once, into the checkpoint.
        let host = self
            .all_tensors()
            .map(|t| {
                let t = if self.device == Device::Cpu {
                    t.shallow_clone()
                } else {
                    torch(t.f_to_device(Device::Cpu))?
                };
                let t = torch(t.f_contiguous())?;
                let kind = kind_of(&t)?;
                if kind != Kind::Float {
                    return Err(Error::Torch(format!("state tensor of {kind:?}")));
                }
                Ok(t)
            })
            .collect::<Result<Vec<_>>>()?;
        let bytes: Vec<&[u8]> = host
            .iter()
            .map(|t| {
                let len = t.numel() * 4;
                if len == 0 {
                    &[][..]
                } else {
                    // SAFETY: `t` is a contiguous float32 CPU tensor of `numel` elements (checked
                    // above), alive and unmodified until `encode` returns (borrowed from `host`).
                    unsafe { std::slice::from_raw_parts(t.data_ptr() as *const u8, len) }
                }
            })
            .collect();
        encode(self.steps, &bytes)
    }

    /// Starts (or stops) recording where the steps' time goes ([`Exact::set_profiling`]).
    #[doc(hidden)]
    pub fn set_profiling(&self, on: bool) {
        self.exact.set_profiling(on);
    }

    /// The time by kind of exact operation since profiling started.
    #[doc(hidden)]
    pub fn profile(&self) -> StepProfile {
        self.exact.profile()
    }

    /// Chooses the implementations of the exact arithmetic: the same bits whatever the choice
    /// (tests and benchmarks compare them; [`Kernels::Host`] applies on the CPU only).
    #[doc(hidden)]
    pub fn set_arithmetic(&mut self, kernels: Kernels, products: Products) {
        self.exact = Exact::with(self.device, kernels, products);
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
        let values = scaled_records(&batch.records, self.spec.value_max);
        let shape = [batch.len() as i64, i64::from(self.spec.channels), s, s];
        host_tensor(&values, &shape, self.device)
    }

    /// Latent noise `[n, latent]` from a stream.
    fn latent(&self, xof: &mut Xof, n: usize) -> Result<Tensor> {
        let latent = self.spec.latent as usize;
        let values = gaussian(xof, n * latent, 0.0, 1.0);
        host_tensor(&values, &[n as i64, latent as i64], self.device)
    }

    /// The discriminator's logits (higher: more plausible as real data) for each record of
    /// `batch`, in one forward pass. Deterministic for the same batch; with batch norm in the
    /// discriminator (images of 16 pixels and more) a record's logit depends on the batch it is
    /// scored in, so callers fix the batching.
    pub fn discriminator_logits(&self, batch: &Batch) -> Result<Vec<f32>> {
        let images = self.images(batch)?;
        let (logits, _) = discriminate(&self.exact, &self.dis, &self.d, &images, Keep::Nothing)?;
        self.exact.check_finite()?;
        to_host(&logits)
    }

    /// Generated images for latent noise drawn from `z_seed`, copied to the host.
    pub fn sample(&self, z_seed: &Digest, n: usize) -> Result<Vec<f32>> {
        let z = self.latent(&mut Xof::new(tag::QUALITY, z_seed), n)?;
        let (images, _) = generate(&self.exact, &self.gen, &self.g, &z, Keep::Nothing)?;
        self.exact.check_finite()?;
        to_host(&images)
    }

    /// One Adam update of every tensor of a network.
    fn adam(
        exact: &Exact,
        c: &AdamConstants,
        weights: &mut [Tensor],
        moments: &mut [Vec<Tensor>; 2],
        grads: &[Tensor],
    ) -> Result<()> {
        if grads.len() != weights.len() {
            return Err(Error::Torch(format!(
                "{} gradients for {} weights",
                grads.len(),
                weights.len()
            )));
        }
        let [m, v] = moments;
        for (((w, m), v), g) in weights
            .iter_mut()
            .zip(m.iter_mut())
            .zip(v.iter_mut())
            .zip(grads)
        {
            exact.adam(c, w, m, v, g)?;
        }
        Ok(())
    }
}

enum Init<'a> {
    Seed(&'a Digest),
    Checkpoint(&'a [u8]),
}

/// Records to `[-1, 1]`: `v * (2 / value_max) - 1` in float32.
fn scaled_records(records: &[u8], value_max: u32) -> Vec<f32> {
    let scale = 2.0 / value_max as f32;
    records
        .iter()
        .map(|&v| f32::from(v) * scale - 1.0)
        .collect()
}

fn to_host(t: &Tensor) -> Result<Vec<f32>> {
    let t = torch(torch(t.f_to_device(Device::Cpu))?.f_contiguous())?;
    let numel = t.numel();
    let mut out = vec![0f32; numel];
    torch(t.f_copy_data(&mut out, numel))?;
    Ok(out)
}

impl crate::learning::Critic for GanTrainer {
    fn record_format(spec: &GanSpec) -> (Vec<u32>, u32) {
        (
            vec![spec.channels, spec.image_size, spec.image_size],
            spec.value_max,
        )
    }

    /// The discriminator's batch-norm layers (none at 8x8).
    fn norm_layers(&self) -> usize {
        norm_layers(&self.dis)
    }

    fn norm_sums(&self, batch: &Batch, fixed: &[ChannelMoments]) -> Result<ChannelSums> {
        let images = self.images(batch)?;
        let y = discriminate_inference(
            &self.exact,
            &self.dis,
            &self.d,
            &images,
            fixed,
            Until::NormInput(fixed.len()),
        )?;
        self.exact.check_finite()?;
        channel_sums(&y)
    }

    /// The discriminator's logits in inference form (higher: more plausible as real data).
    fn scores(&self, batch: &Batch, norms: &[ChannelMoments]) -> Result<Vec<f32>> {
        let images = self.images(batch)?;
        let logits = discriminate_inference(
            &self.exact,
            &self.dis,
            &self.d,
            &images,
            norms,
            Until::Logits,
        )?;
        self.exact.check_finite()?;
        to_host(&logits)
    }

    /// The feature statistics of the discriminator's first two hidden layers (after their
    /// activations; one layer for the digits' 8x8 model): per layer, each channel's mean and
    /// standard deviation over positions. `2 * 3 * d_filters` features from 16x16 up (240
    /// with 40 filters), `2 * d_filters` at 8x8 (80). Early layers' statistics describe
    /// what the images are made of (textures, contrasts), which a discriminator that memorised
    /// a small dataset still computes as for any image; its last layer is specific to the
    /// records it memorised.
    fn features(&self, batch: &Batch, norms: &[ChannelMoments]) -> Result<Vec<Vec<f64>>> {
        let images = self.images(batch)?;
        let features = hidden_statistics(
            &self.exact,
            &self.dis,
            &self.d,
            &images,
            norms,
            FEATURE_LAYERS,
        )?;
        self.exact.check_finite()?;
        Ok(features)
    }
}

impl ProofOfLearning for GanTrainer {
    type Spec = GanSpec;

    fn from_seed(spec: &GanSpec, seed: &Digest, device: DeviceChoice) -> Result<Self> {
        Self::with_weights(spec, Init::Seed(seed), device)
    }

    fn from_checkpoint(spec: &GanSpec, bytes: &[u8], device: DeviceChoice) -> Result<Self> {
        Self::with_weights(spec, Init::Checkpoint(bytes), device)
    }

    fn step(&mut self, step_seed: &Digest, batch: &Batch) -> Result<()> {
        if batch.len() != self.spec.batch_size as usize {
            return Err(Error::WrongBatch(format!(
                "{} records, the spec needs {}",
                batch.len(),
                self.spec.batch_size
            )));
        }
        let t = self.steps.checked_add(1).ok_or(Error::InvalidParameters(
            "the step counter is at its largest value".into(),
        ))?;
        let s = &self.spec;
        let adam = AdamConstants::new(s.learning_rate, s.beta1, s.beta2, s.eps, t)?;
        // No cheap states (module `liveness`): dense weights before, a gradient for every
        // tensor, every tensor moved after.
        check_dense(&self.gen, &self.g)?;
        check_dense(&self.dis, &self.d)?;
        let real = self.images(batch)?;
        let z = self.latent(&mut Xof::new(tag::NOISE, step_seed), batch.len())?;
        let ex = &self.exact;

        // Discriminator: real batch labelled 1, generated batch labelled 0.
        let (fake, gen_cache) = generate(ex, &self.gen, &self.g, &z, Keep::ForBackward)?;
        let (logits_real, cache_real) =
            discriminate(ex, &self.dis, &self.d, &real, Keep::ForBackward)?;
        let (logits_fake, cache_fake) =
            discriminate(ex, &self.dis, &self.d, &fake, Keep::ForBackward)?;
        let weights_only = Wanted {
            weights: true,
            input: false,
        };
        let (grads_real, _) = discriminator_backward(
            ex,
            &self.dis,
            &self.d,
            &cache_real,
            &bce_grad(ex, &logits_real, true)?,
            weights_only,
        )?;
        let (grads_fake, _) = discriminator_backward(
            ex,
            &self.dis,
            &self.d,
            &cache_fake,
            &bce_grad(ex, &logits_fake, false)?,
            weights_only,
        )?;
        drop((cache_real, cache_fake));
        let grads = grads_real
            .iter()
            .zip(&grads_fake)
            .map(|(a, b)| torch(a.f_add(b)))
            .collect::<Result<Vec<_>>>()?;
        check_gradients(&self.dis, &grads)?;
        let d_before = snapshot(&self.d)?;
        Self::adam(ex, &adam, &mut self.d, &mut self.d_moments, &grads)?;
        check_moved(&self.dis, &d_before, &self.d)?;
        drop(d_before);

        // Generator: the generated batch labelled 1 under the updated discriminator.
        let (logits, cache) = discriminate(ex, &self.dis, &self.d, &fake, Keep::ForBackward)?;
        let input_only = Wanted {
            weights: false,
            input: true,
        };
        let (_, d_fake) = discriminator_backward(
            ex,
            &self.dis,
            &self.d,
            &cache,
            &bce_grad(ex, &logits, true)?,
            input_only,
        )?;
        drop(cache);
        let d_fake = d_fake.ok_or_else(|| Error::Torch("no input gradient".into()))?;
        let grads = generator_backward(ex, &self.gen, &self.g, &gen_cache, &d_fake)?;
        drop(gen_cache);
        check_gradients(&self.gen, &grads)?;
        let g_before = snapshot(&self.g)?;
        Self::adam(ex, &adam, &mut self.g, &mut self.g_moments, &grads)?;
        check_moved(&self.gen, &g_before, &self.g)?;

        self.steps = t;
        ex.note_tensors_finite(&self.all_tensors().collect::<Vec<_>>())?;
        ex.check_finite()
    }

    fn checkpoint(&self) -> Result<Vec<u8>> {
        self.with_host_tensors(|steps, bytes| self.layout.encode(steps, bytes))
    }

    fn checkpoint_with_digest(&self) -> Result<(Vec<u8>, Digest)> {
        self.with_host_tensors(|steps, bytes| self.layout.encode_with_digest(steps, bytes))
    }

    fn reuse_workspace(&mut self, previous: Self) {
        self.exact.share_memory_of(&previous.exact);
        // Its tensors return their blocks to the pool now shared.
        drop(previous);
    }

    fn digest(&self) -> Result<Digest> {
        self.with_host_tensors(|steps, bytes| self.layout.digest(steps, bytes))
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
        let real = scaled_records(&reference.records, self.spec.value_max);
        Ok(sliced_wasserstein(
            &generated,
            &real,
            dims,
            QUALITY_PROJECTIONS,
            seed,
        ))
    }
}
