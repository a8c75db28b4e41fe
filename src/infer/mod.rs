//! Inference: backend choice, the synthesis engine and image conversions.

pub mod backend;
pub mod cpu;
pub mod engine;
pub mod image;
pub mod worker;

pub use backend::{Backend, BackendChoice};
pub use engine::{EngineError, Photo, Precision, Style, SynthPath, Synthesizer};
