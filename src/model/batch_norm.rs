//! The parameter-free batch norm inside SPADE (official `param_free_norm`, a
//! `SynchronizedBatchNorm2d(affine=False)`): `(x - mean) / sqrt(var + eps)`, with no scale or
//! shift of its own (SPADE supplies them from the label map).
//!
//! On an autodiff device it normalises with the batch statistics and updates the running ones
//! (momentum 0.1, unbiased variance, as PyTorch); otherwise it uses the running statistics.
//! Synchronised batch norm only differs from this across several devices; gaugan trains on one.

use burn::module::{Module, RunningState};
use burn::tensor::{Device, Tensor};

/// Batch norm without affine parameters.
#[derive(Module, Debug)]
pub struct ParamFreeBatchNorm {
    /// Running mean `[C]`.
    pub running_mean: RunningState<Tensor<1>>,
    /// Running (unbiased) variance `[C]`.
    pub running_var: RunningState<Tensor<1>>,
    /// Added to the variance (1e-5).
    pub epsilon: f64,
    /// Weight of the newest batch in the running statistics (0.1).
    pub momentum: f64,
}

impl ParamFreeBatchNorm {
    /// A fresh layer with mean 0 and variance 1.
    pub fn new(channels: usize, device: &Device) -> Self {
        Self {
            running_mean: RunningState::new(Tensor::zeros([channels], device)),
            running_var: RunningState::new(Tensor::ones([channels], device)),
            epsilon: 1e-5,
            momentum: 0.1,
        }
    }

    /// Normalises `x`: `[B, C, H, W]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [b, c, h, w] = x.dims();
        if x.device().is_autodiff() {
            let n = b * h * w;
            let mean = x.clone().mean_dims(&[0, 2, 3]); // [1, C, 1, 1]
            let centered = x.sub(mean.clone());
            let var = centered.clone().powi_scalar(2).mean_dims(&[0, 2, 3]); // biased
            let m = self.momentum;
            let unbiased = var
                .clone()
                .detach()
                .reshape([c])
                .mul_scalar(n as f64 / (n.max(2) - 1) as f64);
            let rm = self
                .running_mean
                .value_sync()
                .mul_scalar(1.0 - m)
                .add(mean.detach().reshape([c]).mul_scalar(m));
            let rv = self
                .running_var
                .value_sync()
                .mul_scalar(1.0 - m)
                .add(unbiased.mul_scalar(m));
            // Committed at once (see `SpectralConv2d::weight`), so eval reads the newest stats.
            self.running_mean.update(rm);
            self.running_var.update(rv);
            let _ = (
                self.running_mean.value_sync(),
                self.running_var.value_sync(),
            );
            centered.div(var.add_scalar(self.epsilon).sqrt())
        } else {
            let mean = self.running_mean.value().reshape([1, c, 1, 1]);
            let inv = self
                .running_var
                .value()
                .add_scalar(self.epsilon)
                .sqrt()
                .recip()
                .reshape([1, c, 1, 1]);
            x.sub(mean).mul(inv)
        }
    }
}

/// Instance norm without affine parameters (official `InstanceNorm2d(affine=False)`), eps 1e-5:
/// each sample and channel normalised over its own `H x W`.
pub fn instance_norm(x: Tensor<4>) -> Tensor<4> {
    let mean = x.clone().mean_dims(&[2, 3]);
    let centered = x.sub(mean);
    let var = centered.clone().powi_scalar(2).mean_dims(&[2, 3]);
    centered.div(var.add_scalar(1e-5).sqrt())
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Distribution, Tensor};

    use super::*;

    #[test]
    fn running_statistics_converge_to_the_data_statistics() {
        let device = Device::flex().autodiff();
        let bn = ParamFreeBatchNorm::new(2, &device);
        for _ in 0..100 {
            // channel 0 ~ N(3, 2^2), channel 1 ~ N(-1, 0.5^2)
            let x = Tensor::<4>::random([4, 2, 8, 8], Distribution::Normal(0.0, 1.0), &device);
            let scale = Tensor::<1>::from_floats([2.0, 0.5], &device).reshape([1, 2, 1, 1]);
            let shift = Tensor::<1>::from_floats([3.0, -1.0], &device).reshape([1, 2, 1, 1]);
            let _ = bn.forward(x.mul(scale).add(shift));
        }
        let floats = |t: Tensor<1>| t.into_data().try_to_vec::<f32>().unwrap();
        let (mean, var) = (
            floats(bn.running_mean.value()),
            floats(bn.running_var.value()),
        );
        assert!(
            (mean[0] - 3.0).abs() < 0.15 && (mean[1] + 1.0).abs() < 0.05,
            "{mean:?}"
        );
        assert!(
            (var[0] - 4.0).abs() < 0.4 && (var[1] - 0.25).abs() < 0.03,
            "{var:?}"
        );
    }
}
