//! The label map on the canvas at start: a simple building facade drawn in code (our own drawing,
//! not from any dataset), in whatever classes the model's palette has.

use crate::labels::{LabelMap, Palette};

/// Finds the first class whose name matches one of `names` (case-insensitive), else `fallback`
/// (clamped into the palette).
fn class(p: &Palette, names: &[&str], fallback: u16) -> u16 {
    for n in names {
        if let Some(c) = p.classes.iter().find(|c| c.name.eq_ignore_ascii_case(n)) {
            return c.id;
        }
    }
    let real = p.label_nc.max(1) as u16;
    fallback % real
}

/// A facade at `width x height`: sky/background around a wall with a cornice, rows of windows with
/// sills (and blinds), a door and a shop front on the ground floor.
pub fn facade(palette: &Palette, width: usize, height: usize) -> LabelMap {
    let bg = class(palette, &["background", "sky"], 0);
    let wall = class(palette, &["facade", "building", "wall"], 1);
    let window = class(palette, &["window", "windowpane"], 2);
    let door = class(palette, &["door"], 3);
    let cornice = class(palette, &["cornice", "railing"], 4);
    let sill = class(palette, &["sill", "ledge"], 5);
    let blind = class(palette, &["blind", "curtain"], 7);
    let shop = class(palette, &["shop", "awning"], 11);
    let pillar = class(palette, &["pillar", "column"], 10);
    let ground = class(palette, &["road", "sidewalk", "floor", "background"], 0);

    let mut m = LabelMap::filled(width, height, bg);
    let (w, h) = (width as f32, height as f32);
    let mut rect = |x0: f32, y0: f32, x1: f32, y1: f32, c: u16| {
        let (xa, xb) = (
            (x0 * w).round() as usize,
            ((x1 * w).round() as usize).min(width),
        );
        let (ya, yb) = (
            (y0 * h).round() as usize,
            ((y1 * h).round() as usize).min(height),
        );
        for y in ya..yb {
            for x in xa..xb {
                m.set(x, y, c);
            }
        }
    };
    // Wall and roof line.
    rect(0.06, 0.10, 0.94, 0.97, wall);
    rect(0.04, 0.10, 0.96, 0.15, cornice);
    rect(0.00, 0.97, 1.00, 1.00, ground);
    // Three floors of four windows.
    for floor in 0..3 {
        let y0 = 0.20 + floor as f32 * 0.19;
        for col in 0..4 {
            let x0 = 0.12 + col as f32 * 0.2;
            rect(x0, y0, x0 + 0.12, y0 + 0.12, window);
            if (floor + col) % 3 == 0 {
                rect(x0, y0, x0 + 0.12, y0 + 0.04, blind);
            }
            rect(x0 - 0.01, y0 + 0.12, x0 + 0.13, y0 + 0.14, sill);
        }
        rect(0.06, y0 + 0.16, 0.94, y0 + 0.17, cornice);
    }
    // Ground floor: shop windows, pillars, a door.
    rect(0.10, 0.80, 0.40, 0.95, shop);
    rect(0.60, 0.80, 0.90, 0.95, shop);
    rect(0.44, 0.78, 0.56, 0.97, door);
    rect(0.41, 0.78, 0.43, 0.97, pillar);
    rect(0.57, 0.78, 0.59, 0.97, pillar);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facade_uses_the_palette_classes() {
        let p = Palette::builtin("cmp_facade").unwrap();
        let m = facade(&p, 256, 256);
        let mut seen = [false; 12];
        for &v in m.data() {
            seen[v as usize] = true;
        }
        for name in [
            "background",
            "facade",
            "window",
            "door",
            "cornice",
            "sill",
            "shop",
        ] {
            let id = p.classes.iter().find(|c| c.name == name).unwrap().id;
            assert!(seen[id as usize], "{name} missing");
        }
    }

    #[test]
    fn facade_fits_any_palette_and_size() {
        for (p, w, h) in [
            (Palette::generic(3, false), 64, 64),
            (Palette::builtin("ade20k").unwrap(), 256, 256),
            (Palette::generic(1, true), 33, 17),
        ] {
            let m = facade(&p, w, h);
            assert_eq!((m.width(), m.height()), (w, h));
            assert!(m.out_of_range(p.len()).is_empty());
        }
    }
}
