//! The painting app (egui/eframe): paint a label map, see the photo the SPADE generator makes of
//! it, live.
//!
//! [`GauganApp`] holds the tabs ([`PaintTab`], [`ModelTab`], [`TrainTab`]), the menu, the status
//! bar, the messages and the autosave. The canvas ([`canvas`]) and the photo view
//! ([`photo_view`]) are widgets of their own; label editing without any GUI lives in [`edit`];
//! inference runs on a worker thread ([`crate::infer::worker`], [`engine`]). The app is built without eframe
//! by [`GauganApp::new`] (tests drive it through `egui_kittest`), or inside eframe by
//! [`run_native`].

pub mod canvas;
pub mod edit;
pub mod engine;
pub mod files;
pub mod model_tab;
pub mod paint_tab;
pub mod photo_view;
pub mod sample;
pub mod style;
pub mod train_tab;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use egui::Ui;
use serde::{Deserialize, Serialize};

pub use crate::infer::worker::WorkerOptions;
pub use canvas::{Tool, ToolSettings};
pub use engine::{Display, Engine, ModelState};
pub use files::Shell;
pub use model_tab::{ImportDialog, ModelAction, ModelTab};
pub use paint_tab::PaintTab;
pub use train_tab::{TrainAction, TrainTab};

use crate::checkpoint::{ImportOptions, ModelFile, import_official};
use crate::infer::backend::{self, BackendChoice};
use files::{FileKind, Level};

pub use crate::checkpoint::builtin::DEFAULT_MODEL_NAME;

/// Which model the app opens with.
#[derive(Debug, Clone, Default)]
pub enum ModelSource {
    /// The built-in model (or the last model opened, when one is remembered).
    #[default]
    Default,
    /// A gaugan model file, or an official `.pth` (imported with [`AppOptions::import`]).
    Path(PathBuf),
    /// A model already in memory, with a name to show.
    Loaded(Arc<ModelFile>, String),
}

/// How to start the app.
#[derive(Debug, Clone, Default)]
pub struct AppOptions {
    /// The model.
    pub model: ModelSource,
    /// Encoder checkpoint for an official generator `.pth`.
    pub encoder: Option<PathBuf>,
    /// Import choices for an official `.pth`.
    pub import: ImportOptions,
    /// Where inference runs.
    pub backend: BackendChoice,
    /// Folder for the autosave (`None`: no autosave).
    pub data_dir: Option<PathBuf>,
    /// Worker options (test hooks).
    pub worker: WorkerOptions,
}

/// The tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Tab {
    /// Painting.
    #[default]
    Paint,
    /// Model information.
    Model,
    /// Training.
    Train,
}

/// What persists between runs (through eframe's storage).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The last model file opened (not the built-in one).
    pub last_model: Option<PathBuf>,
    /// Brush size, opacity, outline, tool.
    pub tools: ToolSettings,
    /// The open tab.
    pub tab: Tab,
}

/// Key of [`Settings`] in eframe's storage.
pub const SETTINGS_KEY: &str = "gaugan-settings";

type LoadResult = Result<(ModelFile, String, Option<PathBuf>), String>;

/// The app.
pub struct GauganApp {
    tab: Tab,
    paint: PaintTab,
    model_tab: ModelTab,
    train_tab: TrainTab,
    shell: Shell,
    worker_options: WorkerOptions,
    autosave: files::Autosave,
    recovery: Option<PathBuf>,
    import_dialog: Option<ImportDialog>,
    loading: Option<(String, Receiver<LoadResult>)>,
    last_model: Option<PathBuf>,
    path_text: String,
    title: String,
}

impl GauganApp {
    /// Builds the app on `ctx` (no eframe needed), with remembered `settings` if any. A model
    /// that fails to load is reported in the window and the built-in model is used instead.
    pub fn new(
        ctx: &egui::Context,
        options: AppOptions,
        settings: Option<Settings>,
    ) -> Result<Self, String> {
        Self::with_display(ctx, options, settings, None)
    }

    /// [`GauganApp::new`], with the window's wgpu state when there is one: where the backend
    /// choice picks a GPU and the window's adapter is one (any adapter for `--backend wgpu`), the
    /// model runs on the window's own device and photos go to the screen without leaving it.
    pub fn with_display(
        ctx: &egui::Context,
        options: AppOptions,
        settings: Option<Settings>,
        render_state: Option<&eframe::egui_wgpu::RenderState>,
    ) -> Result<Self, String> {
        let settings = settings.unwrap_or_default();
        let mut shell = Shell::default();
        let mut display = None;
        let shared = render_state.and_then(|rs| match shared_backend(rs, options.backend) {
            Ok(Some(b)) => {
                display = Some(Display {
                    render_state: rs.clone(),
                });
                Some(b)
            }
            Ok(None) => None,
            Err(e) => {
                shell.error(e);
                None
            }
        });
        let backend = match shared
            .map(Ok)
            .unwrap_or_else(|| backend::select(options.backend))
        {
            Ok(b) => b,
            Err(e) => {
                shell.error(format!("{e}; using the CPU"));
                display = None;
                backend::cpu()
            }
        };
        let mut last_model = None;
        let requested = match &options.model {
            ModelSource::Default => settings.last_model.clone().filter(|p| p.exists()),
            ModelSource::Path(p) => Some(p.clone()),
            ModelSource::Loaded(..) => None,
        };
        let mut model: Option<(Arc<ModelFile>, String)> = match &options.model {
            ModelSource::Loaded(m, name) => Some((m.clone(), name.clone())),
            _ => None,
        };
        if let Some(path) = requested {
            match load_model(&path, options.encoder.as_deref(), &options.import) {
                Ok((m, name, remember)) => {
                    model = Some((Arc::new(m), name));
                    last_model = remember;
                }
                Err(e) => shell.error(format!("{e} (using the built-in model)")),
            }
        }
        let (model, name) = match model {
            Some(m) => m,
            None => {
                let (m, name) = crate::checkpoint::builtin::default_model()?;
                (Arc::new(m), name)
            }
        };
        let engine = Engine::new(
            ctx,
            model,
            name.clone(),
            backend,
            options.worker.clone(),
            display,
        );
        let paint = PaintTab::new(engine, settings.tools.clone());
        let mut autosave = files::Autosave::new(options.data_dir.clone());
        autosave.mark_saved(paint.document().revision());
        let recovery = autosave.crashed_session();
        Ok(Self {
            tab: settings.tab,
            paint,
            model_tab: ModelTab::default(),
            train_tab: TrainTab::default(),
            shell,
            worker_options: options.worker,
            autosave,
            recovery,
            import_dialog: None,
            loading: None,
            last_model,
            path_text: String::new(),
            title: String::new(),
        })
    }

    /// Builds the app inside eframe: settings from eframe's storage, autosave in eframe's data
    /// folder (unless `options.data_dir` says otherwise).
    pub fn from_creation_context(
        cc: &eframe::CreationContext<'_>,
        mut options: AppOptions,
    ) -> Result<Self, String> {
        let settings = cc
            .storage
            .and_then(|s| s.get_string(SETTINGS_KEY))
            .and_then(|s| serde_json::from_str::<Settings>(&s).ok());
        if options.data_dir.is_none() {
            options.data_dir = eframe::storage_dir("gaugan");
        }
        Self::with_display(
            &cc.egui_ctx,
            options,
            settings,
            cc.wgpu_render_state.as_ref(),
        )
    }

    /// The Paint tab.
    pub fn paint_tab(&self) -> &PaintTab {
        &self.paint
    }

    /// The Paint tab, to change.
    pub fn paint_tab_mut(&mut self) -> &mut PaintTab {
        &mut self.paint
    }

    /// The open tab.
    pub fn tab(&self) -> Tab {
        self.tab
    }

    /// Opens a tab.
    pub fn set_tab(&mut self, tab: Tab) {
        self.tab = tab;
    }

    /// Messages shown in the window.
    pub fn messages(&self) -> Vec<String> {
        self.shell
            .messages()
            .iter()
            .map(|m| m.text.clone())
            .collect()
    }

    /// Whether a crashed session's painting is offered back.
    pub fn recovery_offered(&self) -> Option<&Path> {
        self.recovery.as_deref()
    }

    /// Accepts (`true`) or declines the recovery offer.
    pub fn answer_recovery(&mut self, restore: bool) {
        let Some(path) = self.recovery.take() else {
            return;
        };
        if restore {
            match files::read_labels(&path, self.paint.palette()) {
                Ok(labels) => {
                    let note = self.paint.set_labels(labels);
                    self.shell.info(format!(
                        "restored the painting of the last session{}",
                        note.map(|n| format!(" ({n})")).unwrap_or_default()
                    ));
                }
                Err(e) => self
                    .shell
                    .error(format!("could not restore the autosave: {e}")),
            }
        }
        self.autosave.discard_recovery();
    }

    /// Current settings (what [`eframe::App::save`] stores).
    pub fn settings(&self) -> Settings {
        Settings {
            last_model: self.last_model.clone(),
            tools: self.paint.settings().clone(),
            tab: self.tab,
        }
    }

    /// Whether a model is being read in the background.
    pub fn is_loading_model(&self) -> bool {
        self.loading.is_some()
    }

    /// Opens a label map PNG (ids, or colours of the palette) into the canvas (undoable).
    pub fn open_labels(&mut self, path: &Path) {
        match files::read_labels(path, self.paint.palette()) {
            Ok(labels) => {
                let note = self.paint.set_labels(labels);
                self.shell.info(format!(
                    "opened {}{}",
                    path.display(),
                    note.map(|n| format!(" ({n})")).unwrap_or_default()
                ));
            }
            Err(e) => self.shell.error(e),
        }
    }

    /// Saves the label map as an indexed PNG.
    pub fn save_labels(&mut self, path: &Path) {
        match files::write_labels(path, self.paint.labels(), self.paint.palette()) {
            Ok(()) => self.shell.info(format!("saved {}", path.display())),
            Err(e) => self.shell.error(e),
        }
    }

    /// Saves the photo as PNG (at the model's size).
    pub fn save_photo(&mut self, path: &Path) {
        match self.paint.engine().image() {
            Some(img) => match files::write_png(path, img) {
                Ok(()) => self.shell.info(format!("saved {}", path.display())),
                Err(e) => self.shell.error(e),
            },
            None => self
                .shell
                .error(format!("{}: there is no photo to save yet", path.display())),
        }
    }

    /// Opens a style image (encoded into a style by the model's encoder).
    pub fn open_style(&mut self, path: &Path) {
        let name = path.display().to_string();
        let result = std::fs::read(path)
            .map_err(|e| format!("{name}: {e}"))
            .and_then(|b| files::decode_image(&b, &name))
            .and_then(|img| {
                let (styles, engine) = self.paint.styles_mut();
                styles.load_image(img, &file_name(path), engine)
            });
        if let Err(e) = result {
            self.shell.error(e);
        }
    }

    /// Opens a model: a gaugan file is read in the background; an official `.pth` first shows
    /// the import dialog.
    pub fn open_model(&mut self, path: &Path) {
        if files::is_pth_path(path) {
            self.import_dialog = Some(ImportDialog::new(path.to_path_buf()));
        } else {
            let path = path.to_path_buf();
            self.start_loading(file_name(&path), move || {
                load_model(&path, None, &ImportOptions::default())
            });
        }
    }

    /// Imports an official checkpoint in the background.
    pub fn import_model(
        &mut self,
        generator: PathBuf,
        encoder: Option<PathBuf>,
        options: ImportOptions,
    ) {
        self.start_loading(file_name(&generator), move || {
            load_model(&generator, encoder.as_deref(), &options)
        });
    }

    /// Uses a model now (replacing the current one).
    pub fn set_model(&mut self, ctx: &egui::Context, model: ModelFile, name: String) {
        let backend = self.paint.engine().backend().clone();
        let display = self.paint.engine().display().cloned();
        let engine = Engine::new(
            ctx,
            Arc::new(model),
            name,
            backend,
            self.worker_options.clone(),
            display,
        );
        self.paint.set_engine(engine);
        self.autosave.mark_saved(self.paint.document().revision());
    }

    fn start_loading(&mut self, name: String, load: impl FnOnce() -> LoadResult + Send + 'static) {
        let (tx, rx) = channel();
        let label = name.clone();
        let spawned = std::thread::Builder::new()
            .name("gaugan-model-loader".into())
            .spawn(move || {
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(load))
                    .unwrap_or_else(|_| Err(format!("{label}: reading the model crashed")));
                let _ = tx.send(r);
            });
        match spawned {
            Ok(_) => self.loading = Some((name, rx)),
            Err(e) => self.shell.error(format!("{name}: {e}")),
        }
    }

    fn poll_loading(&mut self, ctx: &egui::Context) {
        let Some((_, rx)) = &self.loading else {
            return;
        };
        match rx.try_recv() {
            Ok(Ok((model, name, remember))) => {
                self.loading = None;
                if remember.is_some() {
                    self.last_model = remember;
                }
                self.shell.info(format!("opened model {name}"));
                self.set_model(ctx, model, name);
            }
            Ok(Err(e)) => {
                self.loading = None;
                self.shell.error(e);
            }
            Err(std::sync::mpsc::TryRecvError::Empty) => {
                ctx.request_repaint_after(Duration::from_millis(100));
            }
            Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                self.loading = None;
                self.shell.error("reading the model failed");
            }
        }
    }

    fn handle_file(&mut self, kind: FileKind, path: PathBuf) {
        match kind {
            FileKind::OpenLabels => self.open_labels(&path),
            FileKind::SaveLabels => self.save_labels(&path),
            FileKind::SavePhoto => self.save_photo(&path),
            FileKind::OpenModel => self.open_model(&path),
            FileKind::OpenStyle => self.open_style(&path),
            FileKind::OpenEncoder => {
                if let Some(d) = &mut self.import_dialog {
                    d.encoder = path.display().to_string();
                }
            }
            FileKind::TrainData => self.train_tab.set_data_dir(path),
            FileKind::TrainRun => self.train_tab.set_run_dir(path),
        }
    }

    /// Handles a file dropped on the window: a model opens, a label map (ids, or exactly the
    /// palette's colours) goes to the canvas, any other image becomes the style.
    pub fn drop_file(&mut self, path: &Path) {
        if files::is_model_path(path) {
            return self.open_model(path);
        }
        let name = path.display().to_string();
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => return self.shell.error(format!("{name}: {e}")),
        };
        match files::decode_labels(&bytes, &name, self.paint.palette()) {
            Ok(labels) => {
                let note = self.paint.set_labels(labels);
                self.shell.info(format!(
                    "opened {name} as a label map{}",
                    note.map(|n| format!(" ({n})")).unwrap_or_default()
                ));
            }
            Err(label_error) => match files::decode_image(&bytes, &name) {
                Ok(img) if self.paint.styles().uses_style() => {
                    let (styles, engine) = self.paint.styles_mut();
                    match styles.load_image(img, &file_name(path), engine) {
                        Ok(()) => self.shell.info(format!("{name}: used as the style image")),
                        Err(e) => self.shell.error(e),
                    }
                }
                _ => self.shell.error(label_error),
            },
        }
    }

    /// Autosaves now if the painting changed, stops a training run (it saves a checkpoint
    /// first), and records a clean exit.
    pub fn clean_exit(&mut self) {
        self.train_tab.shutdown();
        let doc = self.paint.document();
        if let Err(e) = self
            .autosave
            .save_now(doc.revision(), doc.labels(), self.paint.palette())
        {
            eprintln!("{e}");
        }
        if let Err(e) = self.autosave.clean_exit() {
            eprintln!("{e}");
        }
    }

    /// Runs the autosave as if its delay had passed (tests).
    pub fn autosave_now(&mut self) -> Result<(), String> {
        let doc = self.paint.document();
        self.autosave
            .save_now(doc.revision(), doc.labels(), self.paint.palette())
    }

    fn menu_bar(&mut self, ui: &mut Ui) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                let ctx = ui.ctx().clone();
                if ui.button("Open label map…").clicked() {
                    self.shell.open_dialog(FileKind::OpenLabels, &ctx, None);
                }
                ui.menu_button("Sample label maps", |ui| {
                    for (i, name) in sample::SAMPLES.iter().enumerate() {
                        if ui.button(*name).clicked() {
                            self.paint.open_sample(i);
                            self.shell.info(format!("opened the sample \"{name}\""));
                        }
                    }
                });
                if ui.button("Save label map…").clicked() {
                    self.shell
                        .open_dialog(FileKind::SaveLabels, &ctx, Some("labels.png"));
                }
                if ui.button("Save photo…").clicked() {
                    self.shell
                        .open_dialog(FileKind::SavePhoto, &ctx, Some("photo.png"));
                }
                ui.separator();
                if ui.button("Open model…").clicked() {
                    self.shell.open_dialog(FileKind::OpenModel, &ctx, None);
                }
                if ui.button("Open style image…").clicked() {
                    self.shell.open_dialog(FileKind::OpenStyle, &ctx, None);
                }
                ui.separator();
                ui.weak("or type a path:");
                ui.add(
                    egui::TextEdit::singleline(&mut self.path_text)
                        .hint_text("/path/to/file")
                        .desired_width(260.0),
                );
                let path = PathBuf::from(self.path_text.trim());
                let ok = !self.path_text.trim().is_empty();
                ui.horizontal_wrapped(|ui| {
                    let mut act = |ui: &mut Ui, label: &str, kind: FileKind| {
                        if ui.add_enabled(ok, egui::Button::new(label)).clicked() {
                            self.handle_file(kind, path.clone());
                        }
                    };
                    act(ui, "Open labels", FileKind::OpenLabels);
                    act(ui, "Save labels", FileKind::SaveLabels);
                    act(ui, "Save photo", FileKind::SavePhoto);
                    act(ui, "Open model", FileKind::OpenModel);
                    act(ui, "Style image", FileKind::OpenStyle);
                });
            });
            ui.menu_button("Edit", |ui| {
                let doc = self.paint.document_mut();
                if ui
                    .add_enabled(
                        doc.history().can_undo(),
                        egui::Button::new("Undo  (Ctrl+Z)"),
                    )
                    .clicked()
                {
                    doc.undo();
                }
                if ui
                    .add_enabled(
                        doc.history().can_redo(),
                        egui::Button::new("Redo  (Ctrl+Shift+Z)"),
                    )
                    .clicked()
                {
                    doc.redo();
                }
            });
            ui.separator();
            for (tab, name) in [
                (Tab::Paint, "Paint"),
                (Tab::Model, "Model"),
                (Tab::Train, "Train"),
            ] {
                ui.selectable_value(&mut self.tab, tab, name);
            }
        });
    }

    fn messages_ui(&mut self, ui: &mut Ui) {
        let mut dismiss = None;
        for (i, m) in self.shell.messages().iter().enumerate() {
            ui.horizontal(|ui| {
                let color = match m.level {
                    Level::Error => ui.visuals().error_fg_color,
                    Level::Info => ui.visuals().text_color(),
                };
                if ui.small_button("×").on_hover_text("Dismiss").clicked() {
                    dismiss = Some(i);
                }
                ui.colored_label(color, &m.text);
            });
        }
        if let Some(i) = dismiss {
            self.shell.dismiss(i);
        }
        if let Some(p) = self.recovery.clone() {
            ui.horizontal(|ui| {
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    format!(
                        "The last session ended unexpectedly; its painting was autosaved ({}).",
                        p.display()
                    ),
                );
                if ui.button("Restore").clicked() {
                    self.answer_recovery(true);
                }
                if ui.button("Discard").clicked() {
                    self.answer_recovery(false);
                }
            });
        }
    }

    /// One frame of the whole app (what [`eframe::App::ui`] calls).
    pub fn show(&mut self, ui: &mut Ui) {
        let ctx = ui.ctx().clone();
        while let Some((kind, path)) = self.shell.poll_dialog() {
            self.handle_file(kind, path);
        }
        self.poll_loading(&ctx);
        let dropped: Vec<PathBuf> = ui.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .collect()
        });
        for p in dropped {
            self.drop_file(&p);
        }
        if let Some(wait) = self.shell.expire() {
            ctx.request_repaint_after(wait);
        }

        egui::Panel::top("menu").show(ui, |ui| self.menu_bar(ui));
        if !self.shell.messages().is_empty() || self.recovery.is_some() {
            egui::Panel::top("messages").show(ui, |ui| self.messages_ui(ui));
        }
        egui::Panel::bottom("status").show(ui, |ui| {
            ui.horizontal(|ui| {
                self.paint.status_ui(ui);
                if let Some((name, _)) = &self.loading {
                    ui.separator();
                    ui.label(format!("reading {name}…"));
                }
            });
        });
        match self.tab {
            Tab::Paint => self.paint.ui(ui, &mut self.shell),
            Tab::Model => {
                self.paint.update(&ctx, &mut self.shell);
                let loading = self.loading.as_ref().map(|(n, _)| n.as_str());
                if let Some(a) = self.model_tab.ui(ui, self.paint.engine(), loading) {
                    self.model_action(&ctx, a);
                }
            }
            Tab::Train => {
                self.paint.update(&ctx, &mut self.shell);
                if let Some(action) = self.train_tab.ui(ui, &mut self.shell) {
                    match action {
                        TrainAction::UseInCanvas(path) => {
                            self.open_model(&path);
                            self.tab = Tab::Paint;
                        }
                    }
                }
            }
        }
        if let Some(mut d) = self.import_dialog.take() {
            let (action, open) = d.ui(&ctx, &mut self.shell);
            if open {
                self.import_dialog = Some(d);
            }
            if let Some(a) = action {
                self.model_action(&ctx, a);
            }
        }

        let doc = self.paint.document();
        match self
            .autosave
            .tick(doc.revision(), doc.labels(), self.paint.palette())
        {
            Ok(Some(wait)) => ctx.request_repaint_after(wait),
            Ok(None) => {}
            Err(e) => self.shell.error(e),
        }
        let title = format!("gaugan — {}", self.paint.engine().model_name());
        if title != self.title {
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.title = title;
        }
    }

    fn model_action(&mut self, ctx: &egui::Context, action: ModelAction) {
        match action {
            ModelAction::Browse => self.shell.open_dialog(FileKind::OpenModel, ctx, None),
            ModelAction::Import {
                generator,
                encoder,
                options,
            } => self.import_model(generator, encoder, options),
        }
    }
}

impl eframe::App for GauganApp {
    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        if let Ok(s) = serde_json::to_string(&self.settings()) {
            storage.set_string(SETTINGS_KEY, s);
        }
    }

    fn on_exit(&mut self) {
        self.clean_exit();
    }
}

/// Reads a model file, or imports an official `.pth`. Returns the model, its name, and the path to
/// remember (gaugan files only).
pub fn load_model(
    path: &Path,
    encoder: Option<&Path>,
    import: &ImportOptions,
) -> Result<(ModelFile, String, Option<PathBuf>), String> {
    let name = file_name(path);
    if files::is_pth_path(path) {
        import_official(path, encoder, import)
            .map(|m| (m, name, None))
            .map_err(|e| e.to_string())
    } else {
        ModelFile::load(path)
            .map(|m| (m, name, Some(path.to_path_buf())))
            .map_err(|e| e.to_string())
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// The window's device as the model's backend, when `choice` wants it: `Auto` takes a hardware
/// GPU (a software adapter is slower than the CPU backend), `Wgpu` any adapter, `Cpu` none.
fn shared_backend(
    rs: &eframe::egui_wgpu::RenderState,
    choice: BackendChoice,
) -> Result<Option<backend::Backend>, String> {
    use eframe::wgpu::DeviceType;
    let info = rs.adapter.get_info();
    let hardware = matches!(
        info.device_type,
        DeviceType::DiscreteGpu | DeviceType::IntegratedGpu | DeviceType::VirtualGpu
    );
    let wanted = match choice {
        BackendChoice::Auto => hardware,
        BackendChoice::Wgpu => info.backend != eframe::wgpu::Backend::Gl,
        BackendChoice::Cpu => false,
    };
    if !wanted {
        return Ok(None);
    }
    backend::shared(burn::tensor::wgpu::WgpuSetup {
        instance: rs.instance.clone(),
        adapter: rs.adapter.clone(),
        device: rs.device.clone(),
        queue: rs.queue.clone(),
        backend: info.backend,
    })
    .map(Some)
}

/// Opens the app window (eframe, wgpu renderer) and runs until it is closed. The window's device
/// is created with all its adapter's features and limits, so that the model can share it.
pub fn run_native(options: AppOptions) -> Result<(), String> {
    let mut setup = eframe::egui_wgpu::WgpuSetupCreateNew::without_display_handle();
    setup.device_descriptor = Arc::new(backend::device_descriptor);
    let native = eframe::NativeOptions {
        wgpu_options: eframe::egui_wgpu::WgpuConfiguration {
            wgpu_setup: eframe::egui_wgpu::WgpuSetup::CreateNew(setup),
            ..Default::default()
        },
        viewport: egui::ViewportBuilder::default()
            .with_title("gaugan")
            .with_app_id("gaugan")
            .with_inner_size([1280.0, 800.0])
            .with_min_inner_size([640.0, 400.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    eframe::run_native(
        "gaugan",
        native,
        Box::new(move |cc| {
            GauganApp::from_creation_context(cc, options)
                .map(|a| Box::new(a) as Box<dyn eframe::App>)
                .map_err(|e| e.into())
        }),
    )
    .map_err(|e| e.to_string())
}
