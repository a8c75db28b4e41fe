//! The app's side of inference: the loaded model, its worker, the latest photo (as image and
//! texture) and timing statistics.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::{ColorImage, TextureHandle, TextureId, TextureOptions};
use image::RgbImage;

use crate::checkpoint::ModelFile;
use crate::infer::worker::{Reply, StyleSource, SynthRequest, Worker, WorkerOptions};
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
    photo: Option<Photo>,
    image: Option<RgbImage>,
    texture: Option<TextureHandle>,
    last_inference: Option<Duration>,
    last_latency: Option<Duration>,
    done: VecDeque<Instant>,
    photos: u64,
}

impl Engine {
    /// Starts a worker for `model` on `backend`.
    pub fn new(
        ctx: &egui::Context,
        model: Arc<ModelFile>,
        model_name: String,
        backend: Backend,
        options: WorkerOptions,
    ) -> Self {
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
            photo: None,
            image: None,
            texture: None,
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
                    self.photos += 1;
                    self.answered_id = self.answered_id.max(id);
                    self.last_inference = Some(elapsed);
                    let now = Instant::now();
                    if let Some(&(_, t)) = self.sent.iter().find(|(i, _)| *i == id) {
                        self.last_latency = Some(now - t);
                    }
                    self.sent.retain(|(i, _)| *i > id);
                    self.done.push_back(now);
                    while self.done.len() > 2
                        && now.duration_since(self.done[0]) > Duration::from_secs(5)
                    {
                        self.done.pop_front();
                    }
                    if id > self.shown_id {
                        self.shown_id = id;
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
                        self.photo = Some(photo);
                        self.image = Some(image);
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

    /// The shown photo, raw.
    pub fn photo(&self) -> Option<&Photo> {
        self.photo.as_ref()
    }

    /// The shown photo as 8-bit RGB.
    pub fn image(&self) -> Option<&RgbImage> {
        self.image.as_ref()
    }

    /// The shown photo's texture.
    pub fn texture(&self) -> Option<TextureId> {
        self.texture.as_ref().map(|t| t.id())
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
