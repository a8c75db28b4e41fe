//! The Train tab: choose a dataset folder, read its scan report, set the run, start, pause, stop
//! and resume it, watch the losses and the latest samples, and send the result to the canvas.
//!
//! The scan and the run each go on a thread of their own; they talk to the tab through a channel
//! and wake the UI with `request_repaint`. The training itself is [`crate::train::Trainer`]: this
//! tab holds no model math.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;
use std::time::Duration;

use egui::{Color32, ColorImage, ProgressBar, TextureHandle, TextureOptions, Ui};
use egui_plot::{Legend, Line, Plot};

use super::files::{FileKind, Shell};
use crate::infer::{BackendChoice, backend};
use crate::train::trainer::TrainData;
use crate::train::{DatasetScan, Losses, TrainConfig, TrainEvent, Trainer, checkpoint, scan};

/// What the tab asks of the app.
#[derive(Debug, Clone, PartialEq)]
pub enum TrainAction {
    /// Open this model file in the Paint tab.
    UseInCanvas(PathBuf),
}

/// The run settings the user edits.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSettings {
    /// Crop and output size (a multiple of 16).
    pub size: usize,
    /// Samples per step.
    pub batch: usize,
    /// Total steps.
    pub steps: usize,
    /// Linear learning-rate decay over the last N steps.
    pub decay_steps: usize,
    /// Generator width.
    pub ngf: usize,
    /// Train the image encoder (styles).
    pub vae: bool,
    /// Train on the good pairs when the scan found problems.
    pub skip_bad: bool,
    /// Checkpoint every N steps.
    pub checkpoint_every: usize,
    /// Sample grid every N steps.
    pub sample_every: usize,
    /// Where to train.
    pub backend: BackendChoice,
}

impl Default for RunSettings {
    fn default() -> Self {
        Self {
            size: 128,
            batch: 1,
            steps: 2000,
            decay_steps: 0,
            ngf: 32,
            vae: true,
            skip_bad: false,
            checkpoint_every: 200,
            sample_every: 50,
            backend: BackendChoice::Auto,
        }
    }
}

impl RunSettings {
    /// As the library's configuration.
    pub fn config(&self) -> TrainConfig {
        TrainConfig::new()
            .with_size(self.size)
            .with_batch(self.batch)
            .with_steps(self.steps)
            .with_decay_steps(self.decay_steps.min(self.steps))
            .with_ngf(self.ngf)
            .with_vae(self.vae)
            .with_checkpoint_every(self.checkpoint_every)
            .with_sample_every(self.sample_every)
    }
}

enum Msg {
    Scanned(PathBuf, Result<DatasetScan, String>),
    Event(TrainEvent),
    Sample(usize, ColorImage),
    Failed(String),
    Ended,
}

/// Progress of the current run, as the tab shows it.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    /// Steps done.
    pub step: usize,
    /// Steps of the run.
    pub steps: usize,
    /// Steps per second.
    pub steps_per_second: f64,
    /// Estimated time left.
    pub eta: Duration,
    /// Device description.
    pub device: String,
}

/// One point of the loss curves.
#[derive(Debug, Clone, Copy)]
struct LossPoint {
    step: usize,
    losses: Losses,
}

/// The Train tab.
pub struct TrainTab {
    data_dir: Option<PathBuf>,
    run_dir: Option<PathBuf>,
    scan: Option<Result<DatasetScan, String>>,
    scanning: bool,
    /// Edited run settings.
    pub settings: RunSettings,
    tx: Sender<Msg>,
    rx: Receiver<Msg>,
    thread: Option<JoinHandle<()>>,
    stop: Arc<AtomicBool>,
    pause: Arc<AtomicBool>,
    progress: Option<Progress>,
    history: Vec<LossPoint>,
    log: Vec<String>,
    sample: Option<(usize, TextureHandle)>,
    pending_sample: Option<(usize, ColorImage)>,
    finished_model: Option<PathBuf>,
}

impl Default for TrainTab {
    fn default() -> Self {
        let (tx, rx) = channel();
        Self {
            data_dir: None,
            run_dir: None,
            scan: None,
            scanning: false,
            settings: RunSettings::default(),
            tx,
            rx,
            thread: None,
            stop: Arc::new(AtomicBool::new(false)),
            pause: Arc::new(AtomicBool::new(false)),
            progress: None,
            history: Vec::new(),
            log: Vec::new(),
            sample: None,
            pending_sample: None,
            finished_model: None,
        }
    }
}

impl std::fmt::Debug for TrainTab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrainTab")
            .field("data_dir", &self.data_dir)
            .field("run_dir", &self.run_dir)
            .field("running", &self.is_running())
            .finish()
    }
}

impl TrainTab {
    /// Chooses the dataset folder and scans it (on a thread). The run folder defaults to a
    /// sibling `<name>-run`.
    pub fn set_data_dir(&mut self, dir: PathBuf) {
        if self.run_dir.is_none() {
            let name = dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "dataset".into());
            self.run_dir = Some(dir.with_file_name(format!("{name}-run")));
        }
        self.data_dir = Some(dir.clone());
        self.rescan(dir, None);
    }

    /// Chooses the run folder (where checkpoints, samples and the loss log go).
    pub fn set_run_dir(&mut self, dir: PathBuf) {
        self.run_dir = Some(dir);
    }

    /// The dataset folder.
    pub fn data_dir(&self) -> Option<&Path> {
        self.data_dir.as_deref()
    }

    /// The run folder.
    pub fn run_dir(&self) -> Option<&Path> {
        self.run_dir.as_deref()
    }

    /// The scan of the dataset folder, once done.
    pub fn scan(&self) -> Option<&Result<DatasetScan, String>> {
        self.scan.as_ref()
    }

    /// Whether a run is going.
    pub fn is_running(&self) -> bool {
        self.thread.is_some()
    }

    /// The progress of the current (or last) run.
    pub fn progress(&self) -> Option<&Progress> {
        self.progress.as_ref()
    }

    /// Lines of the run log (notes, checkpoints, errors).
    pub fn log(&self) -> &[String] {
        &self.log
    }

    /// Loss points received so far.
    pub fn loss_points(&self) -> usize {
        self.history.len()
    }

    /// The step of the sample shown.
    pub fn sample_step(&self) -> Option<usize> {
        self.sample
            .as_ref()
            .map(|(s, _)| *s)
            .or(self.pending_sample.as_ref().map(|(s, _)| *s))
    }

    /// The newest model of the run folder (the end of a run, or its newest checkpoint).
    pub fn newest_model(&self) -> Option<PathBuf> {
        if let Some(m) = &self.finished_model
            && m.is_file()
        {
            return Some(m.clone());
        }
        let run = self.run_dir.as_ref()?;
        checkpoint::list(run)
            .last()
            .map(|(_, dir)| dir.join(checkpoint::MODEL_FILE))
    }

    fn rescan(&mut self, dir: PathBuf, ctx: Option<egui::Context>) {
        self.scan = None;
        self.scanning = true;
        let tx = self.tx.clone();
        let spawned = std::thread::Builder::new()
            .name("gaugan-scan".into())
            .spawn(move || {
                let result = scan(&dir).map_err(|e| e.to_string());
                let _ = tx.send(Msg::Scanned(dir, result));
                if let Some(ctx) = ctx {
                    ctx.request_repaint();
                }
            });
        if let Err(e) = spawned {
            self.scanning = false;
            self.scan = Some(Err(format!("could not start the scan: {e}")));
        }
    }

    /// Starts (or, with `resume`, continues) a run on a thread.
    pub fn start(&mut self, ctx: &egui::Context, resume: bool) -> Result<(), String> {
        if self.is_running() {
            return Err("a run is already going".into());
        }
        let Some(Ok(scanned)) = &self.scan else {
            return Err("choose a dataset folder and wait for its scan first".into());
        };
        let run = self
            .run_dir
            .clone()
            .ok_or_else(|| "choose a run folder first".to_string())?;
        let has_checkpoints = !checkpoint::list(&run).is_empty();
        if !resume && has_checkpoints {
            return Err(format!(
                "{} already holds checkpoints: resume that run, or choose another run folder",
                run.display()
            ));
        }
        let config = self.settings.config();
        config.validate()?;
        let pairs = scanned
            .usable(self.settings.skip_bad)
            .map_err(|e| e.to_string())?;
        let data = TrainData::new(scanned, pairs);
        let choice = self.settings.backend;
        self.stop = Arc::new(AtomicBool::new(false));
        self.pause = Arc::new(AtomicBool::new(false));
        self.history.clear();
        self.progress = None;
        self.finished_model = None;
        self.log.push(format!(
            "{} in {}",
            if resume { "resuming" } else { "starting" },
            run.display()
        ));
        let (tx, stop, pause, ctx) = (
            self.tx.clone(),
            self.stop.clone(),
            self.pause.clone(),
            ctx.clone(),
        );
        let handle = std::thread::Builder::new()
            .name("gaugan-train".into())
            .spawn(move || {
                let result =
                    train_thread(config, &run, data, choice, resume, &stop, &pause, &tx, &ctx);
                if let Err(e) = result {
                    let _ = tx.send(Msg::Failed(e));
                }
                let _ = tx.send(Msg::Ended);
                ctx.request_repaint();
            })
            .map_err(|e| format!("could not start training: {e}"))?;
        self.thread = Some(handle);
        Ok(())
    }

    /// Asks the run to stop; it saves a checkpoint first.
    pub fn request_stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.pause.store(false, Ordering::SeqCst);
    }

    /// Pauses or continues the run (between steps).
    pub fn set_paused(&mut self, paused: bool) {
        self.pause.store(paused, Ordering::SeqCst);
    }

    /// Whether the run is paused.
    pub fn is_paused(&self) -> bool {
        self.pause.load(Ordering::SeqCst)
    }

    /// Stops a run and waits for its checkpoint (the app calls this when the window closes).
    pub fn shutdown(&mut self) {
        if let Some(h) = self.thread.take() {
            self.request_stop();
            let _ = h.join();
            self.poll(None);
        }
    }

    /// Handles what the threads sent.
    pub fn poll(&mut self, ctx: Option<&egui::Context>) {
        while let Ok(msg) = self.rx.try_recv() {
            match msg {
                Msg::Scanned(dir, result) => {
                    if self.data_dir.as_deref() == Some(dir.as_path()) {
                        self.scanning = false;
                        self.scan = Some(result);
                    }
                }
                Msg::Event(ev) => self.on_event(ev),
                Msg::Sample(step, image) => self.pending_sample = Some((step, image)),
                Msg::Failed(e) => self.log.push(format!("error: {e}")),
                Msg::Ended => {
                    if let Some(h) = self.thread.take() {
                        let _ = h.join();
                    }
                }
            }
        }
        if let (Some(ctx), Some((step, image))) = (ctx, self.pending_sample.take()) {
            let tex = ctx.load_texture("train-sample", image, TextureOptions::NEAREST);
            self.sample = Some((step, tex));
        }
    }

    fn on_event(&mut self, ev: TrainEvent) {
        match ev {
            TrainEvent::Started {
                step,
                steps,
                device,
                generator_params,
                discriminator_params,
                pairs,
            } => {
                self.log.push(format!(
                    "training on {device}: step {step} of {steps}, {pairs} pairs, G+E {:.2} M, D {:.2} M parameters",
                    generator_params as f64 / 1e6,
                    discriminator_params as f64 / 1e6
                ));
                self.progress = Some(Progress {
                    step,
                    steps,
                    device,
                    ..Default::default()
                });
            }
            TrainEvent::Note(n) => self.log.push(format!("note: {n}")),
            TrainEvent::Step {
                step,
                steps,
                losses,
                steps_per_second,
                eta,
                ..
            } => {
                let p = self.progress.get_or_insert_with(Progress::default);
                p.step = step;
                p.steps = steps;
                p.steps_per_second = steps_per_second;
                p.eta = eta;
                self.history.push(LossPoint { step, losses });
            }
            TrainEvent::Sample { .. } => {}
            TrainEvent::Checkpoint { step, dir } => self
                .log
                .push(format!("checkpoint at step {step}: {}", dir.display())),
            TrainEvent::Finished {
                step,
                model,
                stopped,
            } => {
                self.log.push(format!(
                    "{} at step {step}: {}",
                    if stopped { "stopped" } else { "finished" },
                    model.display()
                ));
                self.finished_model = Some(model);
            }
        }
    }

    /// Shows the tab.
    pub fn ui(&mut self, ui: &mut Ui, shell: &mut Shell) -> Option<TrainAction> {
        let ctx = ui.ctx().clone();
        self.poll(Some(&ctx));
        if self.scanning || (self.is_running() && !self.is_paused()) {
            ctx.request_repaint_after(Duration::from_millis(250));
        }
        let mut action = None;
        egui::Panel::left("train-setup")
            .resizable(true)
            .default_size(360.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    self.setup_ui(ui, shell, &ctx);
                    ui.separator();
                    action = self.controls_ui(ui, shell, &ctx);
                    ui.separator();
                    self.report_ui(ui);
                });
            });
        egui::CentralPanel::default().show(ui, |ui| self.watch_ui(ui));
        action
    }

    fn setup_ui(&mut self, ui: &mut Ui, shell: &mut Shell, ctx: &egui::Context) {
        ui.heading("Training");
        ui.label("A folder with labels/ (class-id PNGs), images/ (photos), classes.txt; optional instances/ and palette.txt.");
        ui.horizontal(|ui| {
            if ui.button("Dataset folder…").clicked() {
                shell.open_dialog(FileKind::TrainData, ctx, None);
            }
            match &self.data_dir {
                Some(d) => ui.label(d.display().to_string()),
                None => ui.weak("none chosen"),
            };
        });
        ui.horizontal(|ui| {
            if ui.button("Run folder…").clicked() {
                shell.open_dialog(FileKind::TrainRun, ctx, None);
            }
            match &self.run_dir {
                Some(d) => ui.label(d.display().to_string()),
                None => ui.weak("none chosen"),
            };
        });
        let running = self.is_running();
        ui.add_enabled_ui(!running, |ui| {
            egui::Grid::new("train-settings")
                .num_columns(2)
                .show(ui, |ui| {
                    let s = &mut self.settings;
                    // Each value is labelled by its row's name (screen readers, tests).
                    let row = |ui: &mut Ui, name: &str, value: egui::DragValue| {
                        let label = ui.label(name);
                        ui.add(value).labelled_by(label.id);
                        ui.end_row();
                    };
                    row(
                        ui,
                        "Size (px)",
                        egui::DragValue::new(&mut s.size).range(16..=1024).speed(16),
                    );
                    row(
                        ui,
                        "Batch",
                        egui::DragValue::new(&mut s.batch).range(1..=64),
                    );
                    let steps = s.steps;
                    row(
                        ui,
                        "Steps",
                        egui::DragValue::new(&mut s.steps)
                            .range(1..=10_000_000)
                            .speed(50),
                    );
                    row(
                        ui,
                        "Decay steps",
                        egui::DragValue::new(&mut s.decay_steps)
                            .range(0..=steps)
                            .speed(50),
                    );
                    row(
                        ui,
                        "Generator width (ngf)",
                        egui::DragValue::new(&mut s.ngf).range(4..=128),
                    );
                    row(
                        ui,
                        "Checkpoint every",
                        egui::DragValue::new(&mut s.checkpoint_every)
                            .range(0..=1_000_000)
                            .speed(10),
                    );
                    row(
                        ui,
                        "Sample every",
                        egui::DragValue::new(&mut s.sample_every)
                            .range(0..=1_000_000)
                            .speed(10),
                    );
                    let device = ui.label("Device");
                    egui::ComboBox::from_id_salt("train-backend")
                        .selected_text(format!("{:?}", s.backend))
                        .show_ui(ui, |ui| {
                            for b in [BackendChoice::Auto, BackendChoice::Wgpu, BackendChoice::Cpu]
                            {
                                ui.selectable_value(&mut s.backend, b, format!("{b:?}"));
                            }
                        })
                        .response
                        .labelled_by(device.id);
                    ui.end_row();
                });
            ui.checkbox(&mut self.settings.vae, "Train the style encoder (VAE)");
            ui.checkbox(&mut self.settings.skip_bad, "Skip pairs with problems");
        });
    }

    fn controls_ui(
        &mut self,
        ui: &mut Ui,
        shell: &mut Shell,
        ctx: &egui::Context,
    ) -> Option<TrainAction> {
        let mut action = None;
        let can_resume = self
            .run_dir
            .as_ref()
            .is_some_and(|r| !checkpoint::list(r).is_empty());
        ui.horizontal(|ui| {
            if self.is_running() {
                let paused = self.is_paused();
                if ui
                    .button(if paused { "Continue" } else { "Pause" })
                    .clicked()
                {
                    self.set_paused(!paused);
                }
                if ui.button("Stop").clicked() {
                    self.request_stop();
                }
            } else {
                let ready = matches!(self.scan, Some(Ok(_))) && self.run_dir.is_some();
                if ui
                    .add_enabled(ready && !can_resume, egui::Button::new("Start"))
                    .clicked()
                    && let Err(e) = self.start(ctx, false)
                {
                    shell.error(e);
                }
                if ui
                    .add_enabled(ready && can_resume, egui::Button::new("Resume"))
                    .clicked()
                    && let Err(e) = self.start(ctx, true)
                {
                    shell.error(e);
                }
            }
            let newest = self.newest_model();
            if ui
                .add_enabled(newest.is_some(), egui::Button::new("Use in canvas"))
                .on_hover_text("Open the newest checkpoint of this run in the Paint tab")
                .clicked()
                && let Some(m) = newest
            {
                action = Some(TrainAction::UseInCanvas(m));
            }
        });
        if let Some(p) = &self.progress {
            let frac = if p.steps > 0 {
                p.step as f32 / p.steps as f32
            } else {
                0.0
            };
            ui.add(ProgressBar::new(frac).show_percentage().text(format!(
                "step {} / {}   {:.2} steps/s   {} left",
                p.step,
                p.steps,
                p.steps_per_second,
                fmt_duration(p.eta)
            )));
            if self.is_paused() {
                ui.colored_label(Color32::YELLOW, "paused");
            }
        }
        action
    }

    fn report_ui(&mut self, ui: &mut Ui) {
        ui.strong("Dataset scan");
        if self.scanning {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("scanning…");
            });
        }
        match &self.scan {
            None => {
                if !self.scanning {
                    ui.weak("no dataset chosen");
                }
            }
            Some(Err(e)) => {
                ui.colored_label(Color32::LIGHT_RED, e);
            }
            Some(Ok(s)) => {
                ui.label(format!(
                    "{} pairs, {} classes ({}){}",
                    s.pairs.len(),
                    s.palette.len(),
                    s.palette.name,
                    if s.instance { ", instance maps" } else { "" }
                ));
                if s.problems.is_empty() {
                    ui.colored_label(Color32::LIGHT_GREEN, "no problems found");
                } else {
                    ui.colored_label(
                        Color32::LIGHT_RED,
                        format!(
                            "{} problem(s) in {} pair(s): stop and fix them, or tick \"Skip pairs with problems\"",
                            s.problems.len(),
                            s.bad_stems.len()
                        ),
                    );
                    egui::ScrollArea::vertical()
                        .id_salt("scan-problems")
                        .max_height(160.0)
                        .show(ui, |ui| {
                            for p in &s.problems {
                                ui.label(p.to_string());
                            }
                        });
                }
            }
        }
    }

    fn watch_ui(&mut self, ui: &mut Ui) {
        if let Some(p) = &self.progress
            && !p.device.is_empty()
        {
            ui.label(format!("device: {}", p.device));
        }
        let curve = |name: &str, f: fn(&Losses) -> f32| {
            let pts: Vec<[f64; 2]> = self
                .history
                .iter()
                .map(|p| [p.step as f64, f(&p.losses) as f64])
                .collect();
            Line::new(name.to_owned(), pts)
        };
        let lines = vec![
            curve("G total", Losses::g_total),
            curve("D total", Losses::d_total),
            curve("G GAN", |l| l.g_gan),
            curve("G feat", |l| l.g_feat),
            curve("KL", |l| l.g_kld),
        ];
        Plot::new("train-losses")
            .legend(Legend::default())
            .height(220.0)
            .x_axis_label("step")
            .show(ui, |plot| {
                for l in lines {
                    plot.line(l);
                }
            });
        ui.separator();
        match &self.sample {
            Some((step, tex)) => {
                ui.label(format!("samples at step {step}: labels | generated | real"));
                let size = tex.size_vec2();
                let avail = ui.available_size();
                let scale = (avail.x / size.x)
                    .min(avail.y.max(64.0) / size.y)
                    .clamp(0.1, 4.0);
                ui.image((tex.id(), size * scale));
            }
            None => {
                ui.weak("samples appear here as the run writes them");
            }
        }
        if !self.log.is_empty() {
            ui.separator();
            egui::ScrollArea::vertical()
                .id_salt("train-log")
                .stick_to_bottom(true)
                .show(ui, |ui| {
                    for l in &self.log {
                        ui.monospace(l);
                    }
                });
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn train_thread(
    config: TrainConfig,
    run: &Path,
    data: TrainData,
    choice: BackendChoice,
    resume: bool,
    stop: &AtomicBool,
    pause: &AtomicBool,
    tx: &Sender<Msg>,
    ctx: &egui::Context,
) -> Result<(), String> {
    let be = backend::select(choice)?;
    let mut trainer = if resume {
        Trainer::resume(&config, run, data, be.device.clone())
    } else {
        Trainer::new(config, run, data, be.device.clone())
    }
    .map_err(|e| e.to_string())?;
    trainer
        .run(stop, |ev| {
            if let TrainEvent::Sample { step, path } = ev
                && let Ok(img) = image::open(path)
            {
                let rgb = img.to_rgb8();
                let size = [rgb.width() as usize, rgb.height() as usize];
                let _ = tx.send(Msg::Sample(*step, ColorImage::from_rgb(size, rgb.as_raw())));
            }
            let _ = tx.send(Msg::Event(ev.clone()));
            ctx.request_repaint();
            // Pause between steps: the run waits here until continued or stopped.
            while pause.load(Ordering::SeqCst) && !stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(50));
            }
        })
        .map_err(|e| e.to_string())?;
    Ok(())
}

fn fmt_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, s % 3600 / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}
