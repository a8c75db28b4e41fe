// The SPADE modulation of a folded layer (issue "Speed"), in one pass:
//
//   out[n, c, y, x] = act((x[n, c, y, x] - mean[c]) * sb[n, c, y, x] + sb[n, C + c, y, x])
//
// where `sb` is the fused convolution's output `[scale; beta]` (the eval batch norm folded into
// the scale) and `act` is nothing or the leaky ReLU (slope 0.2) that follows every SPADE of a
// residual block. Burn's ops take four passes and two temporaries for the same.

struct Params {
    channels: u32,
    pixels: u32,  // H * W
    leaky: u32,   // 1: leaky ReLU with slope 0.2
    _pad: u32,
}

// Every binding is read_write: Burn's allocator places tensors in shared pages, and wgpu forbids
// one buffer bound both read-only and writable in a dispatch.
@group(0) @binding(0) var<storage, read_write> x: array<f32>;    // [B, C, H * W]
@group(0) @binding(1) var<storage, read_write> sb: array<f32>;   // [B, 2C, H * W]
@group(0) @binding(2) var<storage, read_write> mean: array<f32>; // [C]
@group(0) @binding(3) var<storage, read_write> params: Params;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;  // [B, C, H * W]

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let p = gid.x;
    if (p >= params.pixels) {
        return;
    }
    let c = gid.y;
    let n = gid.z;
    let i = (n * params.channels + c) * params.pixels + p;
    let s = (n * 2u * params.channels + c) * params.pixels + p;
    var v = (x[i] - mean[c]) * sb[s] + sb[s + params.channels * params.pixels];
    if (params.leaky == 1u && v < 0.0) {
        v = v * 0.2;
    }
    out[i] = v;
}
