//! The SPADE lookup on wgpu: `shaders/spade_lookup.wgsl`, one pass that gathers and sums the k x k
//! weight columns chosen by the class ids (plus bias, optionally ReLU). Burn's ops express the
//! same thing as k x k `select`s and adds over `[B*H*W, hidden]` rows, plus a permute: about 20
//! passes over the output instead of one.

use burn::backend::Cube;
use burn::tensor::{DType, Int, Tensor};
use burn_cubecl::cubecl::CubeCount;
use burn_cubecl::cubecl::server::KernelArguments;
use burn_cubecl::kernel::into_contiguous;

use super::kernel::{WgslKernel, f32_output, param_bytes, plain_f32};

const KERNEL: WgslKernel = WgslKernel {
    name: "gaugan/spade_lookup",
    source: include_str!("../../shaders/spade_lookup.wgsl"),
};

/// Workgroup size of the shader (x, y).
const GROUP: usize = 16;

/// `out[n, c, y, x] = bias[c] + sum_taps table[tap, ids[n, y + ky, x + kx], c]` (then ReLU when
/// `relu`), as in [`crate::model::lookup_conv`]. `table`: `[k*k*rows, hidden]` with a zero row
/// `rows - 1` per tap; `ids`: `[B, H + k - 1, W + k - 1]` padded with `rows - 1`; `bias`:
/// `[hidden]`. Returns `[B, hidden, H, W]`, or `None` when the tensors are not plain wgpu tensors
/// (another backend, autodiff-tracked, other dtypes), so the caller falls back to Burn's ops.
pub fn lookup_sum(
    table: &Tensor<2>,
    ids: &Tensor<3, Int>,
    bias: Option<&Tensor<1>>,
    kernel: usize,
    relu: bool,
) -> Option<Tensor<4>> {
    let [rows_total, hidden] = table.dims();
    let [b, ph, pw] = ids.dims();
    let (h, w) = (ph + 1 - kernel, pw + 1 - kernel);
    let rows = rows_total / (kernel * kernel);
    if b * hidden > 65_535 {
        return None;
    }
    let table = plain_f32(table)?;
    let ids = ids.clone().try_into_primitive::<Cube>().ok()?;
    if ids.dtype != DType::I32 {
        return None;
    }
    let ids = into_contiguous(ids);
    let client = table.client.clone();
    let bias = match bias {
        Some(bias) => plain_f32(bias)?.handle,
        None => client.create_from_slice(&vec![0u8; hidden * 4]),
    };
    let params = client.create_from_slice(&param_bytes(&[
        b as u32,
        h as u32,
        w as u32,
        hidden as u32,
        rows as u32,
        kernel as u32,
        relu as u32,
        0,
    ]));
    let out = client.empty(b * hidden * h * w * 4);
    client.launch(
        Box::new(KERNEL),
        CubeCount::Static(
            w.div_ceil(GROUP) as u32,
            h.div_ceil(GROUP) as u32,
            (b * hidden) as u32,
        ),
        KernelArguments::new()
            .with_buffer(table.handle.clone().binding())
            .with_buffer(ids.handle.clone().binding())
            .with_buffer(bias.binding())
            .with_buffer(params.binding())
            .with_buffer(out.clone().binding()),
    );
    Some(f32_output(&table, client, [b, hidden, h, w], out))
}
