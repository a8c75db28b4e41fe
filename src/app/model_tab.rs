//! The Model tab: what the loaded model is (config, classes, provenance, credit), opening another
//! model, and the import dialog for official `.pth` checkpoints.

use std::path::PathBuf;

use egui::{Color32, Sense, Ui, vec2};

use super::engine::{Engine, ModelState};
use super::files::{FileKind, Shell};
use crate::checkpoint::{Dataset, ImportOptions, ModelFile};
use crate::model::Upsampling;

/// What the Model tab asks the app to do.
#[derive(Debug)]
pub enum ModelAction {
    /// Open a model file (dialog).
    Browse,
    /// Import an official checkpoint with these choices.
    Import {
        /// Generator .pth.
        generator: PathBuf,
        /// Encoder .pth, if any.
        encoder: Option<PathBuf>,
        /// Import choices.
        options: ImportOptions,
    },
}

/// The import dialog's choices for an official checkpoint.
#[derive(Debug, Clone)]
pub struct ImportDialog {
    /// Generator checkpoint.
    pub generator: PathBuf,
    /// Encoder checkpoint path (text, empty for none).
    pub encoder: String,
    /// Dataset preset.
    pub dataset: Dataset,
    /// Classes, for `custom`.
    pub label_nc: usize,
    /// Dontcare class, for `custom`.
    pub dontcare: bool,
    /// Instance edges, for `custom`.
    pub instance: bool,
    /// Upsampling (None: from the checkpoint / preset).
    pub upsampling: Option<Upsampling>,
    /// Output width (0: preset).
    pub crop_size: usize,
    /// Aspect ratio (0: preset).
    pub aspect_ratio: f64,
}

impl ImportDialog {
    /// A dialog for `generator`, guessing the dataset from its file name.
    pub fn new(generator: PathBuf) -> Self {
        let name = generator
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        let dataset = if name.contains("coco") {
            Dataset::Coco
        } else if name.contains("city") {
            Dataset::Cityscapes
        } else if name.contains("ade") {
            Dataset::Ade20k
        } else {
            Dataset::Custom
        };
        // An encoder beside a generator: `*_net_G.pth` -> `*_net_E.pth`.
        let encoder = generator
            .file_name()
            .map(|n| n.to_string_lossy().replace("net_G", "net_E"))
            .map(|n| generator.with_file_name(n))
            .filter(|p| *p != generator && p.exists())
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        Self {
            generator,
            encoder,
            dataset,
            label_nc: 0,
            dontcare: false,
            instance: false,
            upsampling: None,
            crop_size: 0,
            aspect_ratio: 0.0,
        }
    }

    /// The library options.
    pub fn options(&self) -> ImportOptions {
        let custom = self.dataset == Dataset::Custom;
        ImportOptions {
            dataset: Some(self.dataset),
            label_nc: (custom && self.label_nc > 0).then_some(self.label_nc),
            dontcare: custom.then_some(self.dontcare),
            instance: custom.then_some(self.instance),
            upsampling: self.upsampling,
            aspect_ratio: (self.aspect_ratio > 0.0).then_some(self.aspect_ratio),
            crop_size: (self.crop_size > 0).then_some(self.crop_size),
        }
    }

    /// Shows the dialog; returns the action when the user confirms, and whether it stays open.
    pub fn ui(&mut self, ctx: &egui::Context, shell: &mut Shell) -> (Option<ModelAction>, bool) {
        let mut action = None;
        let mut open = true;
        let modal = egui::Modal::new(egui::Id::unique("import_dialog")).show(ctx, |ui| {
            ui.set_width(420.0);
            ui.heading("Import an official checkpoint");
            ui.label(self.generator.display().to_string());
            ui.add_space(6.0);
            egui::Grid::new("import_grid")
                .num_columns(2)
                .show(ui, |ui| {
                    ui.label("Dataset");
                    egui::ComboBox::from_id_salt("dataset")
                        .selected_text(dataset_name(self.dataset))
                        .show_ui(ui, |ui| {
                            for d in [
                                Dataset::Ade20k,
                                Dataset::Coco,
                                Dataset::Cityscapes,
                                Dataset::Custom,
                            ] {
                                ui.selectable_value(&mut self.dataset, d, dataset_name(d));
                            }
                        });
                    ui.end_row();
                    if self.dataset == Dataset::Custom {
                        ui.label("Classes");
                        ui.add(egui::DragValue::new(&mut self.label_nc).range(0..=1024))
                            .on_hover_text("0: infer from the checkpoint");
                        ui.end_row();
                        ui.label("");
                        ui.checkbox(&mut self.dontcare, "dontcare class");
                        ui.end_row();
                        ui.label("");
                        ui.checkbox(&mut self.instance, "instance edges");
                        ui.end_row();
                    }
                    ui.label("Upsampling");
                    egui::ComboBox::from_id_salt("upsampling")
                        .selected_text(self.upsampling.map_or("from checkpoint", |u| u.name()))
                        .show_ui(ui, |ui| {
                            ui.selectable_value(&mut self.upsampling, None, "from checkpoint");
                            for u in [Upsampling::Normal, Upsampling::More, Upsampling::Most] {
                                ui.selectable_value(&mut self.upsampling, Some(u), u.name());
                            }
                        });
                    ui.end_row();
                    ui.label("Width");
                    ui.add(egui::DragValue::new(&mut self.crop_size).range(0..=4096))
                        .on_hover_text("Output width in pixels; 0: the preset's");
                    ui.end_row();
                    ui.label("Aspect");
                    ui.add(
                        egui::DragValue::new(&mut self.aspect_ratio)
                            .range(0.0..=8.0)
                            .speed(0.05),
                    )
                    .on_hover_text("Width / height; 0: the preset's");
                    ui.end_row();
                    ui.label("Encoder");
                    ui.horizontal(|ui| {
                        ui.add(
                            egui::TextEdit::singleline(&mut self.encoder)
                                .hint_text("optional netE .pth path")
                                .desired_width(240.0),
                        );
                        if ui.button("…").on_hover_text("Choose the encoder").clicked() {
                            shell.open_dialog(FileKind::OpenEncoder, ui.ctx(), None);
                        }
                    });
                    ui.end_row();
                });
            ui.add_space(8.0);
            ui.horizontal(|ui| {
                if ui.button("Import").clicked() {
                    let encoder = self.encoder.trim();
                    action = Some(ModelAction::Import {
                        generator: self.generator.clone(),
                        encoder: (!encoder.is_empty()).then(|| PathBuf::from(encoder)),
                        options: self.options(),
                    });
                    open = false;
                }
                if ui.button("Cancel").clicked() {
                    open = false;
                }
            });
        });
        if modal.should_close() {
            open = false;
        }
        (action, open)
    }
}

fn dataset_name(d: Dataset) -> &'static str {
    match d {
        Dataset::Ade20k => "ADE20K",
        Dataset::Coco => "COCO-Stuff",
        Dataset::Cityscapes => "Cityscapes",
        Dataset::Custom => "custom",
    }
}

/// The Model tab.
#[derive(Debug, Default)]
pub struct ModelTab {
    search: String,
}

impl ModelTab {
    /// Shows the tab for `engine`'s model; `loading` names a model being read.
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        engine: &Engine,
        loading: Option<&str>,
    ) -> Option<ModelAction> {
        let mut action = None;
        egui::CentralPanel::default().show(ui, |ui| {
            egui::ScrollArea::vertical()
                .auto_shrink([false, false])
                .show(ui, |ui| {
                    ui.horizontal(|ui| {
                        ui.heading(engine.model_name());
                        if ui
                            .button("Open model…")
                            .on_hover_text("A gaugan model file or an official SPADE .pth")
                            .clicked()
                        {
                            action = Some(ModelAction::Browse);
                        }
                    });
                    if let Some(l) = loading {
                        ui.label(format!("reading {l}…"));
                    }
                    match engine.state() {
                        ModelState::Loading => {
                            ui.label(format!("loading on {}…", engine.backend().description));
                        }
                        ModelState::Ready(t) => {
                            ui.label(format!(
                                "on {} (ready in {:.2} s)",
                                engine.backend().description,
                                t.as_secs_f64()
                            ));
                        }
                        ModelState::Failed(e) => {
                            ui.colored_label(ui.visuals().error_fg_color, format!("failed: {e}"));
                        }
                    }
                    ui.add_space(8.0);
                    model_info(ui, engine.model());
                    ui.add_space(8.0);
                    ui.heading("Classes");
                    ui.add(
                        egui::TextEdit::singleline(&mut self.search)
                            .hint_text("search classes")
                            .desired_width(240.0),
                    );
                    let q = self.search.trim().to_lowercase();
                    egui::Grid::new("classes_grid")
                        .num_columns(4)
                        .striped(true)
                        .show(ui, |ui| {
                            let mut col = 0;
                            for c in &engine.model().palette.classes {
                                if !q.is_empty() && !c.name.to_lowercase().contains(&q) {
                                    continue;
                                }
                                ui.horizontal(|ui| {
                                    let (r, _) =
                                        ui.allocate_exact_size(vec2(14.0, 14.0), Sense::hover());
                                    let [cr, cg, cb] = c.color;
                                    ui.painter()
                                        .rect_filled(r, 2.0, Color32::from_rgb(cr, cg, cb));
                                    ui.label(format!("{:>3} {}", c.id, c.name));
                                });
                                col += 1;
                                if col % 4 == 0 {
                                    ui.end_row();
                                }
                            }
                        });
                });
        });
        action
    }
}

fn model_info(ui: &mut Ui, m: &ModelFile) {
    let g = &m.generator;
    let [h, w] = g.output_size();
    egui::Grid::new("model_info")
        .num_columns(2)
        .striped(true)
        .show(ui, |ui| {
            let mut row = |k: &str, v: String| {
                ui.strong(k);
                ui.label(v);
                ui.end_row();
            };
            row("Output", format!("{w}x{h} pixels"));
            row(
                "Label channels",
                format!(
                    "{} classes{}{}",
                    g.labels.label_nc,
                    if g.labels.dontcare { " + dontcare" } else { "" },
                    if g.labels.instance {
                        " + instance edges"
                    } else {
                        ""
                    }
                ),
            );
            row("Palette", m.palette.name.clone());
            row(
                "Generator",
                format!(
                    "ngf {}, SPADE hidden {}, {} upsampling, {:.1} M parameters",
                    g.ngf,
                    g.spade_hidden,
                    g.upsampling.name(),
                    m.generator_parameters() as f64 / 1e6
                ),
            );
            row(
                "Style",
                match g.z_dim {
                    Some(z) => format!("VAE, z of {z}"),
                    None => "none (label-map head)".into(),
                },
            );
            row(
                "Encoder",
                match &m.encoder {
                    Some(e) => format!(
                        "ndf {}, {} layers, input {}, {:.1} M parameters",
                        e.ndf,
                        e.layers,
                        e.input_size,
                        m.encoder_parameters() as f64 / 1e6
                    ),
                    None => "none: styles only from the dice".into(),
                },
            );
            row("Source", m.provenance.source.clone());
            if !m.provenance.written_by.is_empty() {
                row("Written by", m.provenance.written_by.clone());
            }
            if let Some(n) = &m.provenance.notes {
                row("Notes", n.clone());
            }
            let credit = m.provenance.credit.clone().or(m.palette.credit.clone());
            if let Some(c) = credit {
                row("Credit", c);
            }
        });
}
