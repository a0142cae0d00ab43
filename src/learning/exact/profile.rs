//! Where a training step's time goes, by kind of exact operation: an opt-in record for
//! benchmarks ([`Exact::set_profiling`]). Off, it costs one flag read per operation.
//!
//! Times are wall-clock times of the outermost operation (an exact sum inside batch norm counts
//! as batch norm). With tensor kernels on a device they are the times to launch the work, not
//! to run it.

use super::Exact;
use std::time::{Duration, Instant};

/// Wall-clock time by kind of exact operation, since profiling was switched on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StepProfile {
    /// Integer matrix products ([`Exact::mm`]).
    pub products: Duration,
    /// Quantizing operands, window gathering (`im2col`) included, and exact sums.
    pub quantize: Duration,
    /// Scaling products back to float32, window scattering (`col2im`) included.
    pub rescale: Duration,
    /// Batch norm, forward and backward (its exact sums included).
    pub batch_norm: Duration,
    /// The Adam updates.
    pub adam: Duration,
    /// `exp`, `tanh`, the logistic function and `sqrt` outside batch norm and Adam.
    pub functions: Duration,
}

impl StepProfile {
    /// The sum of every part.
    pub fn total(&self) -> Duration {
        self.products + self.quantize + self.rescale + self.batch_norm + self.adam + self.functions
    }

    fn slot(&mut self, part: Part) -> &mut Duration {
        match part {
            Part::Products => &mut self.products,
            Part::Quantize => &mut self.quantize,
            Part::Rescale => &mut self.rescale,
            Part::BatchNorm => &mut self.batch_norm,
            Part::Adam => &mut self.adam,
            Part::Functions => &mut self.functions,
        }
    }
}

/// The kinds [`StepProfile`] counts.
#[derive(Clone, Copy, Debug)]
pub(super) enum Part {
    Products,
    Quantize,
    Rescale,
    BatchNorm,
    Adam,
    Functions,
}

/// Adds the time until it is dropped to its part, when profiling and outermost.
pub(super) struct Timer<'a> {
    exact: &'a Exact,
    part: Part,
    start: Option<Instant>,
}

impl Drop for Timer<'_> {
    fn drop(&mut self) {
        if let Some(start) = self.start {
            self.exact.profile_busy.set(false);
            if let Some(profile) = self.exact.profile.borrow_mut().as_mut() {
                *profile.slot(self.part) += start.elapsed();
            }
        }
    }
}

impl Exact {
    /// Starts (or stops, `false`) recording a [`StepProfile`]; starting clears it.
    pub fn set_profiling(&self, on: bool) {
        *self.profile.borrow_mut() = on.then(StepProfile::default);
    }

    /// The profile recorded since profiling started (zero when it is off).
    pub fn profile(&self) -> StepProfile {
        self.profile.borrow().unwrap_or_default()
    }

    /// A timer for `part`: it counts when profiling is on and no operation encloses it.
    pub(super) fn time(&self, part: Part) -> Timer<'_> {
        let start = (self.profile.borrow().is_some() && !self.profile_busy.replace(true))
            .then(Instant::now);
        Timer {
            exact: self,
            part,
            start,
        }
    }
}
