//! The model built into the binary: `assets/models/default.gaugan` when the build found one
//! (see `build.rs`), otherwise an untrained stand-in of the same shape family.

use crate::checkpoint::{ModelFile, untrained_model};
use crate::labels::Palette;
use crate::model::{EncoderConfig, GeneratorConfig, LabelChannels};

/// The embedded model file's bytes.
#[cfg(gaugan_default_model)]
pub const DEFAULT_MODEL: Option<&[u8]> = Some(include_bytes!("../../assets/models/default.gaugan"));
/// The embedded model file's bytes: none in this build (see `build.rs`), so the built-in model
/// is [`placeholder_default`].
#[cfg(not(gaugan_default_model))]
pub const DEFAULT_MODEL: Option<&[u8]> = None;

/// Name shown for the built-in model.
pub const DEFAULT_MODEL_NAME: &str = "built-in model";

/// The built-in model and the name to show for it.
pub fn default_model() -> Result<(ModelFile, String), String> {
    match DEFAULT_MODEL {
        Some(bytes) => ModelFile::from_bytes(bytes, DEFAULT_MODEL_NAME)
            .map(|m| (m, DEFAULT_MODEL_NAME.to_owned()))
            .map_err(|e| e.to_string()),
        None => Ok((
            placeholder_default(),
            "untrained placeholder model".to_owned(),
        )),
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    /// The shipped model (assets/models/default.gaugan) is embedded, loads, and is what its
    /// model card says: the trained facade model with an encoder, at least 256 px.
    #[test]
    #[cfg(gaugan_default_model)]
    fn the_embedded_default_is_the_trained_facade_model() {
        let (m, name) = default_model().unwrap();
        assert_eq!(name, DEFAULT_MODEL_NAME);
        assert_eq!(m.palette.len(), 12);
        assert!(m.generator.output_size().iter().all(|&s| s >= 256));
        assert!(m.encoder.is_some());
        assert!(m.provenance.source.contains("gaugan train"));
        assert!(
            m.provenance
                .credit
                .as_deref()
                .unwrap_or("")
                .contains("CMP Facade")
        );
    }

    #[test]
    fn the_placeholder_is_a_valid_facade_shaped_model() {
        let m = placeholder_default();
        assert_eq!(m.palette.len(), 12);
        assert_eq!(m.generator.output_size(), [256, 256]);
        let bytes = m.to_bytes();
        ModelFile::from_bytes(&bytes, "placeholder").unwrap();
    }
}
