//! The style of VAE models: the two most recent styles (from style images through the encoder, or
//! seeded random draws), a blend between them, and the style panel.

use std::collections::VecDeque;

use egui::{ColorImage, TextureHandle, TextureOptions, Ui};
use image::RgbImage;

use super::engine::Engine;
use super::files::{FileKind, Shell};
use crate::infer::Style;
use crate::infer::worker::StyleSource;

/// One style with what to show for it.
pub struct StyleEntry {
    /// The vector.
    pub style: Style,
    /// "seed 3" or the image's file name.
    pub label: String,
    thumb: Option<TextureHandle>,
}

struct PendingStyle {
    id: u64,
    label: String,
    thumb: Option<RgbImage>,
}

/// The style state of the paint tab.
pub struct StyleState {
    entries: VecDeque<StyleEntry>,
    /// 0: the older of the two styles, 1: the newer.
    pub blend: f32,
    next_seed: u64,
    pending: Vec<PendingStyle>,
    version: u64,
    uses_style: bool,
    has_encoder: bool,
}

/// Side of the style thumbnails, in pixels.
const THUMB: u32 = 96;

impl StyleState {
    /// The state for a model (`uses_style`: a VAE generator; `has_encoder`: style images work).
    pub fn new(uses_style: bool, has_encoder: bool) -> Self {
        Self {
            entries: VecDeque::new(),
            blend: 1.0,
            // Until a style is chosen the photo uses the seeded style 0, so the dice starts at 1
            // (its first roll must change the picture).
            next_seed: 1,
            pending: Vec::new(),
            version: 0,
            uses_style,
            has_encoder,
        }
    }

    /// Whether the model takes a style.
    pub fn uses_style(&self) -> bool {
        self.uses_style
    }

    /// Whether style images can be encoded.
    pub fn has_encoder(&self) -> bool {
        self.has_encoder
    }

    /// The style to synthesise with: the blend of the two most recent ones.
    pub fn current(&self) -> Option<Style> {
        match (self.entries.len(), self.uses_style) {
            (_, false) | (0, _) => None,
            (1, _) => Some(self.entries[0].style.clone()),
            _ => Some(Style::blend(
                &self.entries[0].style,
                &self.entries[1].style,
                self.blend,
            )),
        }
    }

    /// Sets the blend between the two styles (0: older, 1: newer).
    pub fn set_blend(&mut self, t: f32) {
        self.blend = t.clamp(0.0, 1.0);
        self.version += 1;
    }

    /// Changes whenever [`Self::current`] does.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The styles held (oldest first, at most two).
    pub fn entries(&self) -> impl Iterator<Item = &StyleEntry> {
        self.entries.iter()
    }

    /// Whether a style is being made.
    pub fn is_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Rolls the dice: a new seeded random style (asked from the worker).
    pub fn roll(&mut self, engine: &mut Engine) {
        if !self.uses_style {
            return;
        }
        let seed = self.next_seed;
        self.next_seed += 1;
        let id = engine.request_style(StyleSource::Seed(seed));
        self.pending.push(PendingStyle {
            id,
            label: format!("random, seed {seed}"),
            thumb: None,
        });
    }

    /// Sends a style image to the encoder. `name` labels it.
    pub fn load_image(
        &mut self,
        image: RgbImage,
        name: &str,
        engine: &mut Engine,
    ) -> Result<(), String> {
        if !self.uses_style {
            return Err(format!(
                "{name}: this model has no style input (its generator starts from the label map)"
            ));
        }
        if !self.has_encoder {
            return Err(format!(
                "{name}: this model has no image encoder, so styles can only be random (dice)"
            ));
        }
        let thumb = image::imageops::thumbnail(&image, THUMB, THUMB);
        let id = engine.request_style(StyleSource::Image(image));
        self.pending.push(PendingStyle {
            id,
            label: name.to_owned(),
            thumb: Some(thumb),
        });
        Ok(())
    }

    /// Takes a style made by the worker. Returns whether it was one of ours.
    pub fn receive(&mut self, ctx: &egui::Context, id: u64, style: Style) -> bool {
        let Some(i) = self.pending.iter().position(|p| p.id == id) else {
            return false;
        };
        let p = self.pending.remove(i);
        let thumb = p.thumb.map(|t| {
            let img = ColorImage::from_rgb([t.width() as usize, t.height() as usize], t.as_raw());
            ctx.load_texture(format!("style {id}"), img, TextureOptions::LINEAR)
        });
        self.entries.push_back(StyleEntry {
            style,
            label: p.label,
            thumb,
        });
        while self.entries.len() > 2 {
            self.entries.pop_front();
        }
        self.blend = 1.0;
        self.version += 1;
        true
    }

    /// Forgets a failed request. Returns its label if it was one of ours.
    pub fn failed(&mut self, id: u64) -> Option<String> {
        let i = self.pending.iter().position(|p| p.id == id)?;
        Some(self.pending.remove(i).label)
    }

    /// The style panel.
    pub fn ui(&mut self, ui: &mut Ui, engine: &mut Engine, shell: &mut Shell) {
        ui.heading("Style");
        if !self.uses_style {
            ui.label("This model has no style input: its generator starts from the label map.");
            return;
        }
        ui.horizontal(|ui| {
            if ui
                .button("🎲 Random")
                .on_hover_text("A new random style (seeded)")
                .clicked()
            {
                self.roll(engine);
            }
            let load = ui.add_enabled(self.has_encoder, egui::Button::new("Style image…"));
            let load = if self.has_encoder {
                load.on_hover_text("Encode a photo into a style (or drop an image on the window)")
            } else {
                load.on_disabled_hover_text("This model has no image encoder")
            };
            if load.clicked() {
                shell.open_dialog(FileKind::OpenStyle, ui.ctx(), None);
            }
        });
        if !self.has_encoder {
            ui.weak("This model has no image encoder: styles come from the dice only.");
        }
        if self.is_pending() {
            ui.weak("making style…");
        }
        ui.add_space(4.0);
        let n = self.entries.len();
        for (i, e) in self.entries.iter().enumerate() {
            ui.horizontal(|ui| {
                match &e.thumb {
                    Some(t) => {
                        ui.add(
                            egui::Image::new((t.id(), egui::vec2(48.0, 48.0)))
                                .alt_text(e.label.clone()),
                        );
                    }
                    None => {
                        let (r, _) =
                            ui.allocate_exact_size(egui::vec2(48.0, 48.0), egui::Sense::hover());
                        ui.painter()
                            .rect_filled(r, 4.0, ui.visuals().faint_bg_color);
                        ui.painter().text(
                            r.center(),
                            egui::Align2::CENTER_CENTER,
                            "z",
                            egui::FontId::monospace(20.0),
                            ui.visuals().text_color(),
                        );
                    }
                }
                ui.vertical(|ui| {
                    ui.label(if i + 1 == n { "newest" } else { "previous" });
                    ui.weak(&e.label);
                });
            });
        }
        if n == 2 {
            let r = ui.add(
                egui::Slider::new(&mut self.blend, 0.0..=1.0)
                    .text("blend")
                    .fixed_decimals(2),
            );
            if r.changed() {
                self.version += 1;
            }
            ui.weak("0: previous style, 1: newest");
        }
    }
}
