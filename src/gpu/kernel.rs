//! A WGSL source launched through CubeCL's compute client, the same queue and memory pool as
//! every Burn op on that device, so it orders with them and shares their buffers.

use burn_cubecl::cubecl;
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
