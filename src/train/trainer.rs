//! The SPADE training loop (official `Pix2PixTrainer` + `Pix2PixModel`): per step, one generator
//! update then one discriminator update on the same batch, two Adam optimisers (TTUR: G+E at
//! `lr_g`, D at `lr_d`, betas (0, 0.9)), learning rates decaying linearly to 0 over the last
//! `decay_steps`.
//!
//! Generator step: `z = mu + eps * exp(logvar / 2)` from the real photo (VAE), `fake = G(seg, z)`,
//! D sees `[seg | fake]` and `[seg | real]` in one batch (so spectral norm iterates once), loss =
//! hinge G + `lambda_feat` * feature matching (+ `lambda_vgg` * VGG) (+ `lambda_kld` * KL).
//! Discriminator step: a fresh fake from the updated G (no gradient to G), loss = hinge D on fake
//! + hinge D on real.
//!
//! Everything random comes from the run's seed and the step number ([`super::rng`]), so a run
//! resumed from a checkpoint continues exactly like an uninterrupted one.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};
use image::RgbImage;

use super::TrainConfig;
use super::adam::ModuleAdam;
use super::checkpoint::{self, CheckpointError, DataFingerprint, TrainState};
use super::data::{BatchLoader, Pair, Preprocess};
use super::init::HostInit;
use super::loss;
use super::recalibrate::{CalibrationSample, calibration_samples, recalibrate};
use super::rng::{SplitMix, stream};
use crate::checkpoint::convert::{
    Loader, Saver, encoder_state_dict, generator_state_dict, walk_encoder, walk_generator,
};
use crate::checkpoint::pth::read_pth;
use crate::checkpoint::{ModelFile, Provenance, StateDict, StateTensor, WeightsError};
use crate::infer::image::tensor_to_rgb;
use crate::labels::Palette;
use crate::model::discriminator::{
    DiscriminatorConfig, MultiscaleDiscriminator, walk_discriminator,
};
use crate::model::vgg::Vgg19;
use crate::model::{Encoder, EncoderConfig, Generator, GeneratorConfig, LabelChannels, SegMaps};
use crate::util::atomic::write_atomic;

/// Salts of the networks' initial-weight streams.
const SALT_G: u64 = 0x47;
const SALT_E: u64 = 0x45;
const SALT_D: u64 = 0x44;

/// The generator and its encoder: what the generator optimiser updates (official: one Adam over
/// `netG` and `netE` parameters).
#[derive(Module, Debug)]
pub struct GenEnc {
    /// Official `netG`.
    pub generator: Generator,
    /// Official `netE` (VAE only).
    pub encoder: Option<Encoder>,
}

/// The losses of one step (weighted, as they enter the totals).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Losses {
    /// Hinge GAN loss of G.
    pub g_gan: f32,
    /// Feature matching, times `lambda_feat`.
    pub g_feat: f32,
    /// VGG loss, times `lambda_vgg` (0 when off).
    pub g_vgg: f32,
    /// KL divergence, times `lambda_kld` (0 without VAE).
    pub g_kld: f32,
    /// D's hinge loss on fakes.
    pub d_fake: f32,
    /// D's hinge loss on reals.
    pub d_real: f32,
}

impl Losses {
    /// G's total loss.
    pub fn g_total(&self) -> f32 {
        self.g_gan + self.g_feat + self.g_vgg + self.g_kld
    }

    /// D's total loss.
    pub fn d_total(&self) -> f32 {
        self.d_fake + self.d_real
    }
}

/// What a run reports as it goes.
#[derive(Debug, Clone)]
pub enum TrainEvent {
    /// Training starts (or resumes) at `step`.
    Started {
        step: usize,
        steps: usize,
        device: String,
        generator_params: usize,
        discriminator_params: usize,
        pairs: usize,
    },
    /// Something the user should know (VGG loss off, layers re-initialised, ...).
    Note(String),
    /// A step finished (`step` = steps done).
    Step {
        step: usize,
        steps: usize,
        losses: Losses,
        lr_g: f64,
        lr_d: f64,
        steps_per_second: f64,
        eta: Duration,
    },
    /// A sample grid was written.
    Sample { step: usize, path: PathBuf },
    /// A checkpoint was written.
    Checkpoint { step: usize, dir: PathBuf },
    /// The run ended: all steps done, or stopped on request (a checkpoint was saved either way).
    Finished {
        step: usize,
        model: PathBuf,
        stopped: bool,
    },
}

/// Why training failed.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Dataset(#[from] super::data::DatasetError),
    #[error("{what}: {source}")]
    Weights { what: String, source: WeightsError },
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error(transparent)]
    Model(#[from] crate::checkpoint::ModelFileError),
    #[error(transparent)]
    Pth(#[from] crate::checkpoint::pth::PthError),
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("data loading: {0}")]
    Data(String),
    #[error("{0}: no checkpoint to resume from")]
    NothingToResume(PathBuf),
    #[error("the loss became {0} at step {1}: training diverged (lower the learning rates?)")]
    Diverged(String, usize),
}

fn io_err(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> TrainError {
    let what = what.into();
    move |source| TrainError::Io { what, source }
}

/// What a trainer is given besides its configuration.
#[derive(Debug, Clone)]
pub struct TrainData {
    /// The pairs to train on (see [`super::data::DatasetScan::usable`]).
    pub pairs: Vec<Pair>,
    /// The dataset's classes.
    pub palette: Palette,
    /// Whether the dataset has instance maps.
    pub instance: bool,
}

impl TrainData {
    /// From a scan and the pairs chosen to train on.
    pub fn new(scan: &super::DatasetScan, pairs: Vec<Pair>) -> Self {
        Self {
            pairs,
            palette: scan.palette.clone(),
            instance: scan.instance,
        }
    }

    fn fingerprint(&self) -> DataFingerprint {
        DataFingerprint::of(self.pairs.iter().map(|p| p.stem.as_str()))
    }
}

/// A training run in progress: models, optimisers, data, run folder.
pub struct Trainer {
    /// The run's configuration.
    pub config: TrainConfig,
    /// The run folder.
    pub run_dir: PathBuf,
    device: Device,
    /// Generator shape.
    pub generator_config: GeneratorConfig,
    /// Encoder shape (VAE).
    pub encoder_config: Option<EncoderConfig>,
    /// Discriminator shape.
    pub discriminator_config: DiscriminatorConfig,
    ge: GenEnc,
    d: MultiscaleDiscriminator,
    vgg: Option<Vgg19>,
    adam_g: ModuleAdam,
    adam_d: ModuleAdam,
    step: usize,
    data: TrainData,
    pre: Preprocess,
    notes: Vec<String>,
    provenance_source: String,
    /// The samples batch-norm recalibration averages over (read at the first checkpoint).
    calibration: std::sync::OnceLock<Vec<CalibrationSample>>,
}

/// The encoder of a VAE model trained at `size` (official `ConvEncoder`: 256 input, 6 layers at
/// 256 and above; smaller crops keep their size and stop at a 4x4 grid to stay cheap).
fn encoder_config(size: usize, ngf: usize, z_dim: usize) -> EncoderConfig {
    let (input, layers) = if size >= 256 {
        (256, 6)
    } else {
        (
            size,
            (size.trailing_zeros() as usize)
                .saturating_sub(2)
                .clamp(1, 6),
        )
    };
    EncoderConfig::new()
        .with_ndf(ngf)
        .with_layers(layers)
        .with_input_size(input)
        .with_z_dim(z_dim)
}

/// Walks a module with a walker of the core's kind and builds a state dict.
fn save_d(d: &MultiscaleDiscriminator) -> StateDict {
    let mut s = Saver::default();
    let mut d = d.clone();
    walk_discriminator(&mut s, "", &mut d);
    s.sd
}

fn load_d(
    cfg: &DiscriminatorConfig,
    sd: StateDict,
    device: &Device,
) -> Result<MultiscaleDiscriminator, WeightsError> {
    let mut d = cfg.init(device);
    let mut loader = Loader::new(sd, device);
    walk_discriminator(&mut loader, "", &mut d);
    loader.finish()?;
    Ok(d)
}

/// Fresh, reproducible weights for every network.
fn fresh_generator(cfg: &GeneratorConfig, seed: u64, device: &Device) -> Generator {
    let mut g = cfg.init(device);
    walk_generator(&mut HostInit::new(seed, SALT_G, device), "", &mut g);
    g
}

fn fresh_encoder(cfg: &EncoderConfig, seed: u64, device: &Device) -> Encoder {
    let mut e = cfg.init(device);
    walk_encoder(&mut HostInit::new(seed, SALT_E, device), "", &mut e);
    e
}

/// The model a run with `seed` starts from (the official initialisation), as a model file: the
/// untrained baseline of `gaugan eval`.
pub fn initial_model(
    generator: &GeneratorConfig,
    encoder: Option<&EncoderConfig>,
    palette: Palette,
    seed: u64,
) -> ModelFile {
    let device = Device::flex();
    let g = fresh_generator(generator, seed, &device);
    let e = encoder.map(|c| fresh_encoder(c, seed, &device));
    ModelFile {
        generator: generator.clone(),
        encoder: encoder.cloned(),
        provenance: Provenance {
            source: format!("untrained (official initialisation, seed {seed})"),
            credit: palette.credit.clone(),
            written_by: crate::written_by(),
            notes: None,
        },
        palette,
        generator_weights: generator_state_dict(&g),
        encoder_weights: e.as_ref().map(encoder_state_dict).unwrap_or_default(),
    }
}

fn fresh_discriminator(
    cfg: &DiscriminatorConfig,
    seed: u64,
    device: &Device,
) -> MultiscaleDiscriminator {
    let mut d = cfg.init(device);
    walk_discriminator(&mut HostInit::new(seed, SALT_D, device), "", &mut d);
    d
}

/// Resamples the VAE head (`fc`, a Linear whose outputs are a `[top, sh, sw]` grid) from the
/// latent grid `from` to `to`, nearest with PyTorch's convention: new cell `(y, x)` takes the
/// weights of old cell `(y * sh0 / sh1, x * sw0 / sw1)`.
fn resize_style_head(sd: &mut StateDict, top: usize, from: [usize; 2], to: [usize; 2]) {
    let ([h0, w0], [h1, w1]) = (from, to);
    let Some(w) = sd.get("fc.weight").cloned() else {
        return;
    };
    let Some(b) = sd.get("fc.bias").cloned() else {
        return;
    };
    let z = w.shape.get(1).copied().unwrap_or(0);
    if w.shape != [top * h0 * w0, z] || b.shape != [top * h0 * w0] {
        return; // not the layout of a style head: the merge reports the mismatch
    }
    let mut nw = Vec::with_capacity(top * h1 * w1 * z);
    let mut nb = Vec::with_capacity(top * h1 * w1);
    for c in 0..top {
        for y in 0..h1 {
            for x in 0..w1 {
                let src = (c * h0 + y * h0 / h1) * w0 + x * w0 / w1;
                nw.extend_from_slice(&w.data[src * z..(src + 1) * z]);
                nb.push(b.data[src]);
            }
        }
    }
    sd.insert("fc.weight", StateTensor::new(vec![top * h1 * w1, z], nw));
    sd.insert("fc.bias", StateTensor::new(vec![top * h1 * w1], nb));
}

/// Whether a generator key reads the label map (re-initialised when the class count changes).
fn reads_labels(key: &str, conv_head: bool) -> bool {
    key.contains(".mlp_shared.") || (conv_head && key.starts_with("fc."))
}

/// Merges a pretrained state dict into fresh weights: every tensor is taken from `old` except the
/// label-reading ones whose shape changed. Returns the merged dict and the re-initialised keys.
fn merge_pretrained(
    fresh: StateDict,
    old: &StateDict,
    conv_head: bool,
    what: &str,
) -> Result<(StateDict, Vec<String>), TrainError> {
    let mut out = StateDict::default();
    let mut reinit = Vec::new();
    for (k, t) in fresh.iter() {
        match old.get(k) {
            Some(o) if o.shape == t.shape => out.insert(k, o.clone()),
            Some(_) if reads_labels(k, conv_head) => {
                reinit.push(k.to_owned());
                out.insert(k, t.clone());
            }
            Some(o) => {
                return Err(TrainError::Config(format!(
                    "{what}: `{k}` is {:?} in the model but {:?} here (a different size or architecture?)",
                    o.shape, t.shape
                )));
            }
            None => {
                return Err(TrainError::Config(format!(
                    "{what}: the model has no `{k}`"
                )));
            }
        }
    }
    if let Some(k) = old.keys().find(|k| fresh.get(k).is_none()) {
        return Err(TrainError::Config(format!(
            "{what}: the model's `{k}` has no place in the network being trained"
        )));
    }
    Ok((out, reinit))
}

impl Trainer {
    /// Starts a new run in `run_dir` (from scratch, or fine-tuning `config.from`).
    /// `device` is where to train (autodiff is enabled on it here).
    pub fn new(
        mut config: TrainConfig,
        run_dir: &Path,
        data: TrainData,
        device: Device,
    ) -> Result<Self, TrainError> {
        config.validate().map_err(TrainError::Config)?;
        let device = device.autodiff();
        let mut notes = Vec::new();
        let labels = LabelChannels::new(data.palette.label_nc)
            .with_dontcare(data.palette.dontcare.is_some())
            .with_instance(data.instance);
        let mut provenance_source = "trained from scratch by gaugan train".to_owned();
        let mut from_discriminator: Option<StateDict> = None;
        let (gcfg, ecfg, ge) = match config.from.clone() {
            None => {
                let gcfg = GeneratorConfig::new(labels)
                    .with_ngf(config.ngf)
                    .with_spade_hidden(config.spade_hidden)
                    .with_upsampling(config.upsampling)
                    .with_crop_size(config.size)
                    .with_z_dim(config.vae.then_some(config.z_dim));
                gcfg.validate().map_err(TrainError::Config)?;
                let ecfg = config
                    .vae
                    .then(|| encoder_config(config.size, config.ngf, config.z_dim));
                let ge = GenEnc {
                    generator: fresh_generator(&gcfg, config.seed, &device),
                    encoder: ecfg
                        .as_ref()
                        .map(|c| fresh_encoder(c, config.seed, &device)),
                };
                (gcfg, ecfg, ge)
            }
            Some(from) => {
                // A checkpoint folder brings its discriminator along (see below).
                let (model_path, state) = if from.join(checkpoint::STATE_FILE).is_file() {
                    let state = TrainState::load(&from.join(checkpoint::STATE_FILE))?;
                    (from.join(checkpoint::MODEL_FILE), Some(state))
                } else {
                    (from.clone(), None)
                };
                from_discriminator = state.map(|s| s.discriminator);
                let mut model = ModelFile::load(&model_path)?;
                let old = model.generator.clone();
                let gcfg = GeneratorConfig::new(labels)
                    .with_ngf(old.ngf)
                    .with_spade_hidden(old.spade_hidden)
                    .with_upsampling(old.upsampling)
                    .with_crop_size(config.size)
                    .with_z_dim(old.z_dim);
                gcfg.validate().map_err(TrainError::Config)?;
                config.ngf = old.ngf;
                config.spade_hidden = old.spade_hidden;
                config.upsampling = old.upsampling;
                config.vae = old.z_dim.is_some();
                if let Some(z) = old.z_dim {
                    config.z_dim = z;
                }
                if old.z_dim.is_some() && old.latent_size() != gcfg.latent_size() {
                    // Another training size: the VAE head's latent grid grows (or shrinks) by
                    // nearest resampling, so the model starts out painting what it painted,
                    // at the new size.
                    resize_style_head(
                        &mut model.generator_weights,
                        16 * old.ngf,
                        old.latent_size(),
                        gcfg.latent_size(),
                    );
                    notes.push(format!(
                        "the model was trained at {} px: its style head's latent grid was resampled from {:?} to {:?}",
                        old.crop_size,
                        old.latent_size(),
                        gcfg.latent_size()
                    ));
                }
                let fresh = generator_state_dict(&fresh_generator(&gcfg, config.seed, &device));
                let (sd, reinit) = merge_pretrained(
                    fresh,
                    &model.generator_weights,
                    old.z_dim.is_none(),
                    &from.display().to_string(),
                )?;
                if !reinit.is_empty() {
                    notes.push(format!(
                        "the model reads {} label channels, this dataset {}: re-initialised the {} layers that read the label map ({}, ...)",
                        old.labels.semantic_nc(),
                        gcfg.labels.semantic_nc(),
                        reinit.len(),
                        reinit[0]
                    ));
                }
                let generator = crate::checkpoint::convert::load_generator(&gcfg, sd, &device)
                    .map_err(|source| TrainError::Weights {
                        what: from.display().to_string(),
                        source,
                    })?;
                let (ecfg, encoder) = match (&model.encoder, config.vae) {
                    (Some(ec), true) => {
                        let e = crate::checkpoint::convert::load_encoder(
                            ec,
                            model.encoder_weights.clone(),
                            &device,
                        )
                        .map_err(|source| TrainError::Weights {
                            what: format!("{} (encoder)", from.display()),
                            source,
                        })?;
                        (Some(ec.clone()), Some(e))
                    }
                    (None, true) => {
                        let ec = encoder_config(config.size, config.ngf, config.z_dim);
                        notes.push("the model has no image encoder: training a fresh one".into());
                        let e = fresh_encoder(&ec, config.seed, &device);
                        (Some(ec), Some(e))
                    }
                    _ => (None, None),
                };
                provenance_source = format!("fine-tuned by gaugan train from {}", from.display());
                (gcfg, ecfg, GenEnc { generator, encoder })
            }
        };
        let dcfg = DiscriminatorConfig::new(gcfg.labels.semantic_nc() + 3)
            .with_ndf(config.ndf)
            .with_n_layers(config.n_layers_d)
            .with_num_d(config.num_d);
        dcfg.validate().map_err(TrainError::Config)?;
        // The discriminator is fully convolutional: one trained at another size still judges
        // this one, so fine-tuning from a checkpoint keeps it when its shapes fit.
        let d = match from_discriminator {
            Some(sd) => match load_d(&dcfg, sd, &device) {
                Ok(d) => {
                    notes.push("took the checkpoint's discriminator".into());
                    d
                }
                Err(e) => {
                    notes.push(format!(
                        "the checkpoint's discriminator does not fit this run ({e}): training a fresh one"
                    ));
                    fresh_discriminator(&dcfg, config.seed, &device)
                }
            },
            None => fresh_discriminator(&dcfg, config.seed, &device),
        };
        let mut t = Self::assemble(
            config, run_dir, device, gcfg, ecfg, dcfg, ge, d, data, notes,
        )?;
        t.provenance_source = provenance_source;
        Ok(t)
    }

    /// Continues the newest checkpoint of `run_dir`. The model, optimiser and data settings are
    /// the saved run's; the length and bookkeeping (`steps`, `decay_steps`, `checkpoint_every`,
    /// `sample_every`, ...) and the VGG weights are `config`'s.
    pub fn resume(
        config: &TrainConfig,
        run_dir: &Path,
        data: TrainData,
        device: Device,
    ) -> Result<Self, TrainError> {
        let device = device.autodiff();
        let (step, model, state) = checkpoint::latest(run_dir)
            .ok_or_else(|| TrainError::NothingToResume(run_dir.to_path_buf()))?;
        let cfg = state.config.resumed_with(config);
        cfg.validate().map_err(TrainError::Config)?;
        let mut notes = Vec::new();
        let fp = data.fingerprint();
        if fp != state.data {
            notes.push(format!(
                "the dataset changed since the checkpoint ({} pairs then, {} now): the data order will differ from an uninterrupted run",
                state.data.pairs, fp.pairs
            ));
        }
        let gcfg = model.generator.clone();
        let ecfg = model.encoder.clone();
        let what = |w: &str| format!("{} ({w})", run_dir.display());
        let generator = crate::checkpoint::convert::load_generator(
            &gcfg,
            model.generator_weights.clone(),
            &device,
        )
        .map_err(|source| TrainError::Weights {
            what: what("generator"),
            source,
        })?;
        let encoder = match &ecfg {
            Some(c) => Some(
                crate::checkpoint::convert::load_encoder(c, model.encoder_weights.clone(), &device)
                    .map_err(|source| TrainError::Weights {
                        what: what("encoder"),
                        source,
                    })?,
            ),
            None => None,
        };
        let dcfg = DiscriminatorConfig::new(gcfg.labels.semantic_nc() + 3)
            .with_ndf(cfg.ndf)
            .with_n_layers(cfg.n_layers_d)
            .with_num_d(cfg.num_d);
        let d = load_d(&dcfg, state.discriminator.clone(), &device).map_err(|source| {
            TrainError::Weights {
                what: what("discriminator"),
                source,
            }
        })?;
        let provenance_source = model.provenance.source.clone();
        let mut t = Self::assemble(
            cfg,
            run_dir,
            device.clone(),
            gcfg,
            ecfg,
            dcfg,
            GenEnc { generator, encoder },
            d,
            data,
            notes,
        )?;
        t.adam_g
            .load_state_dict(&state.adam_g, &state.adam_g_times, &device)
            .map_err(TrainError::Config)?;
        t.adam_d
            .load_state_dict(&state.adam_d, &state.adam_d_times, &device)
            .map_err(TrainError::Config)?;
        t.step = step;
        t.provenance_source = provenance_source;
        t.notes.push(format!("resumed from step {step}"));
        Ok(t)
    }

    #[allow(clippy::too_many_arguments)]
    fn assemble(
        config: TrainConfig,
        run_dir: &Path,
        device: Device,
        gcfg: GeneratorConfig,
        ecfg: Option<EncoderConfig>,
        dcfg: DiscriminatorConfig,
        ge: GenEnc,
        d: MultiscaleDiscriminator,
        data: TrainData,
        mut notes: Vec<String>,
    ) -> Result<Self, TrainError> {
        if data.pairs.is_empty() {
            return Err(TrainError::Config("no training pairs".into()));
        }
        let vgg = match &config.vgg {
            Some(p) => {
                let sd = read_pth(p)?;
                Some(
                    Vgg19::from_state_dict(sd, &device).map_err(|source| TrainError::Weights {
                        what: format!("{} (VGG19)", p.display()),
                        source,
                    })?,
                )
            }
            None => {
                notes.push(
                    "VGG perceptual loss off (no --vgg weights given: pass torchvision's vgg19 .pth to turn it on)"
                        .into(),
                );
                None
            }
        };
        let pre = Preprocess {
            size: config.size,
            load_size: config.effective_load_size(),
            flip: config.flip,
            classes: gcfg.labels.classes(),
            instance: gcfg.labels.instance,
            palette: data.palette.clone(),
        };
        Ok(Self {
            adam_g: ModuleAdam::new(config.beta1, config.beta2),
            adam_d: ModuleAdam::new(config.beta1, config.beta2),
            run_dir: run_dir.to_path_buf(),
            device,
            generator_config: gcfg,
            encoder_config: ecfg,
            discriminator_config: dcfg,
            ge: GenEnc {
                generator: ge.generator.train(),
                encoder: ge.encoder.map(|e| e.train()),
            },
            d: d.train(),
            vgg,
            step: 0,
            data,
            pre,
            notes,
            provenance_source: String::new(),
            calibration: std::sync::OnceLock::new(),
            config,
        })
    }

    /// Steps done.
    pub fn step(&self) -> usize {
        self.step
    }

    /// Notes gathered while setting up (VGG off, re-initialised layers, ...).
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// Parameters of the generator (+ encoder) and of the discriminator.
    pub fn parameter_counts(&self) -> (usize, usize) {
        (self.ge.num_params(), self.d.num_params())
    }

    /// The current generator (+ encoder) as a gaugan model file.
    pub fn model_file(&self) -> ModelFile {
        let credit = self.data.palette.credit.clone();
        ModelFile {
            generator: self.generator_config.clone(),
            encoder: self.encoder_config.clone(),
            palette: self.data.palette.clone(),
            provenance: Provenance {
                source: self.provenance_source.clone(),
                credit,
                written_by: crate::written_by(),
                notes: Some(format!(
                    "{} steps, batch {}, {} training pairs, seed {}",
                    self.step,
                    self.config.batch,
                    self.data.pairs.len(),
                    self.config.seed
                )),
            },
            generator_weights: generator_state_dict(&self.ge.generator),
            encoder_weights: self
                .ge
                .encoder
                .as_ref()
                .map(encoder_state_dict)
                .unwrap_or_default(),
        }
    }

    /// The state that, with [`Trainer::model_file`], continues this run exactly.
    pub fn train_state(&self) -> TrainState {
        let (adam_g, adam_g_times) = self.adam_g.to_state_dict();
        let (adam_d, adam_d_times) = self.adam_d.to_state_dict();
        TrainState {
            step: self.step,
            config: self.config.clone(),
            data: self.data.fingerprint(),
            discriminator: save_d(&self.d),
            adam_g,
            adam_g_times,
            adam_d,
            adam_d_times,
        }
    }

    /// [`Trainer::model_file`] with its batch-norm running statistics recomputed for the current
    /// weights (see [`super::recalibrate`]): the model a checkpoint saves and the app paints
    /// with. The training itself never reads running statistics, so this changes nothing of the
    /// run.
    pub fn calibrated_model_file(&self) -> Result<ModelFile, TrainError> {
        let samples = match self.calibration.get() {
            Some(s) => s,
            None => {
                let s =
                    calibration_samples(&self.data.pairs, &self.pre).map_err(TrainError::Data)?;
                self.calibration.get_or_init(|| s)
            }
        };
        let mut model = self.model_file();
        recalibrate(&mut model, samples).map_err(|source| TrainError::Weights {
            what: "recalibrating batch norm".into(),
            source,
        })?;
        Ok(model)
    }

    /// Writes a checkpoint of the current step (and the run's `model.gaugan`).
    pub fn save_checkpoint(&self) -> Result<PathBuf, TrainError> {
        checkpoint::save(
            &self.run_dir,
            &self.calibrated_model_file()?,
            &self.train_state(),
            self.config.keep_checkpoints,
        )
        .map_err(io_err(format!(
            "writing a checkpoint in {}",
            self.run_dir.display()
        )))
    }

    /// Generates `z` for a VAE from the real photos, with the noise of draw `index`.
    fn encode_z(&self, encoder: &Encoder, real: Tensor<4>, index: u64) -> (Tensor<2>, Tensor<1>) {
        let (mu, logvar) = encoder.forward(real);
        let [b, z] = mu.dims();
        let mut r = SplitMix::new(self.config.seed, stream::NOISE, index);
        let eps: Vec<f32> = (0..b * z).map(|_| r.normal() as f32).collect();
        let eps = Tensor::<2>::from_data(TensorData::new(eps, [b, z]), &self.device);
        let kld = loss::kld(mu.clone(), logvar.clone());
        // official reparameterize: eps * exp(0.5 * logvar) + mu
        (eps.mul(logvar.mul_scalar(0.5).exp()).add(mu), kld)
    }

    /// `G(seg, z)` with its weighted KL term.
    fn generate(
        &self,
        seg: &SegMaps,
        real: &Tensor<4>,
        index: u64,
    ) -> (Tensor<4>, Option<Tensor<1>>) {
        match &self.ge.encoder {
            Some(e) => {
                let (z, kld) = self.encode_z(e, real.clone(), index);
                (self.ge.generator.forward(seg, Some(z)), Some(kld))
            }
            None => (self.ge.generator.forward(seg, None), None),
        }
    }

    /// D on fakes and reals in one batch (official `discriminate`): `(pred_fake, pred_real)`.
    fn discriminate(
        &self,
        sem: &Tensor<4>,
        fake: Tensor<4>,
        real: Tensor<4>,
    ) -> (Vec<Vec<Tensor<4>>>, Vec<Vec<Tensor<4>>>) {
        let b = fake.dims()[0];
        let fake_concat = Tensor::cat(vec![sem.clone(), fake], 1);
        let real_concat = Tensor::cat(vec![sem.clone(), real], 1);
        let out = self
            .d
            .forward(Tensor::cat(vec![fake_concat, real_concat], 0));
        let mut pf = Vec::with_capacity(out.len());
        let mut pr = Vec::with_capacity(out.len());
        for scale in out {
            let (f, r): (Vec<_>, Vec<_>) = scale
                .into_iter()
                .map(|t| (t.clone().narrow(0, 0, b), t.narrow(0, b, b)))
                .unzip();
            pf.push(f);
            pr.push(r);
        }
        (pf, pr)
    }

    /// One training step on `batch`: G update, then D update. Returns the losses and the
    /// generator's output of the G step (detached, `[B, 3, S, S]` on the host) when `keep_fake`.
    pub fn train_step(
        &mut self,
        batch: &super::data::Batch,
        keep_fake: bool,
    ) -> Result<(Losses, Option<Vec<f32>>), TrainError> {
        let cfg = &self.config;
        let (b, s) = (batch.len, batch.size);
        let snc = self.pre.semantic_nc();
        let sem = Tensor::<4>::from_data(
            TensorData::new(batch.semantics.clone(), [b, snc, s, s]),
            &self.device,
        );
        let real = Tensor::<4>::from_data(
            TensorData::new(batch.images.clone(), [b, 3, s, s]),
            &self.device,
        );
        // The lookup path for every SPADE `mlp_shared` (a gather: gradients flow to the weights).
        let seg = SegMaps::new(sem.clone()).with_ids(batch.labels.clone(), self.pre.classes);
        let lr_factor = cfg.lr_factor(self.step);
        let (lr_g, lr_d) = (cfg.lr_g * lr_factor, cfg.lr_d * lr_factor);
        let noise = 2 * self.step as u64;

        // --- generator step (official run_generator_one_step)
        let (fake, kld) = self.generate(&seg, &real, noise);
        let (pred_fake, pred_real) = self.discriminate(&sem, fake.clone(), real.clone());
        let g_gan = loss::hinge_g(&pred_fake);
        let g_feat = loss::feature_matching(&pred_fake, &pred_real).mul_scalar(cfg.lambda_feat);
        let mut total = g_gan.clone().add(g_feat.clone());
        let g_vgg = self
            .vgg
            .as_ref()
            .map(|vgg| loss::vgg_loss(vgg, fake.clone(), real.clone()).mul_scalar(cfg.lambda_vgg));
        if let Some(v) = &g_vgg {
            total = total.add(v.clone());
        }
        let g_kld = kld.map(|k| k.mul_scalar(cfg.lambda_kld));
        if let Some(k) = &g_kld {
            total = total.add(k.clone());
        }
        let fake_host = keep_fake.then(|| {
            fake.clone()
                .detach()
                .into_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .expect("f32")
        });
        let grads = GradientsParams::from_grads(total.backward(), &self.ge);
        let ge = self.ge.clone();
        self.ge = self.adam_g.step(lr_g, ge, grads);
        let scalar = |t: Tensor<1>| {
            t.into_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .unwrap()[0]
        };
        let mut losses = Losses {
            g_gan: scalar(g_gan),
            g_feat: scalar(g_feat),
            g_vgg: g_vgg.map(scalar).unwrap_or(0.0),
            g_kld: g_kld.map(scalar).unwrap_or(0.0),
            ..Default::default()
        };

        // --- discriminator step (official run_discriminator_one_step)
        let (fake, _) = self.generate(&seg, &real, noise + 1);
        let fake = fake.detach();
        let (pred_fake, pred_real) = self.discriminate(&sem, fake, real);
        let d_fake = loss::hinge_d_fake(&pred_fake);
        let d_real = loss::hinge_d_real(&pred_real);
        let grads =
            GradientsParams::from_grads(d_fake.clone().add(d_real.clone()).backward(), &self.d);
        let d = self.d.clone();
        self.d = self.adam_d.step(lr_d, d, grads);
        losses.d_fake = scalar(d_fake);
        losses.d_real = scalar(d_real);
        self.step += 1;
        let all = [losses.g_total(), losses.d_total()];
        if let Some(bad) = all.iter().find(|v| !v.is_finite()) {
            return Err(TrainError::Diverged(bad.to_string(), self.step));
        }
        Ok((losses, fake_host))
    }

    /// Runs until `config.steps` or until `stop` is set, reporting through `on_event`. Writes the
    /// loss log, sample grids and checkpoints in the run folder; always ends with a checkpoint.
    pub fn run(
        &mut self,
        stop: &AtomicBool,
        mut on_event: impl FnMut(&TrainEvent),
    ) -> Result<PathBuf, TrainError> {
        let run = self.run_dir.clone();
        std::fs::create_dir_all(&run).map_err(io_err(format!("creating {}", run.display())))?;
        let json = serde_json::to_string_pretty(&self.config).expect("config to JSON");
        write_atomic(&run.join("config.json"), json.as_bytes())
            .map_err(io_err("writing config.json"))?;
        let mut csv = LossLog::open(&run.join("losses.csv"), self.step)?;
        let (gp, dp) = self.parameter_counts();
        on_event(&TrainEvent::Started {
            step: self.step,
            steps: self.config.steps,
            device: format!("{:?}", self.device.clone().inner()),
            generator_params: gp,
            discriminator_params: dp,
            pairs: self.data.pairs.len(),
        });
        for n in &self.notes {
            on_event(&TrainEvent::Note(n.clone()));
        }
        let steps = self.config.steps;
        let mut loader = BatchLoader::start(
            Arc::new(self.data.pairs.clone()),
            self.pre.clone(),
            self.config.seed,
            self.config.batch,
            (self.step, steps.max(self.step)),
            self.config.workers,
            self.config.prefetch,
        );
        let started = Instant::now();
        let first_step = self.step;
        let mut last_saved = None;
        let mut stopped = false;
        while self.step < steps {
            if stop.load(Ordering::Relaxed) {
                stopped = true;
                break;
            }
            let batch = match loader.next_batch() {
                Some(Ok(b)) => b,
                Some(Err(e)) => return Err(TrainError::Data(e)),
                None => break,
            };
            debug_assert_eq!(batch.step, self.step);
            let every = |n: usize, step: usize| n > 0 && step.is_multiple_of(n);
            let sample_due = every(self.config.sample_every, self.step + 1);
            let lr_factor = self.config.lr_factor(self.step);
            let (losses, fake) = self.train_step(&batch, sample_due)?;
            let step = self.step;
            let elapsed = started.elapsed().as_secs_f64();
            let rate = (step - first_step) as f64 / elapsed.max(1e-9);
            let eta = Duration::from_secs_f64((steps - step) as f64 / rate.max(1e-9));
            let (lr_g, lr_d) = (self.config.lr_g * lr_factor, self.config.lr_d * lr_factor);
            csv.write(step, lr_g, lr_d, &losses, elapsed)?;
            on_event(&TrainEvent::Step {
                step,
                steps,
                losses,
                lr_g,
                lr_d,
                steps_per_second: rate,
                eta,
            });
            if let Some(fake) = fake {
                let path = run.join("samples").join(format!("step_{step:08}.png"));
                self.write_sample(&path, &batch, &fake)?;
                on_event(&TrainEvent::Sample { step, path });
            }
            if every(self.config.checkpoint_every, step) && step < steps {
                let dir = self.save_checkpoint()?;
                last_saved = Some(step);
                on_event(&TrainEvent::Checkpoint { step, dir });
            }
        }
        drop(loader);
        if last_saved != Some(self.step) {
            let dir = self.save_checkpoint()?;
            on_event(&TrainEvent::Checkpoint {
                step: self.step,
                dir,
            });
        }
        let model = run.join(checkpoint::MODEL_FILE);
        on_event(&TrainEvent::Finished {
            step: self.step,
            model: model.clone(),
            stopped,
        });
        Ok(model)
    }

    /// A grid with one row per sample (at most 4): label colours | generated | real.
    fn write_sample(
        &self,
        path: &Path,
        batch: &super::data::Batch,
        fake: &[f32],
    ) -> Result<(), TrainError> {
        let s = batch.size;
        let rows = batch.len.min(4);
        let mut grid = RgbImage::new(3 * s as u32, (rows * s) as u32);
        let hw3 = 3 * s * s;
        for r in 0..rows {
            let y0 = (r * s) as u32;
            let labels =
                (self.data.palette).colour_image(&batch.labels[r * s * s..(r + 1) * s * s], s, s);
            image::imageops::replace(&mut grid, &labels, 0, y0 as i64);
            let gen_img = tensor_to_rgb(&fake[r * hw3..(r + 1) * hw3], s, s);
            let real_img = tensor_to_rgb(&batch.images[r * hw3..(r + 1) * hw3], s, s);
            image::imageops::replace(&mut grid, &gen_img, s as i64, y0 as i64);
            image::imageops::replace(&mut grid, &real_img, 2 * s as i64, y0 as i64);
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io_err(format!("creating {}", dir.display())))?;
        }
        let mut png = Vec::new();
        grid.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .map_err(|e| TrainError::Io {
                what: format!("encoding {}", path.display()),
                source: std::io::Error::other(e),
            })?;
        write_atomic(path, &png).map_err(io_err(format!("writing {}", path.display())))
    }
}

/// `losses.csv`: one row per step. On resume the rows after the checkpoint's step are dropped
/// (they belong to the part of the run being redone).
struct LossLog {
    file: std::fs::File,
}

const CSV_HEADER: &str =
    "step,lr_g,lr_d,G_GAN,G_GAN_Feat,G_VGG,G_KLD,G_total,D_Fake,D_real,seconds";

impl LossLog {
    fn open(path: &Path, step: usize) -> Result<Self, TrainError> {
        let mut kept = String::new();
        if let Ok(old) = std::fs::read_to_string(path) {
            for line in old.lines().skip(1) {
                let s: Option<usize> = line.split(',').next().and_then(|s| s.parse().ok());
                if s.is_some_and(|s| s <= step) {
                    kept += line;
                    kept.push('\n');
                }
            }
        }
        let content = format!("{CSV_HEADER}\n{kept}");
        write_atomic(path, content.as_bytes())
            .map_err(io_err(format!("writing {}", path.display())))?;
        let file = std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(io_err(format!("opening {}", path.display())))?;
        Ok(Self { file })
    }

    fn write(
        &mut self,
        step: usize,
        lr_g: f64,
        lr_d: f64,
        l: &Losses,
        seconds: f64,
    ) -> Result<(), TrainError> {
        writeln!(
            self.file,
            "{step},{lr_g:e},{lr_d:e},{},{},{},{},{},{},{},{seconds:.3}",
            l.g_gan,
            l.g_feat,
            l.g_vgg,
            l.g_kld,
            l.g_total(),
            l.d_fake,
            l.d_real
        )
        .map_err(io_err("writing losses.csv"))
    }
}
