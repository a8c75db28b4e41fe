//! Moving weights between a [`StateDict`] (official key names, PyTorch layouts) and the Burn
//! modules. One walk per module lists its keys; a [`Walker`] either fills the module from a state
//! dict (checking every shape) or writes the module out, so loading and saving cannot disagree.

use burn::module::{Param, RunningState};
use burn::nn::Linear;
use burn::nn::conv::Conv2d;
use burn::tensor::{Device, FloatDType, Tensor, TensorData};

use super::state_dict::{StateDict, StateTensor, WeightReader, WeightsError};
use crate::model::spade::Spade;
use crate::model::spectral_norm::SpectralConv2d;
use crate::model::{Encoder, EncoderConfig, Generator, GeneratorConfig, resblock::SpadeResBlock};

/// Visits a module's tensors by their official names.
pub trait Walker {
    /// A float parameter in PyTorch layout.
    fn param<const D: usize>(&mut self, key: &str, p: &mut Param<Tensor<D>>);
    /// A `Linear` weight: PyTorch `[out, in]`, Burn `[in, out]`.
    fn linear_weight(&mut self, key: &str, p: &mut Param<Tensor<2>>);
    /// A buffer (running statistics, power-iteration vectors).
    fn state<const D: usize>(&mut self, key: &str, s: &mut RunningState<Tensor<D>>);
    /// A key that may be present and carries nothing we use (`num_batches_tracked`).
    fn ignore(&mut self, key: &str);
}

fn to_host<const D: usize>(t: Tensor<D>) -> StateTensor {
    let shape = t.dims().to_vec();
    let data = t
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("float tensor");
    StateTensor::new(shape, data)
}

fn from_host<const D: usize>(
    data: Vec<f32>,
    shape: [usize; D],
    device: &Device,
    dtype: FloatDType,
) -> Tensor<D> {
    let t = Tensor::from_data(TensorData::new(data, shape), device);
    if dtype == FloatDType::F32 {
        t
    } else {
        t.cast(dtype)
    }
}

fn fresh_param<const D: usize>(old: &Param<Tensor<D>>, t: Tensor<D>) -> Param<Tensor<D>> {
    let mut p = Param::from_tensor(t);
    p.id = old.id;
    p
}

/// Fills modules from a state dict.
pub struct Loader<'a> {
    reader: WeightReader,
    device: &'a Device,
    dtype: FloatDType,
}

impl<'a> Loader<'a> {
    /// Starts loading from `sd` onto `device`.
    pub fn new(sd: StateDict, device: &'a Device) -> Self {
        Self::with_dtype(sd, device, FloatDType::F32)
    }

    /// Starts loading from `sd` onto `device`, storing every tensor as `dtype`.
    pub fn with_dtype(sd: StateDict, device: &'a Device, dtype: FloatDType) -> Self {
        Self {
            reader: WeightReader::new(sd),
            device,
            dtype,
        }
    }

    /// Ends loading: reports missing, mis-shaped and unexpected keys.
    pub fn finish(self) -> Result<(), WeightsError> {
        self.reader.finish()
    }
}

impl Walker for Loader<'_> {
    fn param<const D: usize>(&mut self, key: &str, p: &mut Param<Tensor<D>>) {
        let shape: [usize; D] = p.lazy_shape().dims();
        let data = self.reader.take(key, &shape);
        *p = fresh_param(p, from_host(data, shape, self.device, self.dtype));
    }

    fn linear_weight(&mut self, key: &str, p: &mut Param<Tensor<2>>) {
        let [i, o] = p.lazy_shape().dims();
        let data = self.reader.take(key, &[o, i]);
        // Transposed on the host: a device-side transpose would leave a strided view, which
        // some kernels sum in another order than a contiguous tensor (a resumed run would then
        // drift from an uninterrupted one by rounding).
        let mut t = vec![0f32; data.len()];
        for r in 0..o {
            for c in 0..i {
                t[c * o + r] = data[r * i + c];
            }
        }
        *p = fresh_param(p, from_host(t, [i, o], self.device, self.dtype));
    }

    fn state<const D: usize>(&mut self, key: &str, s: &mut RunningState<Tensor<D>>) {
        let shape: [usize; D] = s.value().dims();
        let data = self.reader.take(key, &shape);
        s.update(from_host(data, shape, self.device, self.dtype));
        // `update` only stages the value for this thread; syncing commits it, so that `value()`
        // (what inference reads) sees the loaded tensor on every thread.
        let _ = s.value_sync();
    }

    fn ignore(&mut self, key: &str) {
        self.reader.skip(key);
    }
}

/// Writes modules out to a state dict.
#[derive(Default)]
pub struct Saver {
    /// The collected tensors.
    pub sd: StateDict,
}

impl Walker for Saver {
    fn param<const D: usize>(&mut self, key: &str, p: &mut Param<Tensor<D>>) {
        self.sd.insert(key, to_host(p.val()));
    }

    fn linear_weight(&mut self, key: &str, p: &mut Param<Tensor<2>>) {
        self.sd.insert(key, to_host(p.val().transpose()));
    }

    fn state<const D: usize>(&mut self, key: &str, s: &mut RunningState<Tensor<D>>) {
        self.sd.insert(key, to_host(s.value_sync()));
    }

    fn ignore(&mut self, _key: &str) {}
}

fn conv(w: &mut impl Walker, prefix: &str, c: &mut Conv2d) {
    w.param(&format!("{prefix}.weight"), &mut c.weight);
    if let Some(b) = c.bias.as_mut() {
        w.param(&format!("{prefix}.bias"), b);
    }
}

fn linear(w: &mut impl Walker, prefix: &str, l: &mut Linear) {
    w.linear_weight(&format!("{prefix}.weight"), &mut l.weight);
    if let Some(b) = l.bias.as_mut() {
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

fn spade(w: &mut impl Walker, prefix: &str, s: &mut Spade) {
    let bn = format!("{prefix}.param_free_norm");
    w.state(
        &format!("{bn}.running_mean"),
        &mut s.param_free_norm.running_mean,
    );
    w.state(
        &format!("{bn}.running_var"),
        &mut s.param_free_norm.running_var,
    );
    w.ignore(&format!("{bn}.num_batches_tracked"));
    conv(w, &format!("{prefix}.mlp_shared.0"), &mut s.mlp_shared);
    conv(w, &format!("{prefix}.mlp_gamma"), &mut s.mlp_gamma);
    conv(w, &format!("{prefix}.mlp_beta"), &mut s.mlp_beta);
}

fn resblock(w: &mut impl Walker, prefix: &str, b: &mut SpadeResBlock) {
    spectral(w, &format!("{prefix}.conv_0"), &mut b.conv_0);
    spectral(w, &format!("{prefix}.conv_1"), &mut b.conv_1);
    if let Some(c) = b.conv_s.as_mut() {
        spectral(w, &format!("{prefix}.conv_s"), c);
    }
    spade(w, &format!("{prefix}.norm_0"), &mut b.norm_0);
    spade(w, &format!("{prefix}.norm_1"), &mut b.norm_1);
    if let Some(n) = b.norm_s.as_mut() {
        spade(w, &format!("{prefix}.norm_s"), n);
    }
}

/// Walks every tensor of a generator under `prefix` (`""` for the official netG layout).
pub fn walk_generator(w: &mut impl Walker, prefix: &str, g: &mut Generator) {
    let k = |s: &str| format!("{prefix}{s}");
    if let Some(fc) = g.fc_conv.as_mut() {
        conv(w, &k("fc"), fc);
    }
    if let Some(fc) = g.fc_linear.as_mut() {
        linear(w, &k("fc"), fc);
    }
    resblock(w, &k("head_0"), &mut g.head_0);
    resblock(w, &k("G_middle_0"), &mut g.g_middle_0);
    resblock(w, &k("G_middle_1"), &mut g.g_middle_1);
    resblock(w, &k("up_0"), &mut g.up_0);
    resblock(w, &k("up_1"), &mut g.up_1);
    resblock(w, &k("up_2"), &mut g.up_2);
    resblock(w, &k("up_3"), &mut g.up_3);
    if let Some(b) = g.up_4.as_mut() {
        resblock(w, &k("up_4"), b);
    }
    conv(w, &k("conv_img"), &mut g.conv_img);
}

/// Walks every tensor of an encoder under `prefix` (`""` for the official netE layout).
pub fn walk_encoder(w: &mut impl Walker, prefix: &str, e: &mut Encoder) {
    for (i, layer) in e.layers.iter_mut().enumerate() {
        spectral(w, &format!("{prefix}layer{}.0", i + 1), layer);
    }
    linear(w, &format!("{prefix}fc_mu"), &mut e.fc_mu);
    linear(w, &format!("{prefix}fc_var"), &mut e.fc_var);
}

/// Builds a generator from official-layout weights.
pub fn load_generator(
    cfg: &GeneratorConfig,
    sd: StateDict,
    device: &Device,
) -> Result<Generator, WeightsError> {
    load_generator_as(cfg, sd, device, FloatDType::F32)
}

/// [`load_generator`] with every weight and buffer stored as `dtype` (f16 on GPUs).
pub fn load_generator_as(
    cfg: &GeneratorConfig,
    sd: StateDict,
    device: &Device,
    dtype: FloatDType,
) -> Result<Generator, WeightsError> {
    let mut g = cfg.init(device);
    let mut loader = Loader::with_dtype(sd, device, dtype);
    walk_generator(&mut loader, "", &mut g);
    loader.finish()?;
    Ok(g)
}

/// Builds an encoder from official-layout weights.
pub fn load_encoder(
    cfg: &EncoderConfig,
    sd: StateDict,
    device: &Device,
) -> Result<Encoder, WeightsError> {
    let mut e = cfg.init(device);
    let mut loader = Loader::new(sd, device);
    walk_encoder(&mut loader, "", &mut e);
    loader.finish()?;
    Ok(e)
}

/// The official-layout state dict of a generator.
pub fn generator_state_dict(g: &Generator) -> StateDict {
    let mut s = Saver::default();
    let mut g = g.clone();
    walk_generator(&mut s, "", &mut g);
    s.sd
}

/// The official-layout state dict of an encoder.
pub fn encoder_state_dict(e: &Encoder) -> StateDict {
    let mut s = Saver::default();
    let mut e = e.clone();
    walk_encoder(&mut s, "", &mut e);
    s.sd
}
