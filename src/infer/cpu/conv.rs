//! Direct "same" convolutions (3x3 with zero padding, and 1x1), stride 1, batch 1, for the CPU
//! inference path, with what follows them fused into the store (an [`Epilogue`]): bias,
//! activation, a residual sum, or the whole SPADE modulation.
//!
//! The kernel computes a tile of [`CO_BLOCK`] output channels by `XB` columns in registers,
//! accumulating over input channels and taps; the input is read from a zero-bordered copy so
//! the inner loop has no branches. Weights are packed so that the `CO_BLOCK` weights of one tap
//! are contiguous. The tile is written with AVX-512 and with AVX2 + FMA intrinsics, and in plain
//! Rust for other CPUs (which the compiler vectorises for the build's baseline); the best one
//! the CPU supports is chosen at run time. Work is split over threads by (channel block, band
//! of rows).

use rayon::prelude::*;

use super::planes::{Planes, SyncPtr, X_BLOCK};

/// Output channels computed together.
pub const CO_BLOCK: usize = 8;

/// Rows per parallel task.
const BAND: usize = 4;

/// An activation applied in the epilogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    /// Identity.
    None,
    /// Leaky ReLU with slope 0.2 (SPADE's only slope).
    LeakyRelu,
    /// Hyperbolic tangent (the generator's last layer).
    Tanh,
}

impl Act {
    /// Applies the activation to a tile row (a fixed-size loop the compiler vectorises).
    #[inline(always)]
    fn apply_all<const XB: usize>(self, v: &mut [f32; XB]) {
        match self {
            Act::None => {}
            // max(v, 0.2 v) is v for v >= 0 and 0.2 v below: branch-free leaky ReLU.
            Act::LeakyRelu => v.iter_mut().for_each(|x| *x = x.max(*x * 0.2)),
            Act::Tanh => v.iter_mut().for_each(|x| *x = x.tanh()),
        }
    }
}

/// A convolution's weights packed for the kernel: `[block][cin][k*k][CO_BLOCK]`, output
/// channels in a chosen order, zero-filled past the last one.
#[derive(Debug, Clone)]
pub struct PackedConv {
    /// Input channels.
    pub cin: usize,
    /// Output channels (before padding to whole blocks).
    pub cout: usize,
    /// Kernel side: 1 or 3.
    pub k: usize,
    blocks: usize,
    w: Vec<f32>,
    /// Bias by packed output channel (zero where there is none).
    pub bias: Vec<f32>,
}

impl PackedConv {
    /// Packs PyTorch-layout weights `[cout, cin, k, k]` (and a bias), output channels in their
    /// own order.
    pub fn new(weight: &[f32], bias: Option<&[f32]>, cout: usize, cin: usize, k: usize) -> Self {
        let order: Vec<usize> = (0..cout).collect();
        Self::with_order(weight, bias, cin, k, &order)
    }

    /// Packs weights `[n, cin, k, k]` so that packed channel `j` is source channel `order[j]`.
    pub fn with_order(
        weight: &[f32],
        bias: Option<&[f32]>,
        cin: usize,
        k: usize,
        order: &[usize],
    ) -> Self {
        assert!(k == 1 || k == 3, "kernel side {k} is not supported");
        let cout = order.len();
        let blocks = cout.div_ceil(CO_BLOCK);
        let kk = k * k;
        let mut w = vec![0f32; blocks * cin * kk * CO_BLOCK];
        let mut packed_bias = vec![0f32; blocks * CO_BLOCK];
        for (j, &src) in order.iter().enumerate() {
            let (b, lane) = (j / CO_BLOCK, j % CO_BLOCK);
            for ci in 0..cin {
                for t in 0..kk {
                    w[((b * cin + ci) * kk + t) * CO_BLOCK + lane] =
                        weight[(src * cin + ci) * kk + t];
                }
            }
            if let Some(bias) = bias {
                packed_bias[j] = bias[src];
            }
        }
        Self {
            cin,
            cout,
            k,
            blocks,
            w,
            bias: packed_bias,
        }
    }

    /// Channel blocks.
    pub fn blocks(&self) -> usize {
        self.blocks
    }

    /// The packed weights of input channel `ci` in block `block`: `[k*k][CO_BLOCK]`.
    pub(crate) fn weights(&self, block: usize, ci: usize) -> &[f32] {
        let kk = self.k * self.k;
        let start = (block * self.cin + ci) * kk * CO_BLOCK;
        &self.w[start..start + kk * CO_BLOCK]
    }

    /// Runs the convolution on `input` (which must have a one-pixel border and `cin`
    /// channels), handing every finished tile to `epilogue`.
    pub fn run<E: Epilogue>(&self, input: &Planes, epilogue: &E) {
        self.run_with(Kernel::detect(), input, epilogue)
    }

    /// [`PackedConv::run`] with a given kernel, which must be one this CPU supports
    /// ([`Kernel::supported`]).
    pub fn run_with<E: Epilogue>(&self, kernel: Kernel, input: &Planes, epilogue: &E) {
        assert!(
            Kernel::supported().contains(&kernel),
            "{kernel:?} does not run here"
        );
        assert_eq!(input.pad, 1, "the kernels read a bordered input");
        assert_eq!(input.c, self.cin, "channel count");
        let bands = input.h.div_ceil(BAND);
        // Two vectors of columns per tile where the rows are wide enough to fill them.
        let wide = input.w >= 32;
        (0..self.blocks * bands).into_par_iter().for_each(|task| {
            let (block, band) = (task / bands, task % bands);
            let rows = band * BAND..((band + 1) * BAND).min(input.h);
            // SAFETY: `kernel` was detected on this CPU.
            unsafe {
                match (kernel, self.k) {
                    #[cfg(target_arch = "x86_64")]
                    (Kernel::Avx512, 3) if wide => {
                        x86::band_512x2::<3, E>(self, input, block, rows, epilogue)
                    }
                    #[cfg(target_arch = "x86_64")]
                    (Kernel::Avx512, 3) => {
                        x86::band_512x1::<3, E>(self, input, block, rows, epilogue)
                    }
                    #[cfg(target_arch = "x86_64")]
                    (Kernel::Avx512, _) => {
                        x86::band_512x1::<1, E>(self, input, block, rows, epilogue)
                    }
                    #[cfg(target_arch = "x86_64")]
                    (Kernel::Avx2, 3) => {
                        x86::band_256x1::<3, E>(self, input, block, rows, epilogue)
                    }
                    #[cfg(target_arch = "x86_64")]
                    (Kernel::Avx2, _) => {
                        x86::band_256x1::<1, E>(self, input, block, rows, epilogue)
                    }
                    (_, 3) => band_generic::<3, E>(self, input, block, rows, epilogue),
                    _ => band_generic::<1, E>(self, input, block, rows, epilogue),
                }
            }
        });
    }
}

/// The instruction set the kernels use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// AVX-512F (16 lanes), with FMA.
    Avx512,
    /// AVX2 with FMA (8 lanes).
    Avx2,
    /// Whatever the build targets (SSE2 on x86-64, NEON on aarch64), without fused multiply-add.
    Generic,
}

impl Kernel {
    /// The best kernel this CPU runs (`GAUGAN_CPU_KERNEL=generic|avx2|avx512` narrows it down,
    /// for benchmarks).
    pub fn detect() -> Kernel {
        static CHOSEN: std::sync::OnceLock<Kernel> = std::sync::OnceLock::new();
        *CHOSEN.get_or_init(|| {
            let best = Self::best_supported();
            match std::env::var("GAUGAN_CPU_KERNEL").as_deref() {
                Ok("generic") => Kernel::Generic,
                Ok("avx2") if best != Kernel::Generic => Kernel::Avx2,
                _ => best,
            }
        })
    }

    /// Every kernel this CPU runs, best first.
    pub fn supported() -> Vec<Kernel> {
        let mut v = Vec::new();
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                v.push(Kernel::Avx512);
            }
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                v.push(Kernel::Avx2);
            }
        }
        v.push(Kernel::Generic);
        v
    }

    fn best_supported() -> Kernel {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Kernel::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return Kernel::Avx2;
            }
        }
        Kernel::Generic
    }

    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Avx512 => "AVX-512",
            Kernel::Avx2 => "AVX2+FMA",
            Kernel::Generic => "generic",
        }
    }
}

/// What happens to a finished tile.
pub trait Epilogue: Sync {
    /// `acc[j][i]`: packed output channel `block * CO_BLOCK + j`, row `y`, column `x0 + i`
    /// (columns at or past the image width are padding and must be ignored).
    fn apply<const XB: usize>(
        &self,
        block: usize,
        y: usize,
        x0: usize,
        acc: &[[f32; XB]; CO_BLOCK],
    );
}

/// One tile: `CO_BLOCK` channels of block `w` by `XB` columns from `x0` in row `y`.
#[inline(always)]
fn tile<const K: usize, const XB: usize>(
    input: &Planes,
    w: &[f32],
    cin: usize,
    y: usize,
    x0: usize,
) -> [[f32; XB]; CO_BLOCK] {
    let mut acc = [[0f32; XB]; CO_BLOCK];
    // A 1x1 kernel reads the centre of the bordered input; a 3x3 one starts at the border.
    let off = 1 - K / 2;
    let row = input.row;
    let data = &input.data[..];
    for ci in 0..cin {
        let plane = ci * input.plane;
        let wc = &w[ci * K * K * CO_BLOCK..(ci + 1) * K * K * CO_BLOCK];
        for ky in 0..K {
            let r = plane + (y + ky + off) * row + x0 + off;
            for kx in 0..K {
                let v: &[f32; XB] = data[r + kx..r + kx + XB].try_into().unwrap();
                let wt: &[f32; CO_BLOCK] = wc
                    [(ky * K + kx) * CO_BLOCK..(ky * K + kx + 1) * CO_BLOCK]
                    .try_into()
                    .unwrap();
                for (a, &wj) in acc.iter_mut().zip(wt) {
                    for (ai, &vi) in a.iter_mut().zip(v) {
                        *ai += wj * vi;
                    }
                }
            }
        }
    }
    acc
}

#[inline(always)]
fn band<const K: usize, const XB: usize, E: Epilogue>(
    conv: &PackedConv,
    input: &Planes,
    block: usize,
    rows: std::ops::Range<usize>,
    epilogue: &E,
) {
    let per_block = conv.cin * conv.k * conv.k * CO_BLOCK;
    let w = &conv.w[block * per_block..(block + 1) * per_block];
    for y in rows {
        let mut x0 = 0;
        while x0 < input.w {
            let acc = tile::<K, XB>(input, w, conv.cin, y, x0);
            epilogue.apply::<XB>(block, y, x0, &acc);
            x0 += XB;
        }
    }
}

/// The x86 tiles, written with intrinsics: the accumulators stay in registers.
#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::{CO_BLOCK, Epilogue, PackedConv, Planes};

    macro_rules! tile_fn {
        ($name:ident, $feat:literal, $vec:ty, $lanes:expr, $nv:expr, $zero:ident, $load:ident, $set1:ident, $fmadd:ident, $store:ident) => {
            /// One tile of `CO_BLOCK` channels by `$nv` vectors of columns.
            #[target_feature(enable = $feat)]
            #[inline]
            unsafe fn $name<const K: usize>(
                input: &Planes,
                w: &[f32],
                cin: usize,
                y: usize,
                x0: usize,
            ) -> [[f32; $lanes * $nv]; CO_BLOCK] {
                let off = 1 - K / 2;
                let row = input.row;
                let base = input.data.as_ptr();
                assert!(w.len() >= cin * K * K * CO_BLOCK);
                let last = (cin - 1) * input.plane + (y + K - 1 + off) * row + x0 + off + K - 1;
                assert!(last + $lanes * $nv <= input.data.len());
                let wp = w.as_ptr();
                let mut acc: [[$vec; $nv]; CO_BLOCK] = [[$zero(); $nv]; CO_BLOCK];
                for ci in 0..cin {
                    for ky in 0..K {
                        let r = ci * input.plane + (y + ky + off) * row + x0 + off;
                        for kx in 0..K {
                            // SAFETY: `r + kx + lanes * nv <= last + lanes * nv` (checked above),
                            // weights in bounds (checked above).
                            unsafe {
                                let p = base.add(r + kx);
                                let mut v: [$vec; $nv] = [$zero(); $nv];
                                for (n, vn) in v.iter_mut().enumerate() {
                                    *vn = $load(p.add(n * $lanes));
                                }
                                let wt = wp.add(((ci * K + ky) * K + kx) * CO_BLOCK);
                                for (j, a) in acc.iter_mut().enumerate() {
                                    let wj = $set1(*wt.add(j));
                                    for n in 0..$nv {
                                        a[n] = $fmadd(wj, v[n], a[n]);
                                    }
                                }
                            }
                        }
                    }
                }
                let mut out = [[0f32; $lanes * $nv]; CO_BLOCK];
                for (o, a) in out.iter_mut().zip(&acc) {
                    for n in 0..$nv {
                        // SAFETY: `o` holds `lanes * nv` floats.
                        unsafe { $store(o.as_mut_ptr().add(n * $lanes), a[n]) };
                    }
                }
                out
            }
        };
    }

    tile_fn!(
        tile_512x1,
        "avx512f",
        __m512,
        16,
        1,
        _mm512_setzero_ps,
        _mm512_loadu_ps,
        _mm512_set1_ps,
        _mm512_fmadd_ps,
        _mm512_storeu_ps
    );
    tile_fn!(
        tile_512x2,
        "avx512f",
        __m512,
        16,
        2,
        _mm512_setzero_ps,
        _mm512_loadu_ps,
        _mm512_set1_ps,
        _mm512_fmadd_ps,
        _mm512_storeu_ps
    );
    tile_fn!(
        tile_256x1,
        "avx2,fma",
        __m256,
        8,
        1,
        _mm256_setzero_ps,
        _mm256_loadu_ps,
        _mm256_set1_ps,
        _mm256_fmadd_ps,
        _mm256_storeu_ps
    );

    macro_rules! band_fn {
        ($name:ident, $feat:literal, $tile:ident, $xb:expr) => {
            /// Rows `rows` of channel block `block`.
            #[target_feature(enable = $feat)]
            pub(super) unsafe fn $name<const K: usize, E: Epilogue>(
                conv: &PackedConv,
                input: &Planes,
                block: usize,
                rows: std::ops::Range<usize>,
                epilogue: &E,
            ) {
                let per_block = conv.cin * K * K * CO_BLOCK;
                let w = &conv.w[block * per_block..(block + 1) * per_block];
                for y in rows {
                    let mut x0 = 0;
                    while x0 < input.w {
                        // SAFETY: this function's features are those of the tile.
                        let acc = unsafe { $tile::<K>(input, w, conv.cin, y, x0) };
                        epilogue.apply::<$xb>(block, y, x0, &acc);
                        x0 += $xb;
                    }
                }
            }
        };
    }

    band_fn!(band_512x1, "avx512f", tile_512x1, 16);
    band_fn!(band_512x2, "avx512f", tile_512x2, 32);
    band_fn!(band_256x1, "avx2,fma", tile_256x1, 8);
}

unsafe fn band_generic<const K: usize, E: Epilogue>(
    conv: &PackedConv,
    input: &Planes,
    block: usize,
    rows: std::ops::Range<usize>,
    epilogue: &E,
) {
    band::<K, 8, E>(conv, input, block, rows, epilogue)
}

const _: () = assert!(X_BLOCK.is_multiple_of(32));

/// Where an epilogue writes: planes of an output buffer, shared by the threads (each tile owns
/// its pixels).
pub struct Out {
    ptr: SyncPtr,
    len: usize,
    c: usize,
    h: usize,
    w: usize,
    pad: usize,
    row: usize,
    plane: usize,
}

impl Out {
    /// Writes into `p` (which must outlive the convolution run).
    pub fn new(p: &mut Planes) -> Self {
        Self {
            ptr: SyncPtr(p.data.as_mut_ptr()),
            len: p.data.len(),
            c: p.c,
            h: p.h,
            w: p.w,
            pad: p.pad,
            row: p.row,
            plane: p.plane,
        }
    }

    /// Stores `v` at columns `x0..` of row `y` of channel `c`, the columns inside the image.
    #[inline(always)]
    fn store<const XB: usize>(&self, c: usize, y: usize, x0: usize, v: &[f32; XB]) {
        debug_assert!(c < self.c && y < self.h);
        let n = XB.min(self.w - x0);
        let start = c * self.plane + (y + self.pad) * self.row + x0 + self.pad;
        assert!(start + n <= self.len);
        // SAFETY: in bounds (checked above); tiles write disjoint pixels.
        unsafe { std::ptr::copy_nonoverlapping(v.as_ptr(), self.ptr.add(start), n) };
    }
}

/// Columns `x0..x0 + XB` of row `y` of channel `c` of `p` (zeros past the image's width).
#[inline(always)]
fn load<const XB: usize>(p: &Planes, c: usize, y: usize, x0: usize) -> [f32; XB] {
    let mut v = [0f32; XB];
    let n = XB.min(p.w - x0);
    let i = p.at(c, y, x0);
    v[..n].copy_from_slice(&p.data[i..i + n]);
    v
}

/// `out = act(conv + bias)` (packed channel order = output channel order).
pub struct Store<'a> {
    /// Destination.
    pub out: Out,
    /// Bias by packed channel.
    pub bias: &'a [f32],
    /// Activation.
    pub act: Act,
}

impl Epilogue for Store<'_> {
    #[inline(always)]
    fn apply<const XB: usize>(
        &self,
        block: usize,
        y: usize,
        x0: usize,
        acc: &[[f32; XB]; CO_BLOCK],
    ) {
        for (j, a) in acc.iter().enumerate() {
            let c = block * CO_BLOCK + j;
            if c >= self.out.c {
                break;
            }
            let b = self.bias[c];
            let mut v = *a;
            v.iter_mut().for_each(|x| *x += b);
            self.act.apply_all(&mut v);
            self.out.store(c, y, x0, &v);
        }
    }
}

/// `out = conv + bias + residual` (the end of a residual block).
pub struct AddStore<'a> {
    /// Destination.
    pub out: Out,
    /// Bias by packed channel.
    pub bias: &'a [f32],
    /// What is added (same shape as the output).
    pub residual: &'a Planes,
}

impl Epilogue for AddStore<'_> {
    #[inline(always)]
    fn apply<const XB: usize>(
        &self,
        block: usize,
        y: usize,
        x0: usize,
        acc: &[[f32; XB]; CO_BLOCK],
    ) {
        for (j, a) in acc.iter().enumerate() {
            let c = block * CO_BLOCK + j;
            if c >= self.out.c {
                break;
            }
            let b = self.bias[c];
            let r = load::<XB>(self.residual, c, y, x0);
            let mut v = *a;
            for (vi, ri) in v.iter_mut().zip(&r) {
                *vi += b + ri;
            }
            self.out.store(c, y, x0, &v);
        }
    }
}

/// The SPADE modulation fused into the `gamma | beta` convolution:
/// `out[c] = act(bn(x[c]) * gamma'[c] + beta[c])`, `bn(x) = x * scale + shift` (eval batch
/// norm folded), `gamma' = 1 + gamma` (the 1 folded into the bias). Each block of the packed
/// convolution holds `CO_BLOCK / 2` gamma channels followed by the beta channels of the same
/// output channels (see [`gamma_beta_order`]).
pub struct Modulate<'a> {
    /// Destination.
    pub out: Out,
    /// Bias by packed channel (the gamma biases include the 1).
    pub bias: &'a [f32],
    /// The activation being normalised.
    pub x: &'a Planes,
    /// Batch-norm scale per channel: `1 / sqrt(var + eps)`.
    pub scale: &'a [f32],
    /// Batch-norm shift per channel: `-mean * scale`.
    pub shift: &'a [f32],
    /// Activation after the modulation.
    pub act: Act,
}

impl Epilogue for Modulate<'_> {
    #[inline(always)]
    fn apply<const XB: usize>(
        &self,
        block: usize,
        y: usize,
        x0: usize,
        acc: &[[f32; XB]; CO_BLOCK],
    ) {
        const HALF: usize = CO_BLOCK / 2;
        for j in 0..HALF {
            let c = block * HALF + j;
            if c >= self.out.c {
                break;
            }
            let (g, b) = (&acc[j], &acc[HALF + j]);
            let (gb, bb) = (
                self.bias[block * CO_BLOCK + j],
                self.bias[block * CO_BLOCK + HALF + j],
            );
            let (s, t) = (self.scale[c], self.shift[c]);
            let mut v = load::<XB>(self.x, c, y, x0);
            for i in 0..XB {
                v[i] = (v[i] * s + t) * (g[i] + gb) + (b[i] + bb);
            }
            self.act.apply_all(&mut v);
            self.out.store(c, y, x0, &v);
        }
    }
}

/// The packing order of a fused `gamma | beta` convolution over `c` channels (source channels
/// `0..c` are gamma, `c..2c` beta): per block, `CO_BLOCK / 2` gamma channels then the same
/// channels' beta.
pub fn gamma_beta_order(c: usize) -> Vec<usize> {
    const HALF: usize = CO_BLOCK / 2;
    let blocks = c.div_ceil(HALF);
    let mut order = Vec::with_capacity(blocks * CO_BLOCK);
    for b in 0..blocks {
        for j in 0..HALF {
            order.push((b * HALF + j).min(c - 1));
        }
        for j in 0..HALF {
            order.push(c + (b * HALF + j).min(c - 1));
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plain nested-loop reference: "same" convolution, zero padding.
    fn reference(x: &Planes, w: &[f32], b: &[f32], cout: usize, k: usize) -> Vec<f32> {
        let p = k as isize / 2;
        let mut out = vec![0f32; cout * x.h * x.w];
        for co in 0..cout {
            for y in 0..x.h {
                for xx in 0..x.w {
                    let mut s = b[co] as f64;
                    for ci in 0..x.c {
                        for ky in 0..k {
                            for kx in 0..k {
                                let (iy, ix) =
                                    (y as isize + ky as isize - p, xx as isize + kx as isize - p);
                                if iy < 0 || ix < 0 || iy >= x.h as isize || ix >= x.w as isize {
                                    continue;
                                }
                                s += w[((co * x.c + ci) * k + ky) * k + kx] as f64
                                    * x.data[x.at(ci, iy as usize, ix as usize)] as f64;
                            }
                        }
                    }
                    out[(co * x.h + y) * x.w + xx] = s as f32;
                }
            }
        }
        out
    }

    fn noise(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                (s as f32 / u32::MAX as f32) * 2.0 - 1.0
            })
            .collect()
    }

    #[test]
    fn matches_the_reference_for_odd_sizes_and_both_kernels() {
        for &(cin, cout, h, w, k) in &[
            (3, 5, 7, 19, 3),
            (9, 17, 4, 33, 3),
            (6, 11, 5, 9, 1),
            (4, 8, 3, 70, 3),
        ] {
            let x = Planes::from_chw(cin, h, w, noise(cin * h * w, 1));
            let wt = noise(cout * cin * k * k, 2);
            let b = noise(cout, 3);
            let conv = PackedConv::new(&wt, Some(&b), cout, cin, k);
            let expected = reference(&x, &wt, &b, cout, k);
            for kernel in Kernel::supported() {
                let mut out = Planes::zeros(cout, h, w);
                conv.run_with(
                    kernel,
                    &x.padded_map(|v| v),
                    &Store {
                        out: Out::new(&mut out),
                        bias: &conv.bias,
                        act: Act::None,
                    },
                );
                let max = out
                    .data
                    .iter()
                    .zip(&expected)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0f32, f32::max);
                assert!(
                    max < 1e-4,
                    "{kernel:?} {cin}->{cout} {h}x{w} k{k}: max diff {max}"
                );
            }
        }
    }

    #[test]
    fn gamma_beta_order_pairs_channels_per_block() {
        let o = gamma_beta_order(6);
        assert_eq!(o, vec![0, 1, 2, 3, 6, 7, 8, 9, 4, 5, 5, 5, 10, 11, 11, 11]);
    }
}
