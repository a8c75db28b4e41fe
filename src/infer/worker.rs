//! The inference worker: one thread per loaded model that owns the [`Synthesizer`] and turns label
//! maps into photos, off the UI thread.
//!
//! Requests coalesce: the UI puts each new label map into a one-request slot, replacing any request
//! the worker has not started yet, so no queue builds up while the user drags and the newest map
//! (the end of a stroke) is always the next one computed. Replies come back over a channel, and
//! the worker calls `request_repaint` so the UI picks them up.

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use image::RgbImage;

use crate::checkpoint::ModelFile;
use crate::infer::{Photo, Style, Synthesizer};
use crate::labels::LabelMap;

/// A label map to turn into a photo.
#[derive(Debug, Clone)]
pub struct SynthRequest {
    /// Increasing id, echoed in the reply.
    pub id: u64,
    /// The labels.
    pub labels: LabelMap,
    /// The style (VAE models).
    pub style: Option<Style>,
}

/// What the worker answers.
#[derive(Debug)]
pub enum Reply {
    /// The model is on the device.
    Ready {
        /// Time to build it.
        elapsed: Duration,
    },
    /// The model could not be built on the device.
    LoadFailed(String),
    /// A photo.
    Photo {
        /// The request's id.
        id: u64,
        /// Raw output.
        photo: Photo,
        /// 8-bit image of it.
        image: RgbImage,
        /// Inference time (label encoding to image).
        elapsed: Duration,
    },
    /// A photo left on the GPU, ready to copy into a texture ([`WorkerOptions::gpu_photos`]).
    #[cfg(feature = "gpu")]
    GpuPhoto {
        /// The request's id.
        id: u64,
        /// RGBA8 rows in a GPU buffer.
        photo: crate::gpu::photo::GpuPhoto,
        /// The raw output, still on the device, read back only when asked for (saving).
        output: DeviceOutput,
        /// Inference time (label encoding to pixels in the buffer).
        elapsed: Duration,
    },
    /// Synthesis failed.
    SynthFailed {
        /// The request's id.
        id: u64,
        /// Why.
        error: String,
    },
    /// A style from an image or a seed.
    Style {
        /// The request's id.
        id: u64,
        /// Its style.
        style: Style,
    },
    /// Making a style failed.
    StyleFailed {
        /// The request's id.
        id: u64,
        /// Why.
        error: String,
    },
}

/// A generator output on its device.
#[derive(Debug, Clone)]
pub struct DeviceOutput(Box<burn::tensor::Tensor<4>>);

impl DeviceOutput {
    /// Reads it back to the CPU.
    pub fn read(&self) -> Photo {
        Photo::from_output(*self.0.clone())
    }
}

/// Where a style comes from.
#[derive(Debug, Clone)]
pub enum StyleSource {
    /// A style image for the encoder.
    Image(RgbImage),
    /// A seeded random draw ([`Synthesizer::random_style`]).
    Seed(u64),
}

#[derive(Default)]
struct Pending {
    synth: Option<SynthRequest>,
    encode: VecDeque<(u64, StyleSource)>,
    busy: bool,
    quit: bool,
}

struct Shared {
    pending: Mutex<Pending>,
    wake: Condvar,
}

/// Options of a worker.
#[derive(Debug, Clone, Default)]
pub struct WorkerOptions {
    /// Extra time added to every synthesis (a test hook that makes a slow model).
    pub extra_delay: Duration,
    /// Answer with [`Reply::GpuPhoto`] where the model runs on wgpu: the photo stays on the GPU
    /// for a display on the same device (the app's window, when it shares its device).
    pub gpu_photos: bool,
}

/// Handle to the worker thread. Dropping it asks the thread to stop once its current job ends.
pub struct Worker {
    shared: Arc<Shared>,
    replies: Receiver<Reply>,
}

impl Worker {
    /// Starts a worker that builds `model` on `device`, then serves requests. `repaint` is called
    /// after every reply.
    pub fn spawn(
        model: Arc<ModelFile>,
        device: burn::tensor::Device,
        options: WorkerOptions,
        repaint: impl Fn() + Send + 'static,
    ) -> Self {
        let shared = Arc::new(Shared {
            pending: Mutex::new(Pending::default()),
            wake: Condvar::new(),
        });
        let (tx, rx) = channel();
        let thread_shared = shared.clone();
        std::thread::Builder::new()
            .name("gaugan-inference".into())
            .spawn(move || run(thread_shared, model, device, options, tx, repaint))
            .expect("spawning the inference thread");
        Self {
            shared,
            replies: rx,
        }
    }

    /// Asks for a photo; replaces any request not yet started.
    pub fn request(&self, request: SynthRequest) {
        let mut p = self
            .shared
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        p.synth = Some(request);
        self.shared.wake.notify_one();
    }

    /// Asks for a style (an image to encode, or a seed).
    pub fn style(&self, id: u64, source: StyleSource) {
        let mut p = self
            .shared
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        p.encode.push_back((id, source));
        self.shared.wake.notify_one();
    }

    /// Whether the worker is computing or has requests waiting.
    pub fn is_busy(&self) -> bool {
        let p = self
            .shared
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        p.busy || p.synth.is_some() || !p.encode.is_empty()
    }

    /// The next reply, if any.
    pub fn try_recv(&self) -> Option<Reply> {
        self.replies.try_recv().ok()
    }

    /// The next reply, waiting up to `timeout` for it (sleeping, as an idle window does).
    pub fn recv_timeout(&self, timeout: Duration) -> Option<Reply> {
        self.replies.recv_timeout(timeout).ok()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let mut p = self
            .shared
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        p.quit = true;
        p.synth = None;
        p.encode.clear();
        self.shared.wake.notify_one();
    }
}

enum Job {
    Synth(SynthRequest),
    Style(u64, StyleSource),
}

fn panic_message(e: Box<dyn std::any::Any + Send>) -> String {
    e.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| e.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

enum Synthesized {
    Cpu(Photo),
    #[cfg(feature = "gpu")]
    Gpu(crate::gpu::photo::GpuPhoto, DeviceOutput),
}

/// One request: on the GPU when asked for and possible, else read back to the CPU.
fn synthesize(
    synth: &Synthesizer,
    r: &SynthRequest,
    gpu_photos: bool,
) -> Result<Synthesized, crate::infer::EngineError> {
    #[cfg(feature = "gpu")]
    if gpu_photos
        && let Some(out) = synth.synthesize_on_device(&r.labels, None, r.style.as_ref())?
    {
        return Ok(match crate::gpu::photo::to_gpu_photo(&out) {
            Some(photo) => Synthesized::Gpu(photo, DeviceOutput(Box::new(out))),
            None => Synthesized::Cpu(Photo::from_output(out)),
        });
    }
    #[cfg(not(feature = "gpu"))]
    let _ = gpu_photos;
    synth
        .synthesize(&r.labels, None, r.style.as_ref())
        .map(Synthesized::Cpu)
}

fn run(
    shared: Arc<Shared>,
    model: Arc<ModelFile>,
    device: burn::tensor::Device,
    options: WorkerOptions,
    tx: Sender<Reply>,
    repaint: impl Fn(),
) {
    let send = |r: Reply| {
        let _ = tx.send(r);
        repaint();
    };
    let start = Instant::now();
    let built = std::panic::catch_unwind(AssertUnwindSafe(|| Synthesizer::new(&model, device)));
    drop(model);
    let synth = match built {
        Ok(Ok(s)) => {
            send(Reply::Ready {
                elapsed: start.elapsed(),
            });
            s
        }
        Ok(Err(e)) => return send(Reply::LoadFailed(e.to_string())),
        Err(p) => return send(Reply::LoadFailed(format!("crashed: {}", panic_message(p)))),
    };
    loop {
        let job = {
            let mut p = shared.pending.lock().unwrap_or_else(|e| e.into_inner());
            p.busy = false;
            loop {
                if p.quit {
                    return;
                }
                // Style encodings first: a synthesis with the new style follows them.
                if let Some((id, source)) = p.encode.pop_front() {
                    p.busy = true;
                    break Job::Style(id, source);
                }
                if let Some(r) = p.synth.take() {
                    p.busy = true;
                    break Job::Synth(r);
                }
                p = shared.wake.wait(p).unwrap_or_else(|e| e.into_inner());
            }
        };
        match job {
            Job::Synth(r) => {
                let t = Instant::now();
                let out = std::panic::catch_unwind(AssertUnwindSafe(|| {
                    synthesize(&synth, &r, options.gpu_photos)
                }));
                if !options.extra_delay.is_zero() {
                    std::thread::sleep(options.extra_delay);
                }
                let elapsed = t.elapsed();
                send(match out {
                    Ok(Ok(Synthesized::Cpu(photo))) => Reply::Photo {
                        id: r.id,
                        image: photo.to_rgb(),
                        photo,
                        elapsed,
                    },
                    #[cfg(feature = "gpu")]
                    Ok(Ok(Synthesized::Gpu(photo, output))) => Reply::GpuPhoto {
                        id: r.id,
                        photo,
                        output,
                        elapsed,
                    },
                    Ok(Err(e)) => Reply::SynthFailed {
                        id: r.id,
                        error: e.to_string(),
                    },
                    Err(p) => Reply::SynthFailed {
                        id: r.id,
                        error: format!("inference crashed: {}", panic_message(p)),
                    },
                });
            }
            Job::Style(id, source) => {
                let out = std::panic::catch_unwind(AssertUnwindSafe(|| match &source {
                    StyleSource::Image(img) => synth.encode_image(img).map(|(s, _)| s),
                    StyleSource::Seed(seed) => {
                        synth
                            .random_style(*seed)
                            .ok_or(crate::infer::EngineError::StyleSize {
                                found: 0,
                                expected: 0,
                            })
                    }
                }));
                send(match out {
                    Ok(Ok(style)) => Reply::Style { id, style },
                    Ok(Err(e)) => Reply::StyleFailed {
                        id,
                        error: e.to_string(),
                    },
                    Err(p) => Reply::StyleFailed {
                        id,
                        error: format!("encoder crashed: {}", panic_message(p)),
                    },
                });
            }
        }
    }
}
