//! The SPADE residual block (official `SPADEResnetBlock`, Fig. 4 right of the paper).
//!
//! `dx = conv_0(lrelu(norm_0(x)))`, `dx = conv_1(lrelu(norm_1(dx)))`, `out = shortcut(x) + dx`,
//! where the shortcut is `conv_s(norm_s(x))` (1x1, no bias, no activation) when the width changes
//! and the identity otherwise. `fmiddle = min(fin, fout)`; leaky ReLU slope 0.2; the three convs
//! are spectrally normalised.

use burn::module::Module;
use burn::tensor::Device;
use burn::tensor::Tensor;

use super::spade::{SegMaps, Spade, SpadeConfig};
use super::spectral_norm::{SpectralConv2d, SpectralConv2dConfig};

/// Leaky ReLU slope used throughout SPADE.
pub const LRELU_SLOPE: f64 = 0.2;

/// One residual block.
#[derive(Module, Debug)]
pub struct SpadeResBlock {
    /// `fin -> fmiddle`, 3x3.
    pub conv_0: SpectralConv2d,
    /// `fmiddle -> fout`, 3x3.
    pub conv_1: SpectralConv2d,
    /// `fin -> fout`, 1x1 without bias (only when `fin != fout`).
    pub conv_s: Option<SpectralConv2d>,
    /// SPADE before `conv_0`.
    pub norm_0: Spade,
    /// SPADE before `conv_1`.
    pub norm_1: Spade,
    /// SPADE of the learned shortcut.
    pub norm_s: Option<Spade>,
}

/// Builds a [`SpadeResBlock`].
#[derive(burn::config::Config, Debug)]
pub struct SpadeResBlockConfig {
    /// Input channels.
    pub fin: usize,
    /// Output channels.
    pub fout: usize,
    /// Semantic channels.
    pub semantic_nc: usize,
    /// SPADE hidden width.
    #[config(default = 128)]
    pub spade_hidden: usize,
}

impl SpadeResBlockConfig {
    /// A freshly initialised block.
    pub fn init(&self, device: &Device) -> SpadeResBlock {
        let (fin, fout) = (self.fin, self.fout);
        let fmiddle = fin.min(fout);
        let spade = |c| {
            SpadeConfig::new(c, self.semantic_nc)
                .with_hidden(self.spade_hidden)
                .init(device)
        };
        let learned = fin != fout;
        SpadeResBlock {
            conv_0: SpectralConv2dConfig::new([fin, fmiddle], 3)
                .with_padding(1)
                .init(device),
            conv_1: SpectralConv2dConfig::new([fmiddle, fout], 3)
                .with_padding(1)
                .init(device),
            conv_s: learned.then(|| {
                SpectralConv2dConfig::new([fin, fout], 1)
                    .with_bias(false)
                    .init(device)
            }),
            norm_0: spade(fin),
            norm_1: spade(fmiddle),
            norm_s: learned.then(|| spade(fin)),
        }
    }
}

impl SpadeResBlock {
    /// For inference: folds spectral norm into the convolutions and batch norm into the SPADE
    /// layers (see [`SpectralConv2d::fold`], [`Spade::fold`]).
    pub fn fold(&mut self) {
        self.conv_0.fold();
        self.conv_1.fold();
        self.norm_0.fold();
        self.norm_1.fold();
        if let Some(c) = self.conv_s.as_mut() {
            c.fold();
        }
        if let Some(n) = self.norm_s.as_mut() {
            n.fold();
        }
    }

    /// `x`: `[B, fin, H, W]` -> `[B, fout, H, W]`.
    pub fn forward(&self, x: Tensor<4>, seg: &SegMaps) -> Tensor<4> {
        let x_s = match (&self.conv_s, &self.norm_s) {
            (Some(conv), Some(norm)) => conv.forward(norm.forward(x.clone(), seg)),
            _ => x.clone(),
        };
        let dx = self.conv_0.forward(self.norm_0.forward_act(x, seg, true));
        let dx = self.conv_1.forward(self.norm_1.forward_act(dx, seg, true));
        x_s.add(dx)
    }
}
