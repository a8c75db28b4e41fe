//! Untrained models built from a config: the app's stand-in while no trained default model is
//! embedded, and small models for tests.

use crate::checkpoint::ModelFile;
pub use crate::checkpoint::untrained::untrained_model;
use crate::labels::Palette;
use crate::model::{EncoderConfig, GeneratorConfig, LabelChannels};

/// The stand-in default: an untrained CMP-Facade-shaped model (12 classes, VAE head with an
/// encoder, 256x256), narrow enough to run live on a CPU. It paints noise, not facades.
pub fn placeholder_default() -> ModelFile {
    let palette = Palette::builtin("cmp_facade").expect("built-in palette");
    let generator = GeneratorConfig::new(LabelChannels::new(palette.label_nc))
        .with_ngf(8)
        .with_spade_hidden(32)
        .with_crop_size(256)
        .with_z_dim(Some(64));
    let encoder = EncoderConfig::new()
        .with_ndf(8)
        .with_layers(6)
        .with_input_size(256)
        .with_z_dim(64);
    untrained_model(
        generator,
        Some(encoder),
        palette,
        "untrained placeholder (no trained default model was embedded in this build)",
    )
}
