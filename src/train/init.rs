//! Reproducible initial weights, drawn on the host from the run's seed (Burn's device generators
//! are global and lazily consumed, so two runs with one seed would not start alike).
//!
//! The values follow the official `BaseNetwork.init_weights(init_type='xavier', gain=0.02)`:
//! every weight Xavier normal with gain 0.02, every bias zero; batch-norm running statistics at
//! mean 0 / variance 1; spectral-norm vectors `u`, `v` normalised standard normals (as PyTorch's
//! `spectral_norm` draws them).

use burn::module::{Param, RunningState};
use burn::tensor::{Device, Tensor, TensorData};

use super::rng::{SplitMix, mix, stream};
use crate::checkpoint::convert::Walker;

/// Fills every tensor it walks with fresh initial values; each key has its own random stream, so
/// a layer's values do not depend on the other layers.
pub struct HostInit<'a> {
    seed: u64,
    /// A per-network salt (generator, encoder, discriminator).
    salt: u64,
    device: &'a Device,
}

impl<'a> HostInit<'a> {
    /// Initialiser for one network: `salt` tells networks apart.
    pub fn new(seed: u64, salt: u64, device: &'a Device) -> Self {
        Self { seed, salt, device }
    }

    fn rng(&self, key: &str) -> SplitMix {
        let h = key.bytes().fold(mix(self.salt), |h, b| mix(h ^ b as u64));
        SplitMix::new(self.seed, stream::INIT, h)
    }

    fn xavier(&self, key: &str, n: usize, fan_in: usize, fan_out: usize) -> Vec<f32> {
        let std = 0.02 * (2.0 / (fan_in + fan_out) as f64).sqrt();
        let mut r = self.rng(key);
        (0..n).map(|_| (r.normal() * std) as f32).collect()
    }

    fn tensor<const D: usize>(&self, data: Vec<f32>, shape: [usize; D]) -> Tensor<D> {
        Tensor::from_data(TensorData::new(data, shape), self.device)
    }
}

fn replace<const D: usize>(p: &mut Param<Tensor<D>>, t: Tensor<D>) {
    let id = p.id;
    let mut fresh = Param::from_tensor(t);
    fresh.id = id;
    *p = fresh;
}

impl Walker for HostInit<'_> {
    fn param<const D: usize>(&mut self, key: &str, p: &mut Param<Tensor<D>>) {
        let shape: [usize; D] = p.lazy_shape().dims();
        let n: usize = shape.iter().product();
        let data = if D == 1 {
            vec![0.0; n] // biases
        } else {
            // PyTorch fans: [out, in, k...] -> in * k, out * k
            let receptive: usize = shape[2..].iter().product();
            self.xavier(key, n, shape[1] * receptive, shape[0] * receptive)
        };
        replace(p, self.tensor(data, shape));
    }

    fn linear_weight(&mut self, key: &str, p: &mut Param<Tensor<2>>) {
        // Burn stores [in, out]; the draw is the same distribution either way.
        let [i, o] = p.lazy_shape().dims();
        let data = self.xavier(key, i * o, i, o);
        replace(p, self.tensor(data, [i, o]));
    }

    fn state<const D: usize>(&mut self, key: &str, s: &mut RunningState<Tensor<D>>) {
        let shape: [usize; D] = s.value().dims();
        let n: usize = shape.iter().product();
        let data = if key.ends_with("running_var") {
            vec![1.0; n]
        } else if key.ends_with("weight_u") || key.ends_with("weight_v") {
            let mut r = self.rng(key);
            let v: Vec<f64> = (0..n).map(|_| r.normal()).collect();
            let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-12);
            v.iter().map(|x| (x / norm) as f32).collect()
        } else {
            vec![0.0; n]
        };
        s.update(self.tensor(data, shape));
    }

    fn ignore(&mut self, _key: &str) {}
}
