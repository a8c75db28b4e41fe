//! Checkpoints: official PyTorch `.pth` import (zip and legacy formats, read without executing
//! anything), gaugan's own model file, and the mapping between state dicts and Burn modules.

pub mod builtin;
pub mod convert;
pub mod import;
pub mod model_file;
pub mod pickle;
pub mod pth;
pub mod state_dict;
pub mod untrained;

pub use import::{Dataset, ImportError, ImportOptions, import_official};
pub use model_file::{ModelFile, ModelFileError, Provenance};
pub use state_dict::{StateDict, StateTensor, WeightReader, WeightsError};
pub use untrained::untrained_model;
