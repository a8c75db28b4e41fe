//! The canvas widget: the label map at the model's resolution, scaled to the space it gets with
//! crisp (nearest) pixels, in the palette's colours, optionally over the photo and with class
//! borders outlined; it turns pointer input into edits of a [`Document`].

use egui::{
    Color32, ColorImage, Pos2, Rect, Response, Role, Sense, Stroke, StrokeKind, TextureHandle,
    TextureId, TextureOptions, Ui, Vec2, WidgetInfo, pos2, vec2,
};
use serde::{Deserialize, Serialize};

use super::edit::{Document, Point, pixel_at};
use crate::labels::{LabelMap, Palette};

/// The painting tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tool {
    /// Round brush in the current class.
    Brush,
    /// Round brush in the palette's dontcare class (or class 0).
    Eraser,
    /// Flood fill of a 4-connected region.
    Fill,
    /// Picks the class under the pointer.
    Picker,
}

impl Tool {
    /// All tools, in toolbar order.
    pub const ALL: [Tool; 4] = [Tool::Brush, Tool::Eraser, Tool::Fill, Tool::Picker];

    /// Short name.
    pub fn name(self) -> &'static str {
        match self {
            Tool::Brush => "Brush",
            Tool::Eraser => "Eraser",
            Tool::Fill => "Fill",
            Tool::Picker => "Picker",
        }
    }

    /// Keyboard key that selects it.
    pub fn key(self) -> egui::Key {
        match self {
            Tool::Brush => egui::Key::B,
            Tool::Eraser => egui::Key::E,
            Tool::Fill => egui::Key::G,
            Tool::Picker => egui::Key::I,
        }
    }
}

/// What the user paints with.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ToolSettings {
    /// Current tool.
    pub tool: Tool,
    /// Brush diameter in label pixels.
    pub brush_size: f32,
    /// Opacity of the label colours over the photo, 0..=1.
    pub opacity: f32,
    /// Outline class borders.
    pub outline: bool,
    /// Show the photo under the labels (visible when opacity < 1).
    pub photo_under: bool,
    /// Current class.
    #[serde(skip)]
    pub class: u16,
}

impl Default for ToolSettings {
    fn default() -> Self {
        Self {
            tool: Tool::Brush,
            brush_size: 12.0,
            opacity: 1.0,
            outline: false,
            photo_under: true,
            class: 0,
        }
    }
}

/// Smallest and largest brush diameters.
pub const BRUSH_RANGE: std::ops::RangeInclusive<f32> = 1.0..=128.0;

/// The class the eraser paints: dontcare when the palette has one, else class 0.
pub fn eraser_class(palette: &Palette) -> u16 {
    palette.dontcare.unwrap_or(0)
}

/// What happened on the canvas this frame.
#[derive(Debug, Default, Clone)]
pub struct CanvasOutput {
    /// A class was picked (right click, Alt+click or the picker tool).
    pub picked: Option<u16>,
    /// A stroke, fill or line was finished.
    pub finished: bool,
    /// Label pixel and class under the pointer.
    pub hover: Option<(usize, usize, u16)>,
    /// The widget's response.
    pub response: Option<Response>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Press {
    None,
    Stroke,
    Other,
}

/// The canvas's state between frames: its texture and the press in progress.
pub struct CanvasState {
    texture: Option<TextureHandle>,
    texture_key: Option<(u64, bool, usize, String)>,
    press: Press,
    last: Point,
    rect: Rect,
}

impl Default for CanvasState {
    fn default() -> Self {
        Self {
            texture: None,
            texture_key: None,
            press: Press::None,
            last: [0.0, 0.0],
            rect: Rect::NOTHING,
        }
    }
}

impl CanvasState {
    /// Where the canvas was drawn last frame (screen points).
    pub fn rect(&self) -> Rect {
        self.rect
    }

    /// The screen position of the centre of label pixel `(x, y)` (as of the last frame).
    pub fn screen_pos(&self, labels: &LabelMap, x: f32, y: f32) -> Pos2 {
        let s = self.rect.width() / labels.width() as f32;
        pos2(self.rect.min.x + x * s, self.rect.min.y + y * s)
    }

    /// Forces the texture to be rebuilt (e.g. after a palette change).
    pub fn invalidate(&mut self) {
        self.texture_key = None;
    }

    fn update_texture(&mut self, ui: &Ui, doc: &Document, palette: &Palette, outline: bool) {
        let key = (doc.revision(), outline, palette.len(), palette.name.clone());
        if self.texture.is_some() && self.texture_key.as_ref() == Some(&key) {
            return;
        }
        let image = label_image(doc.labels(), palette, outline);
        match &mut self.texture {
            Some(t) if t.size() == image.size => t.set(image, TextureOptions::NEAREST),
            _ => {
                self.texture = Some(ui.ctx().load_texture(
                    "labels",
                    image,
                    TextureOptions::NEAREST,
                ));
            }
        }
        self.texture_key = Some(key);
    }
}

/// The label map as colours; with `outline`, pixels whose right or lower neighbour has another
/// class are darkened.
pub fn label_image(labels: &LabelMap, palette: &Palette, outline: bool) -> ColorImage {
    let (w, h) = (labels.width(), labels.height());
    let lut: Vec<Color32> = (0..palette.len().max(1))
        .map(|i| {
            let [r, g, b] = palette.color(i as u16);
            Color32::from_rgb(r, g, b)
        })
        .collect();
    let data = labels.data();
    let mut pixels = Vec::with_capacity(w * h);
    for y in 0..h {
        for x in 0..w {
            let v = data[y * w + x];
            let mut c = lut
                .get(v as usize)
                .copied()
                .unwrap_or(Color32::from_rgb(255, 0, 255));
            if outline {
                let border = (x + 1 < w && data[y * w + x + 1] != v)
                    || (y + 1 < h && data[(y + 1) * w + x] != v);
                if border {
                    c = Color32::from_rgb(c.r() / 4, c.g() / 4, c.b() / 4);
                }
            }
            pixels.push(c);
        }
    }
    ColorImage::new([w, h], pixels)
}

/// The canvas widget, shown with [`Canvas::show`].
pub struct Canvas<'a> {
    state: &'a mut CanvasState,
    doc: &'a mut Document,
    palette: &'a Palette,
    settings: &'a mut ToolSettings,
    photo: Option<TextureId>,
}

impl<'a> Canvas<'a> {
    /// A canvas editing `doc` with `settings`; `photo` is drawn under the labels.
    pub fn new(
        state: &'a mut CanvasState,
        doc: &'a mut Document,
        palette: &'a Palette,
        settings: &'a mut ToolSettings,
        photo: Option<TextureId>,
    ) -> Self {
        Self {
            state,
            doc,
            palette,
            settings,
            photo,
        }
    }

    /// Lays out the canvas in the available space (keeping the label map's aspect), draws it and
    /// applies this frame's pointer input.
    pub fn show(self, ui: &mut Ui) -> CanvasOutput {
        let Canvas {
            state,
            doc,
            palette,
            settings,
            photo,
        } = self;
        let (w, h) = (doc.labels().width() as f32, doc.labels().height() as f32);
        let avail = ui.available_size();
        let scale = (avail.x / w).min(avail.y / h).max(0.05);
        let size = vec2(w * scale, h * scale);
        let (rect, response) = ui.allocate_exact_size(size, Sense::click_and_drag());
        response.widget_info(|| WidgetInfo::labeled(Role::Canvas, true, "Label canvas"));
        state.rect = rect;
        let to_label =
            |p: Pos2| -> Point { [(p.x - rect.min.x) / scale, (p.y - rect.min.y) / scale] };

        let mut out = CanvasOutput::default();
        let (primary_down, mods) = ui.input(|i| (i.pointer.primary_down(), i.modifiers));
        let pos = response.interact_pointer_pos().or(response.hover_pos());
        let erase = eraser_class(palette);
        let mut press = |doc: &mut Document, settings: &mut ToolSettings, lp: Point| -> Press {
            if mods.alt || settings.tool == Tool::Picker {
                if let Some((x, y)) = pixel_at(doc.labels(), lp) {
                    settings.class = doc.labels().get(x, y);
                    out.picked = Some(settings.class);
                }
                return Press::Other;
            }
            match settings.tool {
                Tool::Fill => {
                    doc.fill(lp, settings.class);
                    out.finished = true;
                    Press::Other
                }
                Tool::Brush | Tool::Eraser => {
                    let class = if settings.tool == Tool::Eraser {
                        erase
                    } else {
                        settings.class
                    };
                    let from = match (mods.shift, doc.last_point()) {
                        (true, Some(p)) => p,
                        _ => lp,
                    };
                    doc.begin_stroke();
                    doc.paint(from, lp, settings.brush_size, class);
                    Press::Stroke
                }
                Tool::Picker => Press::Other,
            }
        };
        let pressing = response.is_pointer_button_down_on() && primary_down;
        let was_pressed = state.press != Press::None;
        if pressing {
            if let Some(p) = pos {
                let lp = to_label(p);
                if state.press == Press::None {
                    state.press = press(doc, settings, lp);
                    state.last = lp;
                } else if state.press == Press::Stroke && lp != state.last {
                    let class = if settings.tool == Tool::Eraser {
                        erase
                    } else {
                        settings.class
                    };
                    doc.paint(state.last, lp, settings.brush_size, class);
                    state.last = lp;
                }
            }
        } else if was_pressed {
            if state.press == Press::Stroke {
                doc.end_stroke();
                out.finished = true;
            }
            state.press = Press::None;
        } else if response.clicked()
            && let Some(p) = pos
        {
            // Press and release within one frame.
            if press(doc, settings, to_label(p)) == Press::Stroke {
                doc.end_stroke();
                out.finished = true;
            }
        }
        if response.secondary_clicked()
            && let Some(p) = pos
            && let Some((x, y)) = pixel_at(doc.labels(), to_label(p))
        {
            settings.class = doc.labels().get(x, y);
            out.picked = Some(settings.class);
        }

        // Draw.
        state.update_texture(ui, doc, palette, settings.outline);
        let painter = ui.painter_at(rect);
        let uv = Rect::from_min_max(pos2(0.0, 0.0), pos2(1.0, 1.0));
        painter.rect_filled(rect, 0.0, Color32::from_gray(20));
        if settings.photo_under
            && settings.opacity < 1.0
            && let Some(photo) = photo
        {
            painter.image(photo, rect, uv, Color32::WHITE);
        }
        if let Some(t) = &state.texture {
            painter.image(
                t.id(),
                rect,
                uv,
                Color32::WHITE.gamma_multiply(settings.opacity),
            );
        }
        if let Some(p) = response.hover_pos() {
            let lp = to_label(p);
            if let Some((x, y)) = pixel_at(doc.labels(), lp) {
                out.hover = Some((x, y, doc.labels().get(x, y)));
            }
            if matches!(settings.tool, Tool::Brush | Tool::Eraser) {
                let r = settings.brush_size / 2.0 * scale;
                painter.circle_stroke(p, r, Stroke::new(2.5, Color32::from_black_alpha(160)));
                painter.circle_stroke(p, r, Stroke::new(1.0, Color32::WHITE));
                if mods.shift
                    && let Some(last) = doc.last_point()
                {
                    let a = rect.min + Vec2::new(last[0], last[1]) * scale;
                    painter.line_segment([a, p], Stroke::new(1.0, Color32::WHITE));
                }
            }
        }
        painter.rect_stroke(
            rect,
            0.0,
            Stroke::new(1.0, ui.visuals().widgets.noninteractive.bg_stroke.color),
            StrokeKind::Outside,
        );
        out.response = Some(response);
        out
    }
}
