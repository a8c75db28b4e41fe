//! Channel-major activations (`[C, H, W]`, batch 1) with an optional one-pixel zero border, the
//! layout the CPU kernels read and write.

/// Width of the column block the convolution kernels compute at once; rows are padded to a
/// multiple of it so that the kernels need no tail handling.
pub const X_BLOCK: usize = 32;

/// `C` planes of `H x W` floats. With `pad == 1` every plane has a zero border of one pixel
/// (what a 3x3 "same" convolution reads) and rows are `round_up(W, X_BLOCK) + 2` wide.
#[derive(Debug, Clone)]
pub struct Planes {
    /// Channels.
    pub c: usize,
    /// Height (without border).
    pub h: usize,
    /// Width (without border).
    pub w: usize,
    /// Border width: 0 or 1.
    pub pad: usize,
    /// Floats per row, border included.
    pub row: usize,
    /// Floats per plane, border included.
    pub plane: usize,
    /// The values.
    pub data: Vec<f32>,
}

impl Planes {
    /// Zeros, without border (rows exactly `w` wide).
    pub fn zeros(c: usize, h: usize, w: usize) -> Self {
        Self {
            c,
            h,
            w,
            pad: 0,
            row: w,
            plane: h * w,
            data: vec![0.0; c * h * w],
        }
    }

    /// Zeros with a one-pixel border, rows padded for the kernels.
    pub fn zeros_padded(c: usize, h: usize, w: usize) -> Self {
        let row = w.div_ceil(X_BLOCK) * X_BLOCK + 2;
        let plane = (h + 2) * row;
        Self {
            c,
            h,
            w,
            pad: 1,
            row,
            plane,
            data: vec![0.0; c * plane],
        }
    }

    /// Wraps channel-major `[c, h, w]` values (no border).
    pub fn from_chw(c: usize, h: usize, w: usize, data: Vec<f32>) -> Self {
        assert_eq!(data.len(), c * h * w, "planes of the wrong size");
        Self {
            c,
            h,
            w,
            pad: 0,
            row: w,
            plane: h * w,
            data,
        }
    }

    /// Index of `(c, y, x)`.
    #[inline(always)]
    pub fn at(&self, c: usize, y: usize, x: usize) -> usize {
        c * self.plane + (y + self.pad) * self.row + x + self.pad
    }

    /// Row `y` of channel `c` (without border): `w` values.
    #[inline(always)]
    pub fn row_of(&self, c: usize, y: usize) -> &[f32] {
        let i = self.at(c, y, 0);
        &self.data[i..i + self.w]
    }

    /// The values as channel-major `[c, h, w]` without border.
    pub fn into_chw(self) -> Vec<f32> {
        if self.pad == 0 && self.row == self.w {
            return self.data;
        }
        let mut out = Vec::with_capacity(self.c * self.h * self.w);
        for c in 0..self.c {
            for y in 0..self.h {
                out.extend_from_slice(self.row_of(c, y));
            }
        }
        out
    }

    /// A copy with a one-pixel zero border, `f` applied to every value.
    pub fn padded_map(&self, f: impl Fn(f32) -> f32 + Sync) -> Planes {
        let mut out = Planes::zeros_padded(self.c, self.h, self.w);
        for c in 0..self.c {
            for y in 0..self.h {
                let src = self.row_of(c, y);
                let i = out.at(c, y, 0);
                for (d, &s) in out.data[i..i + self.w].iter_mut().zip(src) {
                    *d = f(s);
                }
            }
        }
        out
    }

    /// Nearest x2 upsampling (each pixel becomes a 2x2 block), without border.
    pub fn upsample2(&self) -> Planes {
        let (h2, w2) = (2 * self.h, 2 * self.w);
        let mut out = Planes::zeros(self.c, h2, w2);
        for c in 0..self.c {
            for y in 0..self.h {
                let src = self.row_of(c, y);
                let base = c * out.plane + 2 * y * w2;
                let (top, bottom) = out.data[base..base + 2 * w2].split_at_mut(w2);
                for (x, &v) in src.iter().enumerate() {
                    top[2 * x] = v;
                    top[2 * x + 1] = v;
                }
                bottom.copy_from_slice(top);
            }
        }
        out
    }
}

/// A raw pointer that may cross threads: the kernels hand disjoint regions of one output buffer
/// to different threads.
#[derive(Clone, Copy)]
pub(crate) struct SyncPtr(pub *mut f32);

// SAFETY: every use writes only the region its task owns (disjoint planes or rows), and the
// buffer outlives the parallel section that uses the pointer.
unsafe impl Send for SyncPtr {}
unsafe impl Sync for SyncPtr {}

impl SyncPtr {
    /// The element at offset `i` (a method, so closures capture the whole `SyncPtr`).
    ///
    /// # Safety
    /// `i` must lie inside the buffer.
    #[inline(always)]
    pub(crate) unsafe fn add(self, i: usize) -> *mut f32 {
        // SAFETY: the caller keeps `i` in bounds.
        unsafe { self.0.add(i) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_round_trips_and_upsampling_repeats() {
        let p = Planes::from_chw(2, 2, 3, (0..12).map(|v| v as f32).collect());
        let padded = p.padded_map(|v| v);
        assert_eq!(padded.data[padded.at(1, 1, 2)], 11.0);
        assert_eq!(padded.data[0], 0.0);
        assert_eq!(padded.clone().into_chw(), p.data);
        let up = p.upsample2();
        assert_eq!(up.row_of(0, 0), &[0.0, 0.0, 1.0, 1.0, 2.0, 2.0]);
        assert_eq!(up.row_of(0, 1), up.row_of(0, 0));
        assert_eq!(up.row_of(1, 3), &[9.0, 9.0, 10.0, 10.0, 11.0, 11.0]);
    }
}
