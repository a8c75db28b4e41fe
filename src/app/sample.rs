//! Sample label maps: building facades drawn in code (our own drawings, not from any dataset), in
//! whatever classes the model's palette has. The first one is on the canvas at start; all of
//! them are in the File menu.

use crate::labels::{LabelMap, Palette};

/// The sample layouts, by name.
pub const SAMPLES: [&str; 4] = ["Apartment block", "Shop row", "Tower", "Town house"];

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

/// The classes a facade is drawn with, looked up in a palette.
struct Classes {
    bg: u16,
    wall: u16,
    window: u16,
    door: u16,
    cornice: u16,
    sill: u16,
    balcony: u16,
    blind: u16,
    deco: u16,
    molding: u16,
    pillar: u16,
    shop: u16,
}

impl Classes {
    fn of(p: &Palette) -> Self {
        Self {
            bg: class(p, &["background", "sky"], 0),
            wall: class(p, &["facade", "building", "wall"], 1),
            window: class(p, &["window", "windowpane"], 2),
            door: class(p, &["door"], 3),
            cornice: class(p, &["cornice", "railing"], 4),
            sill: class(p, &["sill", "ledge"], 5),
            balcony: class(p, &["balcony", "railing"], 6),
            blind: class(p, &["blind", "curtain"], 7),
            deco: class(p, &["deco", "painting"], 8),
            molding: class(p, &["molding", "wall"], 9),
            pillar: class(p, &["pillar", "column"], 10),
            shop: class(p, &["shop", "awning"], 11),
        }
    }
}

/// Draws axis-aligned rectangles given in fractions of the map.
struct Canvas {
    m: LabelMap,
}

impl Canvas {
    fn rect(&mut self, x0: f32, y0: f32, x1: f32, y1: f32, c: u16) {
        let (w, h) = (self.m.width(), self.m.height());
        let px = |v: f32, n: usize| ((v.clamp(0.0, 1.0) * n as f32).round() as usize).min(n);
        for y in px(y0, h)..px(y1, h) {
            for x in px(x0, w)..px(x1, w) {
                self.m.set(x, y, c);
            }
        }
    }
}

/// The first sample: the canvas at start.
pub fn facade(palette: &Palette, width: usize, height: usize) -> LabelMap {
    sample(palette, width, height, 0)
}

/// Sample `index` of [`SAMPLES`] at `width x height` (indices wrap).
pub fn sample(palette: &Palette, width: usize, height: usize, index: usize) -> LabelMap {
    let k = Classes::of(palette);
    let mut c = Canvas {
        m: LabelMap::filled(width, height, k.bg),
    };
    match index % SAMPLES.len() {
        0 => apartment_block(&mut c, &k),
        1 => shop_row(&mut c, &k),
        2 => tower(&mut c, &k),
        _ => town_house(&mut c, &k),
    }
    c.m
}

/// Three floors of four windows with sills and some blinds over a ground floor of shops.
fn apartment_block(c: &mut Canvas, k: &Classes) {
    c.rect(0.06, 0.10, 0.94, 0.97, k.wall);
    c.rect(0.04, 0.10, 0.96, 0.15, k.cornice);
    c.rect(0.00, 0.97, 1.00, 1.00, k.bg);
    for floor in 0..3 {
        let y0 = 0.20 + floor as f32 * 0.19;
        for col in 0..4 {
            let x0 = 0.12 + col as f32 * 0.2;
            c.rect(x0, y0, x0 + 0.12, y0 + 0.12, k.window);
            if (floor + col) % 3 == 0 {
                c.rect(x0, y0, x0 + 0.12, y0 + 0.04, k.blind);
            }
            c.rect(x0 - 0.01, y0 + 0.12, x0 + 0.13, y0 + 0.14, k.sill);
        }
        c.rect(0.06, y0 + 0.16, 0.94, y0 + 0.17, k.cornice);
    }
    c.rect(0.10, 0.80, 0.40, 0.95, k.shop);
    c.rect(0.60, 0.80, 0.90, 0.95, k.shop);
    c.rect(0.44, 0.78, 0.56, 0.97, k.door);
    c.rect(0.41, 0.78, 0.43, 0.97, k.pillar);
    c.rect(0.57, 0.78, 0.59, 0.97, k.pillar);
}

/// A wide two-storey row: balconies on the first floor, a band of shops with doors between.
fn shop_row(c: &mut Canvas, k: &Classes) {
    c.rect(0.00, 0.18, 1.00, 1.00, k.wall);
    c.rect(0.00, 0.18, 1.00, 0.23, k.cornice);
    for floor in 0..2 {
        let y0 = 0.28 + floor as f32 * 0.22;
        for col in 0..5 {
            let x0 = 0.05 + col as f32 * 0.19;
            c.rect(x0, y0, x0 + 0.11, y0 + 0.15, k.window);
            if floor == 1 {
                c.rect(x0 - 0.02, y0 + 0.11, x0 + 0.13, y0 + 0.16, k.balcony);
            } else {
                c.rect(x0 - 0.01, y0 + 0.15, x0 + 0.12, y0 + 0.17, k.sill);
            }
        }
    }
    c.rect(0.00, 0.70, 1.00, 0.73, k.molding);
    for i in 0..3 {
        let x0 = 0.03 + i as f32 * 0.33;
        c.rect(x0, 0.76, x0 + 0.22, 0.98, k.shop);
        c.rect(x0 + 0.23, 0.78, x0 + 0.30, 1.00, k.door);
    }
}

/// A tall, narrow building: six floors of paired windows between pillars, a deco band on top.
fn tower(c: &mut Canvas, k: &Classes) {
    c.rect(0.18, 0.04, 0.82, 1.00, k.wall);
    c.rect(0.16, 0.04, 0.84, 0.08, k.cornice);
    c.rect(0.20, 0.09, 0.80, 0.12, k.deco);
    for floor in 0..6 {
        let y0 = 0.15 + floor as f32 * 0.12;
        for col in 0..2 {
            let x0 = 0.27 + col as f32 * 0.27;
            c.rect(x0, y0, x0 + 0.18, y0 + 0.08, k.window);
            c.rect(x0, y0 + 0.08, x0 + 0.18, y0 + 0.09, k.sill);
            if floor % 2 == 1 {
                c.rect(x0, y0, x0 + 0.18, y0 + 0.025, k.blind);
            }
        }
    }
    for x in [0.20, 0.49, 0.77] {
        c.rect(x, 0.12, x + 0.03, 1.00, k.pillar);
    }
    c.rect(0.42, 0.88, 0.58, 1.00, k.door);
}

/// An old three-storey house: tall windows with blinds and moldings, a central door with deco.
fn town_house(c: &mut Canvas, k: &Classes) {
    c.rect(0.10, 0.14, 0.90, 1.00, k.wall);
    c.rect(0.08, 0.10, 0.92, 0.15, k.cornice);
    for floor in 0..3 {
        let y0 = 0.22 + floor as f32 * 0.22;
        c.rect(0.10, y0 - 0.03, 0.90, y0 - 0.02, k.molding);
        for col in 0..3 {
            let x0 = 0.17 + col as f32 * 0.25;
            c.rect(x0 - 0.02, y0 - 0.015, x0 + 0.16, y0, k.deco);
            c.rect(x0, y0, x0 + 0.14, y0 + 0.15, k.window);
            c.rect(x0 - 0.03, y0, x0, y0 + 0.15, k.blind);
            c.rect(x0 + 0.14, y0, x0 + 0.17, y0 + 0.15, k.blind);
            c.rect(x0 - 0.01, y0 + 0.15, x0 + 0.15, y0 + 0.165, k.sill);
        }
    }
    c.rect(0.43, 0.84, 0.57, 1.00, k.door);
    c.rect(0.41, 0.81, 0.59, 0.84, k.deco);
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
    fn every_sample_fits_any_palette_and_size_and_differs() {
        for (p, w, h) in [
            (Palette::generic(3, false), 64, 64),
            (Palette::builtin("ade20k").unwrap(), 256, 256),
            (Palette::builtin("cmp_facade").unwrap(), 256, 128),
            (Palette::generic(1, true), 33, 17),
        ] {
            let maps: Vec<LabelMap> = (0..SAMPLES.len()).map(|i| sample(&p, w, h, i)).collect();
            for m in &maps {
                assert_eq!((m.width(), m.height()), (w, h));
                assert!(m.out_of_range(p.len()).is_empty());
            }
            if p.label_nc >= 12 {
                for i in 1..maps.len() {
                    assert_ne!(maps[i], maps[0], "sample {i} is the first one again");
                }
            }
        }
    }
}
