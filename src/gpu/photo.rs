//! The photo from the generator's output to a texture without a trip through the CPU:
//! `shaders/photo_rgba.wgsl` turns the `[1, 3, H, W]` output into RGBA8 rows in a GPU buffer of
//! Burn's memory pool, and [`GpuPhoto::copy_to_texture`] copies them into a texture on the same
//! device (eframe's, when the app shares it with Burn: see [`crate::infer::backend::shared`]).

use burn::tensor::Tensor;
use burn::tensor::wgpu::wgpu;
use burn_cubecl::cubecl::CubeCount;
use burn_cubecl::cubecl::server::KernelArguments;
use burn_cubecl::cubecl::wgpu::{AutoCompiler, WgpuResource, WgpuServer};

use super::kernel::{WgslKernel, param_bytes, plain_f32};

const KERNEL: WgslKernel = WgslKernel {
    name: "gaugan/photo_rgba",
    source: include_str!("../../shaders/photo_rgba.wgsl"),
};

/// An RGBA8 image in a GPU buffer, ready to copy into a texture. Holding it keeps the buffer's
/// bytes in place (Burn's allocator does not reuse them until it is dropped).
pub struct GpuPhoto {
    buffer: wgpu::Buffer,
    offset: u64,
    /// Burn's claim on the bytes (its allocator's `ManagedResource`).
    _claim: Box<dyn std::any::Any + Send + Sync>,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Bytes from one row to the next (a multiple of 256).
    pub bytes_per_row: u32,
}

impl std::fmt::Debug for GpuPhoto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GpuPhoto({}x{})", self.width, self.height)
    }
}

impl GpuPhoto {
    /// Records the copy into `texture` (RGBA8, at least `width x height`, COPY_DST). The texture
    /// must belong to the device the photo was computed on.
    pub fn copy_to_texture(&self, encoder: &mut wgpu::CommandEncoder, texture: &wgpu::Texture) {
        encoder.copy_buffer_to_texture(
            wgpu::TexelCopyBufferInfo {
                buffer: &self.buffer,
                layout: wgpu::TexelCopyBufferLayout {
                    offset: self.offset,
                    bytes_per_row: Some(self.bytes_per_row),
                    rows_per_image: Some(self.height),
                },
            },
            texture.as_image_copy(),
            wgpu::Extent3d {
                width: self.width,
                height: self.height,
                depth_or_array_layers: 1,
            },
        );
    }
}

/// Converts a generator output `[1, 3, H, W]` on a wgpu device into a [`GpuPhoto`], and submits
/// Burn's pending work so that a copy submitted afterwards on the same queue sees it. `None` when
/// `out` is not a plain f32 wgpu tensor (the caller reads it back to the CPU instead).
pub fn to_gpu_photo(out: &Tensor<4>) -> Option<GpuPhoto> {
    let [b, c, h, w] = out.dims();
    if b != 1 || c != 3 {
        return None;
    }
    let photo = plain_f32(out)?;
    let client = photo.client.clone();
    let bytes_per_row = (w * 4).next_multiple_of(256);
    let params = client.create_from_slice(&param_bytes(&[
        w as u32,
        h as u32,
        (bytes_per_row / 4) as u32,
        0,
    ]));
    let rgba = client.empty(bytes_per_row * h);
    client.launch(
        Box::new(KERNEL),
        CubeCount::Static(w.div_ceil(16) as u32, h.div_ceil(16) as u32, 1),
        KernelArguments::new()
            .with_buffer(photo.handle.clone().binding())
            .with_buffer(params.binding())
            .with_buffer(rgba.clone().binding()),
    );
    let claim = client.get_resource::<WgpuServer<AutoCompiler>>(rgba).ok()?;
    let WgpuResource { buffer, offset, .. } = claim.resource();
    let (buffer, offset) = (buffer.clone(), *offset);
    client.flush().ok()?;
    Some(GpuPhoto {
        buffer,
        offset,
        _claim: Box::new(claim),
        width: w as u32,
        height: h as u32,
        bytes_per_row: bytes_per_row as u32,
    })
}
