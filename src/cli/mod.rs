//! The `gaugan` command line: one file per subcommand.

pub mod bench;
pub mod eval;
pub mod import;
pub mod infer;
pub mod info;
pub mod train;

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::checkpoint::{Dataset, ImportOptions, ModelFile, import_official};
use crate::model::Upsampling;

/// GauGAN-style semantic image synthesis (SPADE): paint labels, see a photo.
#[derive(Parser, Debug)]
#[command(
    name = "gaugan",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// What to do; without one, the painting app opens.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The app's options (used when no subcommand is given).
    #[command(flatten)]
    pub app: AppArgs,
}

/// Options of the painting app (`gaugan` without a subcommand).
#[derive(Args, Debug, Clone, Default)]
pub struct AppArgs {
    /// Open this model (a gaugan model file or an official .pth) instead of the last one used.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Encoder checkpoint for an official generator .pth.
    #[arg(long, requires = "model")]
    pub encoder: Option<PathBuf>,
    /// Where inference runs: auto (a real GPU, else the CPU backend), wgpu or cpu.
    #[arg(long, default_value = "auto")]
    pub backend: crate::infer::BackendChoice,
    /// How to read an official .pth given to --model.
    #[command(flatten)]
    pub import: ImportFlags,
}

#[cfg(feature = "app")]
impl AppArgs {
    /// As app options.
    pub fn options(&self) -> crate::app::AppOptions {
        crate::app::AppOptions {
            model: match &self.model {
                Some(p) => crate::app::ModelSource::Path(p.clone()),
                None => crate::app::ModelSource::Default,
            },
            encoder: self.encoder.clone(),
            import: self.import.options(),
            backend: self.backend,
            ..Default::default()
        }
    }
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Convert official NVlabs/SPADE checkpoints into a gaugan model file.
    Import(import::ImportArgs),
    /// Synthesise a photo from a label map.
    Infer(infer::InferArgs),
    /// Show a model's configuration, classes, size and provenance.
    Info(info::InfoArgs),
    /// Train (or fine-tune, or resume) a model on a folder of photos and label maps.
    Train(train::TrainArgs),
    /// Judge a model on a dataset folder next to an untrained one (L1, colour error, diversity).
    Eval(eval::EvalArgs),
    /// Measure the generator's speed: naive and optimised paths, stroke to photo, peak memory.
    Bench(bench::BenchArgs),
}

/// How to read an official checkpoint (used by `import`, and by `infer`, `info`, `eval`, `bench`
/// and the app when given a `.pth`).
#[derive(Args, Debug, Clone, Default)]
pub struct ImportFlags {
    /// What shapes cannot tell.
    #[command(flatten)]
    pub shape: ImportShape,
    /// The model reads an instance-edge channel.
    #[arg(long)]
    pub instance: bool,
}

impl ImportFlags {
    /// As library options: switches only ever turn a channel on.
    pub fn options(&self) -> ImportOptions {
        self.shape.options(self.instance)
    }
}

/// The import choices besides the instance channel (`infer` takes `--instance I.png` instead: an
/// instance map given for a `.pth` means the model reads one).
#[derive(Args, Debug, Clone, Default)]
pub struct ImportShape {
    /// Dataset preset of the checkpoint: ade20k, coco, cityscapes or custom.
    #[arg(long)]
    pub dataset: Option<Dataset>,
    /// Number of classes (without dontcare).
    #[arg(long)]
    pub label_nc: Option<usize>,
    /// The label map has a dontcare class after the real ones.
    #[arg(long)]
    pub dontcare: bool,
    /// Number of upsamplings: normal, more or most.
    #[arg(long)]
    pub upsampling: Option<Upsampling>,
    /// Output width / height.
    #[arg(long)]
    pub aspect_ratio: Option<f64>,
    /// Output width in pixels (official crop_size).
    #[arg(long)]
    pub crop_size: Option<usize>,
}

impl ImportShape {
    /// As library options, with the instance channel on when `instance`.
    pub fn options(&self, instance: bool) -> ImportOptions {
        ImportOptions {
            dataset: self.dataset,
            label_nc: self.label_nc,
            dontcare: self.dontcare.then_some(true),
            instance: instance.then_some(true),
            upsampling: self.upsampling,
            aspect_ratio: self.aspect_ratio,
            crop_size: self.crop_size,
        }
    }
}

/// Loads a gaugan model file, or imports an official `.pth` on the fly.
pub fn load_model(
    path: &Path,
    encoder: Option<&Path>,
    options: &ImportOptions,
) -> anyhow::Result<ModelFile> {
    let is_pth = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("pth") || e.eq_ignore_ascii_case("pt"));
    if is_pth {
        Ok(import_official(path, encoder, options)?)
    } else {
        Ok(ModelFile::load(path)?)
    }
}

/// Runs the command line (everything but the app).
pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Import(a) => import::run(a),
        Command::Infer(a) => infer::run(a),
        Command::Info(a) => info::run(a),
        Command::Train(a) => train::run(a),
        Command::Eval(a) => eval::run(a),
        Command::Bench(a) => bench::run(a),
    }
}

/// Creates the parent folder of an output path.
pub fn ensure_parent(path: &Path) -> anyhow::Result<PathBuf> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    Ok(path.to_path_buf())
}
