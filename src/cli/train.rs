//! `gaugan train`: train (or fine-tune, or resume) a SPADE model on a folder of photos and label
//! maps. See [`crate::train`].

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;

use crate::infer::{BackendChoice, backend};
use crate::model::Upsampling;
use crate::train::trainer::TrainData;
use crate::train::{TrainConfig, TrainEvent, Trainer, checkpoint, scan};

/// Arguments of `gaugan train`.
#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Dataset folder: labels/ (class-id PNGs), images/ (photos), optional instances/,
    /// classes.txt (one class name per line), optional palette.txt.
    #[arg(long)]
    pub data: PathBuf,
    /// Run folder: checkpoints, samples, losses.csv, model.gaugan.
    #[arg(long)]
    pub out: PathBuf,
    /// Fine-tune this gaugan model instead of starting from scratch (layers that read the label
    /// map are re-initialised when the class count differs). A checkpoint folder
    /// (RUN/checkpoints/step_N) also brings its discriminator.
    #[arg(long, conflicts_with = "resume")]
    pub from: Option<PathBuf>,
    /// Continue the newest checkpoint in --out (same optimiser state, step and data order).
    #[arg(long)]
    pub resume: bool,
    /// Crop and output size in pixels (a multiple of 16).
    #[arg(long, default_value_t = 256)]
    pub size: usize,
    /// Scale each photo's shorter side to this before the random crop (default size * 286 / 256).
    #[arg(long)]
    pub load_size: Option<usize>,
    /// Samples per step.
    #[arg(long, default_value_t = 1)]
    pub batch: usize,
    /// Total steps of the run.
    #[arg(long, default_value_t = 10000)]
    pub steps: usize,
    /// Decay the learning rates linearly to 0 over the last N steps (0: constant).
    #[arg(long, default_value_t = 0)]
    pub decay_steps: usize,
    /// torchvision VGG19 weights (.pth, keys features.N.weight) for the perceptual loss; without
    /// them the loss is off (nothing is downloaded).
    #[arg(long)]
    pub vgg: Option<PathBuf>,
    /// Where to train: auto (a real GPU, else CPU), wgpu or cpu.
    #[arg(long, default_value = "auto")]
    pub backend: BackendChoice,
    /// Generator width (official ngf).
    #[arg(long, default_value_t = 64)]
    pub ngf: usize,
    /// Discriminator width (official ndf).
    #[arg(long, default_value_t = 64)]
    pub ndf: usize,
    /// Hidden width of each SPADE layer.
    #[arg(long, default_value_t = 128)]
    pub spade_hidden: usize,
    /// Generator upsamplings: normal, more or most.
    #[arg(long, default_value = "normal")]
    pub upsampling: Upsampling,
    /// Train without the image encoder (no styles; the generator starts from the label map).
    #[arg(long)]
    pub no_vae: bool,
    /// Size of the style vector z.
    #[arg(long, default_value_t = 256)]
    pub z_dim: usize,
    /// Seed of the initial weights, data order, crops and noise.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Save a checkpoint every N steps (and always at the end).
    #[arg(long, default_value_t = 1000)]
    pub checkpoint_every: usize,
    /// Write a sample grid (labels | generated | real) every N steps (0: never).
    #[arg(long, default_value_t = 200)]
    pub sample_every: usize,
    /// Checkpoints to keep (the newest; 0 keeps all).
    #[arg(long, default_value_t = 3)]
    pub keep: usize,
    /// Train on the good pairs when the scan finds problems (they are listed either way).
    #[arg(long)]
    pub skip_bad: bool,
    /// No random horizontal flips.
    #[arg(long)]
    pub no_flip: bool,
    /// Data-loading threads.
    #[arg(long, default_value_t = 2)]
    pub workers: usize,
    /// Hold out every N-th pair (in file-name order) for validation: they are not trained on, and
    /// `gaugan eval --val-every N` judges the model on exactly them (0: train on all).
    #[arg(long, default_value_t = 0)]
    pub val_every: usize,
    /// Only scan the dataset and print its report.
    #[arg(long)]
    pub scan_only: bool,
}

impl TrainArgs {
    /// The library configuration.
    pub fn config(&self) -> TrainConfig {
        TrainConfig::new()
            .with_size(self.size)
            .with_load_size(self.load_size)
            .with_flip(!self.no_flip)
            .with_batch(self.batch)
            .with_steps(self.steps)
            .with_decay_steps(self.decay_steps)
            .with_ngf(self.ngf)
            .with_spade_hidden(self.spade_hidden)
            .with_upsampling(self.upsampling)
            .with_vae(!self.no_vae)
            .with_z_dim(self.z_dim)
            .with_ndf(self.ndf)
            .with_seed(self.seed)
            .with_checkpoint_every(self.checkpoint_every)
            .with_sample_every(self.sample_every)
            .with_keep_checkpoints(self.keep)
            .with_workers(self.workers)
            .with_vgg(self.vgg.clone())
            .with_from(self.from.clone())
    }
}

/// Peak resident memory of this process (Linux), in MiB.
pub fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn fmt_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, s % 3600 / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

/// Ctrl+C sets the flag (the run saves a checkpoint and exits); a second one exits at once.
fn install_ctrl_c(stop: Arc<AtomicBool>) {
    let presses = AtomicUsize::new(0);
    let result = ctrlc::set_handler(move || {
        if presses.fetch_add(1, Ordering::SeqCst) == 0 {
            eprintln!("\nstopping: saving a checkpoint (Ctrl+C again to quit without it)");
            stop.store(true, Ordering::SeqCst);
        } else {
            std::process::exit(130);
        }
    });
    if let Err(e) = result {
        eprintln!("note: Ctrl+C will not save a checkpoint ({e})");
    }
}

/// Runs `gaugan train`.
pub fn run(a: TrainArgs) -> anyhow::Result<()> {
    let t0 = Instant::now();
    eprintln!("scanning {} ...", a.data.display());
    let scanned = scan(&a.data)?;
    let p = &scanned.palette;
    eprintln!(
        "{} pairs, {} classes ({}){}, scanned in {:.1} s",
        scanned.pairs.len(),
        p.len(),
        p.name,
        if scanned.instance {
            ", instance maps"
        } else {
            ""
        },
        t0.elapsed().as_secs_f64()
    );
    if !scanned.problems.is_empty() {
        eprintln!(
            "{} problem(s) in {} pair(s)/file(s):\n{}",
            scanned.problems.len(),
            scanned.bad_stems.len().max(1),
            scanned.report()
        );
    }
    if a.scan_only {
        return Ok(());
    }
    let usable = scanned.usable(a.skip_bad)?;
    let skipped = scanned.pairs.len() - usable.len();
    let (pairs, held_out) = scanned.split_validation(usable, a.val_every);
    if !held_out.is_empty() {
        eprintln!(
            "holding out {} pair(s) for validation (one in {})",
            held_out.len(),
            a.val_every
        );
    }
    if skipped > 0 {
        eprintln!(
            "skipping {skipped} bad pair(s): training on {}",
            pairs.len()
        );
    }
    if pairs.is_empty() {
        anyhow::bail!("{}: no pair left to train on", a.data.display());
    }
    let data = TrainData::new(&scanned, pairs);
    let be = backend::select(a.backend).map_err(anyhow::Error::msg)?;
    eprintln!("device: {}", be.description);
    let has_checkpoints = !checkpoint::list(&a.out).is_empty();
    let config = a.config();
    let mut trainer = if a.resume {
        Trainer::resume(&config, &a.out, data, be.device.clone())?
    } else {
        if has_checkpoints {
            anyhow::bail!(
                "{} already holds checkpoints: pass --resume to continue that run, or choose another --out",
                a.out.display()
            );
        }
        Trainer::new(config, &a.out, data, be.device.clone())?
    };
    let stop = Arc::new(AtomicBool::new(false));
    install_ctrl_c(stop.clone());
    let mut last_print = Instant::now() - Duration::from_secs(60);
    let desc = be.description.clone();
    let model = trainer
        .run(&stop, |ev| match ev {
            TrainEvent::Started {
                step,
                steps,
                generator_params,
                discriminator_params,
                pairs,
                ..
            } => eprintln!(
                "training on {desc}: step {step} of {steps}, {pairs} pairs, G+E {:.2} M parameters, D {:.2} M",
                *generator_params as f64 / 1e6,
                *discriminator_params as f64 / 1e6
            ),
            TrainEvent::Note(n) => eprintln!("note: {n}"),
            TrainEvent::Step {
                step,
                steps,
                losses,
                steps_per_second,
                eta,
                ..
            } => {
                if last_print.elapsed() >= Duration::from_secs(5) || step == steps {
                    last_print = Instant::now();
                    eprintln!(
                        "step {step}/{steps}  G {:.3} (GAN {:.3} feat {:.3} vgg {:.3} kld {:.3})  D {:.3} (fake {:.3} real {:.3})  {:.3} steps/s  ETA {}",
                        losses.g_total(),
                        losses.g_gan,
                        losses.g_feat,
                        losses.g_vgg,
                        losses.g_kld,
                        losses.d_total(),
                        losses.d_fake,
                        losses.d_real,
                        steps_per_second,
                        fmt_duration(*eta)
                    );
                }
            }
            TrainEvent::Sample { path, .. } => eprintln!("sample: {}", path.display()),
            TrainEvent::Checkpoint { step, dir } => {
                eprintln!("checkpoint at step {step}: {}", dir.display())
            }
            TrainEvent::Finished { step, stopped, .. } => eprintln!(
                "{} at step {step} after {}",
                if *stopped { "stopped" } else { "finished" },
                fmt_duration(t0.elapsed())
            ),
        })
        .with_context(|| format!("training in {}", a.out.display()))?;
    println!("{}", model.display());
    if let Some(mib) = peak_memory_mib() {
        eprintln!("peak memory: {mib:.0} MiB");
    }
    Ok(())
}
