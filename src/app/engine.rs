//! The app's side of inference: the loaded model, its worker, the latest photo (as image and
//! texture) and timing statistics.
//!
//! When the window's wgpu device runs the model ([`Display`]), photos arrive as GPU buffers and
//! are copied into a texture on that device: they reach the screen without a trip through the
//! CPU, and are read back only when asked for (saving).

use std::cell::OnceCell;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::{ColorImage, TextureHandle, TextureId, TextureOptions};
use image::RgbImage;

use crate::checkpoint::ModelFile;
use crate::infer::worker::{DeviceOutput, Reply, StyleSource, SynthRequest, Worker, WorkerOptions};
use crate::infer::{Backend, Photo, Style};
use crate::labels::LabelMap;

/// Whether the model is usable yet.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelState {
    /// Being built on the device.
    Loading,
    /// Ready, built in this time.
    Ready(Duration),
    /// Could not be built.
    Failed(String),
}

/// Something the UI should react to.
#[derive(Debug)]
pub enum EngineEvent {
    /// A style is ready.
    StyleEncoded {
        /// The id [`Engine::request_style`] returned.
        id: u64,
        /// Its style.
        style: Style,
    },
    /// Making a style failed.
    StyleFailed {
        /// The request id.
        id: u64,
        /// Why.
        error: String,
    },
    /// Something to tell the user.
    Error(String),
}

/// The window's wgpu device and renderer, when the model runs on that same device.
#[derive(Clone)]
pub struct Display {
    /// eframe's wgpu state.
    pub render_state: eframe::egui_wgpu::RenderState,
}

/// A photo texture on the window's device, registered with egui's renderer.
struct GpuTexture {
    texture: eframe::wgpu::Texture,
    id: TextureId,
}

/// The photo on screen.
enum Shown {
    /// Came to the CPU.
    Cpu { photo: Photo, image: RgbImage },
    /// Stayed on the GPU; its CPU copy is made on first use.
    Gpu {
        output: DeviceOutput,
        cpu: OnceCell<(Photo, RgbImage)>,
    },
}

impl Shown {
    fn photo(&self) -> &Photo {
        match self {
            Shown::Cpu { photo, .. } => photo,
            Shown::Gpu { .. } => &self.cpu().0,
        }
    }

    fn image(&self) -> &RgbImage {
        match self {
            Shown::Cpu { image, .. } => image,
            Shown::Gpu { .. } => &self.cpu().1,
        }
    }

    fn cpu(&self) -> &(Photo, RgbImage) {
        match self {
            Shown::Gpu { output, cpu } => cpu.get_or_init(|| {
                let photo = output.read();
                let image = photo.to_rgb();
                (photo, image)
            }),
            Shown::Cpu { .. } => unreachable!("only GPU photos are read back"),
        }
    }
}

/// The loaded model and its worker.
pub struct Engine {
    model: Arc<ModelFile>,
    model_name: String,
    backend: Backend,
    worker: Worker,
    state: ModelState,
    next_id: u64,
    last_synth_id: u64,
    sent: VecDeque<(u64, Instant)>,
    shown_id: u64,
    answered_id: u64,
    shown: Option<Shown>,
    texture: Option<TextureHandle>,
    display: Option<Display>,
    gpu_texture: Option<GpuTexture>,
    last_inference: Option<Duration>,
    last_latency: Option<Duration>,
    done: VecDeque<Instant>,
    photos: u64,
}

impl Engine {
    /// Starts a worker for `model` on `backend`. With a `display` (the window's device, which
    /// `backend` then is), photos stay on the GPU.
    pub fn new(
        ctx: &egui::Context,
        model: Arc<ModelFile>,
        model_name: String,
        backend: Backend,
        mut options: WorkerOptions,
        display: Option<Display>,
    ) -> Self {
        options.gpu_photos = display.is_some();
        let repaint_ctx = ctx.clone();
        let worker = Worker::spawn(model.clone(), backend.device.clone(), options, move || {
            repaint_ctx.request_repaint()
        });
        Self {
            model,
            model_name,
            backend,
            worker,
            state: ModelState::Loading,
            next_id: 1,
            last_synth_id: 0,
            sent: VecDeque::new(),
            shown_id: 0,
            answered_id: 0,
            shown: None,
            texture: None,
            display,
            gpu_texture: None,
            last_inference: None,
            last_latency: None,
            done: VecDeque::new(),
            photos: 0,
        }
    }

    /// The model.
    pub fn model(&self) -> &Arc<ModelFile> {
        &self.model
    }

    /// Where the model came from (file name, or "built-in").
    pub fn model_name(&self) -> &str {
        &self.model_name
    }

    /// The backend it runs on.
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// The window's device, when the model shares it.
    pub fn display(&self) -> Option<&Display> {
        self.display.as_ref()
    }

    /// Whether the shown photo came to the screen without leaving the GPU.
    pub fn photo_stayed_on_gpu(&self) -> bool {
        matches!(self.shown, Some(Shown::Gpu { .. }))
    }

    /// Load state.
    pub fn state(&self) -> &ModelState {
        &self.state
    }

    /// Output `[height, width]`.
    pub fn output_size(&self) -> [usize; 2] {
        self.model.generator.output_size()
    }

    /// Asks for a photo of `labels`; returns the request id. Supersedes requests not yet started.
    pub fn submit(&mut self, labels: &LabelMap, style: Option<Style>) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.last_synth_id = id;
        self.sent.push_back((id, Instant::now()));
        while self.sent.len() > 256 {
            self.sent.pop_front();
        }
        self.worker.request(SynthRequest {
            id,
            labels: labels.clone(),
            style,
        });
        id
    }

    /// Asks for a style (an image to encode, or a seeded draw); the answer comes as
    /// [`EngineEvent::StyleEncoded`] or [`EngineEvent::StyleFailed`].
    pub fn request_style(&mut self, source: StyleSource) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.worker.style(id, source);
        id
    }

    /// Takes the worker's replies: updates the photo and its texture, returns what else happened.
    pub fn poll(&mut self, ctx: &egui::Context) -> Vec<EngineEvent> {
        let mut events = Vec::new();
        while let Some(reply) = self.worker.try_recv() {
            match reply {
                Reply::Ready { elapsed } => self.state = ModelState::Ready(elapsed),
                Reply::LoadFailed(e) => {
                    events.push(EngineEvent::Error(format!(
                        "{}: the model could not be loaded on {}: {e}",
                        self.model_name, self.backend.description
                    )));
                    self.state = ModelState::Failed(e);
                }
                Reply::Photo {
                    id,
                    photo,
                    image,
                    elapsed,
                } => {
                    if self.photo_done(id, elapsed) {
                        let color = ColorImage::from_rgb(
                            [image.width() as usize, image.height() as usize],
                            image.as_raw(),
                        );
                        match &mut self.texture {
                            Some(t) if t.size() == color.size => {
                                t.set(color, TextureOptions::LINEAR)
                            }
                            _ => {
                                self.texture =
                                    Some(ctx.load_texture("photo", color, TextureOptions::LINEAR))
                            }
                        }
                        self.shown = Some(Shown::Cpu { photo, image });
                    }
                }
                Reply::GpuPhoto {
                    id,
                    photo,
                    output,
                    elapsed,
                } => {
                    if self.photo_done(id, elapsed) {
                        self.show_gpu_photo(&photo);
                        self.shown = Some(Shown::Gpu {
                            output,
                            cpu: OnceCell::new(),
                        });
                    }
                }
                Reply::SynthFailed { id, error } => {
                    self.answered_id = self.answered_id.max(id);
                    self.sent.retain(|(i, _)| *i > id);
                    events.push(EngineEvent::Error(format!("synthesis failed: {error}")));
                }
                Reply::Style { id, style } => events.push(EngineEvent::StyleEncoded { id, style }),
                Reply::StyleFailed { id, error } => {
                    events.push(EngineEvent::StyleFailed { id, error })
                }
            }
        }
        events
    }

    /// Books a finished photo; whether it is newer than the one shown.
    fn photo_done(&mut self, id: u64, elapsed: Duration) -> bool {
        self.photos += 1;
        self.answered_id = self.answered_id.max(id);
        self.last_inference = Some(elapsed);
        let now = Instant::now();
        if let Some(&(_, t)) = self.sent.iter().find(|(i, _)| *i == id) {
            self.last_latency = Some(now - t);
        }
        self.sent.retain(|(i, _)| *i > id);
        self.done.push_back(now);
        while self.done.len() > 2 && now.duration_since(self.done[0]) > Duration::from_secs(5) {
            self.done.pop_front();
        }
        let newer = id > self.shown_id;
        self.shown_id = self.shown_id.max(id);
        newer
    }

    /// Copies a GPU photo into the photo texture on the window's device (made or remade at
    /// the photo's size, and registered with egui's renderer).
    fn show_gpu_photo(&mut self, photo: &crate::gpu::photo::GpuPhoto) {
        use eframe::wgpu;
        let Some(display) = &self.display else { return };
        let rs = &display.render_state;
        let fits = self.gpu_texture.as_ref().is_some_and(|t| {
            (t.texture.width(), t.texture.height()) == (photo.width, photo.height)
        });
        if !fits {
            let texture = rs.device.create_texture(&wgpu::TextureDescriptor {
                label: Some("gaugan photo"),
                size: wgpu::Extent3d {
                    width: photo.width,
                    height: photo.height,
                    depth_or_array_layers: 1,
                },
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D2,
                format: wgpu::TextureFormat::Rgba8Unorm,
                usage: wgpu::TextureUsages::COPY_DST | wgpu::TextureUsages::TEXTURE_BINDING,
                view_formats: &[],
            });
            let view = texture.create_view(&Default::default());
            let mut renderer = rs.renderer.write();
            let id = match self.gpu_texture.take() {
                Some(old) => {
                    renderer.update_egui_texture_from_wgpu_texture(
                        &rs.device,
                        &view,
                        wgpu::FilterMode::Linear,
                        old.id,
                    );
                    old.id
                }
                None => {
                    renderer.register_native_texture(&rs.device, &view, wgpu::FilterMode::Linear)
                }
            };
            self.gpu_texture = Some(GpuTexture { texture, id });
        }
        let target = &self.gpu_texture.as_ref().expect("made above").texture;
        let mut encoder = rs.device.create_command_encoder(&Default::default());
        photo.copy_to_texture(&mut encoder, target);
        rs.queue.submit([encoder.finish()]);
    }

    /// Whether the worker is computing or has work waiting.
    pub fn is_busy(&self) -> bool {
        self.worker.is_busy()
    }

    /// Id of the request whose photo is shown (0: none yet).
    pub fn shown_id(&self) -> u64 {
        self.shown_id
    }

    /// Id of the newest photo request (0: none yet).
    pub fn last_request_id(&self) -> u64 {
        self.last_synth_id
    }

    /// Whether the shown photo is that of the newest request.
    pub fn is_current(&self) -> bool {
        self.answered_id >= self.last_synth_id
    }

    /// Id of the newest request answered (photo or failure).
    pub fn answered_id(&self) -> u64 {
        self.answered_id
    }

    /// The shown photo, raw (a GPU photo is read back on first use).
    pub fn photo(&self) -> Option<&Photo> {
        self.shown.as_ref().map(Shown::photo)
    }

    /// The shown photo as 8-bit RGB (a GPU photo is read back on first use).
    pub fn image(&self) -> Option<&RgbImage> {
        self.shown.as_ref().map(Shown::image)
    }

    /// The shown photo's texture.
    pub fn texture(&self) -> Option<TextureId> {
        match self.shown {
            Some(Shown::Gpu { .. }) => self.gpu_texture.as_ref().map(|t| t.id),
            _ => self.texture.as_ref().map(|t| t.id()),
        }
    }

    /// Time of the last inference on the worker.
    pub fn last_inference(&self) -> Option<Duration> {
        self.last_inference
    }

    /// Time from a request to its photo, for the last photo.
    pub fn last_latency(&self) -> Option<Duration> {
        self.last_latency
    }

    /// Photos finished since the model was loaded.
    pub fn photos(&self) -> u64 {
        self.photos
    }

    /// Photos per second over the last few seconds (`None` with fewer than two).
    pub fn photos_per_second(&self) -> Option<f64> {
        let (first, last) = (self.done.front()?, self.done.back()?);
        let span = last.duration_since(*first).as_secs_f64();
        (self.done.len() >= 2 && span > 0.0).then(|| (self.done.len() - 1) as f64 / span)
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        // The photo texture is registered with the window's renderer, which outlives us.
        if let (Some(display), Some(t)) = (&self.display, &self.gpu_texture) {
            display.render_state.renderer.write().free_texture(&t.id);
        }
    }
}
