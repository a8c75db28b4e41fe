//! Training a SPADE model on a folder of photos and label maps (Park et al. 2019, "Semantic Image
//! Synthesis with Spatially-Adaptive Normalization", arXiv 1903.07291; official code NVlabs/SPADE).
//!
//! - [`data`]: the dataset folder, its scan report, preprocessing and background loading;
//! - [`crate::model::discriminator`], [`crate::model::vgg`], [`loss`]: the training-only networks
//!   and losses (hinge GAN, feature matching, KL, optional VGG19 perceptual loss);
//! - [`trainer`]: the two-optimizer GAN loop (TTUR Adam), checkpoints, samples, the loss log;
//! - [`checkpoint`]: checkpoint folders and the training-state file that makes `--resume` exact.
//!
//! The library API ([`Trainer`], [`TrainConfig`], [`TrainEvent`]) is what `gaugan train` and the
//! app's Training tab both drive: build a [`Trainer`], then [`Trainer::run`] on a thread with an
//! event callback and a stop flag.

pub mod adam;
pub mod checkpoint;
pub mod data;
pub mod init;
pub mod loss;
pub mod recalibrate;
pub mod rng;
pub mod trainer;

use std::path::PathBuf;

use burn::config::Config;

use crate::model::Upsampling;

pub use data::{DatasetScan, Pair, Problem, scan};
pub use trainer::{Losses, TrainError, TrainEvent, Trainer};

/// Everything that defines a training run. Defaults follow the official SPADE options.
#[derive(Config, Debug, PartialEq)]
pub struct TrainConfig {
    /// Side of the square training crops and of the model's output (official `crop_size`).
    #[config(default = 256)]
    pub size: usize,
    /// The shorter side of each photo is scaled to this before cropping (official `load_size`);
    /// `None`: `size * 286 / 256`, the official ratio.
    #[config(default = "None")]
    pub load_size: Option<usize>,
    /// Random horizontal flips (official: on unless `--no_flip`).
    #[config(default = true)]
    pub flip: bool,
    /// Samples per step.
    #[config(default = 1)]
    pub batch: usize,
    /// Total number of steps of the run.
    #[config(default = 10000)]
    pub steps: usize,
    /// The learning rates decay linearly to 0 over the last `decay_steps` steps (0: constant).
    #[config(default = 0)]
    pub decay_steps: usize,
    /// Generator width (official `ngf`).
    #[config(default = 64)]
    pub ngf: usize,
    /// SPADE hidden width (official: 128).
    #[config(default = 128)]
    pub spade_hidden: usize,
    /// Generator upsamplings.
    #[config(default = "Upsampling::Normal")]
    pub upsampling: Upsampling,
    /// Train the image encoder and a VAE generator (official `--use_vae`).
    #[config(default = true)]
    pub vae: bool,
    /// Size of z.
    #[config(default = 256)]
    pub z_dim: usize,
    /// Discriminator width (official `ndf`).
    #[config(default = 64)]
    pub ndf: usize,
    /// Discriminator layers (official `n_layers_D`).
    #[config(default = 4)]
    pub n_layers_d: usize,
    /// Discriminator scales (official `num_D`).
    #[config(default = 2)]
    pub num_d: usize,
    /// Generator (and encoder) learning rate (official TTUR: `lr / 2`).
    #[config(default = 1e-4)]
    pub lr_g: f64,
    /// Discriminator learning rate (official TTUR: `lr * 2`).
    #[config(default = 4e-4)]
    pub lr_d: f64,
    /// Adam beta1 (official TTUR: 0).
    #[config(default = 0.0)]
    pub beta1: f64,
    /// Adam beta2 (official TTUR: 0.9).
    #[config(default = 0.9)]
    pub beta2: f64,
    /// Weight of the feature-matching loss.
    #[config(default = 10.0)]
    pub lambda_feat: f64,
    /// Weight of the VGG loss (when VGG weights are given).
    #[config(default = 10.0)]
    pub lambda_vgg: f64,
    /// Weight of the KL loss.
    #[config(default = 0.05)]
    pub lambda_kld: f64,
    /// Seed of the initial weights, data order, crops, flips and VAE noise.
    #[config(default = 0)]
    pub seed: u64,
    /// Save a checkpoint every N steps (0: only at the end).
    #[config(default = 1000)]
    pub checkpoint_every: usize,
    /// Write a sample grid every N steps (0: never).
    #[config(default = 200)]
    pub sample_every: usize,
    /// Checkpoints kept (the newest; 0 keeps all).
    #[config(default = 3)]
    pub keep_checkpoints: usize,
    /// Data-loading threads.
    #[config(default = 2)]
    pub workers: usize,
    /// Batches each loading thread prepares ahead.
    #[config(default = 2)]
    pub prefetch: usize,
    /// torchvision VGG19 weights for the perceptual loss (off without them).
    #[config(default = "None")]
    pub vgg: Option<PathBuf>,
    /// A gaugan model to fine-tune instead of starting from scratch.
    #[config(default = "None")]
    pub from: Option<PathBuf>,
}

impl TrainConfig {
    /// The load size actually used.
    pub fn effective_load_size(&self) -> usize {
        self.load_size
            .unwrap_or(self.size * 286 / 256)
            .max(self.size)
    }

    /// The learning-rate factor at `step` (0-based): 1, then linear to 0 over the last
    /// `decay_steps` steps (official `update_learning_rate`, per step instead of per epoch).
    pub fn lr_factor(&self, step: usize) -> f64 {
        if self.decay_steps == 0 {
            return 1.0;
        }
        let start = self.steps.saturating_sub(self.decay_steps);
        if step < start {
            1.0
        } else {
            (1.0 - (step - start) as f64 / self.decay_steps as f64).max(0.0)
        }
    }

    /// Checks the numbers.
    pub fn validate(&self) -> Result<(), String> {
        if self.batch == 0 {
            return Err("batch must be at least 1".into());
        }
        if self.size < 16 || !self.size.is_multiple_of(16) {
            return Err(format!(
                "size {} must be a multiple of 16, at least 16",
                self.size
            ));
        }
        if self.size >> self.upsampling.count() == 0 {
            return Err(format!(
                "size {} is too small for {} upsamplings (at least {})",
                self.size,
                self.upsampling.count(),
                1usize << self.upsampling.count()
            ));
        }
        if self.ngf == 0 || self.ndf == 0 || self.spade_hidden == 0 || self.z_dim == 0 {
            return Err("ngf, ndf, spade_hidden and z_dim must be positive".into());
        }
        if self.decay_steps > self.steps {
            return Err(format!(
                "decay over {} steps is longer than the run ({} steps)",
                self.decay_steps, self.steps
            ));
        }
        Ok(())
    }

    /// The configuration a resumed run continues with: the model, optimiser and data settings of
    /// `self` (the saved run), the length and bookkeeping of `new`.
    pub fn resumed_with(&self, new: &TrainConfig) -> TrainConfig {
        let mut c = self.clone();
        c.steps = new.steps;
        c.decay_steps = new.decay_steps;
        c.checkpoint_every = new.checkpoint_every;
        c.sample_every = new.sample_every;
        c.keep_checkpoints = new.keep_checkpoints;
        c.workers = new.workers;
        c.prefetch = new.prefetch;
        c.vgg = new.vgg.clone();
        c
    }
}
