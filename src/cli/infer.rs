//! `gaugan infer`: a label map (and a style) to a photo.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args;

use super::{ImportShape, ensure_parent, load_model};
use crate::infer::{BackendChoice, Precision, Synthesizer, backend};
use crate::labels::png_io::{read_instance_png, read_label_png};
use crate::util::atomic::write_atomic;
use crate::util::npy;

/// Arguments of `gaugan infer`.
#[derive(Args, Debug)]
pub struct InferArgs {
    /// A gaugan model file, or an official generator .pth (with the import flags).
    #[arg(long)]
    pub model: PathBuf,
    /// The official encoder .pth, when `--model` is an official generator with a VAE head.
    #[arg(long)]
    pub encoder: Option<PathBuf>,
    /// Label map PNG: class ids (grayscale or indexed), or colours of the model's palette.
    #[arg(long)]
    pub labels: PathBuf,
    /// Instance map PNG (models with an instance-edge channel; given with an official `.pth`, it
    /// also says that the checkpoint reads one).
    #[arg(long)]
    pub instance: Option<PathBuf>,
    /// Style image: the encoder turns it into z (z = mu). A `.npy` [1,3,H,W] in [-1,1] is fed as is.
    #[arg(long, conflicts_with = "seed")]
    pub style: Option<PathBuf>,
    /// Seed of a random style (VAE models).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Output PNG (converted like the official tensor2im).
    #[arg(long)]
    pub out: PathBuf,
    /// Also write the raw float32 [1,3,H,W] output as .npy.
    #[arg(long)]
    pub raw_out: Option<PathBuf>,
    /// Where to run: auto (a real GPU, else CPU), wgpu or cpu.
    #[arg(long, default_value = "auto")]
    pub backend: BackendChoice,
    /// Compute the generator in f16 (GPUs with f16 support; within 5e-2 of the f32 photo).
    #[arg(long)]
    pub half: bool,
    /// How to read an official checkpoint.
    #[command(flatten)]
    pub flags: ImportShape,
}

/// Runs `gaugan infer`.
pub fn run(a: InferArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let model = load_model(
        &a.model,
        a.encoder.as_deref(),
        &a.flags.options(a.instance.is_some()),
    )?;
    let be = backend::select(a.backend).map_err(anyhow::Error::msg)?;
    let labels = read_label_png(
        &a.labels,
        model.generator.labels.classes(),
        Some(&model.palette),
    )?;
    let instance = a.instance.as_deref().map(read_instance_png).transpose()?;
    if instance.is_some() && !model.generator.labels.instance {
        eprintln!("note: this model reads no instance map; --instance is ignored");
    }
    let precision = if a.half {
        Precision::Half
    } else {
        Precision::Full
    };
    let synth = Synthesizer::with_precision(&model, be.device.clone(), precision)
        .map_err(|e| anyhow::anyhow!("{e} ({})", be.description))?;
    let style = match (&a.style, a.seed) {
        (Some(path), _) if path.extension().is_some_and(|e| e == "npy") => {
            // A raw [1, 3, H, W] float32 tensor in [-1, 1], fed to the encoder as is.
            let a = npy::read_f32(path).map_err(anyhow::Error::msg)?;
            let [1, 3, h, w] = a.shape[..] else {
                anyhow::bail!(
                    "{}: expected a [1, 3, H, W] array, found {:?}",
                    path.display(),
                    a.shape
                );
            };
            Some(synth.encode_tensor(a.data, h, w)?.0)
        }
        (Some(path), _) => {
            let img = crate::util::photo::read_rgb(path)?;
            Some(synth.encode_image(&img)?.0)
        }
        (None, Some(seed)) => synth.random_style(seed),
        (None, None) => None,
    };
    if !synth.uses_style() && (a.style.is_some() || a.seed.is_some()) {
        eprintln!("note: this model has no VAE head; the style is ignored");
    }
    let t = Instant::now();
    let photo = synth
        .synthesize(&labels, instance.as_ref(), style.as_ref())
        .with_context(|| a.labels.display().to_string())?;
    let forward = t.elapsed();
    ensure_parent(&a.out)?;
    crate::util::photo::save_png(&photo.to_rgb(), &a.out)?;
    if let Some(raw) = &a.raw_out {
        ensure_parent(raw)?;
        let bytes = npy::encode_f32(&[1, 3, photo.height, photo.width], &photo.data);
        write_atomic(raw, &bytes).with_context(|| raw.display().to_string())?;
    }
    println!(
        "wrote {} ({}x{}) on {} in {:.0} ms (forward {:.0} ms)",
        a.out.display(),
        photo.width,
        photo.height,
        be.description,
        started.elapsed().as_secs_f64() * 1e3,
        forward.as_secs_f64() * 1e3
    );
    Ok(())
}
