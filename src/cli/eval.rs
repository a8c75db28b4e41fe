//! `gaugan eval`: how close a model's photos come to the real ones of a dataset folder, and how
//! much they vary with the style, next to an untrained model of the same shape in the same run.
//!
//! Each pair is prepared like a training sample with a centred crop (shorter side scaled to the
//! model's size, no flip). Figures:
//! - **L1**: mean absolute difference to the real photo, on a 0..1 scale, with the style encoded
//!   from the real photo (z = mu) when the model has an encoder, else the seeded style 0;
//! - **colour error**: per class, the distance between the mean RGB (0..255) of the generated
//!   pixels of that class and of the real ones, averaged over the images where the class occurs;
//! - **diversity**: the mean pairwise L1 (0..1) between the photos of the same labels under
//!   different random styles.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;

use super::{ImportFlags, load_model};
use crate::checkpoint::ModelFile;
use crate::infer::{BackendChoice, Synthesizer, backend};
use crate::labels::LabelMap;
use crate::train::data::{Preprocess, Sample, load_sample};
use crate::train::scan;
use crate::train::trainer::initial_model;

/// Arguments of `gaugan eval`.
#[derive(Args, Debug)]
pub struct EvalArgs {
    /// The model to judge (a gaugan model file or an official .pth with the import flags).
    #[arg(long)]
    pub model: PathBuf,
    /// Dataset folder (the layout `gaugan train` reads), e.g. a validation split.
    #[arg(long)]
    pub data: PathBuf,
    /// Judge only the pairs `gaugan train --val-every N` held out (every N-th in file-name
    /// order; 0: all pairs).
    #[arg(long, default_value_t = 0)]
    pub val_every: usize,
    /// Use at most this many pairs (0: all).
    #[arg(long, default_value_t = 0)]
    pub limit: usize,
    /// Random styles per image for the diversity figure.
    #[arg(long, default_value_t = 4)]
    pub styles: usize,
    /// Images used for the diversity figure.
    #[arg(long, default_value_t = 8)]
    pub diversity_images: usize,
    /// Seed of the untrained baseline's weights (the initialisation of `gaugan train`).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Where inference runs.
    #[arg(long, default_value = "auto")]
    pub backend: BackendChoice,
    /// Also write a grid of the first validation pairs to this PNG, one row each:
    /// labels | photo (style of its own real photo) | photo (style of the next pair's photo) |
    /// photo (random style) | real photo.
    #[arg(long)]
    pub grid: Option<PathBuf>,
    /// Rows of the grid.
    #[arg(long, default_value_t = 6)]
    pub grid_rows: usize,
    /// Import choices for an official .pth.
    #[command(flatten)]
    pub flags: ImportFlags,
}

/// The figures of one model.
#[derive(Debug, Clone, Default)]
pub struct EvalFigures {
    /// Mean L1 (0..1).
    pub l1: f64,
    /// Per class: (sum of colour errors, occurrences).
    pub class_error: Vec<(f64, usize)>,
    /// Mean pairwise L1 across styles (0..1); `None` for a model without styles.
    pub diversity: Option<f64>,
}

impl EvalFigures {
    /// Mean colour error over the classes that occurred.
    pub fn mean_colour_error(&self) -> f64 {
        let v: Vec<f64> = self
            .class_error
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(s, n)| s / *n as f64)
            .collect();
        if v.is_empty() {
            0.0
        } else {
            v.iter().sum::<f64>() / v.len() as f64
        }
    }
}

/// Runs `gaugan eval`.
pub fn run(a: EvalArgs) -> anyhow::Result<()> {
    let model = load_model(&a.model, None, &a.flags.options())?;
    let baseline = untrained_like(&model, a.seed);
    let scanned = scan(&a.data)?;
    let mut pairs = scanned.good_pairs();
    if a.val_every > 0 {
        pairs = scanned.split_validation(pairs, a.val_every).1;
    }
    if pairs.is_empty() {
        bail!(
            "{}: no usable pairs\n{}",
            a.data.display(),
            scanned.report()
        );
    }
    if a.limit > 0 {
        pairs.truncate(a.limit);
    }
    let [h, w] = model.generator.output_size();
    if h != w {
        bail!("gaugan eval needs a model with square output (this one is {w}x{h})");
    }
    let classes = model.generator.labels.classes();
    if scanned.palette.len() > classes {
        bail!(
            "{} has {} classes but the model reads {classes}",
            a.data.display(),
            scanned.palette.len()
        );
    }
    let pre = Preprocess {
        size: w,
        load_size: w,
        flip: false,
        classes,
        instance: model.generator.labels.instance,
        palette: scanned.palette.clone(),
    };
    let t0 = Instant::now();
    let samples: Vec<(String, Sample)> = pairs
        .iter()
        .map(|p| load_sample(p, &pre, None).map(|s| (p.stem.clone(), s)))
        .collect::<Result<_, _>>()
        .map_err(anyhow::Error::msg)?;
    let be = backend::select(a.backend).map_err(anyhow::Error::msg)?;
    println!(
        "eval on {} pairs of {} at {w}x{h}, {} ({} classes); loaded in {:.1} s",
        samples.len(),
        a.data.display(),
        be.description,
        classes,
        t0.elapsed().as_secs_f64()
    );
    let names: Vec<String> = (0..classes)
        .map(|c| {
            model
                .palette
                .classes
                .get(c)
                .map(|k| k.name.clone())
                .unwrap_or_else(|| format!("class {c}"))
        })
        .collect();
    let mut results = Vec::new();
    for (label, m) in [("model", &model), ("untrained", &baseline)] {
        let t = Instant::now();
        let synth = Synthesizer::new(m, be.device.clone()).context("loading the model")?;
        let f = evaluate(&synth, &samples, w, classes, a.styles, a.diversity_images)?;
        eprintln!("{label}: evaluated in {:.1} s", t.elapsed().as_secs_f64());
        if let (Some(path), "model") = (&a.grid, label) {
            write_grid(&synth, &samples, &scanned.palette, w, a.grid_rows, path)?;
        }
        results.push((label, f));
    }
    println!();
    println!(
        "{:<12} {:>8} {:>14} {:>10}",
        "", "L1", "colour error", "diversity"
    );
    for (label, f) in &results {
        println!(
            "{:<12} {:>8.4} {:>14.2} {:>10}",
            label,
            f.l1,
            f.mean_colour_error(),
            f.diversity
                .map(|d| format!("{d:.4}"))
                .unwrap_or_else(|| "-".into())
        );
    }
    println!();
    println!("per-class mean colour error (RGB distance, 0..255):");
    println!(
        "{:<14} {:>8} {:>10} {:>7}",
        "class", "model", "untrained", "images"
    );
    for (c, name) in names.iter().enumerate() {
        let (s, n) = results[0].1.class_error[c];
        if n == 0 {
            continue;
        }
        let (sb, nb) = results[1].1.class_error[c];
        println!(
            "{:<14} {:>8.2} {:>10.2} {:>7}",
            name,
            s / n as f64,
            sb / nb.max(1) as f64,
            n
        );
    }
    if let Some(path) = &a.grid {
        println!();
        println!(
            "grid of {} pairs (labels | own style | next pair's style | random style | real): {}",
            a.grid_rows.min(samples.len()),
            path.display()
        );
    }
    let (m, u) = (&results[0].1, &results[1].1);
    println!();
    println!(
        "model vs untrained: L1 {:.2}x lower, colour error {:.2}x lower",
        u.l1 / m.l1.max(1e-12),
        u.mean_colour_error() / m.mean_colour_error().max(1e-12)
    );
    Ok(())
}

/// The model a training run with `seed` would start from: same shape, classes and
/// initialisation as `gaugan train`.
fn untrained_like(m: &ModelFile, seed: u64) -> ModelFile {
    initial_model(&m.generator, m.encoder.as_ref(), m.palette.clone(), seed)
}

fn evaluate(
    synth: &Synthesizer,
    samples: &[(String, Sample)],
    size: usize,
    classes: usize,
    styles: usize,
    diversity_images: usize,
) -> anyhow::Result<EvalFigures> {
    let hw = size * size;
    let mut f = EvalFigures {
        class_error: vec![(0.0, 0); classes],
        ..Default::default()
    };
    let mut l1_sum = 0.0;
    let (mut div_sum, mut div_n) = (0.0, 0usize);
    for (i, (stem, s)) in samples.iter().enumerate() {
        let labels = LabelMap::from_vec(size, size, s.labels.clone()).context("label crop size")?;
        let style = if synth.encoder.is_some() {
            Some(synth.encode_tensor(s.image.clone(), size, size)?.0)
        } else {
            synth.random_style(0)
        };
        let photo = synth
            .synthesize(&labels, None, style.as_ref())
            .with_context(|| format!("synthesising {stem}"))?;
        l1_sum += photo
            .data
            .iter()
            .zip(&s.image)
            .map(|(a, b)| (a - b).abs() as f64)
            .sum::<f64>()
            / (3 * hw) as f64
            / 2.0;
        // Per-class mean colours, 0..255.
        let mut sums = vec![([0.0f64; 3], [0.0f64; 3], 0usize); classes];
        for (p, &c) in s.labels.iter().enumerate() {
            let e = &mut sums[c as usize];
            for ch in 0..3 {
                e.0[ch] += to_255(photo.data[ch * hw + p]);
                e.1[ch] += to_255(s.image[ch * hw + p]);
            }
            e.2 += 1;
        }
        for (c, (g, r, n)) in sums.iter().enumerate() {
            if *n == 0 {
                continue;
            }
            let d: f64 = (0..3)
                .map(|ch| ((g[ch] - r[ch]) / *n as f64).powi(2))
                .sum::<f64>()
                .sqrt();
            f.class_error[c].0 += d;
            f.class_error[c].1 += 1;
        }
        if synth.uses_style() && styles >= 2 && i < diversity_images {
            let outs: Vec<Vec<f32>> = (0..styles as u64)
                .map(|k| {
                    let st = synth.random_style(1000 + k);
                    synth.synthesize(&labels, None, st.as_ref()).map(|p| p.data)
                })
                .collect::<Result<_, _>>()?;
            for a in 0..outs.len() {
                for b in a + 1..outs.len() {
                    div_sum += outs[a]
                        .iter()
                        .zip(&outs[b])
                        .map(|(x, y)| (x - y).abs() as f64)
                        .sum::<f64>()
                        / (3 * hw) as f64
                        / 2.0;
                    div_n += 1;
                }
            }
        }
    }
    f.l1 = l1_sum / samples.len() as f64;
    f.diversity = (div_n > 0).then(|| div_sum / div_n as f64);
    Ok(f)
}

/// One row per pair: labels | own style | next pair's style | random style | real.
fn write_grid(
    synth: &Synthesizer,
    samples: &[(String, Sample)],
    palette: &crate::labels::Palette,
    size: usize,
    rows: usize,
    path: &std::path::Path,
) -> anyhow::Result<()> {
    let rows = rows.min(samples.len());
    let cols = 5u32;
    let s = size as u32;
    let mut grid = image::RgbImage::new(cols * s, rows as u32 * s);
    for r in 0..rows {
        let (stem, sample) = &samples[r];
        let labels =
            LabelMap::from_vec(size, size, sample.labels.clone()).context("label crop size")?;
        let mut tiles = vec![palette.colour_image(&sample.labels, size, size)];
        let styles = if synth.encoder.is_some() {
            let other = &samples[(r + 1) % samples.len()].1;
            vec![
                Some(synth.encode_tensor(sample.image.clone(), size, size)?.0),
                Some(synth.encode_tensor(other.image.clone(), size, size)?.0),
                synth.random_style(7 + r as u64),
            ]
        } else {
            vec![synth.random_style(0); 3]
        };
        for st in &styles {
            let photo = synth
                .synthesize(&labels, None, st.as_ref())
                .with_context(|| format!("synthesising {stem}"))?;
            tiles.push(photo.to_rgb());
        }
        tiles.push(crate::infer::image::tensor_to_rgb(
            &sample.image,
            size,
            size,
        ));
        for (c, t) in tiles.iter().enumerate() {
            image::imageops::replace(&mut grid, t, (c as u32 * s) as i64, (r as u32 * s) as i64);
        }
    }
    Ok(crate::util::photo::save_png(&grid, path)?)
}

fn to_255(v: f32) -> f64 {
    ((v as f64 + 1.0) / 2.0 * 255.0).clamp(0.0, 255.0)
}
