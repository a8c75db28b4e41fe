//! The shape of a SPADE model: which label channels it reads, how wide it is, how many times it
//! upsamples, what aspect ratio it paints. Mirrors the official options (`label_nc`,
//! `contain_dontcare_label`, `no_instance`, `ngf`, `num_upsampling_layers`, `crop_size`,
//! `aspect_ratio`, `use_vae`, `z_dim`).

use burn::config::Config;

/// How many nearest x2 upsamplings the generator has (official `num_upsampling_layers`).
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum Upsampling {
    /// 5 upsamplings: `up_0..up_3` plus one between `head_0` and `G_middle_0`.
    Normal,
    /// 6: one more between `G_middle_0` and `G_middle_1`.
    More,
    /// 7: as `More`, plus a last block `up_4` at twice the resolution.
    Most,
}

impl Upsampling {
    /// Number of x2 upsamplings from the latent grid to the output.
    pub fn count(self) -> u32 {
        match self {
            Upsampling::Normal => 5,
            Upsampling::More => 6,
            Upsampling::Most => 7,
        }
    }

    /// The official option name.
    pub fn name(self) -> &'static str {
        match self {
            Upsampling::Normal => "normal",
            Upsampling::More => "more",
            Upsampling::Most => "most",
        }
    }
}

impl std::str::FromStr for Upsampling {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "normal" => Ok(Upsampling::Normal),
            "more" => Ok(Upsampling::More),
            "most" => Ok(Upsampling::Most),
            _ => Err(format!("unknown upsampling `{s}` (normal, more, most)")),
        }
    }
}

/// The label channels a model reads: one-hot classes, an optional dontcare channel (an ordinary
/// last class), and an optional instance-edge channel after them.
#[derive(Config, Debug, PartialEq)]
pub struct LabelChannels {
    /// Number of real classes (official `label_nc`).
    pub label_nc: usize,
    /// Whether a dontcare class follows the real ones (official `contain_dontcare_label`).
    #[config(default = false)]
    pub dontcare: bool,
    /// Whether an instance-edge channel comes last (official `not no_instance`).
    #[config(default = false)]
    pub instance: bool,
}

impl LabelChannels {
    /// Number of one-hot classes, dontcare included.
    pub fn classes(&self) -> usize {
        self.label_nc + self.dontcare as usize
    }

    /// Channels of the generator's semantic input (official `semantic_nc`).
    pub fn semantic_nc(&self) -> usize {
        self.classes() + self.instance as usize
    }
}

/// Everything needed to build a SPADE generator (and, with `z_dim`, its VAE head).
#[derive(Config, Debug, PartialEq)]
pub struct GeneratorConfig {
    /// Label channels.
    pub labels: LabelChannels,
    /// Base width (official `ngf`); the widest layer has `16 * ngf` channels.
    #[config(default = 64)]
    pub ngf: usize,
    /// Hidden width of each SPADE's shared convolution (official: 128).
    #[config(default = 128)]
    pub spade_hidden: usize,
    /// Number of upsamplings.
    #[config(default = "Upsampling::Normal")]
    pub upsampling: Upsampling,
    /// Output width in pixels (official `crop_size`).
    #[config(default = 256)]
    pub crop_size: usize,
    /// Width / height (official `aspect_ratio`).
    #[config(default = 1.0)]
    pub aspect_ratio: f64,
    /// Size of the style vector z; `None` means the label-map head (no VAE).
    #[config(default = "None")]
    pub z_dim: Option<usize>,
}

impl GeneratorConfig {
    /// Latent grid `[height, width]` (official `sh`, `sw`): `sw = crop_size / 2^n`,
    /// `sh = round(sw / aspect_ratio)` with Python's round-half-to-even.
    pub fn latent_size(&self) -> [usize; 2] {
        let sw = self.crop_size >> self.upsampling.count();
        let sh = (sw as f64 / self.aspect_ratio).round_ties_even() as usize;
        [sh.max(1), sw.max(1)]
    }

    /// Output `[height, width]` in pixels.
    pub fn output_size(&self) -> [usize; 2] {
        let [sh, sw] = self.latent_size();
        let f = 1usize << self.upsampling.count();
        [sh * f, sw * f]
    }

    /// Floats in the official state dict of this generator (parameters and buffers: running
    /// statistics, power-iteration vectors; `num_batches_tracked` is not a float). Computed
    /// without building anything, in wide integers so that no config can overflow it: what a
    /// reader compares with the floats a file really holds before allocating the model.
    pub fn state_floats(&self) -> u128 {
        let nf = self.ngf as u128;
        let snc = self.labels.semantic_nc() as u128;
        let h = self.spade_hidden as u128;
        let [sh, sw] = self.latent_size().map(|v| v as u128);
        let spade = |c: u128| 2 * c + (h * snc * 9 + h) + 2 * (c * h * 9 + c);
        let spectral = |cin: u128, cout: u128, k: u128, bias: bool| {
            cout * cin * k * k + cout + cin * k * k + if bias { cout } else { 0 }
        };
        let block = |fin: u128, fout: u128| {
            let fmid = fin.min(fout);
            let mut n = spectral(fin, fmid, 3, true)
                + spectral(fmid, fout, 3, true)
                + spade(fin)
                + spade(fmid);
            if fin != fout {
                n += spectral(fin, fout, 1, false) + spade(fin);
            }
            n
        };
        let top = 16 * nf;
        let head = match self.z_dim {
            None => top * snc * 9 + top,
            Some(z) => top * sh * sw * (z as u128 + 1),
        };
        let mut n = head
            + 3 * block(top, top)
            + block(top, 8 * nf)
            + block(8 * nf, 4 * nf)
            + block(4 * nf, 2 * nf)
            + block(2 * nf, nf);
        let final_nc = if self.upsampling == Upsampling::Most {
            n += block(nf, nf / 2);
            nf / 2
        } else {
            nf
        };
        n + 3 * final_nc * 9 + 3
    }

    /// Checks that the numbers make a buildable generator.
    pub fn validate(&self) -> Result<(), String> {
        if self.ngf == 0 || self.spade_hidden == 0 {
            return Err("ngf and spade_hidden must be positive".into());
        }
        if self.labels.semantic_nc() == 0 {
            return Err("the model must read at least one label channel".into());
        }
        if self.crop_size >> self.upsampling.count() == 0 {
            return Err(format!(
                "crop size {} is too small for {} upsamplings",
                self.crop_size,
                self.upsampling.count()
            ));
        }
        if !(self.aspect_ratio.is_finite() && self.aspect_ratio > 0.0) {
            return Err(format!(
                "aspect ratio {} is not positive",
                self.aspect_ratio
            ));
        }
        if self.upsampling == Upsampling::Most && self.ngf < 2 {
            return Err("`most` upsampling needs ngf >= 2".into());
        }
        let [h, w] = self.output_size();
        if h * w > 4096 * 4096 {
            return Err(format!("output {w}x{h} is too large"));
        }
        Ok(())
    }
}

/// The image encoder of the VAE (official `ConvEncoder`): a style image to `mu`, `logvar`.
#[derive(Config, Debug, PartialEq)]
pub struct EncoderConfig {
    /// Base width (official: `ngf`).
    #[config(default = 64)]
    pub ndf: usize,
    /// Number of stride-2 convolutions: 6 when `crop_size >= 256` in the official code, else 5.
    #[config(default = 6)]
    pub layers: usize,
    /// Side of the square the input is bilinearly resized to (official: 256).
    #[config(default = 256)]
    pub input_size: usize,
    /// Size of z.
    #[config(default = 256)]
    pub z_dim: usize,
}

impl EncoderConfig {
    /// Side of the last feature map (official `s0 = 4` for 256 input and 6 layers).
    pub fn final_size(&self) -> usize {
        (self.input_size >> self.layers).max(1)
    }

    /// Channels after layer `i` (0-based): ndf, 2ndf, 4ndf, 8ndf, 8ndf, 8ndf.
    pub fn channels(&self, i: usize) -> usize {
        self.ndf * [1, 2, 4, 8].get(i).copied().unwrap_or(8)
    }

    /// Floats in the official state dict of this encoder (see
    /// [`GeneratorConfig::state_floats`]).
    pub fn state_floats(&self) -> u128 {
        let mut n = 0u128;
        let mut cin = 3u128;
        for i in 0..self.layers {
            let cout = self.channels(i) as u128;
            n += cout * cin * 9 + cout + cin * 9;
            cin = cout;
        }
        let s0 = self.final_size() as u128;
        n + 2 * (self.z_dim as u128 * (cin * s0 * s0 + 1))
    }

    /// Checks that the numbers make a buildable encoder.
    pub fn validate(&self) -> Result<(), String> {
        if self.ndf == 0 || self.z_dim == 0 || self.layers == 0 || self.layers > 8 {
            return Err("encoder ndf, z_dim must be positive and layers 1..=8".into());
        }
        if self.input_size >> self.layers == 0 {
            return Err("encoder input too small for its layers".into());
        }
        Ok(())
    }
}
