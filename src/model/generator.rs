//! The SPADE generator (official `SPADEGenerator`, Fig. 4 left of the paper).
//!
//! From a latent grid `[16*ngf, sh, sw]`, made either by a 3x3 conv of the downsampled label map
//! (`fc`, a `Conv2d`) or from a style vector z (`fc`, a `Linear` of the VAE), a stack of SPADE
//! residual blocks with nearest x2 upsamplings in between brings it to the output size:
//!
//! ```text
//! fc            -> [16nf, sh, sw]
//! head_0        16nf -> 16nf            up
//! G_middle_0    16nf -> 16nf            up if more/most
//! G_middle_1    16nf -> 16nf            up
//! up_0          16nf ->  8nf            up
//! up_1           8nf ->  4nf            up
//! up_2           4nf ->  2nf            up
//! up_3           2nf ->   nf            up if most
//! up_4            nf ->  nf/2           (most only)
//! conv_img(lrelu(x)) -> tanh -> [3, H, W]
//! ```

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::tensor::activation::{leaky_relu, tanh};
use burn::tensor::{Device, Tensor};

use super::config::{GeneratorConfig, Upsampling};
use super::resblock::{LRELU_SLOPE, SpadeResBlock, SpadeResBlockConfig};
use super::spade::{SegMaps, same_conv, upsample2};

/// The SPADE generator.
#[derive(Module, Debug)]
pub struct Generator {
    /// Label-map head: `semantic_nc -> 16nf`, 3x3 (when there is no VAE).
    pub fc_conv: Option<Conv2d>,
    /// VAE head: `z_dim -> 16nf * sh * sw` (official `fc` when `use_vae`).
    pub fc_linear: Option<Linear>,
    /// Official `head_0`.
    pub head_0: SpadeResBlock,
    /// Official `G_middle_0`.
    pub g_middle_0: SpadeResBlock,
    /// Official `G_middle_1`.
    pub g_middle_1: SpadeResBlock,
    /// Official `up_0` .. `up_3`.
    pub up_0: SpadeResBlock,
    /// `8nf -> 4nf`.
    pub up_1: SpadeResBlock,
    /// `4nf -> 2nf`.
    pub up_2: SpadeResBlock,
    /// `2nf -> nf`.
    pub up_3: SpadeResBlock,
    /// `nf -> nf/2`, only with `most` upsampling.
    pub up_4: Option<SpadeResBlock>,
    /// `final_nc -> 3`, 3x3.
    pub conv_img: Conv2d,
    /// Number of upsamplings.
    #[module(skip)]
    pub upsampling: Upsampling,
    /// Latent grid `[sh, sw]`.
    pub latent: [usize; 2],
    /// Widest channel count, `16 * ngf`.
    pub top_nc: usize,
}

impl GeneratorConfig {
    /// A freshly initialised generator (official init: Xavier normal, gain 0.02).
    pub fn init(&self, device: &Device) -> Generator {
        let nf = self.ngf;
        let snc = self.labels.semantic_nc();
        let block = |fin, fout| {
            SpadeResBlockConfig::new(fin, fout, snc)
                .with_spade_hidden(self.spade_hidden)
                .init(device)
        };
        let latent = self.latent_size();
        let (fc_conv, fc_linear) = match self.z_dim {
            None => (Some(same_conv(snc, 16 * nf, 3, device)), None),
            Some(z) => {
                let mut lin = LinearConfig::new(z, 16 * nf * latent[0] * latent[1])
                    .with_initializer(Initializer::XavierNormal { gain: 0.02 })
                    .init(device);
                lin.bias = Some(Initializer::Zeros.init([16 * nf * latent[0] * latent[1]], device));
                (None, Some(lin))
            }
        };
        let most = self.upsampling == Upsampling::Most;
        let final_nc = if most { nf / 2 } else { nf };
        Generator {
            fc_conv,
            fc_linear,
            head_0: block(16 * nf, 16 * nf),
            g_middle_0: block(16 * nf, 16 * nf),
            g_middle_1: block(16 * nf, 16 * nf),
            up_0: block(16 * nf, 8 * nf),
            up_1: block(8 * nf, 4 * nf),
            up_2: block(4 * nf, 2 * nf),
            up_3: block(2 * nf, nf),
            up_4: most.then(|| block(nf, nf / 2)),
            conv_img: same_conv(final_nc, 3, 3, device),
            upsampling: self.upsampling,
            latent,
            top_nc: 16 * nf,
        }
    }
}

impl Generator {
    /// Synthesises an image in `[-1, 1]`: `[B, 3, H, W]`.
    ///
    /// `seg`: semantics `[B, semantic_nc, H, W]`; `z`: `[B, z_dim]`, required by (only) the VAE
    /// head.
    pub fn forward(&self, seg: &SegMaps, z: Option<Tensor<2>>) -> Tensor<4> {
        let x = self.latent_input(seg, z);
        let x = self.body(x, seg);
        tanh(self.conv_img.forward(leaky_relu(x, LRELU_SLOPE)))
    }

    /// The latent grid `[B, 16nf, sh, sw]` from the head.
    pub fn latent_input(&self, seg: &SegMaps, z: Option<Tensor<2>>) -> Tensor<4> {
        let [sh, sw] = self.latent;
        match (&self.fc_conv, &self.fc_linear) {
            (_, Some(fc)) => {
                let z = z.expect("a VAE generator needs z");
                let b = z.dims()[0];
                fc.forward(z).reshape([b, self.top_nc, sh, sw])
            }
            (Some(fc), None) => fc.forward(seg.at([sh, sw])),
            (None, None) => unreachable!("a generator always has a head"),
        }
    }

    /// Everything between the head and `conv_img`: `[B, 16nf, sh, sw]` -> `[B, final_nc, H, W]`.
    pub fn body(&self, x: Tensor<4>, seg: &SegMaps) -> Tensor<4> {
        let x = self.head_0.forward(x, seg);
        let x = upsample2(x);
        let mut x = self.g_middle_0.forward(x, seg);
        if self.upsampling != Upsampling::Normal {
            x = upsample2(x);
        }
        let x = self.g_middle_1.forward(x, seg);
        let x = self.up_0.forward(upsample2(x), seg);
        let x = self.up_1.forward(upsample2(x), seg);
        let x = self.up_2.forward(upsample2(x), seg);
        let x = self.up_3.forward(upsample2(x), seg);
        match &self.up_4 {
            Some(up_4) => up_4.forward(upsample2(x), seg),
            None => x,
        }
    }

    /// A copy for inference with spectral norm and eval batch norm folded into the weights and
    /// each SPADE's `mlp_gamma` and `mlp_beta` fused into one convolution: the same pictures up
    /// to float rounding, fewer kernels. Must not be trained or saved.
    pub fn folded(&self) -> Generator {
        let mut g = self.clone();
        let mut blocks = vec![
            &mut g.head_0,
            &mut g.g_middle_0,
            &mut g.g_middle_1,
            &mut g.up_0,
            &mut g.up_1,
            &mut g.up_2,
            &mut g.up_3,
        ];
        if let Some(b) = g.up_4.as_mut() {
            blocks.push(b);
        }
        for b in blocks {
            b.fold();
        }
        g
    }

    /// Whether the generator takes a style vector.
    pub fn uses_vae(&self) -> bool {
        self.fc_linear.is_some()
    }
}
