//! A 3x3 "same" convolution over a one-hot label map, computed from the class ids: each output
//! pixel is the bias plus, for each of the 9 taps, the weight column of the class under that tap
//! (zero outside the image), plus an ordinary convolution of the few dense channels that follow
//! the classes (the instance edges). Same result as the dense convolution up to float summation
//! order, about `classes` times fewer operations (issue "Speed").

use rayon::prelude::*;

use super::conv::Kernel;
use super::planes::{Planes, SyncPtr};

/// A one-hot convolution as a lookup table.
#[derive(Debug, Clone)]
pub struct OneHotConv {
    /// Number of one-hot classes (dontcare included).
    pub classes: usize,
    /// Dense channels after the classes (the instance edges).
    pub extra: usize,
    /// Output channels.
    pub cout: usize,
    /// `[9][classes + 1][cout]`; row `classes` of each tap is zero (the padding).
    table: Vec<f32>,
    /// `[9][extra][cout]`.
    extra_w: Vec<f32>,
    bias: Vec<f32>,
    relu: bool,
}

/// Class ids at one resolution with a one-pixel border holding the sentinel `classes`, and the
/// dense extra channels at that resolution.
#[derive(Debug, Clone)]
pub struct IdGrid {
    /// Height (without border).
    pub h: usize,
    /// Width (without border).
    pub w: usize,
    /// `[(h + 2) * (w + 2)]` ids.
    pub ids: Vec<u32>,
    /// `[extra][h + 2][w + 2]` values (zero border).
    pub extra: Vec<f32>,
    /// Number of extra channels.
    pub n_extra: usize,
}

impl IdGrid {
    /// Nearest-resizes `ids` (`[h0, w0]`) and `extra` (`[n_extra, h0, w0]`) to `h x w` with
    /// PyTorch's convention (output `i` reads input `floor(i * in / out)`) and borders them.
    pub fn resized(
        ids: &[u16],
        extra: &[f32],
        n_extra: usize,
        (h0, w0): (usize, usize),
        (h, w): (usize, usize),
        sentinel: u32,
    ) -> Self {
        let (ph, pw) = (h + 2, w + 2);
        let mut out = vec![sentinel; ph * pw];
        let mut ext = vec![0f32; n_extra * ph * pw];
        for y in 0..h {
            let sy = y * h0 / h;
            for x in 0..w {
                let sx = x * w0 / w;
                out[(y + 1) * pw + x + 1] = ids[sy * w0 + sx] as u32;
                for e in 0..n_extra {
                    ext[(e * ph + y + 1) * pw + x + 1] = extra[(e * h0 + sy) * w0 + sx];
                }
            }
        }
        Self {
            h,
            w,
            ids: out,
            extra: ext,
            n_extra,
        }
    }
}

impl OneHotConv {
    /// Row `y` of the result, pixel-major (`acc[x * cout + c]`), before the ReLU.
    #[inline(always)]
    fn row(&self, grid: &IdGrid, y: usize, acc: &mut [f32]) {
        let cout = self.cout;
        for (x, a) in acc.chunks_exact_mut(cout).take(grid.w).enumerate() {
            self.sum_at(grid, y, x, a);
        }
    }

    /// The bias plus, for each tap, one contiguous table row (and the extra channels' terms):
    /// pixel `(y, x)` before the ReLU, into `a` (`cout`).
    #[inline(always)]
    fn sum_at(&self, grid: &IdGrid, y: usize, x: usize, a: &mut [f32]) {
        let (h, pw, cout) = (grid.h, grid.w + 2, self.cout);
        a.copy_from_slice(&self.bias);
        for dy in 0..3 {
            for dx in 0..3 {
                let t = dy * 3 + dx;
                let p = (y + dy) * pw + x + dx;
                let id = grid.ids[p] as usize;
                let r = (t * (self.classes + 1) + id) * cout;
                for (ai, &wi) in a.iter_mut().zip(&self.table[r..r + cout]) {
                    *ai += wi;
                }
                for e in 0..self.extra {
                    let v = grid.extra[e * (h + 2) * pw + p];
                    if v != 0.0 {
                        let r = (t * self.extra + e) * cout;
                        for (ai, &wi) in a.iter_mut().zip(&self.extra_w[r..r + cout]) {
                            *ai += v * wi;
                        }
                    }
                }
            }
        }
    }

    /// The result at pixel `(y, x)` (ReLU included where the layer has one) into `a` (`cout`).
    pub(crate) fn pixel(&self, grid: &IdGrid, y: usize, x: usize, a: &mut [f32]) {
        self.sum_at(grid, y, x, a);
        if self.relu {
            a.iter_mut().for_each(|v| *v = v.max(0.0));
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn row_avx512(&self, grid: &IdGrid, y: usize, acc: &mut [f32]) {
        self.row(grid, y, acc)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn row_avx2(&self, grid: &IdGrid, y: usize, acc: &mut [f32]) {
        self.row(grid, y, acc)
    }

    /// From PyTorch-layout weights `[cout, classes + extra, 3, 3]` and a bias; `relu` applies a
    /// ReLU to the result (SPADE's `mlp_shared`).
    pub fn new(
        weight: &[f32],
        bias: Option<&[f32]>,
        cout: usize,
        classes: usize,
        extra: usize,
        relu: bool,
    ) -> Self {
        let cin = classes + extra;
        let mut table = vec![0f32; 9 * (classes + 1) * cout];
        let mut extra_w = vec![0f32; 9 * extra * cout];
        for co in 0..cout {
            for ci in 0..cin {
                for t in 0..9 {
                    let v = weight[(co * cin + ci) * 9 + t];
                    if ci < classes {
                        table[(t * (classes + 1) + ci) * cout + co] = v;
                    } else {
                        extra_w[(t * extra + ci - classes) * cout + co] = v;
                    }
                }
            }
        }
        Self {
            classes,
            extra,
            cout,
            table,
            extra_w,
            bias: bias.map_or_else(|| vec![0.0; cout], <[f32]>::to_vec),
            relu,
        }
    }

    /// Applies the convolution to the label grid; the result has a one-pixel zero border (the
    /// convolution after it reads one) when `padded`.
    pub fn run(&self, grid: &IdGrid, padded: bool) -> Planes {
        let (h, w) = (grid.h, grid.w);
        let mut out = if padded {
            Planes::zeros_padded(self.cout, h, w)
        } else {
            Planes::zeros(self.cout, h, w)
        };
        let ptr = SyncPtr(out.data.as_mut_ptr());
        let (plane, row, pad) = (out.plane, out.row, out.pad);
        let kernel = Kernel::detect();
        (0..h).into_par_iter().for_each_init(
            || vec![0f32; w * self.cout],
            |acc, y| {
                // SAFETY: `kernel` was detected on this CPU.
                unsafe {
                    match kernel {
                        #[cfg(target_arch = "x86_64")]
                        Kernel::Avx512 => self.row_avx512(grid, y, acc),
                        #[cfg(target_arch = "x86_64")]
                        Kernel::Avx2 => self.row_avx2(grid, y, acc),
                        _ => self.row(grid, y, acc),
                    }
                }
                // Channel-major store.
                for c in 0..self.cout {
                    let start = c * plane + (y + pad) * row + pad;
                    for x in 0..w {
                        let mut v = acc[x * self.cout + c];
                        if self.relu {
                            v = v.max(0.0);
                        }
                        // SAFETY: row `y` of every plane belongs to this task alone, and the
                        // index lies inside the buffer (`x < w`, `y < h`).
                        unsafe { *ptr.add(start + x) = v };
                    }
                }
            },
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equals_the_dense_convolution_of_the_one_hot_map() {
        let (classes, extra, cout, h, w) = (5, 1, 3, 4, 6);
        let ids: Vec<u16> = (0..h * w)
            .map(|i| ((i * 7 + i / 5) % classes) as u16)
            .collect();
        let edges: Vec<f32> = (0..h * w).map(|i| (i % 3 == 0) as u8 as f32).collect();
        let cin = classes + extra;
        let weight: Vec<f32> = (0..cout * cin * 9)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 50.0)
            .collect();
        let bias = [0.5, -0.25, 0.125];
        let conv = OneHotConv::new(&weight, Some(&bias), cout, classes, extra, false);
        let grid = IdGrid::resized(&ids, &edges, extra, (h, w), (h, w), classes as u32);
        let out = conv.run(&grid, false);
        for co in 0..cout {
            for y in 0..h {
                for x in 0..w {
                    let mut s = bias[co];
                    for ky in 0..3 {
                        for kx in 0..3 {
                            let (iy, ix) = (y as isize + ky - 1, x as isize + kx - 1);
                            if iy < 0 || ix < 0 || iy >= h as isize || ix >= w as isize {
                                continue;
                            }
                            let i = iy as usize * w + ix as usize;
                            for ci in 0..cin {
                                let v = if ci < classes {
                                    (ids[i] as usize == ci) as u8 as f32
                                } else {
                                    edges[i]
                                };
                                s += v * weight
                                    [((co * cin + ci) * 3 + ky as usize) * 3 + kx as usize];
                            }
                        }
                    }
                    let got = out.data[out.at(co, y, x)];
                    assert!((got - s).abs() < 1e-5, "({co}, {y}, {x}): {got} vs {s}");
                }
            }
        }
    }
}
