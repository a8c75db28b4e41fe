//! Reading and writing label and instance maps as PNG.
//!
//! Label PNGs hold class ids: 8- or 16-bit grayscale, or an indexed (palette) PNG whose indices
//! are the ids. A colour (RGB/RGBA) PNG is mapped back to ids through the model's palette. Sizes
//! are checked from the header before anything is decoded.

use std::io::{BufReader, Cursor};
use std::path::Path;

use super::label_map::{InstanceMap, LabelMap};
use super::palette::Palette;

/// Largest side we decode.
pub const MAX_SIDE: u32 = 16_384;
/// Largest pixel count we decode.
pub const MAX_PIXELS: u64 = 64 * 1024 * 1024;

/// Why a label or instance map could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a readable PNG ({why})")]
    Decode { path: String, why: String },
    #[error(
        "{path}: {width}x{height} is too large for a label map (limit {MAX_SIDE} per side, {MAX_PIXELS} pixels)"
    )]
    TooLarge {
        path: String,
        width: u32,
        height: u32,
    },
    #[error("{path}: colour {color:?} at {count} pixels is not a class of the palette `{palette}`")]
    UnknownColor {
        path: String,
        color: [u8; 3],
        count: usize,
        palette: String,
    },
    #[error("{path}: a colour label PNG needs a palette to map colours to classes")]
    NoPalette { path: String },
    #[error("{path}: value {value} at {count} pixels is outside the model's {classes} classes (0..={max}){more}", max = .classes - 1)]
    OutOfRange {
        path: String,
        value: u32,
        count: usize,
        classes: usize,
        more: String,
    },
    #[error("{path}: size {found_w}x{found_h} differs from the label map's {want_w}x{want_h}")]
    SizeMismatch {
        path: String,
        found_w: usize,
        found_h: usize,
        want_w: usize,
        want_h: usize,
    },
}

/// Pixels of a decoded PNG, before interpretation.
enum Pixels {
    /// Grayscale or palette indices.
    Ids(Vec<u32>),
    /// RGB colours.
    Rgb(Vec<[u8; 3]>),
}

fn decode(bytes: &[u8], path: &str) -> Result<(usize, usize, Pixels), LabelError> {
    let dec_err = |e: png::DecodingError| LabelError::Decode {
        path: path.into(),
        why: e.to_string(),
    };
    let mut decoder = png::Decoder::new_with_limits(
        BufReader::new(Cursor::new(bytes)),
        png::Limits {
            bytes: (MAX_PIXELS * 8) as usize,
        },
    );
    // Raw samples: no palette expansion, 16-bit kept.
    decoder.set_transformations(png::Transformations::IDENTITY);
    let header = decoder.read_header_info().map_err(dec_err)?;
    let (w, h) = (header.width, header.height);
    if w > MAX_SIDE || h > MAX_SIDE || w as u64 * h as u64 > MAX_PIXELS {
        return Err(LabelError::TooLarge {
            path: path.into(),
            width: w,
            height: h,
        });
    }
    let mut reader = decoder.read_info().map_err(dec_err)?;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| LabelError::Decode {
            path: path.into(),
            why: "image too large".into(),
        })?;
    let mut buf = vec![0u8; size];
    let info = reader.next_frame(&mut buf).map_err(dec_err)?;
    let (w, h) = (info.width as usize, info.height as usize);
    let n = w * h;
    let line = info.line_size;
    let depth = info.bit_depth as u8 as usize;
    let sample = |row: &[u8], i: usize, channels: usize, c: usize| -> u32 {
        let k = i * channels + c;
        match depth {
            16 => u16::from_be_bytes([row[2 * k], row[2 * k + 1]]) as u32,
            8 => row[k] as u32,
            d => {
                // packed 1/2/4-bit samples, MSB first
                let bit = k * d;
                let byte = row[bit / 8];
                let shift = 8 - d - bit % 8;
                ((byte >> shift) & ((1 << d) - 1) as u8) as u32
            }
        }
    };
    let rows = || (0..h).map(|y| &buf[y * line..(y + 1) * line]);
    use png::ColorType::*;
    let pixels = match info.color_type {
        Grayscale | Indexed => {
            let mut ids = Vec::with_capacity(n);
            for row in rows() {
                ids.extend((0..w).map(|x| sample(row, x, 1, 0)));
            }
            Pixels::Ids(ids)
        }
        GrayscaleAlpha => {
            let mut ids = Vec::with_capacity(n);
            for row in rows() {
                ids.extend((0..w).map(|x| sample(row, x, 2, 0)));
            }
            Pixels::Ids(ids)
        }
        Rgb | Rgba => {
            let ch = if info.color_type == Rgb { 3 } else { 4 };
            let mut rgb = Vec::with_capacity(n);
            for row in rows() {
                rgb.extend((0..w).map(|x| {
                    let c = |k| {
                        let v = sample(row, x, ch, k);
                        if depth == 16 { (v >> 8) as u8 } else { v as u8 }
                    };
                    [c(0), c(1), c(2)]
                }));
            }
            Pixels::Rgb(rgb)
        }
    };
    Ok((w, h, pixels))
}

fn read_file(path: &Path) -> Result<Vec<u8>, LabelError> {
    std::fs::read(path).map_err(|source| LabelError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// Reads a label PNG. `classes` (dontcare included) bounds the ids; a colour PNG needs `palette`.
pub fn read_label_png(
    path: &Path,
    classes: usize,
    palette: Option<&Palette>,
) -> Result<LabelMap, LabelError> {
    let bytes = read_file(path)?;
    decode_label_png(&bytes, &path.display().to_string(), classes, palette)
}

/// [`read_label_png`] on bytes; `name` appears in errors.
pub fn decode_label_png(
    bytes: &[u8],
    name: &str,
    classes: usize,
    palette: Option<&Palette>,
) -> Result<LabelMap, LabelError> {
    let (w, h, px) = decode(bytes, name)?;
    let ids: Vec<u32> = match px {
        Pixels::Ids(ids) => ids,
        Pixels::Rgb(rgb) => {
            let palette = palette.ok_or_else(|| LabelError::NoPalette { path: name.into() })?;
            let mut unknown: std::collections::BTreeMap<[u8; 3], usize> = Default::default();
            let mut lut: std::collections::HashMap<[u8; 3], u16> = Default::default();
            for c in palette.classes.iter().rev() {
                lut.insert(c.color, c.id);
            }
            let ids = rgb
                .iter()
                .map(|c| match lut.get(c) {
                    Some(&id) => id as u32,
                    None => {
                        *unknown.entry(*c).or_default() += 1;
                        0
                    }
                })
                .collect();
            if let Some((color, count)) = unknown.iter().max_by_key(|(_, n)| **n) {
                return Err(LabelError::UnknownColor {
                    path: name.into(),
                    color: *color,
                    count: *count,
                    palette: palette.name.clone(),
                });
            }
            ids
        }
    };
    check_range(&ids, classes, name)?;
    Ok(LabelMap::from_vec(w, h, ids.into_iter().map(|v| v as u16).collect()).unwrap())
}

/// Fails on the first id `>= classes`, naming its value, its pixel count and how many other values
/// are also out of range.
fn check_range(ids: &[u32], classes: usize, name: &str) -> Result<(), LabelError> {
    let mut bad: std::collections::BTreeMap<u32, usize> = Default::default();
    for &v in ids {
        if v as usize >= classes {
            *bad.entry(v).or_default() += 1;
        }
    }
    if let Some((&value, &count)) = bad.iter().next() {
        let more = if bad.len() > 1 {
            format!(
                "; {} other out-of-range values too (up to {})",
                bad.len() - 1,
                bad.keys().last().unwrap()
            )
        } else {
            String::new()
        };
        return Err(LabelError::OutOfRange {
            path: name.into(),
            value,
            count,
            classes,
            more,
        });
    }
    Ok(())
}

/// Reads an instance PNG (8/16-bit grayscale or indexed; an RGB one is read as 24-bit ids).
pub fn read_instance_png(path: &Path) -> Result<InstanceMap, LabelError> {
    let bytes = read_file(path)?;
    let name = path.display().to_string();
    let (w, h, px) = decode(&bytes, &name)?;
    let ids = match px {
        Pixels::Ids(ids) => ids,
        Pixels::Rgb(rgb) => rgb
            .iter()
            .map(|c| (c[0] as u32) << 16 | (c[1] as u32) << 8 | c[2] as u32)
            .collect(),
    };
    Ok(InstanceMap::from_vec(w, h, ids).unwrap())
}

/// Encodes a label map as PNG: an indexed PNG carrying the palette's colours when ids fit in 8
/// bits (viewers show colours, readers get ids), else 16-bit grayscale.
pub fn encode_label_png(labels: &LabelMap, palette: Option<&Palette>) -> Vec<u8> {
    let mut out = Vec::new();
    let max = labels.data().iter().copied().max().unwrap_or(0);
    {
        let mut enc = png::Encoder::new(&mut out, labels.width() as u32, labels.height() as u32);
        if max < 256 {
            enc.set_depth(png::BitDepth::Eight);
            match palette {
                Some(p) => {
                    enc.set_color(png::ColorType::Indexed);
                    let n = (max as usize + 1).max(p.len()).min(256);
                    let mut plte = Vec::with_capacity(n * 3);
                    for id in 0..n {
                        plte.extend_from_slice(&p.color(id as u16));
                    }
                    enc.set_palette(plte);
                }
                None => enc.set_color(png::ColorType::Grayscale),
            }
            let mut w = enc.write_header().expect("writing to memory");
            let data: Vec<u8> = labels.data().iter().map(|&v| v as u8).collect();
            w.write_image_data(&data).expect("writing to memory");
        } else {
            enc.set_color(png::ColorType::Grayscale);
            enc.set_depth(png::BitDepth::Sixteen);
            let mut w = enc.write_header().expect("writing to memory");
            let data: Vec<u8> = labels.data().iter().flat_map(|v| v.to_be_bytes()).collect();
            w.write_image_data(&data).expect("writing to memory");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexed_round_trip_keeps_ids() {
        let p = Palette::builtin("cmp_facade").unwrap();
        let l = LabelMap::from_vec(3, 2, vec![0, 1, 2, 11, 5, 7]).unwrap();
        let png = encode_label_png(&l, Some(&p));
        let back = decode_label_png(&png, "t.png", 12, None).unwrap();
        assert_eq!(back, l);
    }

    #[test]
    fn sixteen_bit_round_trip() {
        let l = LabelMap::from_vec(2, 1, vec![300, 2]).unwrap();
        let png = encode_label_png(&l, None);
        assert_eq!(decode_label_png(&png, "t.png", 301, None).unwrap(), l);
    }

    #[test]
    fn out_of_range_names_value_and_count() {
        let l = LabelMap::from_vec(3, 1, vec![0, 200, 200]).unwrap();
        let png = encode_label_png(&l, None);
        let e = decode_label_png(&png, "x.png", 151, None).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("x.png") && msg.contains("200") && msg.contains("2 pixels"),
            "{msg}"
        );
    }

    #[test]
    fn colour_png_maps_through_palette() {
        let p = Palette::builtin("cmp_facade").unwrap();
        let img = image::RgbImage::from_fn(2, 1, |x, _| image::Rgb(p.color(x as u16 + 2)));
        let mut bytes = Vec::new();
        img.write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
            .unwrap();
        let l = decode_label_png(&bytes, "c.png", 12, Some(&p)).unwrap();
        assert_eq!(l.data(), &[2, 3]);
        let e = decode_label_png(&bytes, "c.png", 12, None).unwrap_err();
        assert!(matches!(e, LabelError::NoPalette { .. }));
    }

    #[test]
    fn garbage_is_an_error() {
        let e = decode_label_png(b"not a png", "g.png", 10, None).unwrap_err();
        assert!(e.to_string().starts_with("g.png"));
    }
}
