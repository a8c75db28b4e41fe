// SPADE `mlp_shared` as a lookup (issue "Speed"; Park et al. 2019, eq. 1).
//
// A k x k "same" convolution over a one-hot label map is, for each output pixel, the bias plus
// one weight column per kernel tap: the column of the class under that tap. This kernel computes
//
//   out[n, c, y, x] = bias[c] + sum_{ky, kx} table[((ky * k + kx) * rows + id) * hidden + c],
//   id = ids[n, y + ky, x + kx]
//
// where `ids` is the class map padded by k / 2 with the sentinel `rows - 1`, whose table row is
// zero (the convolution's zero padding), and `table` is the weight laid out [k * k, rows, hidden].
// Optionally the ReLU that follows `mlp_shared` is applied in the same pass.
//
// One invocation per output value; x varies fastest, so the writes of a workgroup are contiguous
// in the NCHW output, and the table (a few hundred KiB) stays in cache.

struct Params {
    batch: u32,
    height: u32,
    width: u32,
    hidden: u32,
    rows: u32,    // classes + 1 (the zero padding row)
    kernel: u32,  // k (odd)
    relu: u32,    // 1: apply max(0, .)
    _pad: u32,
}

// Every binding is read_write: Burn's allocator places tensors in shared pages, and wgpu forbids
// one buffer bound both read-only and writable in a dispatch.
@group(0) @binding(0) var<storage, read_write> table: array<f32>;   // [k * k * rows, hidden]
@group(0) @binding(1) var<storage, read_write> ids: array<i32>;     // [batch, height + k - 1, width + k - 1]
@group(0) @binding(2) var<storage, read_write> bias: array<f32>;    // [hidden]
@group(0) @binding(3) var<storage, read_write> params: Params;
@group(0) @binding(4) var<storage, read_write> out: array<f32>; // [batch, hidden, height, width]

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let x = gid.x;
    let y = gid.y;
    if (x >= params.width || y >= params.height) {
        return;
    }
    let c = gid.z % params.hidden;
    let n = gid.z / params.hidden;
    let k = params.kernel;
    let pw = params.width + k - 1u;
    let ph = params.height + k - 1u;
    var acc = bias[c];
    for (var ky = 0u; ky < k; ky = ky + 1u) {
        let row = (n * ph + y + ky) * pw + x;
        for (var kx = 0u; kx < k; kx = kx + 1u) {
            let id = u32(ids[row + kx]);
            acc = acc + table[((ky * k + kx) * params.rows + id) * params.hidden + c];
        }
    }
    if (params.relu == 1u) {
        acc = max(acc, 0.0);
    }
    out[((n * params.hidden + c) * params.height + y) * params.width + x] = acc;
}
