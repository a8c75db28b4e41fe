// The generator's output to displayable pixels, on the GPU: `[3, H, W]` floats in [-1, 1] to
// RGBA8 (alpha 255), converted like the official `tensor2im`: u8(clamp((x + 1) / 2 * 255)),
// truncating. Rows are `row_words` u32 apart (wgpu copies buffer rows in multiples of 256 bytes),
// so the buffer can be copied straight into a texture.

struct Params {
    width: u32,
    height: u32,
    row_words: u32,
    _pad: u32,
}

// Every binding is read_write: Burn's allocator places tensors in shared pages, and wgpu forbids
// one buffer bound both read-only and writable in a dispatch.
@group(0) @binding(0) var<storage, read_write> photo: array<f32>;      // [3, height, width]
@group(0) @binding(1) var<storage, read_write> params: Params;
@group(0) @binding(2) var<storage, read_write> rgba: array<u32>; // [height, row_words]

fn to_byte(v: f32) -> u32 {
    return u32(clamp((v + 1.0) / 2.0 * 255.0, 0.0, 255.0));
}

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let x = gid.x;
    let y = gid.y;
    if (x >= params.width || y >= params.height) {
        return;
    }
    let plane = params.width * params.height;
    let i = y * params.width + x;
    let r = to_byte(photo[i]);
    let g = to_byte(photo[plane + i]);
    let b = to_byte(photo[2u * plane + i]);
    rgba[y * params.row_words + x] = r | (g << 8u) | (b << 16u) | (255u << 24u);
}
