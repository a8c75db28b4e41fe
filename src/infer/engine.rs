//! The inference engine: a loaded model on a device, turning label maps (and a style) into photos.
//! Used by the CLI, the app's worker thread and the benchmarks alike.

use burn::tensor::{Device, FloatDType, Tensor, TensorData};
use image::RgbImage;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

use super::cpu::CpuGenerator;
use super::image::{rgb_to_tensor, tensor_to_rgb};
use crate::checkpoint::convert::{load_encoder, load_generator_as};
use crate::checkpoint::{ModelFile, WeightsError};
use crate::labels::encode::{instance_edges, semantics};
use crate::labels::{InstanceMap, LabelMap, Palette};
use crate::model::{Encoder, Generator, GeneratorConfig, SegMaps};

/// A synthesised image: `[3, H, W]` floats in `[-1, 1]` (the raw tanh output).
#[derive(Debug, Clone, PartialEq)]
pub struct Photo {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Channel-major values.
    pub data: Vec<f32>,
}

impl Photo {
    /// As an 8-bit image, converted like the official `tensor2im`.
    pub fn to_rgb(&self) -> RgbImage {
        tensor_to_rgb(&self.data, self.width, self.height)
    }

    /// Reads a generator output `[1, 3, H, W]` back from its device.
    pub fn from_output(out: Tensor<4>) -> Photo {
        let [_, _, h, w] = out.dims();
        let data = out
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("a float tensor reads back as f32");
        Photo {
            width: w,
            height: h,
            data,
        }
    }
}

/// The latent style: `z` for a VAE generator.
#[derive(Debug, Clone, PartialEq)]
pub struct Style {
    /// The vector fed to the generator's `fc`.
    pub z: Vec<f32>,
}

impl Style {
    /// `(1 - t) * a + t * b`.
    pub fn blend(a: &Style, b: &Style, t: f32) -> Style {
        Style {
            z: a.z.iter().zip(&b.z).map(|(x, y)| x + (y - x) * t).collect(),
        }
    }
}

/// Why synthesis failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{0}")]
    Weights(#[from] WeightsError),
    #[error("this model has no image encoder: styles can only be random (dice)")]
    NoEncoder,
    #[error("label value {value} at {count} pixels is outside the model's {classes} classes")]
    LabelRange {
        value: u32,
        count: usize,
        classes: usize,
    },
    #[error("the instance map is {0}x{1} but the label map is {2}x{3}")]
    InstanceSize(usize, usize, usize, usize),
    #[error("style vector has {found} values, the model takes {expected}")]
    StyleSize { found: usize, expected: usize },
    #[error("half precision needs a GPU that computes in f16, and this device does not")]
    NoHalf,
}

/// The float type the generator computes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    /// f32 everywhere (the parity bound of the core issue holds).
    #[default]
    Full,
    /// f16 weights and activations on a GPU with f16 support (half the memory traffic). The
    /// photo stays within max |diff| 5e-2 and mean 5e-3 of the f32 one (`tests/parity.rs`).
    Half,
}

/// The ways the generator can run. All give the same numbers up to float summation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SynthPath {
    /// The Burn generator, with dense convolutions over the one-hot map: the naive path (the
    /// baseline of `gaugan bench`).
    Dense,
    /// The Burn generator with the SPADE `mlp_shared` convolutions as lookups from the class ids
    /// (the default on a GPU).
    Lookup,
    /// The folded generator and the hand-written CPU kernels of [`super::cpu`] (the default on
    /// the CPU backend; only there).
    Kernels,
}

/// A model loaded on a device.
pub struct Synthesizer {
    /// Where it runs.
    pub device: Device,
    /// Generator shape.
    pub config: GeneratorConfig,
    /// The generator.
    pub generator: Generator,
    /// The encoder, if the model has one.
    pub encoder: Option<Encoder>,
    /// Class names and colours.
    pub palette: Palette,
    /// How the generator runs; [`Synthesizer::new`] picks the fastest path for the device.
    pub path: SynthPath,
    /// On the lookup path on wgpu: the SPADE layers on the WGSL kernels (`true`, the default:
    /// the lookup, and the folded modulation with its leaky ReLU) or in Burn's ops (the lookup as
    /// gather and adds; the baseline the kernels are checked and measured against).
    pub wgsl_kernels: bool,
    /// On the lookup path: run the folded copy of the generator (`true`, the default; spectral
    /// and batch norm in the weights, `mlp_gamma` + `mlp_beta` as one convolution) or the
    /// generator as loaded (the baseline the folding is measured against).
    pub fold: bool,
    /// The folded generator (off the CPU backend, whose kernels fold on their own).
    folded: Option<Generator>,
    /// The float type of the generator (fixed at load).
    precision: Precision,
    /// The CPU path's generator (present on the CPU backend).
    cpu: Option<CpuGenerator>,
}

impl Synthesizer {
    /// Loads a model file onto `device`.
    pub fn new(model: &ModelFile, device: Device) -> Result<Self, EngineError> {
        Self::with_precision(model, device, Precision::Full)
    }

    /// Loads a model file onto `device`, its generator computing in `precision`. Half precision
    /// is for GPUs that support f16 (an error elsewhere, the CPU backend included).
    pub fn with_precision(
        model: &ModelFile,
        device: Device,
        precision: Precision,
    ) -> Result<Self, EngineError> {
        let on_cpu = device.clone().inner() == Device::flex();
        let dtype = match precision {
            Precision::Full => FloatDType::F32,
            Precision::Half if !on_cpu && device.supports_dtype(FloatDType::F16) => FloatDType::F16,
            Precision::Half => return Err(EngineError::NoHalf),
        };
        let generator = load_generator_as(
            &model.generator,
            model.generator_weights.clone(),
            &device,
            dtype,
        )?;
        // f16 runs the generator as loaded: folded, its error against the f32 output doubled
        // (measured on lavapipe: mean 2.1e-3 against 1.1e-3).
        let folded = (!on_cpu && dtype == FloatDType::F32).then(|| generator.folded());
        let encoder = match &model.encoder {
            Some(cfg) => Some(load_encoder(cfg, model.encoder_weights.clone(), &device)?),
            None => None,
        };
        let cpu = if on_cpu {
            Some(CpuGenerator::from_state_dict(
                &model.generator,
                model.generator_weights.clone(),
            )?)
        } else {
            None
        };
        Ok(Self {
            device,
            config: model.generator.clone(),
            generator,
            encoder,
            palette: model.palette.clone(),
            path: if on_cpu {
                SynthPath::Kernels
            } else {
                SynthPath::Lookup
            },
            wgsl_kernels: true,
            fold: true,
            folded,
            precision,
            cpu,
        })
    }

    /// The float type the generator computes in.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// The CPU path's generator, to switch its options (present on the CPU backend).
    pub fn cpu_generator_mut(&mut self) -> Option<&mut CpuGenerator> {
        self.cpu.as_mut()
    }

    /// Output `[height, width]`.
    pub fn output_size(&self) -> [usize; 2] {
        self.config.output_size()
    }

    /// Whether the generator takes a style vector.
    pub fn uses_style(&self) -> bool {
        self.config.z_dim.is_some()
    }

    /// A random style from a seeded standard normal draw (the same on every backend).
    pub fn random_style(&self, seed: u64) -> Option<Style> {
        let n = self.config.z_dim?;
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        Some(Style {
            z: (0..n).map(|_| StandardNormal.sample(&mut rng)).collect(),
        })
    }

    /// Encodes a style image (any size) into `(mu, logvar)`; the style is `z = mu`.
    pub fn encode_image(&self, img: &RgbImage) -> Result<(Style, Vec<f32>), EngineError> {
        let [h, w] = self.output_size();
        self.encode_tensor(rgb_to_tensor(img, w, h), h, w)
    }

    /// Encodes `[3, H, W]` values in `[-1, 1]`.
    pub fn encode_tensor(
        &self,
        chw: Vec<f32>,
        height: usize,
        width: usize,
    ) -> Result<(Style, Vec<f32>), EngineError> {
        let enc = self.encoder.as_ref().ok_or(EngineError::NoEncoder)?;
        let x = Tensor::<4>::from_data(TensorData::new(chw, [1, 3, height, width]), &self.device);
        let (mu, logvar) = enc.forward(x);
        let mu = mu
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .unwrap();
        let logvar = logvar
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .unwrap();
        Ok((Style { z: mu }, logvar))
    }

    /// The semantic input `[1, semantic_nc, H, W]` for a label map at the model's size.
    pub fn semantics_tensor(
        &self,
        labels: &LabelMap,
        instance: Option<&InstanceMap>,
    ) -> Result<Tensor<4>, EngineError> {
        self.prepare(labels, instance).map(|(t, _)| t)
    }

    /// The generator's semantic input for a label map: the one-hot tensor, plus the class ids on
    /// the lookup path.
    pub fn seg_maps(
        &self,
        labels: &LabelMap,
        instance: Option<&InstanceMap>,
    ) -> Result<SegMaps, EngineError> {
        let (sem, ids) = self.prepare(labels, instance)?;
        let seg = SegMaps::new(self.in_precision(sem));
        let classes = self.config.labels.classes();
        Ok(match (self.path, self.wgsl_kernels) {
            (SynthPath::Dense, _) => seg,
            (_, true) => seg.with_ids(ids, classes),
            (_, false) => seg.with_ids_gather(ids, classes),
        })
    }

    /// `[1, semantic_nc, H, W]` semantics and the `[H, W]` ids at the model's size.
    fn prepare(
        &self,
        labels: &LabelMap,
        instance: Option<&InstanceMap>,
    ) -> Result<(Tensor<4>, Vec<u16>), EngineError> {
        let (labels, instance) = self.at_model_size(labels, instance)?;
        let [h, w] = self.output_size();
        let classes = self.config.labels.classes();
        let mut sem = semantics(&labels, classes, instance.as_ref());
        if self.config.labels.instance && instance.is_none() {
            // No instance map: no edges (a zero channel).
            sem.resize(sem.len() + w * h, 0.0);
        }
        let c = self.config.labels.semantic_nc();
        Ok((
            Tensor::from_data(TensorData::new(sem, [1, c, h, w]), &self.device),
            labels.data().to_vec(),
        ))
    }

    /// The label map (and the instance map, when the model reads one) checked and resized
    /// (nearest) to the model's size.
    fn at_model_size(
        &self,
        labels: &LabelMap,
        instance: Option<&InstanceMap>,
    ) -> Result<(LabelMap, Option<InstanceMap>), EngineError> {
        let [h, w] = self.output_size();
        let classes = self.config.labels.classes();
        if let Some(&(value, count)) = labels.out_of_range(classes).first() {
            return Err(EngineError::LabelRange {
                value,
                count,
                classes,
            });
        }
        if let Some(i) = instance
            && (i.width(), i.height()) != (labels.width(), labels.height())
        {
            return Err(EngineError::InstanceSize(
                i.width(),
                i.height(),
                labels.width(),
                labels.height(),
            ));
        }
        let labels = if (labels.width(), labels.height()) != (w, h) {
            labels.resize_nearest(w, h)
        } else {
            labels.clone()
        };
        let instance = match instance {
            Some(i) if self.config.labels.instance => Some(if (i.width(), i.height()) != (w, h) {
                i.resize_nearest(w, h)
            } else {
                i.clone()
            }),
            _ => None,
        };
        Ok((labels, instance))
    }

    /// The style vector of a request, checked (VAE generators; `None` draws seed 0).
    fn style_vector(&self, style: Option<&Style>) -> Result<Option<Vec<f32>>, EngineError> {
        let Some(n) = self.config.z_dim else {
            return Ok(None);
        };
        let s = match style {
            Some(s) => s.clone(),
            None => self.random_style(0).expect("a VAE model has a style size"),
        };
        if s.z.len() != n {
            return Err(EngineError::StyleSize {
                found: s.z.len(),
                expected: n,
            });
        }
        Ok(Some(s.z))
    }

    /// Synthesises a photo. Label maps of another size are resized (nearest) to the model's.
    /// `style` is used by VAE generators (`None` draws seed 0); others ignore it.
    pub fn synthesize(
        &self,
        labels: &LabelMap,
        instance: Option<&InstanceMap>,
        style: Option<&Style>,
    ) -> Result<Photo, EngineError> {
        let z = self.style_vector(style)?;
        if let (SynthPath::Kernels, Some(cpu)) = (self.path, &self.cpu) {
            let (labels, instance) = self.at_model_size(labels, instance)?;
            let (w, h) = (labels.width(), labels.height());
            let extra = match (&instance, self.config.labels.instance) {
                (Some(i), true) => instance_edges(i),
                (None, true) => vec![0.0; w * h],
                _ => Vec::new(),
            };
            let data = cpu.forward(labels.data(), &extra, (h, w), z.as_deref());
            return Ok(Photo {
                width: w,
                height: h,
                data,
            });
        }
        let out = self
            .synthesize_on_device(labels, instance, style)?
            .expect("every path but the CPU kernels has a device output");
        Ok(Photo::from_output(out))
    }

    /// The generator's output `[1, 3, H, W]` left on the device (for a display that reads it
    /// there, see [`crate::gpu::photo`]); `None` on the CPU kernels path, which has no device
    /// tensor. Same conventions as [`Synthesizer::synthesize`].
    pub fn synthesize_on_device(
        &self,
        labels: &LabelMap,
        instance: Option<&InstanceMap>,
        style: Option<&Style>,
    ) -> Result<Option<Tensor<4>>, EngineError> {
        if self.path == SynthPath::Kernels && self.cpu.is_some() {
            return Ok(None);
        }
        let z = self.style_vector(style)?;
        let seg = self.seg_maps(labels, instance)?;
        let z = z.map(|z| {
            let n = z.len();
            self.in_precision(Tensor::<2>::from_data(
                TensorData::new(z, [1, n]),
                &self.device,
            ))
        });
        let generator = match (&self.folded, self.fold, self.path) {
            (Some(folded), true, SynthPath::Lookup) => folded,
            _ => &self.generator,
        };
        let out = generator.forward(&seg, z);
        Ok(Some(match self.precision {
            Precision::Full => out,
            Precision::Half => out.cast(FloatDType::F32),
        }))
    }

    /// An f32 input in the generator's float type.
    fn in_precision<const D: usize>(&self, t: Tensor<D>) -> Tensor<D> {
        match self.precision {
            Precision::Full => t,
            Precision::Half => t.cast(FloatDType::F16),
        }
    }
}
