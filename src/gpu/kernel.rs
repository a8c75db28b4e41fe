//! A WGSL source launched through CubeCL's compute client, the same queue and memory pool as
//! every Burn op on that device, so it orders with them and shares their buffers.

use burn::backend::Cube;
use burn::tensor::{DType, Shape, Tensor};
use burn_cubecl::cubecl;
use burn_cubecl::cubecl::client::Client;
use burn_cubecl::cubecl::server::Handle;
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::tensor::CubeTensor;
use cubecl::ir::{UIntKind, metadata::Info, settings::Dim3};
use cubecl::prelude::*;
use cubecl::{CubeKernel, PrecompiledSource};

/// One compute shader: its text (entry point `main`) and a name that keys the pipeline cache.
pub(crate) struct WgslKernel {
    /// Unique per shader: CubeCL caches compiled pipelines by kernel id.
    pub name: &'static str,
    /// WGSL text.
    pub source: &'static str,
}

impl KernelMetadata for WgslKernel {
    fn id(&self) -> KernelId {
        KernelId::new::<Self>().info(self.name)
    }

    fn address_type(&self) -> ElemType {
        ElemType::UInt(UIntKind::U32)
    }
}

impl CubeKernel for WgslKernel {
    fn define(&self) -> KernelDefinition {
        // No IR: the text is the kernel. The definition only keys the compilation cache.
        let settings =
            KernelSettings::new(Dim3::new_single(), ExecutionMode::Checked, AddressType::U32);
        KernelDefinition {
            body: Scope::root(settings.clone()),
            settings,
            info: Info::default(),
        }
    }

    fn source(&self) -> Option<PrecompiledSource> {
        Some(PrecompiledSource {
            source: self.source.to_string(),
            entrypoint_name: "main".to_string(),
            lang: "wgsl",
        })
    }
}

/// Little-endian bytes of `u32` parameters, for a storage struct of `u32`s.
pub(crate) fn param_bytes(values: &[u32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// The contiguous CubeCL tensor behind `t` when it is a plain (not autodiff-tracked) f32 wgpu
/// tensor; `None` otherwise (the caller falls back to Burn's ops).
pub(crate) fn plain_f32<const D: usize>(t: &Tensor<D>) -> Option<CubeTensor> {
    let t = t.clone().try_into_primitive::<Cube>().ok()?;
    (t.dtype == DType::F32).then(|| into_contiguous(t))
}

/// An f32 tensor of `shape` over a buffer a kernel wrote.
pub(crate) fn f32_output<const D: usize>(
    like: &CubeTensor,
    client: Client,
    shape: [usize; D],
    handle: Handle,
) -> Tensor<D> {
    let out = CubeTensor::new_contiguous(
        client,
        like.device.clone(),
        Shape::new(shape),
        handle,
        DType::F32,
    );
    Tensor::from_primitive::<Cube>(out)
}
