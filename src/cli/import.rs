//! `gaugan import`: official checkpoints to a gaugan model file.

use std::path::PathBuf;

use clap::Args;

use super::{ImportFlags, ensure_parent};
use crate::checkpoint::import_official;

/// Arguments of `gaugan import`.
#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The official generator, e.g. `latest_net_G.pth`.
    #[arg(long)]
    pub generator: PathBuf,
    /// The official encoder, e.g. `latest_net_E.pth` (VAE models only).
    #[arg(long)]
    pub encoder: Option<PathBuf>,
    /// How to read the checkpoint.
    #[command(flatten)]
    pub flags: ImportFlags,
    /// Where to write the gaugan model file.
    #[arg(long)]
    pub out: PathBuf,
}

/// Runs `gaugan import`.
pub fn run(a: ImportArgs) -> anyhow::Result<()> {
    let model = import_official(&a.generator, a.encoder.as_deref(), &a.flags.options())?;
    ensure_parent(&a.out)?;
    model.save(&a.out)?;
    let [h, w] = model.generator.output_size();
    println!(
        "wrote {}: generator {} parameters{}, {} label channels, {w}x{h} output",
        a.out.display(),
        model.generator_parameters(),
        if model.encoder.is_some() {
            format!(", encoder {} parameters", model.encoder_parameters())
        } else {
            String::new()
        },
        model.generator.labels.semantic_nc(),
    );
    Ok(())
}
