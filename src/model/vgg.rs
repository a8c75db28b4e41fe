//! VGG19 features for the perceptual loss of SPADE training (official `VGG19` in
//! `models/networks/architecture.py`, after Wang et al. 2018, pix2pixHD): the convolutional part of
//! torchvision's VGG19 up to `relu5_1`, returning `relu1_1`, `relu2_1`, `relu3_1`, `relu4_1`,
//! `relu5_1`.
//!
//! The weights are the user's (torchvision's `vgg19` state dict, keys `features.N.weight` /
//! `features.N.bias`); gaugan never downloads them. Like the official code, the `[-1, 1]` images
//! go in as they are (no ImageNet normalisation).

use burn::module::Module;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::tensor::activation::relu;
use burn::tensor::module::max_pool2d;
use burn::tensor::ops::MaxPoolOptions;
use burn::tensor::{Device, Tensor};

use crate::checkpoint::convert::{Loader, Walker};
use crate::checkpoint::{StateDict, WeightsError};

/// `(features index, in, out)` of the 13 convolutions up to `relu5_1`.
const CONVS: [(usize, usize, usize); 13] = [
    (0, 3, 64),
    (2, 64, 64),
    (5, 64, 128),
    (7, 128, 128),
    (10, 128, 256),
    (12, 256, 256),
    (14, 256, 256),
    (16, 256, 256),
    (19, 256, 512),
    (21, 512, 512),
    (23, 512, 512),
    (25, 512, 512),
    (28, 512, 512),
];

/// Index in [`CONVS`] of the conv whose ReLU ends each slice (relu1_1 .. relu5_1).
const SLICE_ENDS: [usize; 5] = [0, 2, 4, 8, 12];

/// Convs after which torchvision's VGG19 max-pools (indices into [`CONVS`]).
const POOL_AFTER: [usize; 4] = [1, 3, 7, 11];

/// VGG19 `features[0..30]`.
#[derive(Module, Debug)]
pub struct Vgg19 {
    /// The 13 convolutions, in order.
    pub convs: Vec<Conv2d>,
}

impl Vgg19 {
    /// An uninitialised network (to be filled by [`Vgg19::from_state_dict`]).
    fn empty(device: &Device) -> Self {
        let convs = CONVS
            .iter()
            .map(|&(_, cin, cout)| {
                Conv2dConfig::new([cin, cout], [3, 3])
                    .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                    .init(device)
            })
            .collect();
        Self { convs }
    }

    /// Builds the network from torchvision's VGG19 state dict (`features.N.weight`/`.bias`; a
    /// `vgg19.` or `module.` prefix is accepted; classifier weights are ignored). The parameters
    /// are frozen: the loss trains nothing here.
    pub fn from_state_dict(mut sd: StateDict, device: &Device) -> Result<Self, WeightsError> {
        sd.strip_common_prefix("module.");
        sd.strip_common_prefix("vgg19.");
        let mut wanted = StateDict::default();
        for (k, t) in sd.iter() {
            let keep = CONVS.iter().any(|(i, _, _)| {
                k == format!("features.{i}.weight") || k == format!("features.{i}.bias")
            });
            if keep {
                wanted.insert(k, t.clone());
            }
        }
        let mut vgg = Self::empty(device);
        let mut loader = Loader::new(wanted, device);
        for ((i, _, _), conv) in CONVS.iter().zip(vgg.convs.iter_mut()) {
            loader.param(&format!("features.{i}.weight"), &mut conv.weight);
            if let Some(b) = conv.bias.as_mut() {
                loader.param(&format!("features.{i}.bias"), b);
            }
        }
        loader.finish()?;
        Ok(vgg.no_grad())
    }

    /// `x`: `[B, 3, H, W]` -> `[relu1_1, relu2_1, relu3_1, relu4_1, relu5_1]`.
    pub fn forward(&self, x: Tensor<4>) -> Vec<Tensor<4>> {
        let mut out = Vec::with_capacity(5);
        let mut x = x;
        for (i, conv) in self.convs.iter().enumerate() {
            x = relu(conv.forward(x));
            if SLICE_ENDS.contains(&i) {
                out.push(x.clone());
                if i == *SLICE_ENDS.last().unwrap() {
                    break;
                }
            }
            if POOL_AFTER.contains(&i) {
                x = max_pool2d(x, MaxPoolOptions::new([2, 2]));
            }
        }
        out
    }
}
