//! The photo view widget: the synthesised photo scaled to fit (keeping its aspect), with a note
//! while the worker computes or when there is no photo yet.

use egui::{Align2, Color32, FontId, Rect, Role, Sense, TextureId, Ui, WidgetInfo, pos2, vec2};

/// Shows a photo texture of `size` pixels ([width, height]).
pub struct PhotoView<'a> {
    texture: Option<TextureId>,
    size: [usize; 2],
    busy: bool,
    placeholder: &'a str,
}

impl<'a> PhotoView<'a> {
    /// A view of `texture` (absent: shows `placeholder`), laid out at the aspect of `size`.
    pub fn new(texture: Option<TextureId>, size: [usize; 2], placeholder: &'a str) -> Self {
        Self {
            texture,
            size,
            busy: false,
            placeholder,
        }
    }

    /// Marks the photo as being recomputed.
    pub fn busy(mut self, busy: bool) -> Self {
        self.busy = busy;
        self
    }

    /// Draws it in the available space.
    pub fn show(self, ui: &mut Ui) -> egui::Response {
        let [w, h] = [self.size[0].max(1) as f32, self.size[1].max(1) as f32];
        let avail = ui.available_size();
        let scale = (avail.x / w).min(avail.y / h).max(0.05);
        let (rect, response) = ui.allocate_exact_size(vec2(w * scale, h * scale), Sense::hover());
        response.widget_info(|| WidgetInfo::labeled(Role::Image, true, "Photo"));
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 0.0, Color32::from_gray(20));
        match self.texture {
            Some(t) => {
                let uv = Rect::from_min_max(pos2(0.0, 0.0), pos2(1.0, 1.0));
                painter.image(t, rect, uv, Color32::WHITE);
            }
            None => {
                painter.text(
                    rect.center(),
                    Align2::CENTER_CENTER,
                    self.placeholder,
                    FontId::proportional(14.0),
                    ui.visuals().weak_text_color(),
                );
            }
        }
        if self.busy {
            // A small static badge: no animation, so an idle app does not repaint.
            let badge = Rect::from_min_size(rect.right_top() + vec2(-88.0, 6.0), vec2(82.0, 20.0));
            painter.rect_filled(badge, 4.0, Color32::from_black_alpha(150));
            painter.text(
                badge.center(),
                Align2::CENTER_CENTER,
                "computing…",
                FontId::proportional(12.0),
                Color32::WHITE,
            );
        }
        response
    }
}
