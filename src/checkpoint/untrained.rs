//! Freshly initialised (untrained) models built from a config: baselines for `gaugan eval` and
//! `gaugan bench`, the app's stand-in default, and small models for tests.

use burn::tensor::Device;

use crate::checkpoint::convert::{encoder_state_dict, generator_state_dict};
use crate::checkpoint::{ModelFile, Provenance, StateDict, StateTensor};
use crate::labels::Palette;
use crate::model::{EncoderConfig, GeneratorConfig};

/// Power iterations [`settle_spectral_vectors`] runs.
const SETTLE_ITERATIONS: usize = 10;

/// Runs power iterations on every spectral-normed weight (`*.weight_orig`) of `sd`, replacing its
/// `weight_u` and `weight_v`. PyTorch starts from random vectors, so a fresh layer's sigma (and
/// a fresh model's picture) is arbitrary until training has iterated a few times; settled
/// vectors make sigma the true spectral norm, so an untrained model paints a sane (flat) image.
pub fn settle_spectral_vectors(sd: &mut StateDict) {
    let keys: Vec<String> = sd
        .keys()
        .filter_map(|k| k.strip_suffix(".weight_orig").map(str::to_owned))
        .collect();
    for k in keys {
        let (Some(w), Some(u)) = (
            sd.get(&format!("{k}.weight_orig")),
            sd.get(&format!("{k}.weight_u")),
        ) else {
            continue;
        };
        let out = w.shape[0];
        let n = w.data.len() / out.max(1);
        let w: Vec<f64> = w.data.iter().map(|&x| x as f64).collect();
        let mut u: Vec<f64> = u.data.iter().map(|&x| x as f64).collect();
        let mut v = vec![0f64; n];
        let normalize = |x: &mut [f64]| {
            let norm = x.iter().map(|a| a * a).sum::<f64>().sqrt().max(1e-12);
            x.iter_mut().for_each(|a| *a /= norm);
        };
        for _ in 0..SETTLE_ITERATIONS {
            // v = W^T u, row by row (contiguous)
            v.iter_mut().for_each(|a| *a = 0.0);
            for (o, &uo) in u.iter().enumerate() {
                for (vj, &wj) in v.iter_mut().zip(&w[o * n..(o + 1) * n]) {
                    *vj += wj * uo;
                }
            }
            normalize(&mut v);
            for (o, uo) in u.iter_mut().enumerate() {
                *uo = w[o * n..(o + 1) * n]
                    .iter()
                    .zip(&v)
                    .map(|(a, b)| a * b)
                    .sum();
            }
            normalize(&mut u);
        }
        let to_f32 = |x: Vec<f64>| x.into_iter().map(|a| a as f32).collect::<Vec<f32>>();
        sd.insert(
            format!("{k}.weight_u"),
            StateTensor::new(vec![out], to_f32(u)),
        );
        sd.insert(
            format!("{k}.weight_v"),
            StateTensor::new(vec![n], to_f32(v)),
        );
    }
}

/// A freshly initialised model of the given shape, with `palette` (which must match the
/// generator's classes). Weights are built on the CPU backend.
pub fn untrained_model(
    generator: GeneratorConfig,
    encoder: Option<EncoderConfig>,
    palette: Palette,
    source: &str,
) -> ModelFile {
    let device = Device::flex();
    let g = generator.init(&device);
    let mut generator_weights = generator_state_dict(&g);
    let mut encoder_weights = encoder
        .as_ref()
        .map(|e| encoder_state_dict(&e.init(&device)))
        .unwrap_or_default();
    settle_spectral_vectors(&mut generator_weights);
    settle_spectral_vectors(&mut encoder_weights);
    ModelFile {
        generator,
        encoder,
        provenance: Provenance {
            source: source.into(),
            credit: palette.credit.clone(),
            written_by: crate::written_by(),
            notes: None,
        },
        palette,
        generator_weights,
        encoder_weights,
    }
}
