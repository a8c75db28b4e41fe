//! SPADE: spatially-adaptive (de)normalisation (Park et al. 2019, arXiv 1903.07291, eq. 1).
//!
//! `out = BN(x) * (1 + gamma(seg)) + beta(seg)`, where gamma and beta are convolved from the label
//! map resized (nearest) to `x`'s resolution: `a = relu(mlp_shared(seg))`,
//! `gamma = mlp_gamma(a)`, `beta = mlp_beta(a)`. Names follow the official state dict:
//! `param_free_norm`, `mlp_shared.0`, `mlp_gamma`, `mlp_beta`.

use std::cell::RefCell;

use burn::module::{Module, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Initializer, PaddingConfig2d};
use burn::tensor::activation::{leaky_relu, relu};
use burn::tensor::module::conv2d;
use burn::tensor::module::interpolate;
use burn::tensor::ops::ConvOptions;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
use burn::tensor::{Device, Int, Tensor, TensorData};

use super::batch_norm::ParamFreeBatchNorm;

/// A 3x3 (or `k` x `k`) convolution with "same" zero padding and the official init
/// (Xavier normal, gain 0.02, zero bias).
pub fn same_conv(cin: usize, cout: usize, k: usize, device: &Device) -> Conv2d {
    let p = k / 2;
    let mut conv = Conv2dConfig::new([cin, cout], [k, k])
        .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
        .with_initializer(Initializer::XavierNormal { gain: 0.02 })
        .init(device);
    conv.bias = Some(Initializer::Zeros.init([cout], device));
    conv
}

/// The semantic input of a generator at every resolution it is needed, computed once per forward:
/// nearest downsampling of the full-resolution map, PyTorch's convention (output pixel `i` reads
/// input pixel `floor(i * in / out)`, the top-left one of each block).
///
/// With [`SegMaps::with_ids`] it also carries the class ids, and every SPADE then computes its
/// `mlp_shared` convolution as a lookup (see [`lookup_conv`]) instead of a dense convolution over
/// the one-hot map.
pub struct SegMaps {
    full: Tensor<4>,
    cache: RefCell<Vec<([usize; 2], Tensor<4>)>>,
    ids: Option<IdMaps>,
}

/// Class ids on the host, and their padded device copies per resolution.
struct IdMaps {
    classes: usize,
    dims: [usize; 3], // [B, H, W]
    ids: Vec<u16>,
    #[cfg_attr(not(feature = "gpu"), allow(dead_code))]
    kernel: bool,
    padded: RefCell<Vec<([usize; 3], Tensor<3, Int>)>>,
}

impl SegMaps {
    /// Wraps the full-resolution semantics `[B, semantic_nc, H, W]`.
    pub fn new(full: Tensor<4>) -> Self {
        Self {
            full,
            cache: RefCell::new(Vec::new()),
            ids: None,
        }
    }

    /// Adds the class ids `[B, H, W]` of `full` (the first `classes` channels of `full` must be
    /// their one-hot encoding; a further channel, the instance edges, stays dense). The SPADE
    /// layers then use the lookup path.
    pub fn with_ids(self, ids: Vec<u16>, classes: usize) -> Self {
        self.ids_with(ids, classes, true)
    }

    /// [`SegMaps::with_ids`], but the SPADE layers stay in Burn's ops (the lookup as gather and
    /// add, a folded modulation as four passes) on every backend, no WGSL kernel: the baseline
    /// the kernels are measured and checked against.
    pub fn with_ids_gather(self, ids: Vec<u16>, classes: usize) -> Self {
        self.ids_with(ids, classes, false)
    }

    fn ids_with(mut self, ids: Vec<u16>, classes: usize, kernel: bool) -> Self {
        let [b, _, h, w] = self.full.dims();
        assert_eq!(
            ids.len(),
            b * h * w,
            "ids must be [B, H, W] like the semantics"
        );
        self.ids = Some(IdMaps {
            classes,
            dims: [b, h, w],
            ids,
            kernel,
            padded: RefCell::new(Vec::new()),
        });
        self
    }

    /// Whether the SPADE layers may use the WGSL kernels.
    #[cfg(feature = "gpu")]
    fn use_kernel(&self) -> bool {
        self.ids.as_ref().is_some_and(|m| m.kernel)
    }

    /// Whether the SPADE layers use the lookup path.
    pub fn uses_lookup(&self) -> bool {
        self.ids.is_some()
    }

    /// Ids at `[h, w]` (nearest, PyTorch's convention), padded by `pad` on every side with the
    /// sentinel `classes` (a zero row of the lookup table): `[B, h + 2 pad, w + 2 pad]`.
    fn padded_ids(&self, size: [usize; 2], pad: usize) -> Option<(usize, Tensor<3, Int>)> {
        let m = self.ids.as_ref()?;
        let key = [size[0], size[1], pad];
        if let Some((_, t)) = m.padded.borrow().iter().find(|(k, _)| *k == key) {
            return Some((m.classes, t.clone()));
        }
        let [b, h, w] = m.dims;
        let [oh, ow] = size;
        let (ph, pw) = (oh + 2 * pad, ow + 2 * pad);
        let mut out = vec![m.classes as i32; b * ph * pw];
        for n in 0..b {
            for y in 0..oh {
                let sy = y * h / oh;
                for x in 0..ow {
                    let sx = x * w / ow;
                    out[(n * ph + y + pad) * pw + x + pad] = m.ids[(n * h + sy) * w + sx] as i32;
                }
            }
        }
        let t = Tensor::<3, Int>::from_data(TensorData::new(out, [b, ph, pw]), &self.full.device());
        m.padded.borrow_mut().push((key, t.clone()));
        Some((m.classes, t))
    }

    /// The channels of the semantics after the classes (the instance edges) at `[h, w]`.
    fn extra_channels_at(&self, size: [usize; 2], classes: usize) -> Option<Tensor<4>> {
        let [b, c, h, w] = self.full.dims();
        if c <= classes {
            return None;
        }
        let extra = self.full.clone().slice([0..b, classes..c, 0..h, 0..w]);
        Some(if size == [h, w] {
            extra
        } else {
            nearest_resize(extra, size)
        })
    }

    /// The full-resolution semantics.
    pub fn full(&self) -> &Tensor<4> {
        &self.full
    }

    /// The semantics at `[h, w]`.
    pub fn at(&self, size: [usize; 2]) -> Tensor<4> {
        let [_, _, h, w] = self.full.dims();
        if size == [h, w] {
            return self.full.clone();
        }
        if let Some((_, t)) = self.cache.borrow().iter().find(|(s, _)| *s == size) {
            return t.clone();
        }
        let t = nearest_resize(self.full.clone(), size);
        self.cache.borrow_mut().push((size, t.clone()));
        t
    }
}

/// Nearest resize with PyTorch's default (`floor`) convention.
pub fn nearest_resize(x: Tensor<4>, size: [usize; 2]) -> Tensor<4> {
    interpolate(
        x,
        InterpolateOptions::new(InterpolateMode::Nearest)
            .with_align_corners(false)
            .with_output_size(size),
    )
}

/// Nearest x2 upsampling (official `nn.Upsample(scale_factor=2)`): each pixel becomes a 2x2 block.
pub fn upsample2(x: Tensor<4>) -> Tensor<4> {
    let [b, c, h, w] = x.dims();
    x.reshape([b, c, h, 1, w, 1])
        .expand([b, c, h, 2, w, 2])
        .reshape([b, c, 2 * h, 2 * w])
}

/// One SPADE layer.
#[derive(Module, Debug)]
pub struct Spade {
    /// Batch norm without affine parameters.
    pub param_free_norm: ParamFreeBatchNorm,
    /// `semantic_nc -> hidden`, followed by ReLU (official `mlp_shared.0`).
    pub mlp_shared: Conv2d,
    /// `hidden -> norm_nc`: the scale (used as `1 + gamma`).
    pub mlp_gamma: Conv2d,
    /// `hidden -> norm_nc`: the shift.
    pub mlp_beta: Conv2d,
    /// For inference (see [`Spade::fold`]): the modulation with the eval batch norm folded in.
    pub folded: Option<FoldedModulation>,
}

/// A SPADE layer's modulation for inference: `(x - mean) * scale + beta` with
/// `[scale; beta] = conv(actv)`, `scale = (1 + gamma) / sqrt(var + eps)`.
#[derive(Module, Debug)]
pub struct FoldedModulation {
    /// `hidden -> 2 norm_nc`: `mlp_gamma` scaled by the batch norm, and `mlp_beta`.
    pub conv: Conv2d,
    /// The batch norm's running mean `[norm_nc]`.
    pub mean: burn::module::Param<Tensor<1>>,
}

/// Builds a [`Spade`].
#[derive(burn::config::Config, Debug)]
pub struct SpadeConfig {
    /// Channels of the normalised activation.
    pub norm_nc: usize,
    /// Channels of the semantic input.
    pub semantic_nc: usize,
    /// Hidden width (official 128).
    #[config(default = 128)]
    pub hidden: usize,
    /// Kernel side (official 3).
    #[config(default = 3)]
    pub kernel: usize,
}

impl SpadeConfig {
    /// A freshly initialised layer.
    pub fn init(&self, device: &Device) -> Spade {
        Spade {
            param_free_norm: ParamFreeBatchNorm::new(self.norm_nc, device),
            mlp_shared: same_conv(self.semantic_nc, self.hidden, self.kernel, device),
            mlp_gamma: same_conv(self.hidden, self.norm_nc, self.kernel, device),
            mlp_beta: same_conv(self.hidden, self.norm_nc, self.kernel, device),
            folded: None,
        }
    }
}

impl Spade {
    /// `x`: `[B, norm_nc, H, W]`; `seg`: semantics. Returns `[B, norm_nc, H, W]`.
    pub fn forward(&self, x: Tensor<4>, seg: &SegMaps) -> Tensor<4> {
        self.forward_act(x, seg, false)
    }

    /// [`Spade::forward`], followed by the residual block's leaky ReLU (slope 0.2) when `leaky`
    /// (fused into the modulation kernel where there is one).
    pub fn forward_act(&self, x: Tensor<4>, seg: &SegMaps, leaky: bool) -> Tensor<4> {
        let out = match &self.folded {
            Some(folded) => {
                let [b, c, h, w] = x.dims();
                let actv = self.shared_activation([h, w], seg);
                let scale_beta = folded.conv.forward(actv); // [B, 2C, H, W]
                #[cfg(feature = "gpu")]
                if seg.use_kernel()
                    && let Some(out) =
                        crate::gpu::modulate::modulate(&x, &scale_beta, &folded.mean.val(), leaky)
                {
                    return out;
                }
                let scale = scale_beta.clone().slice([0..b, 0..c, 0..h, 0..w]);
                let beta = scale_beta.slice([0..b, c..2 * c, 0..h, 0..w]);
                let mean = folded.mean.val().reshape([1, c, 1, 1]);
                x.sub(mean).mul(scale).add(beta)
            }
            None => {
                let (gamma, beta) = self.gamma_beta(x.dims(), seg);
                let normalized = self.param_free_norm.forward(x);
                normalized.mul(gamma.add_scalar(1.0)).add(beta)
            }
        };
        if leaky {
            leaky_relu(out, super::resblock::LRELU_SLOPE)
        } else {
            out
        }
    }

    /// The modulation `(gamma, beta)` for an activation of shape `dims`.
    pub fn gamma_beta(&self, dims: [usize; 4], seg: &SegMaps) -> (Tensor<4>, Tensor<4>) {
        let actv = self.shared_activation([dims[2], dims[3]], seg); // [B, hidden, H, W]
        (
            self.mlp_gamma.forward(actv.clone()),
            self.mlp_beta.forward(actv),
        )
    }

    /// `relu(mlp_shared(seg))` at `size`: `[B, hidden, H, W]`.
    fn shared_activation(&self, size: [usize; 2], seg: &SegMaps) -> Tensor<4> {
        match lookup_conv_act(&self.mlp_shared, seg, size, true) {
            Some(t) => t,
            None => relu(self.mlp_shared.forward(seg.at(size))),
        }
    }

    /// For inference: folds the eval-mode batch norm into `mlp_gamma` and fuses it with
    /// `mlp_beta` into one convolution: `out = (x - mean) * scale + beta` with
    /// `[scale; beta] = folded(actv)`, `scale = inv * (1 + gamma)`, `inv = 1 / sqrt(var + eps)`
    /// (linear in `actv`). One convolution instead of two, three elementwise passes instead of
    /// five. (The mean is subtracted first rather than folded into a shift, which would cancel
    /// large terms.) Such a layer must not be trained or saved.
    pub fn fold(&mut self) {
        let norm = &self.param_free_norm;
        let mean = norm.running_mean.value(); // [C]
        let inv = norm
            .running_var
            .value()
            .add_scalar(norm.epsilon)
            .sqrt()
            .recip(); // [C]
        let wg = self.mlp_gamma.weight.val(); // [C, hidden, k, k]
        let [c, hidden, kh, _] = wg.dims();
        let bias = |conv: &Conv2d| match &conv.bias {
            Some(b) => b.val(),
            None => mean.zeros_like(),
        };
        let w_scale = wg.mul(inv.clone().reshape([c, 1, 1, 1]));
        let b_scale = bias(&self.mlp_gamma).add_scalar(1.0).mul(inv);
        let mut conv = same_conv(hidden, 2 * c, kh, &w_scale.device());
        conv.weight = Param::from_tensor(Tensor::cat(vec![w_scale, self.mlp_beta.weight.val()], 0));
        conv.bias = Some(Param::from_tensor(Tensor::cat(
            vec![b_scale, bias(&self.mlp_beta)],
            0,
        )));
        self.folded = Some(FoldedModulation {
            conv,
            mean: Param::from_tensor(mean),
        });
    }
}

/// A "same"-padded, stride-1 convolution over the one-hot semantics, computed from the class ids
/// (issue "Speed"): the one-hot input makes each output pixel the bias plus, for each of the
/// k x k kernel taps, the weight column of the class under that tap; zero padding reads a zero
/// row. Further (dense) channels, the instance edges, go through an ordinary convolution and are
/// added. Same result as the dense convolution up to float summation order, about `classes`
/// times fewer operations; differentiable (a gather), so training gets it too.
/// `None` when `seg` carries no ids.
///
/// On wgpu (outside training) the gather and sum run as one WGSL kernel
/// (`shaders/spade_lookup.wgsl`, see [`crate::gpu::lookup`]) unless the ids were given with
/// [`SegMaps::with_ids_gather`].
pub fn lookup_conv(conv: &Conv2d, seg: &SegMaps, size: [usize; 2]) -> Option<Tensor<4>> {
    lookup_conv_act(conv, seg, size, false)
}

/// [`lookup_conv`], followed by ReLU when `relu` (fused into the kernel where there is one).
fn lookup_conv_act(
    conv: &Conv2d,
    seg: &SegMaps,
    size: [usize; 2],
    relu_after: bool,
) -> Option<Tensor<4>> {
    let weight = conv.weight.val(); // [hidden, semantic_nc, k, k]
    let [hidden, _, kh, kw] = weight.dims();
    let pad = kh / 2;
    let (classes, ids) = seg.padded_ids(size, pad)?; // [B, H + 2p, W + 2p]
    let [b, _, _] = ids.dims();
    let [h, w] = size;
    // Table: [k*k, classes + 1, hidden], the last row of each tap zero (padding).
    let table = weight
        .clone()
        .slice([0..hidden, 0..classes, 0..kh, 0..kw])
        .permute([2, 3, 1, 0]) // [k, k, classes, hidden]
        .reshape([kh * kw, classes, hidden]);
    let zero_row = table
        .clone()
        .slice([0..kh * kw, 0..1, 0..hidden])
        .zeros_like(); // its dtype
    let table = Tensor::cat(vec![table, zero_row], 1).reshape([kh * kw * (classes + 1), hidden]);
    let extra = seg.extra_channels_at(size, classes);
    let bias = conv.bias.as_ref().map(|b| b.val());
    #[cfg(feature = "gpu")]
    if seg.use_kernel() && kh == kw {
        let fused_relu = relu_after && extra.is_none();
        if let Some(out) =
            crate::gpu::lookup::lookup_sum(&table, &ids, bias.as_ref(), kh, fused_relu)
        {
            let out = add_extra(out, extra, &weight, classes, pad);
            return Some(if relu_after && !fused_relu {
                relu(out)
            } else {
                out
            });
        }
    }
    let mut acc: Option<Tensor<2>> = None;
    for ky in 0..kh {
        for kx in 0..kw {
            let tap = (ky * kw + kx) * (classes + 1);
            let index = ids
                .clone()
                .slice([0..b, ky..ky + h, kx..kx + w])
                .reshape([b * h * w])
                .add_scalar(tap as i64);
            let rows = table.clone().select(0, index); // [B*H*W, hidden]
            acc = Some(match acc {
                Some(a) => a.add(rows),
                None => rows,
            });
        }
    }
    let mut out = acc
        .expect("a kernel has at least one tap")
        .reshape([b, h, w, hidden])
        .permute([0, 3, 1, 2]); // [B, hidden, H, W]
    if let Some(bias) = bias {
        out = out.add(bias.reshape([1, hidden, 1, 1]));
    }
    let out = add_extra(out, extra, &weight, classes, pad);
    Some(if relu_after { relu(out) } else { out })
}

/// Adds the dense convolution of the channels after the classes (the instance edges), if any.
fn add_extra(
    out: Tensor<4>,
    extra: Option<Tensor<4>>,
    weight: &Tensor<4>,
    classes: usize,
    pad: usize,
) -> Tensor<4> {
    let Some(extra) = extra else { return out };
    let [hidden, sem_nc, kh, kw] = weight.dims();
    let w_extra = weight
        .clone()
        .slice([0..hidden, classes..sem_nc, 0..kh, 0..kw]);
    out.add(conv2d(
        extra,
        w_extra,
        None,
        ConvOptions::new([1, 1], [pad, pad], [1, 1], 1),
    ))
}
