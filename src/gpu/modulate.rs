//! The folded SPADE modulation on wgpu: `shaders/spade_modulate.wgsl`, `(x - mean) * scale + beta`
//! and the block's leaky ReLU in one pass (see [`crate::model::spade::FoldedModulation`]).

use burn::tensor::Tensor;
use burn_cubecl::cubecl::CubeCount;
use burn_cubecl::cubecl::server::KernelArguments;

use super::kernel::{WgslKernel, f32_output, param_bytes, plain_f32};

const KERNEL: WgslKernel = WgslKernel {
    name: "gaugan/spade_modulate",
    source: include_str!("../../shaders/spade_modulate.wgsl"),
};

/// `act((x - mean[c]) * scale_beta[:, :C] + scale_beta[:, C:])` with `act` the leaky ReLU
/// (slope 0.2) when `leaky`. `x`: `[B, C, H, W]`, `scale_beta`: `[B, 2C, H, W]`, `mean`: `[C]`.
/// `None` when the tensors are not plain f32 wgpu tensors (the caller uses Burn's ops).
pub fn modulate(
    x: &Tensor<4>,
    scale_beta: &Tensor<4>,
    mean: &Tensor<1>,
    leaky: bool,
) -> Option<Tensor<4>> {
    let [b, c, h, w] = x.dims();
    if scale_beta.dims() != [b, 2 * c, h, w] || mean.dims() != [c] || b > 65_535 || c > 65_535 {
        return None;
    }
    let (x, sb, mean) = (plain_f32(x)?, plain_f32(scale_beta)?, plain_f32(mean)?);
    let client = x.client.clone();
    let pixels = h * w;
    let params =
        client.create_from_slice(&param_bytes(&[c as u32, pixels as u32, leaky as u32, 0]));
    let out = client.empty(b * c * pixels * 4);
    client.launch(
        Box::new(KERNEL),
        CubeCount::Static(pixels.div_ceil(256) as u32, c as u32, b as u32),
        KernelArguments::new()
            .with_buffer(x.handle.clone().binding())
            .with_buffer(sb.handle.clone().binding())
            .with_buffer(mean.handle.clone().binding())
            .with_buffer(params.binding())
            .with_buffer(out.clone().binding()),
    );
    Some(f32_output(&x, client, [b, c, h, w], out))
}
