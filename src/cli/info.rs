//! `gaugan info`: what a model is.

use std::path::PathBuf;

use clap::Args;

use super::{ImportFlags, load_model};
use crate::checkpoint::ModelFile;

/// Arguments of `gaugan info`.
#[derive(Args, Debug)]
pub struct InfoArgs {
    /// A gaugan model file (or an official .pth with the import flags).
    pub model: PathBuf,
    /// How to read an official checkpoint.
    #[command(flatten)]
    pub flags: ImportFlags,
}

/// A human description of a model.
pub fn describe(m: &ModelFile) -> String {
    let g = &m.generator;
    let [h, w] = g.output_size();
    let [sh, sw] = g.latent_size();
    let mut s = String::new();
    let l = &g.labels;
    s += &format!(
        "generator: SPADE, ngf {}, SPADE hidden {}, upsampling {} ({}x), latent {sw}x{sh}, output {w}x{h}\n",
        g.ngf,
        g.spade_hidden,
        g.upsampling.name(),
        1 << g.upsampling.count()
    );
    s += &format!(
        "  head: {}\n",
        match g.z_dim {
            Some(z) => format!("VAE (z of size {z})"),
            None => "label map (3x3 conv)".into(),
        }
    );
    s += &format!(
        "  label channels: {} = {} classes{}{}\n",
        l.semantic_nc(),
        l.label_nc,
        if l.dontcare { " + dontcare" } else { "" },
        if l.instance { " + instance edges" } else { "" }
    );
    s += &format!("  parameters: {}\n", m.generator_parameters());
    match &m.encoder {
        Some(e) => {
            s += &format!(
                "encoder: ndf {}, {} layers, input {}x{}, z {}, parameters {}\n",
                e.ndf,
                e.layers,
                e.input_size,
                e.input_size,
                e.z_dim,
                m.encoder_parameters()
            )
        }
        None => s += "encoder: none (random styles only)\n",
    }
    s += &format!(
        "classes ({}, palette `{}`):",
        m.palette.len(),
        m.palette.name
    );
    for c in &m.palette.classes {
        if c.id % 6 == 0 {
            s += "\n ";
        }
        s += &format!(" {}:{}", c.id, c.name);
    }
    s += "\n";
    s += &format!("provenance: {}\n", m.provenance.source);
    if !m.provenance.written_by.is_empty() {
        s += &format!("  written by: {}\n", m.provenance.written_by);
    }
    if let Some(c) = m.provenance.credit.as_ref().or(m.palette.credit.as_ref()) {
        s += &format!("  data credit: {c}\n");
    }
    if let Some(n) = &m.provenance.notes {
        s += &format!("  notes: {n}\n");
    }
    s
}

/// Runs `gaugan info`.
pub fn run(a: InfoArgs) -> anyhow::Result<()> {
    let m = load_model(&a.model, None, &a.flags.options())?;
    println!("{}", a.model.display());
    print!("{}", describe(&m));
    Ok(())
}
