//! The SPADE `mlp_gamma | mlp_beta` convolution over an input with few distinct values (issue
//! "Speed"): its input `a = relu(mlp_shared(onehot))` at a pixel is fixed by the 3x3 window of
//! class ids around it, and a painted label map has few distinct windows (about 1,100 to 1,700 at
//! 256 x 256 for `gaugan bench`'s busy map, against 65,536 pixels). So the convolution is done
//! once per distinct window and tap (`products[u][tap] = W_tap . a_u`), and each output pixel
//! sums 9 of those rows: the same result up to float summation order, with
//! `distinct / pixels` of the multiply-adds plus 9 vector adds a pixel.

use std::collections::HashMap;

use rayon::prelude::*;

use super::conv::{CO_BLOCK, Epilogue, Kernel, PackedConv};
use super::lookup::{IdGrid, OneHotConv};

/// Use patterns only where they are at most this fraction of the pixels.
const MAX_FRACTION: f64 = 0.25;

/// Columns per epilogue call.
const XB: usize = 32;

/// The distinct 3x3 id windows of a grid.
#[derive(Debug, Clone)]
pub struct Patterns {
    /// Height and width of the grid (without border).
    pub h: usize,
    /// Width.
    pub w: usize,
    /// `[(h + 2) * (w + 2)]`: the window index of every pixel, `count` (the zero input of the
    /// convolution's padding) on the border.
    pub index: Vec<u32>,
    /// A pixel `(y, x)` with each window.
    pub reps: Vec<(usize, usize)>,
}

impl Patterns {
    /// The windows of `grid`, or `None` where they would not pay (more than a quarter of the
    /// pixels distinct) or the grid has dense extra channels (instance edges).
    pub fn of(grid: &IdGrid) -> Option<Patterns> {
        let (h, w) = (grid.h, grid.w);
        if grid.n_extra > 0 || h < 3 || w < 3 {
            return None;
        }
        let pw = w + 2;
        let limit = ((h * w) as f64 * MAX_FRACTION) as usize;
        let mut ids: HashMap<[u32; 9], u32> = HashMap::new();
        let mut reps = Vec::new();
        // Border entries are set to the zero vector's index once the count is known.
        let mut index = vec![u32::MAX; (h + 2) * pw];
        for y in 0..h {
            for x in 0..w {
                let mut key = [0u32; 9];
                for dy in 0..3 {
                    let r = (y + dy) * pw + x;
                    key[dy * 3..dy * 3 + 3].copy_from_slice(&grid.ids[r..r + 3]);
                }
                let next = reps.len() as u32;
                let u = *ids.entry(key).or_insert(next);
                if u == next {
                    if reps.len() >= limit {
                        return None;
                    }
                    reps.push((y, x));
                }
                index[(y + 1) * pw + x + 1] = u;
            }
        }
        let zero = reps.len() as u32;
        index
            .iter_mut()
            .filter(|u| **u == u32::MAX)
            .for_each(|u| *u = zero);
        Some(Patterns { h, w, index, reps })
    }

    /// Number of distinct windows.
    pub fn count(&self) -> usize {
        self.reps.len()
    }
}

impl PackedConv {
    /// `products[(u * 9 + tap) * np + j]`: packed output channel `j` of this 3x3 convolution's
    /// tap `tap` applied to the input vector `a_u` (`vectors[u * cin..]`), no bias; `np` is the
    /// padded channel count. One extra zero vector at the end (the padding).
    pub fn tap_products(&self, vectors: &[f32]) -> Vec<f32> {
        assert_eq!(self.k, 3, "a 3x3 convolution");
        let (cin, np) = (self.cin, self.blocks() * CO_BLOCK);
        let count = vectors.len() / cin;
        let mut out = vec![0f32; (count + 1) * 9 * np];
        let kernel = Kernel::detect();
        let taps = self.tap_major();
        let taps = &taps[..];
        out[..count * 9 * np]
            .par_chunks_mut(9 * np)
            .zip(vectors.par_chunks(cin))
            // SAFETY: `kernel` was detected on this CPU.
            .for_each(|(t, a)| unsafe {
                match kernel {
                    #[cfg(target_arch = "x86_64")]
                    Kernel::Avx512 => self.products_avx512(taps, a, t),
                    #[cfg(target_arch = "x86_64")]
                    Kernel::Avx2 => self.products_avx2(taps, a, t),
                    _ => self.products_of(taps, a, t),
                }
            });
        out
    }

    /// One vector's products: `t` is `[9][np]`; `taps` the weights as `[cin][9][np]`.
    #[inline(always)]
    fn products_of(&self, taps: &[f32], a: &[f32], t: &mut [f32]) {
        let len = 9 * self.blocks() * CO_BLOCK;
        for (ci, &v) in a.iter().enumerate() {
            if v == 0.0 {
                continue; // after the ReLU, many are
            }
            for (d, &w) in t.iter_mut().zip(&taps[ci * len..(ci + 1) * len]) {
                *d += w * v;
            }
        }
    }

    /// The weights as `[cin][9][np]` (every block's channels of one tap side by side).
    fn tap_major(&self) -> Vec<f32> {
        let np = self.blocks() * CO_BLOCK;
        let mut out = vec![0f32; self.cin * 9 * np];
        for b in 0..self.blocks() {
            for ci in 0..self.cin {
                let w = self.weights(b, ci);
                for tap in 0..9 {
                    let at = (ci * 9 + tap) * np + b * CO_BLOCK;
                    out[at..at + CO_BLOCK]
                        .copy_from_slice(&w[tap * CO_BLOCK..(tap + 1) * CO_BLOCK]);
                }
            }
        }
        out
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn products_avx512(&self, taps: &[f32], a: &[f32], t: &mut [f32]) {
        self.products_of(taps, a, t)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn products_avx2(&self, taps: &[f32], a: &[f32], t: &mut [f32]) {
        self.products_of(taps, a, t)
    }

    /// Runs this 3x3 convolution over an input given as windows (`patterns`, with `products`
    /// from [`PackedConv::tap_products`] of their vectors), handing every tile to `epilogue` like
    /// [`PackedConv::run`].
    pub fn run_patterns<E: Epilogue>(&self, patterns: &Patterns, products: &[f32], epilogue: &E) {
        let np = self.blocks() * CO_BLOCK;
        let kernel = Kernel::detect();
        (0..patterns.h).into_par_iter().for_each_init(
            || vec![0f32; XB * np],
            |acc, y| {
                let mut x0 = 0;
                while x0 < patterns.w {
                    let n = XB.min(patterns.w - x0);
                    // SAFETY: `kernel` was detected on this CPU.
                    unsafe {
                        match kernel {
                            #[cfg(target_arch = "x86_64")]
                            Kernel::Avx512 => sums_avx512(patterns, products, np, y, x0, n, acc),
                            #[cfg(target_arch = "x86_64")]
                            Kernel::Avx2 => sums_avx2(patterns, products, np, y, x0, n, acc),
                            _ => sums(patterns, products, np, y, x0, n, acc),
                        }
                    }
                    for b in 0..self.blocks() {
                        let mut tile = [[0f32; XB]; CO_BLOCK];
                        for (i, px) in acc.chunks_exact(np).enumerate().take(n) {
                            for (j, t) in tile.iter_mut().enumerate() {
                                t[i] = px[b * CO_BLOCK + j];
                            }
                        }
                        epilogue.apply::<XB>(b, y, x0, &tile);
                    }
                    x0 += XB;
                }
            },
        );
    }
}

/// `acc[i][..np]`: the sums of pixels `x0..x0 + n` of row `y`.
#[inline(always)]
fn sums(
    patterns: &Patterns,
    products: &[f32],
    np: usize,
    y: usize,
    x0: usize,
    n: usize,
    acc: &mut [f32],
) {
    let pw = patterns.w + 2;
    acc.fill(0.0);
    for i in 0..n {
        let a = &mut acc[i * np..(i + 1) * np];
        for dy in 0..3 {
            let r = (y + dy) * pw + x0 + i;
            for dx in 0..3 {
                let u = patterns.index[r + dx] as usize;
                let row = &products[(u * 9 + dy * 3 + dx) * np..][..np];
                for (ai, &p) in a.iter_mut().zip(row) {
                    *ai += p;
                }
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn sums_avx512(
    patterns: &Patterns,
    products: &[f32],
    np: usize,
    y: usize,
    x0: usize,
    n: usize,
    acc: &mut [f32],
) {
    sums(patterns, products, np, y, x0, n, acc)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn sums_avx2(
    patterns: &Patterns,
    products: &[f32],
    np: usize,
    y: usize,
    x0: usize,
    n: usize,
    acc: &mut [f32],
) {
    sums(patterns, products, np, y, x0, n, acc)
}

impl OneHotConv {
    /// The result at the representative pixel of every window: `[count][cout]`.
    pub fn at_patterns(&self, grid: &IdGrid, patterns: &Patterns) -> Vec<f32> {
        let mut out = vec![0f32; patterns.count() * self.cout];
        out.par_chunks_mut(self.cout)
            .zip(&patterns.reps)
            .for_each(|(a, &(y, x))| self.pixel(grid, y, x, a));
        out
    }
}
