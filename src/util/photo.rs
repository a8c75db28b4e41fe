//! Reading photos (style images, training photos) with bounds checked before decoding, and
//! writing them atomically.

use std::path::Path;

use image::{ImageReader, Limits, RgbImage};

/// Largest side accepted.
pub const MAX_SIDE: u32 = 16_384;
/// Largest decoded size in bytes.
pub const MAX_ALLOC: u64 = 1 << 30;

/// Why a photo could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a readable image ({why})")]
    Decode { path: String, why: String },
}

impl PhotoError {
    /// What went wrong, without the file name.
    pub fn reason(&self) -> String {
        match self {
            PhotoError::Io { source, .. } => source.to_string(),
            PhotoError::Decode { why, .. } => why.clone(),
        }
    }
}

/// Reads an image file as RGB, refusing huge or malformed files with an error naming the file.
pub fn read_rgb(path: &Path) -> Result<RgbImage, PhotoError> {
    let p = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| PhotoError::Io {
        path: p.clone(),
        source,
    })?;
    decode_rgb(&bytes, &p)
}

/// Decodes image bytes as RGB; `name` appears in errors.
pub fn decode_rgb(bytes: &[u8], name: &str) -> Result<RgbImage, PhotoError> {
    let err = |why: String| PhotoError::Decode {
        path: name.into(),
        why,
    };
    let mut reader = ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| err(e.to_string()))?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    let img = reader.decode().map_err(|e| err(e.to_string()))?;
    Ok(img.to_rgb8())
}

/// Encodes an RGB image as PNG and writes it atomically.
pub fn save_png(img: &RgbImage, path: &Path) -> Result<(), PhotoError> {
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("encoding to memory");
    super::atomic::write_atomic(path, &png).map_err(|source| PhotoError::Io {
        path: path.display().to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn giant_png_header_is_refused_before_decoding() {
        // A valid PNG signature + IHDR claiming 100000 x 100000 RGB pixels, and nothing else.
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = b"IHDR".to_vec();
        ihdr.extend_from_slice(&100_000u32.to_be_bytes());
        ihdr.extend_from_slice(&100_000u32.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        png.extend_from_slice(&13u32.to_be_bytes());
        png.extend_from_slice(&ihdr);
        png.extend_from_slice(&crc32(&ihdr).to_be_bytes());
        let e = decode_rgb(&png, "giant.png").unwrap_err().to_string();
        assert!(e.contains("giant.png"), "{e}");
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for &b in data {
            crc ^= b as u32;
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
}
