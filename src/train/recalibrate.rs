//! Batch-norm recalibration: the running statistics of a trained generator recomputed with its
//! final weights, from a fixed set of training samples run as one batch in train mode, layer
//! after layer (PyTorch's "precise" batch-norm statistics).
//!
//! Running statistics kept with momentum 0.1 during training average the activations of the last
//! few dozen weight updates of a GAN whose weights keep moving; measured on the synthetic
//! learning test, a model judged in eval mode with those statistics painted its classes with a
//! mean colour error of 64 (0..255), with the batch statistics of the 8 test maps 15. Recomputing them once with
//! the final weights closes that gap, and inference keeps the official eval-mode batch norm.

use burn::tensor::Device;

use super::data::{Pair, Preprocess, load_sample};
use crate::checkpoint::{ModelFile, StateTensor, WeightsError};
use crate::infer::Synthesizer;
use crate::infer::cpu::{CpuGenerator, GenInput};

/// Images the statistics are averaged over.
pub const RECALIBRATION_IMAGES: usize = 32;

/// A training sample kept for recalibration: class ids, instance edges, the photo.
#[derive(Debug, Clone)]
pub struct CalibrationSample {
    /// `[S, S]` class ids.
    pub ids: Vec<u16>,
    /// `[S, S]` instance edges (empty without instance maps).
    pub edges: Vec<f32>,
    /// `[3, S, S]` in `[-1, 1]`.
    pub image: Vec<f32>,
    /// Side.
    pub size: usize,
}

/// Up to [`RECALIBRATION_IMAGES`] samples spread evenly over `pairs` (centre crops, no flip):
/// the same ones on every call, so recalibration is a pure function of the weights.
pub fn calibration_samples(
    pairs: &[Pair],
    pre: &Preprocess,
) -> Result<Vec<CalibrationSample>, String> {
    let n = pairs.len().min(RECALIBRATION_IMAGES);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let pair = &pairs[i * pairs.len() / n];
        let s = load_sample(pair, pre, None)?;
        let hw = pre.size * pre.size;
        let edges = if pre.instance {
            s.semantics[pre.classes * hw..(pre.classes + 1) * hw].to_vec()
        } else {
            Vec::new()
        };
        out.push(CalibrationSample {
            ids: s.labels,
            edges,
            image: s.image,
            size: pre.size,
        });
    }
    Ok(out)
}

/// Replaces the generator's batch-norm running statistics of `model` by the statistics of
/// `samples` run as one batch, each generated with the style its photo encodes to (`z = mu`), or
/// a seeded random style when the model has no encoder. Runs on the CPU.
pub fn recalibrate(
    model: &mut ModelFile,
    samples: &[CalibrationSample],
) -> Result<(), WeightsError> {
    if samples.is_empty() {
        return Ok(());
    }
    let mut generator =
        CpuGenerator::from_state_dict(&model.generator, model.generator_weights.clone())?;
    let styles: Vec<Option<Vec<f32>>> = match model.generator.z_dim {
        None => vec![None; samples.len()],
        Some(_) => {
            let synth = Synthesizer::new(model, Device::flex()).map_err(|e| match e {
                crate::infer::EngineError::Weights(w) => w,
                other => WeightsError::Missing(vec![other.to_string()]),
            })?;
            samples
                .iter()
                .enumerate()
                .map(
                    |(i, s)| match synth.encode_tensor(s.image.clone(), s.size, s.size) {
                        Ok((style, _)) => Some(style.z),
                        Err(_) => synth.random_style(i as u64).map(|s| s.z),
                    },
                )
                .collect()
        }
    };
    let zero_edges: Vec<Vec<f32>> = samples
        .iter()
        .map(
            |s| match (model.generator.labels.instance, s.edges.is_empty()) {
                (true, true) => vec![0.0; s.size * s.size],
                (true, false) => s.edges.clone(),
                (false, _) => Vec::new(),
            },
        )
        .collect();
    let inputs: Vec<GenInput> = samples
        .iter()
        .zip(&zero_edges)
        .zip(&styles)
        .map(|((s, e), z)| GenInput {
            ids: &s.ids,
            extra: e,
            size: (s.size, s.size),
            z: z.as_deref(),
        })
        .collect();
    for (prefix, mean, var) in generator.calibrate(&inputs) {
        let bn = format!("{prefix}.param_free_norm");
        let c = mean.len();
        model.generator_weights.insert(
            format!("{bn}.running_mean"),
            StateTensor::new(vec![c], mean),
        );
        model
            .generator_weights
            .insert(format!("{bn}.running_var"), StateTensor::new(vec![c], var));
    }
    Ok(())
}
