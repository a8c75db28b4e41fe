//! The CPU inference path (issue "Speed"): the generator with its weights folded at load and
//! hand-written kernels (direct convolutions with fused epilogues, one-hot lookups), run on all
//! cores. The Burn generator on the `flex` backend is the reference (and the naive baseline of
//! `gaugan bench`); this path gives the same numbers up to float summation order.

pub mod conv;
pub mod generator;
pub mod lookup;
pub mod patterns;
pub mod planes;

pub use conv::Kernel;
pub use generator::{CpuGenerator, GenInput};
