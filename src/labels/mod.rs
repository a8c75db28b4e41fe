//! Label maps: the painted input of the generator, its palettes, its PNG files and its encoding
//! into the generator's semantic channels.

pub mod encode;
pub mod label_map;
pub mod palette;
pub mod png_io;

pub use label_map::{InstanceMap, LabelMap};
pub use palette::{ClassInfo, Palette};
pub use png_io::LabelError;
