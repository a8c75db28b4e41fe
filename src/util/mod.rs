//! Small helpers shared by the library, the CLI and the app.

pub mod atomic;
pub mod npy;
pub mod photo;
