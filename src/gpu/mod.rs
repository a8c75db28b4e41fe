//! Hand-written WGSL kernels (`shaders/`) on Burn's wgpu tensors, for what Burn's own ops cannot
//! express efficiently: the SPADE lookup ([`lookup`]), the folded SPADE modulation in one pass
//! ([`modulate`]) and the photo's trip from the generator's output to an RGBA texture without
//! leaving the GPU ([`photo`]). Only in builds with the `gpu`
//! feature; every caller has a Burn-ops fallback.

mod kernel;
pub mod lookup;
pub mod modulate;
pub mod photo;
