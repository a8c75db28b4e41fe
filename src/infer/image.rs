//! Converting between images and the generator's tensors.

use image::RgbImage;

/// The official `util.tensor2im`: `uint8(clip((x + 1) / 2 * 255, 0, 255))` in f32, truncating.
/// `chw`: `[3, H, W]` in `[-1, 1]`.
pub fn tensor_to_rgb(chw: &[f32], width: usize, height: usize) -> RgbImage {
    let hw = width * height;
    assert_eq!(chw.len(), 3 * hw, "expected [3, H, W]");
    let mut img = RgbImage::new(width as u32, height as u32);
    for (i, px) in img.pixels_mut().enumerate() {
        for c in 0..3 {
            let v = (chw[c * hw + i] + 1.0) / 2.0 * 255.0;
            px.0[c] = v.clamp(0.0, 255.0) as u8;
        }
    }
    img
}

/// An RGB image to `[3, H, W]` in `[-1, 1]` (the official `Normalize((0.5,)*3, (0.5,)*3)`),
/// resized to `width x height` with a bicubic filter first when its size differs (the official
/// loader resizes photos bicubically).
pub fn rgb_to_tensor(img: &RgbImage, width: usize, height: usize) -> Vec<f32> {
    let resized;
    let img = if img.dimensions() != (width as u32, height as u32) {
        resized = image::imageops::resize(
            img,
            width as u32,
            height as u32,
            image::imageops::FilterType::CatmullRom,
        );
        &resized
    } else {
        img
    };
    let hw = width * height;
    let mut out = vec![0.0f32; 3 * hw];
    for (i, px) in img.pixels().enumerate() {
        for c in 0..3 {
            out[c * hw + i] = px.0[c] as f32 / 255.0 * 2.0 - 1.0;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tensor2im_truncates() {
        // (0.0 + 1) / 2 * 255 = 127.5 -> 127; 1.0 -> 255; -1.5 -> 0
        let img = tensor_to_rgb(&[0.0, 1.0, -1.5], 1, 1);
        assert_eq!(img.get_pixel(0, 0).0, [127, 255, 0]);
    }

    #[test]
    fn normalisation_maps_to_unit_range() {
        let img = RgbImage::from_pixel(1, 1, image::Rgb([0, 255, 51]));
        let t = rgb_to_tensor(&img, 1, 1);
        assert_eq!(t[0], -1.0);
        assert_eq!(t[1], 1.0);
        assert!((t[2] - (-0.6)).abs() < 1e-6);
    }
}
