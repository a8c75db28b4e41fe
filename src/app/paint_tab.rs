//! The Paint tab: tools and palette on the left, the canvas and the photo side by side, the style
//! on the right. Every edit is sent to the worker (coalesced); the photo follows.

use egui::{Color32, Key, Modifiers, Sense, Ui, vec2};

use super::canvas::{BRUSH_RANGE, Canvas, CanvasState, Tool, ToolSettings, eraser_class};
use super::edit::Document;
use super::engine::{Engine, EngineEvent, ModelState};
use super::files::{FileKind, Shell};
use super::photo_view::PhotoView;
use super::sample;
use super::style::StyleState;
use crate::labels::{LabelMap, Palette};

/// The Paint tab.
pub struct PaintTab {
    doc: Document,
    palette: Palette,
    settings: ToolSettings,
    canvas: CanvasState,
    engine: Engine,
    styles: StyleState,
    search: String,
    sent: Option<(u64, u64)>,
    hover: Option<(usize, usize, u16)>,
    scroll_to_class: bool,
}

impl PaintTab {
    /// A tab painting for `engine`'s model, starting from the sample facade.
    pub fn new(engine: Engine, settings: ToolSettings) -> Self {
        let model = engine.model().clone();
        let palette = model.palette.clone();
        let [h, w] = engine.output_size();
        let labels = sample::facade(&palette, w, h);
        let mut settings = settings;
        settings.class = first_paint_class(&palette);
        Self {
            doc: Document::new(labels),
            styles: StyleState::new(model.generator.z_dim.is_some(), model.encoder.is_some()),
            palette,
            settings,
            canvas: CanvasState::default(),
            engine,
            search: String::new(),
            sent: None,
            hover: None,
            scroll_to_class: false,
        }
    }

    /// Replaces the painting by sample `index` of [`sample::SAMPLES`] (one undoable step).
    pub fn open_sample(&mut self, index: usize) {
        let [h, w] = self.engine.output_size();
        let labels = sample::sample(&self.palette, w, h, index);
        let _ = self.set_labels(labels);
    }

    /// Switches to another model; keeps the painting when it fits the new model (same size,
    /// classes in range), else starts from the sample.
    pub fn set_engine(&mut self, engine: Engine) {
        let model = engine.model().clone();
        let palette = model.palette.clone();
        let [h, w] = engine.output_size();
        let fits = (self.doc.labels().width(), self.doc.labels().height()) == (w, h)
            && self.doc.labels().out_of_range(palette.len()).is_empty();
        if !fits {
            self.doc = Document::new(sample::facade(&palette, w, h));
        }
        if self.settings.class as usize >= palette.len() {
            self.settings.class = first_paint_class(&palette);
        }
        self.styles = StyleState::new(model.generator.z_dim.is_some(), model.encoder.is_some());
        self.palette = palette;
        self.canvas.invalidate();
        self.engine = engine;
        self.sent = None;
    }

    /// The label map.
    pub fn labels(&self) -> &LabelMap {
        self.doc.labels()
    }

    /// The document (label map and history).
    pub fn document(&self) -> &Document {
        &self.doc
    }

    /// The document, to edit.
    pub fn document_mut(&mut self) -> &mut Document {
        &mut self.doc
    }

    /// The model's palette.
    pub fn palette(&self) -> &Palette {
        &self.palette
    }

    /// Tool settings.
    pub fn settings(&self) -> &ToolSettings {
        &self.settings
    }

    /// Tool settings, to change.
    pub fn settings_mut(&mut self) -> &mut ToolSettings {
        &mut self.settings
    }

    /// The inference engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The inference engine, to change.
    pub fn engine_mut(&mut self) -> &mut Engine {
        &mut self.engine
    }

    /// The style state.
    pub fn styles(&self) -> &StyleState {
        &self.styles
    }

    /// The style state and the engine, to change.
    pub fn styles_mut(&mut self) -> (&mut StyleState, &mut Engine) {
        (&mut self.styles, &mut self.engine)
    }

    /// The canvas (its rect and coordinate mapping, as of the last frame).
    pub fn canvas(&self) -> &CanvasState {
        &self.canvas
    }

    /// Label pixel and class under the pointer (last frame).
    pub fn hover(&self) -> Option<(usize, usize, u16)> {
        self.hover
    }

    /// Replaces the painting (undoable when the size is the model's). Maps of another size are
    /// resized (nearest) to the model's; returns a note when that happened.
    pub fn set_labels(&mut self, labels: LabelMap) -> Option<String> {
        let [h, w] = self.engine.output_size();
        let note = ((labels.width(), labels.height()) != (w, h)).then(|| {
            format!(
                "resized from {}x{} to the model's {w}x{h}",
                labels.width(),
                labels.height()
            )
        });
        let labels = if note.is_some() {
            labels.resize_nearest(w, h)
        } else {
            labels
        };
        self.doc.replace(labels);
        note
    }

    /// Takes the worker's answers and sends the current labels if they changed. Called every
    /// frame (also by [`Self::ui`]).
    pub fn update(&mut self, ctx: &egui::Context, shell: &mut Shell) {
        for event in self.engine.poll(ctx) {
            match event {
                EngineEvent::StyleEncoded { id, style } => {
                    self.styles.receive(ctx, id, style);
                }
                EngineEvent::StyleFailed { id, error } => {
                    let what = self.styles.failed(id).unwrap_or_default();
                    shell.error(format!("{what}: {error}"));
                }
                EngineEvent::Error(e) => shell.error(e),
            }
        }
        let key = (self.doc.revision(), self.styles.version());
        if self.sent != Some(key) && !matches!(self.engine.state(), ModelState::Failed(_)) {
            self.engine.submit(self.doc.labels(), self.styles.current());
            self.sent = Some(key);
        }
    }

    fn shortcuts(&mut self, ui: &Ui) {
        if ui.ctx().text_edit_focused() {
            return;
        }
        let cmd_shift = Modifiers::COMMAND.plus(Modifiers::SHIFT);
        let (redo, undo, smaller, bigger, tool) = ui.input_mut(|i| {
            let redo =
                i.consume_key(cmd_shift, Key::Z) || i.consume_key(Modifiers::COMMAND, Key::Y);
            let undo = i.consume_key(Modifiers::COMMAND, Key::Z);
            let smaller = i.consume_key(Modifiers::NONE, Key::OpenBracket);
            let bigger = i.consume_key(Modifiers::NONE, Key::CloseBracket);
            let tool = Tool::ALL
                .into_iter()
                .find(|t| i.consume_key(Modifiers::NONE, t.key()));
            (redo, undo, smaller, bigger, tool)
        });
        if redo {
            self.doc.redo();
        } else if undo {
            self.doc.undo();
        }
        let s = &mut self.settings.brush_size;
        if smaller {
            *s = (*s / 1.25)
                .round()
                .clamp(*BRUSH_RANGE.start(), *BRUSH_RANGE.end());
        }
        if bigger {
            *s = (*s * 1.25)
                .round()
                .max(*s + 1.0)
                .clamp(*BRUSH_RANGE.start(), *BRUSH_RANGE.end());
        }
        if let Some(t) = tool {
            self.settings.tool = t;
        }
    }

    /// Shows the tab.
    pub fn ui(&mut self, ui: &mut Ui, shell: &mut Shell) {
        self.update(ui.ctx(), shell);
        self.shortcuts(ui);

        egui::Panel::left("paint_tools")
            .default_size(210.0)
            .size_range(170.0..=400.0)
            .show(ui, |ui| self.tools_ui(ui));
        egui::Panel::right("paint_style")
            .default_size(200.0)
            .size_range(160.0..=360.0)
            .show(ui, |ui| self.styles.ui(ui, &mut self.engine, shell));
        egui::CentralPanel::default().show(ui, |ui| {
            ui.columns_const(|[left, right]| {
                left.horizontal(|ui| {
                    ui.strong("Labels");
                    ui.weak(format!(
                        "{}x{}",
                        self.doc.labels().width(),
                        self.doc.labels().height()
                    ));
                });
                let out = Canvas::new(
                    &mut self.canvas,
                    &mut self.doc,
                    &self.palette,
                    &mut self.settings,
                    self.engine.texture(),
                )
                .show(left);
                self.hover = out.hover;
                if let Some(c) = out.picked {
                    if matches!(self.settings.tool, Tool::Picker | Tool::Eraser) {
                        self.settings.tool = Tool::Brush;
                    }
                    self.settings.class = c;
                    self.scroll_to_class = true;
                }
                right.horizontal(|ui| {
                    ui.strong("Photo");
                    if let Some(p) = self.engine.photo() {
                        ui.weak(format!("{}x{}", p.width, p.height));
                    }
                    if ui
                        .add_enabled(self.engine.image().is_some(), egui::Button::new("Save…"))
                        .on_hover_text("Save the photo as PNG")
                        .clicked()
                    {
                        shell.open_dialog(FileKind::SavePhoto, ui.ctx(), Some("photo.png"));
                    }
                });
                let [h, w] = self.engine.output_size();
                let placeholder = match self.engine.state() {
                    ModelState::Loading => "loading the model…",
                    ModelState::Failed(_) => "the model could not be loaded",
                    ModelState::Ready(_) => "computing…",
                };
                PhotoView::new(self.engine.texture(), [w, h], placeholder)
                    .busy(self.engine.is_busy() && self.engine.texture().is_some())
                    .show(right);
            });
        });
        // Edits of this frame go out now, not next frame.
        self.update(ui.ctx(), shell);
    }

    fn tools_ui(&mut self, ui: &mut Ui) {
        ui.heading("Tools");
        ui.horizontal_wrapped(|ui| {
            for t in Tool::ALL {
                ui.selectable_value(&mut self.settings.tool, t, t.name())
                    .on_hover_text(format!("key {:?}", t.key()));
            }
        });
        ui.add(
            egui::Slider::new(&mut self.settings.brush_size, BRUSH_RANGE)
                .logarithmic(true)
                .integer()
                .text("size"),
        )
        .on_hover_text("Brush diameter in label pixels ( [ and ] )");
        ui.add(egui::Slider::new(&mut self.settings.opacity, 0.0..=1.0).text("opacity"))
            .on_hover_text("Label colours over the photo");
        ui.checkbox(&mut self.settings.outline, "Outline class borders");
        ui.checkbox(&mut self.settings.photo_under, "Photo under labels");
        ui.horizontal(|ui| {
            if ui
                .add_enabled(self.doc.history().can_undo(), egui::Button::new("Undo"))
                .on_hover_text("Ctrl+Z")
                .clicked()
            {
                self.doc.undo();
            }
            if ui
                .add_enabled(self.doc.history().can_redo(), egui::Button::new("Redo"))
                .on_hover_text("Ctrl+Shift+Z or Ctrl+Y")
                .clicked()
            {
                self.doc.redo();
            }
            let erase = eraser_class(&self.palette);
            let name = class_name(&self.palette, erase);
            if ui
                .button("Clear")
                .on_hover_text(format!("Fill everything with {name}"))
                .clicked()
            {
                self.doc.clear(erase);
            }
        });
        ui.weak("Right click or Alt+click: pick a class. Shift+click: straight line.");
        ui.separator();
        ui.horizontal(|ui| {
            ui.heading("Classes");
            ui.weak(format!("{}", self.palette.len()));
        });
        ui.add(
            egui::TextEdit::singleline(&mut self.search)
                .hint_text("search classes")
                .desired_width(f32::INFINITY),
        );
        let current = self.settings.class;
        let query = self.search.trim().to_lowercase();
        let scroll = std::mem::take(&mut self.scroll_to_class);
        egui::ScrollArea::vertical()
            .id_salt("classes")
            .auto_shrink([false, false])
            .show(ui, |ui| {
                for c in &self.palette.classes {
                    if !query.is_empty()
                        && !c.name.to_lowercase().contains(&query)
                        && c.id.to_string() != query
                    {
                        continue;
                    }
                    ui.horizontal(|ui| {
                        let (r, _) = ui.allocate_exact_size(vec2(16.0, 16.0), Sense::hover());
                        let [cr, cg, cb] = c.color;
                        ui.painter()
                            .rect_filled(r, 3.0, Color32::from_rgb(cr, cg, cb));
                        let resp = ui
                            .selectable_label(c.id == current, format!("{:>3}  {}", c.id, c.name));
                        if resp.clicked() {
                            self.settings.class = c.id;
                            if matches!(self.settings.tool, Tool::Picker | Tool::Eraser) {
                                self.settings.tool = Tool::Brush;
                            }
                        }
                        if scroll && c.id == current {
                            resp.scroll_to_me(Some(egui::Align::Center));
                        }
                    });
                }
            });
    }

    /// The paint tab's part of the status bar.
    pub fn status_ui(&self, ui: &mut Ui) {
        let b = self.engine.backend();
        ui.label(&b.description);
        if b.device.clone().inner() == burn::tensor::Device::flex() {
            ui.weak("(no GPU in use: inference on the CPU)");
        } else if !b.is_gpu {
            ui.weak("(a software adapter: the CPU backend is faster)");
        }
        if self.engine.photo_stayed_on_gpu() {
            ui.weak("· photo straight from GPU memory");
        }
        ui.separator();
        match self.engine.state() {
            ModelState::Loading => {
                ui.label("loading model…");
            }
            ModelState::Failed(_) => {
                ui.colored_label(ui.visuals().error_fg_color, "model failed to load");
            }
            ModelState::Ready(_) => {
                match self.engine.last_inference() {
                    Some(t) => ui.label(format!("last photo {:.0} ms", t.as_secs_f64() * 1e3)),
                    None => ui.label("no photo yet"),
                };
                if let Some(l) = self.engine.last_latency() {
                    ui.weak(format!("(edit to photo {:.0} ms)", l.as_secs_f64() * 1e3));
                }
                if let Some(r) = self.engine.photos_per_second() {
                    ui.label(format!("{r:.1} photos/s"));
                }
                if self.engine.is_busy() {
                    ui.weak("computing…");
                }
            }
        }
        if let Some((x, y, c)) = self.hover {
            ui.separator();
            ui.label(format!("({x}, {y}) {}", class_name(&self.palette, c)));
        }
    }
}

/// The class painted at start: the first real class that is not the first one (often a
/// background), else 0.
fn first_paint_class(palette: &Palette) -> u16 {
    palette
        .classes
        .iter()
        .find(|c| ["window", "windowpane", "tree"].contains(&c.name.as_str()))
        .map(|c| c.id)
        .unwrap_or(if palette.label_nc > 1 { 1 } else { 0 })
}

/// "id name" of a class.
pub fn class_name(palette: &Palette, id: u16) -> String {
    match palette.classes.get(id as usize) {
        Some(c) => format!("{} {}", c.id, c.name),
        None => format!("{id} (unknown)"),
    }
}
