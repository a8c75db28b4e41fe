//! Spectral normalisation (Miyato et al. 2018, arXiv 1802.05957) of a convolution, with PyTorch's
//! exact conventions (`torch.nn.utils.spectral_norm`): the raw weight `weight_orig`, persistent
//! power-iteration vectors `weight_u` `[out]` and `weight_v` `[in*kh*kw]`, and
//! `W = weight_orig / sigma` with `sigma = u . (W_mat v)`, `W_mat = weight_orig.reshape(out, -1)`.
//!
//! - Inference (a device without autodiff): no power iteration; sigma comes from the stored u and v,
//!   as PyTorch's eval mode does. (The official checkpoints' u, v are not converged: an exact SVD
//!   would give other pictures.)
//! - Training (an autodiff device): one power iteration per forward on the detached weight
//!   (`v = normalize(W^T u)`, `u = normalize(W v)`, eps 1e-12), u and v updated in place, then
//!   sigma with gradients flowing through `W` only.

use burn::module::{Module, Param, RunningState};
use burn::nn::Initializer;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Distribution, Tensor};

/// PyTorch's `F.normalize` epsilon.
const EPS: f64 = 1e-12;

/// A 2D convolution with spectral normalisation of its weight.
#[derive(Module, Debug)]
pub struct SpectralConv2d {
    /// Raw weight `[out, in, kh, kw]` (PyTorch `weight_orig`).
    pub weight_orig: Param<Tensor<4>>,
    /// Bias `[out]`, untouched by the normalisation.
    pub bias: Option<Param<Tensor<1>>>,
    /// Left singular vector estimate `[out]`.
    pub weight_u: RunningState<Tensor<1>>,
    /// Right singular vector estimate `[in * kh * kw]`.
    pub weight_v: RunningState<Tensor<1>>,
    /// Stride in both directions.
    pub stride: usize,
    /// Zero padding on every side.
    pub padding: usize,
    /// `weight_orig` already holds `W / sigma` (see [`SpectralConv2d::fold`]): inference only.
    pub folded: bool,
}

/// Builds a [`SpectralConv2d`].
#[derive(burn::config::Config, Debug)]
pub struct SpectralConv2dConfig {
    /// `[in, out]` channels.
    pub channels: [usize; 2],
    /// Square kernel side.
    pub kernel: usize,
    /// Stride.
    #[config(default = 1)]
    pub stride: usize,
    /// Padding.
    #[config(default = 0)]
    pub padding: usize,
    /// Whether the conv has a bias.
    #[config(default = true)]
    pub bias: bool,
}

impl SpectralConv2dConfig {
    /// New layer with the official init (Xavier normal, gain 0.02; zero bias) and random unit u, v.
    pub fn init(&self, device: &Device) -> SpectralConv2d {
        let [cin, cout] = self.channels;
        let k = self.kernel;
        let fan_in = cin * k * k;
        let fan_out = cout * k * k;
        let weight_orig = Initializer::XavierNormal { gain: 0.02 }.init_with(
            [cout, cin, k, k],
            Some(fan_in),
            Some(fan_out),
            device,
        );
        let bias = self.bias.then(|| Initializer::Zeros.init([cout], device));
        let u = normalize(Tensor::random(
            [cout],
            Distribution::Normal(0.0, 1.0),
            device,
        ));
        let v = normalize(Tensor::random(
            [fan_in],
            Distribution::Normal(0.0, 1.0),
            device,
        ));
        SpectralConv2d {
            weight_orig,
            bias,
            weight_u: RunningState::new(u),
            weight_v: RunningState::new(v),
            stride: self.stride,
            padding: self.padding,
            folded: false,
        }
    }
}

/// `x / max(||x||, eps)`, like `F.normalize(x, dim=0)`.
pub fn normalize(x: Tensor<1>) -> Tensor<1> {
    let norm = x.clone().powi_scalar(2).sum().sqrt().clamp_min(EPS);
    x.div(norm)
}

/// One step of PyTorch's power iteration: `v = normalize(W^T u)`, `u = normalize(W v)`.
/// Returns the new `(u, v)`.
fn power_iteration(w_mat: &Tensor<2>, u: Tensor<1>) -> (Tensor<1>, Tensor<1>) {
    let v = normalize(
        w_mat
            .clone()
            .transpose()
            .matmul(u.unsqueeze_dim::<2>(1))
            .squeeze_dim::<1>(1),
    );
    let u = normalize(
        w_mat
            .clone()
            .matmul(v.clone().unsqueeze_dim::<2>(1))
            .squeeze_dim::<1>(1),
    );
    (u, v)
}

impl SpectralConv2d {
    /// The normalised weight `weight_orig / sigma`, running one power iteration first when the
    /// layer is being trained.
    pub fn weight(&self) -> Tensor<4> {
        let w = self.weight_orig.val();
        if self.folded {
            return w;
        }
        let [out, cin, kh, kw] = w.dims();
        let training = w.device().is_autodiff();
        let (u, v) = if training {
            let w_mat = w.clone().detach().reshape([out, cin * kh * kw]);
            let (u, v) = power_iteration(&w_mat, self.weight_u.value_sync().detach());
            // In place, as PyTorch does: `update` stages the value for this thread and
            // `value_sync` commits it, so `value()` (and eval mode) sees it at once.
            self.weight_u.update(u.clone());
            self.weight_v.update(v.clone());
            let _ = (self.weight_u.value_sync(), self.weight_v.value_sync());
            (u, v)
        } else {
            (self.weight_u.value(), self.weight_v.value())
        };
        let w_mat = w.clone().reshape([out, cin * kh * kw]);
        // sigma = u . (W v)
        let wv = w_mat.matmul(v.unsqueeze_dim::<2>(1)).squeeze_dim::<1>(1);
        let sigma = u.mul(wv).sum();
        w.div(sigma.reshape([1, 1, 1, 1]))
    }

    /// For inference: stores the normalised weight (eval mode's `W / sigma` from the stored u
    /// and v) in `weight_orig`, so that no forward computes sigma again. Such a layer must not be
    /// trained or saved.
    pub fn fold(&mut self) {
        if !self.folded {
            self.weight_orig = Param::from_tensor(self.weight());
            self.folded = true;
        }
    }

    /// Applies the convolution. `x`: `[B, in, H, W]` -> `[B, out, H', W']`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let p = self.padding;
        conv2d(
            x,
            self.weight(),
            self.bias.as_ref().map(|b| b.val()),
            ConvOptions::new([self.stride; 2], [p, p], [1, 1], 1),
        )
    }
}
