//! The SPADE generator for inference on the CPU, with its weights folded once at load:
//!
//! - spectral norm: `W = weight_orig / sigma`, sigma from the stored u and v (PyTorch's eval);
//! - eval batch norm: `x * scale + shift` with `scale = 1 / sqrt(var + eps)`;
//! - `mlp_gamma` and `mlp_beta` as one convolution with `2 * C` outputs, the `1 +` of
//!   `1 + gamma` in its bias, and the modulation `bn(x) * (1 + gamma) + beta` (and the leaky
//!   ReLU after it) fused into its store;
//! - `mlp_shared` (and the label-map head `fc`) as lookups from the class ids;
//! - the class ids resized once per resolution per request and shared by every SPADE there.
//!
//! Same numbers as the Burn generator up to float summation order (the parity tests hold both to
//! the official outputs).

use std::collections::HashMap;

use super::conv::{Act, AddStore, Modulate, Out, PackedConv, Store, gamma_beta_order};
use super::lookup::{IdGrid, OneHotConv};
use super::patterns::Patterns;
use super::planes::Planes;
use crate::checkpoint::{StateDict, WeightReader, WeightsError};
use crate::model::{GeneratorConfig, Upsampling};

/// Batch-norm epsilon of the official code.
const BN_EPS: f32 = 1e-5;

/// One SPADE layer, folded.
#[derive(Debug, Clone)]
struct Spade {
    /// Its state-dict prefix (`head_0.norm_0`), for the statistics it collects.
    name: String,
    shared: OneHotConv,
    gamma_beta: PackedConv,
    scale: Vec<f32>,
    shift: Vec<f32>,
    running_mean: Vec<f32>,
    running_var: Vec<f32>,
}

/// One SPADE residual block, folded.
#[derive(Debug, Clone)]
struct Block {
    conv_0: PackedConv,
    conv_1: PackedConv,
    conv_s: Option<PackedConv>,
    norm_0: Spade,
    norm_1: Spade,
    norm_s: Option<Spade>,
}

/// The generator's head.
#[derive(Debug, Clone)]
enum Head {
    /// `fc` over the label map at the latent size (a one-hot convolution).
    Labels(OneHotConv),
    /// The VAE's `fc`: `z [z_dim] -> [16nf, sh, sw]`; weight `[out, z_dim]`.
    Style {
        weight: Vec<f32>,
        bias: Vec<f32>,
        z_dim: usize,
    },
}

/// A generator ready to run on the CPU.
#[derive(Debug, Clone)]
pub struct CpuGenerator {
    head: Head,
    blocks: Vec<(&'static str, Block)>,
    conv_img: PackedConv,
    upsampling: Upsampling,
    latent: [usize; 2],
    top_nc: usize,
    classes: usize,
    extra: usize,
    /// Compute each SPADE's `gamma | beta` convolution once per distinct 3x3 window of class ids
    /// where that pays (see [`super::patterns`]); on by default.
    pub use_patterns: bool,
}

struct Reader {
    r: WeightReader,
}

impl Reader {
    fn take(&mut self, key: &str, shape: &[usize]) -> Vec<f32> {
        self.r.take(key, shape)
    }

    /// A spectral-normed conv's effective weight `weight_orig / (u . W v)` and its bias.
    fn spectral(&mut self, p: &str, cout: usize, cin: usize, k: usize, bias: bool) -> PackedConv {
        let n = cin * k * k;
        let w = self.take(&format!("{p}.weight_orig"), &[cout, cin, k, k]);
        let u = self.take(&format!("{p}.weight_u"), &[cout]);
        let v = self.take(&format!("{p}.weight_v"), &[n]);
        let b = bias.then(|| self.take(&format!("{p}.bias"), &[cout]));
        let mut sigma = 0f64;
        for (o, &uo) in u.iter().enumerate() {
            let wv: f64 = w[o * n..(o + 1) * n]
                .iter()
                .zip(&v)
                .map(|(&a, &b)| a as f64 * b as f64)
                .sum();
            sigma += uo as f64 * wv;
        }
        let sigma = sigma as f32;
        let w: Vec<f32> = w.iter().map(|x| x / sigma).collect();
        PackedConv::new(&w, b.as_deref(), cout, cin, k)
    }

    fn spade(
        &mut self,
        p: &str,
        norm_nc: usize,
        snc: usize,
        hidden: usize,
        classes: usize,
    ) -> Spade {
        let bn = format!("{p}.param_free_norm");
        let mean = self.take(&format!("{bn}.running_mean"), &[norm_nc]);
        let var = self.take(&format!("{bn}.running_var"), &[norm_nc]);
        self.r.skip(&format!("{bn}.num_batches_tracked"));
        let sw = self.take(&format!("{p}.mlp_shared.0.weight"), &[hidden, snc, 3, 3]);
        let sb = self.take(&format!("{p}.mlp_shared.0.bias"), &[hidden]);
        let gw = self.take(&format!("{p}.mlp_gamma.weight"), &[norm_nc, hidden, 3, 3]);
        let gb = self.take(&format!("{p}.mlp_gamma.bias"), &[norm_nc]);
        let bw = self.take(&format!("{p}.mlp_beta.weight"), &[norm_nc, hidden, 3, 3]);
        let bb = self.take(&format!("{p}.mlp_beta.bias"), &[norm_nc]);
        let scale: Vec<f32> = var.iter().map(|v| 1.0 / (v + BN_EPS).sqrt()).collect();
        let shift: Vec<f32> = mean.iter().zip(&scale).map(|(m, s)| -m * s).collect();
        // gamma | beta as one convolution; `1 + gamma` through the bias.
        let mut w = gw;
        w.extend_from_slice(&bw);
        let mut b: Vec<f32> = gb.iter().map(|g| g + 1.0).collect();
        b.extend_from_slice(&bb);
        Spade {
            name: p.to_owned(),
            shared: OneHotConv::new(&sw, Some(&sb), hidden, classes, snc - classes, true),
            gamma_beta: PackedConv::with_order(&w, Some(&b), hidden, 3, &gamma_beta_order(norm_nc)),
            scale,
            shift,
            running_mean: mean,
            running_var: var,
        }
    }

    fn block(
        &mut self,
        p: &str,
        fin: usize,
        fout: usize,
        snc: usize,
        hidden: usize,
        classes: usize,
    ) -> Block {
        let fmid = fin.min(fout);
        let learned = fin != fout;
        Block {
            conv_0: self.spectral(&format!("{p}.conv_0"), fmid, fin, 3, true),
            conv_1: self.spectral(&format!("{p}.conv_1"), fout, fmid, 3, true),
            conv_s: learned.then(|| self.spectral(&format!("{p}.conv_s"), fout, fin, 1, false)),
            norm_0: self.spade(&format!("{p}.norm_0"), fin, snc, hidden, classes),
            norm_1: self.spade(&format!("{p}.norm_1"), fmid, snc, hidden, classes),
            norm_s: learned.then(|| self.spade(&format!("{p}.norm_s"), fin, snc, hidden, classes)),
        }
    }
}

/// Class ids and dense extra channels at every resolution a request needs, computed once.
struct Grids<'a> {
    ids: &'a [u16],
    extra: &'a [f32],
    n_extra: usize,
    size: (usize, usize),
    sentinel: u32,
    cache: HashMap<(usize, usize), IdGrid>,
    /// Distinct windows per resolution (`None` where they do not pay), when enabled.
    patterns: Option<HashMap<(usize, usize), Option<Patterns>>>,
}

impl Grids<'_> {
    fn at(&mut self, h: usize, w: usize) -> &IdGrid {
        let (ids, extra, n, size, s) =
            (self.ids, self.extra, self.n_extra, self.size, self.sentinel);
        self.cache
            .entry((h, w))
            .or_insert_with(|| IdGrid::resized(ids, extra, n, size, (h, w), s))
    }

    /// The grid at `h x w` and its distinct windows, where pattern reuse is on and pays.
    fn patterns(&mut self, h: usize, w: usize) -> Option<(&IdGrid, &Patterns)> {
        let known = self.patterns.as_ref()?.contains_key(&(h, w));
        if !known {
            let p = Patterns::of(self.at(h, w));
            self.patterns.as_mut()?.insert((h, w), p);
        }
        let p = self.patterns.as_ref()?.get(&(h, w))?.as_ref()?;
        Some((self.cache.get(&(h, w))?, p))
    }
}

/// One input of a batched run: class ids `[h, w]`, dense extra channels `[extra, h, w]`, and z
/// for a VAE generator.
#[derive(Debug, Clone, Copy)]
pub struct GenInput<'a> {
    /// Class ids at the output size.
    pub ids: &'a [u16],
    /// Extra channels (instance edges), empty when the model has none.
    pub extra: &'a [f32],
    /// `(h, w)`.
    pub size: (usize, usize),
    /// The style vector (VAE generators).
    pub z: Option<&'a [f32]>,
}

impl CpuGenerator {
    /// Folds the official-layout weights of a generator of shape `cfg`. Every key must be there
    /// with its shape, and nothing else.
    pub fn from_state_dict(cfg: &GeneratorConfig, sd: StateDict) -> Result<Self, WeightsError> {
        let mut r = Reader {
            r: WeightReader::new(sd),
        };
        let nf = cfg.ngf;
        let snc = cfg.labels.semantic_nc();
        let classes = cfg.labels.classes();
        let hidden = cfg.spade_hidden;
        let latent = cfg.latent_size();
        let top = 16 * nf;
        let head = match cfg.z_dim {
            None => {
                let w = r.take("fc.weight", &[top, snc, 3, 3]);
                let b = r.take("fc.bias", &[top]);
                Head::Labels(OneHotConv::new(
                    &w,
                    Some(&b),
                    top,
                    classes,
                    snc - classes,
                    false,
                ))
            }
            Some(z) => {
                let n = top * latent[0] * latent[1];
                Head::Style {
                    weight: r.take("fc.weight", &[n, z]),
                    bias: r.take("fc.bias", &[n]),
                    z_dim: z,
                }
            }
        };
        let mut blocks = Vec::new();
        let plan: [(&'static str, usize, usize); 7] = [
            ("head_0", 16 * nf, 16 * nf),
            ("G_middle_0", 16 * nf, 16 * nf),
            ("G_middle_1", 16 * nf, 16 * nf),
            ("up_0", 16 * nf, 8 * nf),
            ("up_1", 8 * nf, 4 * nf),
            ("up_2", 4 * nf, 2 * nf),
            ("up_3", 2 * nf, nf),
        ];
        for (name, fin, fout) in plan {
            blocks.push((name, r.block(name, fin, fout, snc, hidden, classes)));
        }
        let most = cfg.upsampling == Upsampling::Most;
        if most {
            blocks.push(("up_4", r.block("up_4", nf, nf / 2, snc, hidden, classes)));
        }
        let final_nc = if most { nf / 2 } else { nf };
        let w = r.take("conv_img.weight", &[3, final_nc, 3, 3]);
        let b = r.take("conv_img.bias", &[3]);
        let conv_img = PackedConv::new(&w, Some(&b), 3, final_nc, 3);
        r.r.finish()?;
        Ok(Self {
            head,
            blocks,
            conv_img,
            upsampling: cfg.upsampling,
            latent,
            top_nc: top,
            classes,
            extra: snc - classes,
            use_patterns: true,
        })
    }

    /// Synthesises `[3, H, W]` values in `[-1, 1]` from the class ids `[h, w]` at the output size,
    /// the dense extra channels `[extra, h, w]` (instance edges; empty when the model has none)
    /// and, for a VAE generator, `z`.
    pub fn forward(
        &self,
        ids: &[u16],
        extra: &[f32],
        size: (usize, usize),
        z: Option<&[f32]>,
    ) -> Vec<f32> {
        let input = GenInput {
            ids,
            extra,
            size,
            z,
        };
        self.run(&[input]).remove(0)
    }

    /// Batch-norm recalibration: runs `inputs` as one batch in which every SPADE layer
    /// normalises with the statistics of its input over the whole batch (PyTorch's train mode,
    /// layer after layer), and keeps those statistics as its running statistics. Returns them
    /// as `(state-dict prefix, running_mean, running_var)` (the variance unbiased, as PyTorch
    /// keeps it), in network order.
    pub fn calibrate(&mut self, inputs: &[GenInput]) -> Vec<(String, Vec<f32>, Vec<f32>)> {
        let mut grids = self.grids(inputs);
        let mut xs = self.head_batch(inputs, &mut grids);
        for i in 0..self.blocks.len() {
            xs = self.blocks[i].1.calibrate(&xs, &mut grids);
            xs = self.maybe_upsample(i, self.blocks[i].0, xs);
        }
        self.blocks
            .iter()
            .flat_map(|(_, b)| [Some(&b.norm_0), Some(&b.norm_1), b.norm_s.as_ref()])
            .flatten()
            .map(|s| {
                (
                    s.name.clone(),
                    s.running_mean.clone(),
                    s.running_var.clone(),
                )
            })
            .collect()
    }

    fn run(&self, inputs: &[GenInput]) -> Vec<Vec<f32>> {
        let mut grids = self.grids(inputs);
        let mut xs = self.head_batch(inputs, &mut grids);
        for (i, (name, block)) in self.blocks.iter().enumerate() {
            xs = xs
                .iter()
                .zip(grids.iter_mut())
                .map(|(x, g)| block.forward(x, g))
                .collect();
            xs = self.maybe_upsample(i, name, xs);
        }
        xs.iter().map(|x| self.image(x)).collect()
    }

    fn grids<'a>(&self, inputs: &[GenInput<'a>]) -> Vec<Grids<'a>> {
        inputs
            .iter()
            .map(|inp| {
                assert_eq!(inp.ids.len(), inp.size.0 * inp.size.1, "ids must be [h, w]");
                assert_eq!(
                    inp.extra.len(),
                    self.extra * inp.size.0 * inp.size.1,
                    "extra channels"
                );
                Grids {
                    ids: inp.ids,
                    extra: inp.extra,
                    n_extra: self.extra,
                    size: inp.size,
                    sentinel: self.classes as u32,
                    cache: HashMap::new(),
                    patterns: self.use_patterns.then(HashMap::new),
                }
            })
            .collect()
    }

    /// The latent grid of every input.
    fn head_batch(&self, inputs: &[GenInput], grids: &mut [Grids]) -> Vec<Planes> {
        let [sh, sw] = self.latent;
        inputs
            .iter()
            .zip(grids.iter_mut())
            .map(|(inp, g)| match &self.head {
                Head::Labels(fc) => fc.run(g.at(sh, sw), false),
                Head::Style {
                    weight,
                    bias,
                    z_dim,
                } => {
                    let z = inp.z.expect("a VAE generator needs z");
                    assert_eq!(z.len(), *z_dim, "z size");
                    let data: Vec<f32> = bias
                        .iter()
                        .enumerate()
                        .map(|(o, &b)| {
                            let row = &weight[o * z_dim..(o + 1) * z_dim];
                            b + row.iter().zip(z).map(|(w, v)| w * v).sum::<f32>()
                        })
                        .collect();
                    Planes::from_chw(self.top_nc, sh, sw, data)
                }
            })
            .collect()
    }

    /// x2 after every block but the last, except after G_middle_0 with `normal`.
    fn maybe_upsample(&self, i: usize, name: &str, xs: Vec<Planes>) -> Vec<Planes> {
        let last = i + 1 == self.blocks.len();
        let up = match name {
            "G_middle_0" => self.upsampling != Upsampling::Normal,
            _ => !last,
        };
        if up {
            xs.iter().map(Planes::upsample2).collect()
        } else {
            xs
        }
    }

    /// `tanh(conv_img(lrelu(x)))`.
    fn image(&self, x: &Planes) -> Vec<f32> {
        let input = x.padded_map(|v| if v >= 0.0 { v } else { v * 0.2 });
        let mut out = Planes::zeros(3, x.h, x.w);
        self.conv_img.run(
            &input,
            &Store {
                out: Out::new(&mut out),
                bias: &self.conv_img.bias,
                act: Act::Tanh,
            },
        );
        out.into_chw()
    }
}

impl Spade {
    /// `act(bn(x) * (1 + gamma) + beta)` with a border (the next convolution reads one).
    fn forward(&self, x: &Planes, grids: &mut Grids, act: Act) -> Planes {
        let mut out = Planes::zeros_padded(x.c, x.h, x.w);
        let modulate = Modulate {
            out: Out::new(&mut out),
            bias: &self.gamma_beta.bias,
            x,
            scale: &self.scale,
            shift: &self.shift,
            act,
        };
        match grids.patterns(x.h, x.w) {
            Some((grid, patterns)) => {
                let vectors = self.shared.at_patterns(grid, patterns);
                let products = self.gamma_beta.tap_products(&vectors);
                self.gamma_beta.run_patterns(patterns, &products, &modulate);
            }
            None => {
                let a = self.shared.run(grids.at(x.h, x.w), true);
                self.gamma_beta.run(&a, &modulate);
            }
        }
        out
    }

    /// Takes the statistics of `xs` (all channels over every pixel of every image) as its own:
    /// the batch statistics normalise, and the running statistics keep them (the variance
    /// unbiased, as PyTorch updates it).
    fn set_batch_statistics(&mut self, xs: &[Planes]) {
        let c = xs[0].c;
        let n: usize = xs.iter().map(|x| x.h * x.w).sum();
        let n = n as f64;
        for ch in 0..c {
            let (mut s, mut s2) = (0f64, 0f64);
            for x in xs {
                for y in 0..x.h {
                    for &v in x.row_of(ch, y) {
                        s += v as f64;
                        s2 += v as f64 * v as f64;
                    }
                }
            }
            let mean = s / n;
            let var = (s2 / n - mean * mean).max(0.0);
            self.scale[ch] = 1.0 / (var as f32 + BN_EPS).sqrt();
            self.shift[ch] = -mean as f32 * self.scale[ch];
            self.running_mean[ch] = mean as f32;
            self.running_var[ch] = (var * n / (n - 1.0).max(1.0)) as f32;
        }
    }
}

impl Block {
    fn shortcut(&self, n: Planes) -> Planes {
        let conv = self.conv_s.as_ref().expect("a learned shortcut");
        let mut s = Planes::zeros(conv.cout, n.h, n.w);
        conv.run(
            &n,
            &Store {
                out: Out::new(&mut s),
                bias: &conv.bias,
                act: Act::None,
            },
        );
        s
    }

    fn conv_0(&self, n0: &Planes) -> Planes {
        let mut d0 = Planes::zeros(self.conv_0.cout, n0.h, n0.w);
        self.conv_0.run(
            n0,
            &Store {
                out: Out::new(&mut d0),
                bias: &self.conv_0.bias,
                act: Act::None,
            },
        );
        d0
    }

    fn conv_1(&self, n1: &Planes, residual: &Planes) -> Planes {
        let mut out = Planes::zeros(self.conv_1.cout, n1.h, n1.w);
        self.conv_1.run(
            n1,
            &AddStore {
                out: Out::new(&mut out),
                bias: &self.conv_1.bias,
                residual,
            },
        );
        out
    }

    fn forward(&self, x: &Planes, grids: &mut Grids) -> Planes {
        let x_s = self
            .norm_s
            .as_ref()
            .map(|norm| self.shortcut(norm.forward(x, grids, Act::None)));
        let d0 = self.conv_0(&self.norm_0.forward(x, grids, Act::LeakyRelu));
        let n1 = self.norm_1.forward(&d0, grids, Act::LeakyRelu);
        self.conv_1(&n1, x_s.as_ref().unwrap_or(x))
    }

    /// [`Block::forward`] over a batch, each SPADE layer first taking its input's batch
    /// statistics (see [`Spade::set_batch_statistics`]).
    fn calibrate(&mut self, xs: &[Planes], grids: &mut [Grids]) -> Vec<Planes> {
        if let Some(norm) = self.norm_s.as_mut() {
            norm.set_batch_statistics(xs);
        }
        self.norm_0.set_batch_statistics(xs);
        let mut shortcuts = Vec::with_capacity(xs.len());
        let mut d0s = Vec::with_capacity(xs.len());
        for (x, g) in xs.iter().zip(grids.iter_mut()) {
            shortcuts.push(
                self.norm_s
                    .as_ref()
                    .map(|norm| self.shortcut(norm.forward(x, g, Act::None))),
            );
            d0s.push(self.conv_0(&self.norm_0.forward(x, g, Act::LeakyRelu)));
        }
        self.norm_1.set_batch_statistics(&d0s);
        d0s.iter()
            .zip(grids.iter_mut())
            .zip(shortcuts.iter().zip(xs))
            .map(|((d0, g), (s, x))| {
                let n1 = self.norm_1.forward(d0, g, Act::LeakyRelu);
                self.conv_1(&n1, s.as_ref().unwrap_or(x))
            })
            .collect()
    }
}
