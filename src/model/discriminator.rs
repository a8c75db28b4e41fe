//! The SPADE discriminator (official `MultiscaleDiscriminator` of `NLayerDiscriminator`s, the
//! pix2pixHD multiscale PatchGAN used by Park et al. 2019, arXiv 1903.07291, section 3 and
//! appendix A).
//!
//! Each scale sees the concatenation of the semantics and an image, `[B, semantic_nc + 3, H, W]`,
//! and is a stack of 4x4 convolutions (official `n_layers_D = 4`, `norm_D = spectralinstance`):
//!
//! ```text
//! model0   conv(in -> ndf, stride 2, pad 2)                          lrelu 0.2
//! model1   sn-conv(ndf -> 2ndf, stride 2, pad 2, no bias) instnorm   lrelu 0.2
//! model2   sn-conv(2ndf -> 4ndf, stride 2, ...) instnorm            lrelu 0.2
//! model3   sn-conv(4ndf -> 8ndf, stride 1, ...) instnorm            lrelu 0.2
//! model4   conv(8ndf -> 1, stride 1, pad 2)                          (patch logits)
//! ```
//!
//! Widths are capped at 512. The first and last convolutions are plain (with bias), as in the
//! official code; the middle ones are spectrally normalised ([`SpectralConv2d`], one power
//! iteration per training forward) and lose their bias to the instance norm. Between scales the
//! input is downsampled by `avg_pool2d(3, stride 2, pad 1, count_include_pad=False)`.
//!
//! The forward returns every layer's output of every scale (the last one being the logits), so
//! the generator's feature-matching loss can compare intermediate features.
//! State-dict names mirror the official ones: `discriminator_0.model1.0.weight_orig`, ...

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Initializer, PaddingConfig2d};
use burn::tensor::activation::leaky_relu;
use burn::tensor::module::avg_pool2d;
use burn::tensor::ops::AvgPoolOptions;
use burn::tensor::{Device, Tensor};

use super::batch_norm::instance_norm;
use super::resblock::LRELU_SLOPE;
use super::spectral_norm::{SpectralConv2d, SpectralConv2dConfig};
use crate::checkpoint::convert::Walker;

/// Kernel side of every discriminator convolution (official `kw`).
const KW: usize = 4;
/// Padding of every discriminator convolution (official `padw = ceil((kw - 1) / 2)`).
const PADW: usize = 2;

/// Builds a [`MultiscaleDiscriminator`].
#[derive(burn::config::Config, Debug, PartialEq)]
pub struct DiscriminatorConfig {
    /// Input channels: semantic channels + 3 (official `compute_D_input_nc`).
    pub input_nc: usize,
    /// Base width (official `ndf`).
    #[config(default = 64)]
    pub ndf: usize,
    /// Convolutions with a stride or a norm before the logits (official `n_layers_D`).
    #[config(default = 4)]
    pub n_layers: usize,
    /// Number of scales (official `num_D`).
    #[config(default = 2)]
    pub num_d: usize,
}

/// One PatchGAN scale (official `NLayerDiscriminator`).
#[derive(Module, Debug)]
pub struct NLayerDiscriminator {
    /// Official `model0.0`: plain conv, stride 2.
    pub model0: Conv2d,
    /// Official `model1.0` .. `model{n-1}.0`: spectral-norm convs followed by instance norm.
    pub middle: Vec<SpectralConv2d>,
    /// Official `model{n}.0`: the 1-channel logits.
    pub last: Conv2d,
}

/// The multiscale discriminator (official `MultiscaleDiscriminator`).
#[derive(Module, Debug)]
pub struct MultiscaleDiscriminator {
    /// Official `discriminator_0`, `discriminator_1`, ...: full resolution first.
    pub scales: Vec<NLayerDiscriminator>,
}

/// A 4x4 convolution with the official init (Xavier normal, gain 0.02, zero bias).
fn plain_conv(cin: usize, cout: usize, stride: usize, device: &Device) -> Conv2d {
    let mut conv = Conv2dConfig::new([cin, cout], [KW, KW])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(PADW, PADW, PADW, PADW))
        .with_initializer(Initializer::XavierNormal { gain: 0.02 })
        .init(device);
    conv.bias = Some(Initializer::Zeros.init([cout], device));
    conv
}

impl DiscriminatorConfig {
    /// Channels after layer `n` (0-based, before the logits): `min(ndf * 2^n, 512)`.
    pub fn channels(&self, n: usize) -> usize {
        (self.ndf << n.min(16)).min(512.max(self.ndf))
    }

    /// Checks the numbers make a buildable discriminator.
    pub fn validate(&self) -> Result<(), String> {
        if self.input_nc == 0 || self.ndf == 0 || self.n_layers == 0 || self.num_d == 0 {
            return Err("discriminator input_nc, ndf, n_layers and num_d must be positive".into());
        }
        Ok(())
    }

    /// A freshly initialised discriminator.
    pub fn init(&self, device: &Device) -> MultiscaleDiscriminator {
        let scales = (0..self.num_d).map(|_| self.init_scale(device)).collect();
        MultiscaleDiscriminator { scales }
    }

    fn init_scale(&self, device: &Device) -> NLayerDiscriminator {
        let model0 = plain_conv(self.input_nc, self.channels(0), 2, device);
        let middle = (1..self.n_layers)
            .map(|n| {
                let stride = if n == self.n_layers - 1 { 1 } else { 2 };
                SpectralConv2dConfig::new([self.channels(n - 1), self.channels(n)], KW)
                    .with_stride(stride)
                    .with_padding(PADW)
                    .with_bias(false)
                    .init(device)
            })
            .collect();
        let last = plain_conv(self.channels(self.n_layers - 1), 1, 1, device);
        NLayerDiscriminator {
            model0,
            middle,
            last,
        }
    }
}

impl NLayerDiscriminator {
    /// `x`: `[B, input_nc, H, W]` -> every layer's output, the logits `[B, 1, h, w]` last.
    pub fn forward(&self, x: Tensor<4>) -> Vec<Tensor<4>> {
        let mut out = Vec::with_capacity(self.middle.len() + 2);
        let mut x = leaky_relu(self.model0.forward(x), LRELU_SLOPE);
        out.push(x.clone());
        for conv in &self.middle {
            x = leaky_relu(instance_norm(conv.forward(x)), LRELU_SLOPE);
            out.push(x.clone());
        }
        out.push(self.last.forward(x));
        out
    }
}

/// The official `downsample` between scales: 3x3 average pooling, stride 2, padding 1, padded
/// cells left out of the average.
pub fn downsample(x: Tensor<4>) -> Tensor<4> {
    avg_pool2d(
        x,
        AvgPoolOptions::new([3, 3])
            .with_stride([2, 2])
            .with_padding([1, 1])
            .with_count_include_pad(false),
    )
}

impl MultiscaleDiscriminator {
    /// `x`: `[B, semantic_nc + 3, H, W]` (semantics then image) -> for each scale (full
    /// resolution first), every layer's output with the patch logits last.
    pub fn forward(&self, x: Tensor<4>) -> Vec<Vec<Tensor<4>>> {
        let mut result = Vec::with_capacity(self.scales.len());
        let mut x = x;
        for (i, d) in self.scales.iter().enumerate() {
            result.push(d.forward(x.clone()));
            if i + 1 < self.scales.len() {
                x = downsample(x);
            }
        }
        result
    }
}

fn conv(w: &mut impl Walker, prefix: &str, c: &mut Conv2d) {
    w.param(&format!("{prefix}.weight"), &mut c.weight);
    if let Some(b) = c.bias.as_mut() {
        w.param(&format!("{prefix}.bias"), b);
    }
}

fn spectral(w: &mut impl Walker, prefix: &str, c: &mut SpectralConv2d) {
    w.param(&format!("{prefix}.weight_orig"), &mut c.weight_orig);
    if let Some(b) = c.bias.as_mut() {
        w.param(&format!("{prefix}.bias"), b);
    }
    w.state(&format!("{prefix}.weight_u"), &mut c.weight_u);
    w.state(&format!("{prefix}.weight_v"), &mut c.weight_v);
}

/// Walks every tensor of a discriminator with the official names (`discriminator_0.model0.0.weight`,
/// `discriminator_0.model1.0.weight_orig`, ...) under `prefix`.
pub fn walk_discriminator(w: &mut impl Walker, prefix: &str, d: &mut MultiscaleDiscriminator) {
    for (i, s) in d.scales.iter_mut().enumerate() {
        let p = format!("{prefix}discriminator_{i}");
        conv(w, &format!("{p}.model0.0"), &mut s.model0);
        for (n, c) in s.middle.iter_mut().enumerate() {
            spectral(w, &format!("{p}.model{}.0", n + 1), c);
        }
        let n = s.middle.len() + 1;
        conv(w, &format!("{p}.model{n}.0"), &mut s.last);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_follow_the_official_patchgan() {
        let device = Device::flex();
        let cfg = DiscriminatorConfig::new(5).with_ndf(4);
        let d = cfg.init(&device);
        let x = Tensor::<4>::zeros([2, 5, 32, 32], &device);
        let out = d.forward(x);
        assert_eq!(out.len(), 2);
        // 32 -> 17 -> 9 -> 5 -> 6 -> 7 (pad 2, k 4)
        let dims: Vec<_> = out[0].iter().map(|t| t.dims()).collect();
        assert_eq!(
            dims,
            vec![
                [2, 4, 17, 17],
                [2, 8, 9, 9],
                [2, 16, 5, 5],
                [2, 32, 6, 6],
                [2, 1, 7, 7]
            ]
        );
        // second scale: avg-pooled to 16
        assert_eq!(out[1][0].dims(), [2, 4, 9, 9]);
    }

    #[test]
    fn downsample_leaves_padding_out_of_the_average() {
        let device = Device::flex();
        let x = Tensor::<4>::from_floats([[[[1.0, 2.0], [3.0, 4.0]]]], &device);
        let y = downsample(x).into_data().try_to_vec::<f32>().unwrap();
        // one output cell covering the whole 2x2 image: mean 2.5 (not 10/9)
        assert_eq!(y, vec![2.5]);
    }
}
