//! gaugan: GauGAN-style semantic image synthesis (SPADE, Park et al. 2019) on your own machine.
//!
//! Data flows one way: [`labels`] (painted class ids) -> [`model`] (the SPADE generator in Burn,
//! loaded through [`checkpoint`]) -> [`infer`] (backend choice and the synthesis engine) -> an
//! image. The command line lives in [`cli`], the painting app in [`app`], training in [`train`].

#[cfg(feature = "app")]
pub mod app;
pub mod checkpoint;
pub mod cli;
#[doc(hidden)]
pub mod fuzzing;
#[cfg(feature = "gpu")]
pub mod gpu;
pub mod infer;
pub mod labels;
pub mod model;
pub mod train;
pub mod util;

/// "gaugan <version>", recorded in the files we write.
pub fn written_by() -> String {
    format!("gaugan {}", env!("CARGO_PKG_VERSION"))
}
