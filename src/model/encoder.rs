//! The SPADE image encoder (official `ConvEncoder`, Fig. 14 of the paper): a style image to the
//! mean and log-variance of z.
//!
//! The image is bilinearly resized to 256x256 (half-pixel centres) when it has another size, then
//! goes through stride-2 3x3 convolutions (`layer1..layer6`, spectral norm + instance norm without
//! affine, no bias, leaky ReLU 0.2 between them), is flattened and mapped by `fc_mu` and `fc_var`.

use burn::module::Module;
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::tensor::activation::leaky_relu;
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
use burn::tensor::{Device, Tensor};

use super::batch_norm::instance_norm;
use super::config::EncoderConfig;
use super::resblock::LRELU_SLOPE;
use super::spectral_norm::{SpectralConv2d, SpectralConv2dConfig};

/// The style encoder.
#[derive(Module, Debug)]
pub struct Encoder {
    /// Official `layer1.0` .. `layer6.0`.
    pub layers: Vec<SpectralConv2d>,
    /// `8ndf * s0 * s0 -> z_dim`.
    pub fc_mu: Linear,
    /// `8ndf * s0 * s0 -> z_dim`.
    pub fc_var: Linear,
    /// Side the input is resized to.
    pub input_size: usize,
}

impl EncoderConfig {
    /// A freshly initialised encoder.
    pub fn init(&self, device: &Device) -> Encoder {
        let mut layers = Vec::with_capacity(self.layers);
        let mut cin = 3;
        for i in 0..self.layers {
            let cout = self.channels(i);
            layers.push(
                SpectralConv2dConfig::new([cin, cout], 3)
                    .with_stride(2)
                    .with_padding(1)
                    .with_bias(false)
                    .init(device),
            );
            cin = cout;
        }
        let s0 = self.final_size();
        let fc = || {
            let mut l = LinearConfig::new(cin * s0 * s0, self.z_dim)
                .with_initializer(Initializer::XavierNormal { gain: 0.02 })
                .init(device);
            l.bias = Some(Initializer::Zeros.init([self.z_dim], device));
            l
        };
        Encoder {
            layers,
            fc_mu: fc(),
            fc_var: fc(),
            input_size: self.input_size,
        }
    }
}

impl Encoder {
    /// `x`: `[B, 3, H, W]` in `[-1, 1]` -> (`mu`, `logvar`), each `[B, z_dim]`.
    pub fn forward(&self, x: Tensor<4>) -> (Tensor<2>, Tensor<2>) {
        let [b, _, h, w] = x.dims();
        let s = self.input_size;
        let mut x = if [h, w] != [s, s] {
            interpolate(
                x,
                InterpolateOptions::new(InterpolateMode::Bilinear)
                    .with_align_corners(false)
                    .with_output_size([s, s]),
            )
        } else {
            x
        };
        for (i, layer) in self.layers.iter().enumerate() {
            if i > 0 {
                x = leaky_relu(x, LRELU_SLOPE);
            }
            x = instance_norm(layer.forward(x));
        }
        let x = leaky_relu(x, LRELU_SLOPE);
        let [_, c, fh, fw] = x.dims();
        let flat = x.reshape([b, c * fh * fw]);
        (self.fc_mu.forward(flat.clone()), self.fc_var.forward(flat))
    }
}
