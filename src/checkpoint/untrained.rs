//! Freshly initialised (untrained) models built from a config: baselines for `gaugan eval` and
//! `gaugan bench`, the app's stand-in default, and small models for tests.

use burn::tensor::Device;

use crate::checkpoint::convert::{encoder_state_dict, generator_state_dict};
use crate::checkpoint::{ModelFile, Provenance};
use crate::labels::Palette;
use crate::model::{EncoderConfig, GeneratorConfig};

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
    let generator_weights = generator_state_dict(&g);
    let encoder_weights = encoder
        .as_ref()
        .map(|e| encoder_state_dict(&e.init(&device)))
        .unwrap_or_default();
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
