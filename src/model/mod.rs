//! The SPADE model (Park et al. 2019, "Semantic Image Synthesis with Spatially-Adaptive
//! Normalization", arXiv 1903.07291; official code NVlabs/SPADE) in Burn.
//!
//! Module and field names mirror the official state-dict paths (`head_0.norm_0.mlp_shared`, ...)
//! so that checkpoints map one to one; see [`crate::checkpoint`].

pub mod batch_norm;
pub mod config;
pub mod discriminator;
pub mod encoder;
pub mod generator;
pub mod resblock;
pub mod spade;
pub mod spectral_norm;
pub mod vgg;

pub use config::{EncoderConfig, GeneratorConfig, LabelChannels, Upsampling};
pub use encoder::Encoder;
pub use generator::Generator;
pub use spade::SegMaps;
