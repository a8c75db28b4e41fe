//! Choosing where the model runs: a real GPU through burn-wgpu (Vulkan, Metal, DX12), or Burn's
//! pure-CPU `flex` backend. A wgpu adapter of type CPU (lavapipe, llvmpipe, WARP) is not a GPU: it
//! runs Burn's kernels about 100x slower than flex, so `auto` never picks one.

#[cfg(feature = "gpu")]
use burn::tensor::wgpu::wgpu;
use burn::tensor::{Device, DeviceKind};

/// The user's choice of backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BackendChoice {
    /// A real GPU when there is one, else the CPU backend.
    #[default]
    Auto,
    /// wgpu on its default adapter, whatever it is (a software one included).
    Wgpu,
    /// The CPU backend (flex).
    Cpu,
}

impl std::str::FromStr for BackendChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(Self::Auto),
            "wgpu" | "gpu" => Ok(Self::Wgpu),
            "cpu" | "flex" => Ok(Self::Cpu),
            _ => Err(format!("unknown backend `{s}` (auto, wgpu, cpu)")),
        }
    }
}

/// A chosen device and how to describe it to the user.
#[derive(Debug, Clone)]
pub struct Backend {
    /// The Burn device.
    pub device: Device,
    /// e.g. "Vulkan: NVIDIA GeForce RTX 4070" or "CPU (flex, 8 threads)".
    pub description: String,
    /// Whether it is a hardware GPU.
    pub is_gpu: bool,
}

/// A wgpu adapter as seen at start-up.
#[derive(Debug, Clone)]
pub struct AdapterSummary {
    /// Adapter name.
    pub name: String,
    /// Graphics API (Vulkan, Metal, Dx12, Gl).
    pub api: String,
    /// Whether it is a hardware GPU (discrete, integrated or virtual).
    pub is_gpu: bool,
    /// Device kind for Burn.
    kind: DeviceKind,
}

/// Lists the wgpu adapters of this machine (GL is left out: Burn does not compute on it). None in
/// a build without the `gpu` feature.
#[cfg(not(feature = "gpu"))]
pub fn adapters() -> Vec<AdapterSummary> {
    Vec::new()
}

/// The Burn device of an adapter.
#[cfg(feature = "gpu")]
fn wgpu_device(kind: &DeviceKind) -> Device {
    Device::wgpu(kind.clone())
}

/// The Burn device of an adapter (a build without the `gpu` feature lists none).
#[cfg(not(feature = "gpu"))]
fn wgpu_device(_: &DeviceKind) -> Device {
    unreachable!("a build without the gpu feature lists no adapters")
}

/// Lists the wgpu adapters of this machine (GL is left out: Burn does not compute on it).
#[cfg(feature = "gpu")]
pub fn adapters() -> Vec<AdapterSummary> {
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
        backends: wgpu::Backends::PRIMARY,
        ..wgpu::InstanceDescriptor::new_without_display_handle()
    });
    let mut counts = [0usize; 3];
    pollster::block_on(instance.enumerate_adapters(wgpu::Backends::PRIMARY))
        .into_iter()
        .map(|a| {
            let info = a.get_info();
            let (is_gpu, kind) = match info.device_type {
                wgpu::DeviceType::DiscreteGpu => {
                    counts[0] += 1;
                    (true, DeviceKind::DiscreteGpu(counts[0] - 1))
                }
                wgpu::DeviceType::IntegratedGpu => {
                    counts[1] += 1;
                    (true, DeviceKind::IntegratedGpu(counts[1] - 1))
                }
                wgpu::DeviceType::VirtualGpu => {
                    counts[2] += 1;
                    (true, DeviceKind::VirtualGpu(counts[2] - 1))
                }
                _ => (false, DeviceKind::Cpu),
            };
            AdapterSummary {
                name: info.name,
                api: format!("{:?}", info.backend),
                is_gpu,
                kind,
            }
        })
        .collect()
}

/// What to ask of an adapter when creating a device Burn will share: all its features and
/// limits (Burn's runtime needs TIMESTAMP_QUERY and large storage buffers). The app gives this to
/// eframe, so that the window's device can also run the model.
#[cfg(feature = "gpu")]
pub fn device_descriptor(adapter: &wgpu::Adapter) -> wgpu::DeviceDescriptor<'static> {
    wgpu::DeviceDescriptor {
        label: Some("gaugan"),
        required_features: adapter.features(),
        required_limits: adapter.limits(),
        ..Default::default()
    }
}

/// Registers an existing wgpu device (the app's window's) with Burn: the model then runs on the
/// device that draws the photo, and the photo never leaves it ([`crate::gpu::photo`]).
#[cfg(feature = "gpu")]
pub fn shared(setup: burn::tensor::wgpu::WgpuSetup) -> Result<Backend, String> {
    let info = setup.adapter.get_info();
    let is_gpu = matches!(
        info.device_type,
        wgpu::DeviceType::DiscreteGpu
            | wgpu::DeviceType::IntegratedGpu
            | wgpu::DeviceType::VirtualGpu
    );
    let device = Device::wgpu_options()
        .setup(setup)
        .init()
        .map_err(|e| format!("the window's wgpu device cannot run the model: {e}"))?;
    Ok(Backend {
        device,
        description: format!("{:?}: {} (shared with the window)", info.backend, info.name),
        is_gpu,
    })
}

/// The CPU backend.
pub fn cpu() -> Backend {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    Backend {
        device: Device::flex(),
        description: format!("CPU (flex, {threads} threads)"),
        is_gpu: false,
    }
}

/// Picks a backend. `Wgpu` on a machine without any adapter is an error.
pub fn select(choice: BackendChoice) -> Result<Backend, String> {
    match choice {
        BackendChoice::Cpu => Ok(cpu()),
        BackendChoice::Auto => {
            let list = adapters();
            match list.iter().find(|a| a.is_gpu) {
                Some(a) => Ok(Backend {
                    device: wgpu_device(&a.kind),
                    description: format!("{}: {}", a.api, a.name),
                    is_gpu: true,
                }),
                None => Ok(cpu()),
            }
        }
        BackendChoice::Wgpu => {
            let list = adapters();
            let a = list
                .iter()
                .find(|a| a.is_gpu)
                .or(list.first())
                .ok_or("no wgpu adapter on this machine (install a Vulkan driver, e.g. mesa-vulkan-drivers)")?;
            Ok(Backend {
                device: wgpu_device(&a.kind),
                description: format!(
                    "{}: {}{}",
                    a.api,
                    a.name,
                    if a.is_gpu { "" } else { " (software)" }
                ),
                is_gpu: a.is_gpu,
            })
        }
    }
}
