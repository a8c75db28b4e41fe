//! Helpers shared by the training tests: small synthetic datasets written by the tests themselves.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use gaugan::labels::LabelMap;
use gaugan::labels::png_io::encode_label_png;
use gaugan::train::TrainConfig;
use image::{Rgb, RgbImage};

/// Class colours of the synthetic datasets: background, then one per shape class.
pub const COLOURS: [[u8; 3]; 4] = [[30, 40, 120], [200, 40, 40], [40, 180, 60], [230, 210, 50]];
/// Class names.
pub const NAMES: [&str; 4] = ["sky", "brick", "grass", "sand"];

/// A tiny deterministic generator (xorshift) for the test data.
pub struct Xs(pub u64);

impl Xs {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A label map of `side x side`: background 0 with two or three rectangles / discs of classes
/// 1..=3.
pub fn shapes(side: usize, rng: &mut Xs) -> LabelMap {
    let mut m = LabelMap::filled(side, side, 0);
    let n = 2 + rng.below(2) as usize;
    for k in 0..n {
        let class = 1 + ((k as u64 + rng.below(3)) % 3) as u16;
        let w = side / 4 + rng.below(side as u64 / 3) as usize;
        let h = side / 4 + rng.below(side as u64 / 3) as usize;
        let x0 = rng.below((side - w) as u64) as usize;
        let y0 = rng.below((side - h) as u64) as usize;
        let disc = rng.below(2) == 0;
        for y in y0..y0 + h {
            for x in x0..x0 + w {
                let inside = if disc {
                    let (cx, cy) = (x0 as f64 + w as f64 / 2.0, y0 as f64 + h as f64 / 2.0);
                    let (dx, dy) = (
                        (x as f64 + 0.5 - cx) / (w as f64 / 2.0),
                        (y as f64 + 0.5 - cy) / (h as f64 / 2.0),
                    );
                    dx * dx + dy * dy <= 1.0
                } else {
                    true
                };
                if inside {
                    m.set(x, y, class);
                }
            }
        }
    }
    m
}

/// The photo of a label map: each class its colour with its own texture (stripes, checks, noise).
pub fn photo(labels: &LabelMap, rng: &mut Xs) -> RgbImage {
    let (w, h) = (labels.width(), labels.height());
    let mut img = RgbImage::new(w as u32, h as u32);
    for y in 0..h {
        for x in 0..w {
            let c = labels.get(x, y) as usize;
            let t: i32 = match c {
                0 => 0,
                1 => {
                    if (y / 2) % 2 == 0 {
                        18
                    } else {
                        -18
                    }
                }
                2 => {
                    if (x / 2 + y / 2) % 2 == 0 {
                        15
                    } else {
                        -15
                    }
                }
                _ => 0,
            };
            let noise = rng.below(13) as i32 - 6;
            let px = COLOURS[c].map(|v| (v as i32 + t + noise).clamp(0, 255) as u8);
            img.put_pixel(x as u32, y as u32, Rgb(px));
        }
    }
    img
}

/// Writes a synthetic dataset of `n` pairs of `side x side` into `dir` (labels as grayscale ids).
pub fn write_dataset(dir: &Path, n: usize, side: usize, seed: u64) {
    std::fs::create_dir_all(dir.join("labels")).unwrap();
    std::fs::create_dir_all(dir.join("images")).unwrap();
    std::fs::write(dir.join("classes.txt"), NAMES.join("\n") + "\n").unwrap();
    let mut rng = Xs(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    for i in 0..n {
        let labels = shapes(side, &mut rng);
        let img = photo(&labels, &mut rng);
        std::fs::write(
            dir.join("labels").join(format!("p{i:03}.png")),
            encode_label_png(&labels, None),
        )
        .unwrap();
        img.save(dir.join("images").join(format!("p{i:03}.png")))
            .unwrap();
    }
}

/// A tiny model configuration for tests: `size` px, ngf 4, SPADE hidden 16, ndf 8.
pub fn tiny_config(size: usize, steps: usize) -> TrainConfig {
    TrainConfig::new()
        .with_size(size)
        .with_load_size(Some(size))
        .with_batch(2)
        .with_steps(steps)
        .with_ngf(4)
        .with_spade_hidden(16)
        .with_ndf(8)
        .with_z_dim(8)
        .with_vae(false)
        .with_checkpoint_every(0)
        .with_sample_every(0)
        .with_workers(1)
}

/// The shared CMP Facade dataset (`../shared/datasets/cmp_facade`), or `None` when this clone has
/// no `../shared`; under CI (`CI=true`) a missing dataset fails.
pub fn shared_facades() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/datasets/cmp_facade");
    if dir.join("classes.txt").exists() {
        return Some(dir);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "CI: the shared CMP Facade dataset is missing at {} (CI must provide ../shared)",
            dir.display()
        );
    }
    eprintln!(
        "SKIPPED: CMP Facade dataset not found at {} (not in CI)",
        dir.display()
    );
    None
}
