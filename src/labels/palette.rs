//! Class palettes: the names and display colours of a model's classes. The built-in ones
//! (ADE20K, COCO-Stuff, Cityscapes, CMP Facade) are data files in `assets/palettes/`.

use serde::{Deserialize, Serialize};

/// One class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassInfo {
    /// Index fed to the one-hot encoding.
    pub id: u16,
    /// Human name.
    pub name: String,
    /// Display colour, RGB.
    pub color: [u8; 3],
}

/// The classes of a model, in id order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Palette {
    /// Short name (`ade20k`, `cmp_facade`, ...).
    pub name: String,
    /// Number of real classes, dontcare excluded.
    pub label_nc: usize,
    /// Id of the dontcare class, if the palette has one (always `label_nc`).
    pub dontcare: Option<u16>,
    /// Dataset credit to show wherever the palette's data ships.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit: Option<String>,
    /// Classes, `id` = index.
    pub classes: Vec<ClassInfo>,
}

const BUILTIN: &[(&str, &str)] = &[
    ("ade20k", include_str!("../../assets/palettes/ade20k.json")),
    ("coco", include_str!("../../assets/palettes/coco.json")),
    (
        "cityscapes",
        include_str!("../../assets/palettes/cityscapes.json"),
    ),
    (
        "cmp_facade",
        include_str!("../../assets/palettes/cmp_facade.json"),
    ),
];

impl Palette {
    /// A built-in palette by name: `ade20k`, `coco`, `cityscapes`, `cmp_facade`.
    pub fn builtin(name: &str) -> Option<Self> {
        let (_, json) = BUILTIN.iter().find(|(n, _)| *n == name)?;
        let p: Palette = serde_json::from_str(json).expect("built-in palettes are valid JSON");
        Some(p)
    }

    /// Names of the built-in palettes.
    pub fn builtin_names() -> impl Iterator<Item = &'static str> {
        BUILTIN.iter().map(|(n, _)| *n)
    }

    /// A palette for `label_nc` unnamed classes (plus dontcare), with well-spread colours.
    pub fn generic(label_nc: usize, dontcare: bool) -> Self {
        let mut classes: Vec<ClassInfo> = (0..label_nc)
            .map(|i| ClassInfo {
                id: i as u16,
                name: format!("class {i}"),
                color: spread_color(i),
            })
            .collect();
        if dontcare {
            classes.push(ClassInfo {
                id: label_nc as u16,
                name: "dontcare".into(),
                color: [0, 0, 0],
            });
        }
        Self {
            name: "custom".into(),
            label_nc,
            dontcare: dontcare.then_some(label_nc as u16),
            credit: None,
            classes,
        }
    }

    /// Palette from a `classes.txt` (one name per line) with generated colours.
    pub fn from_names(names: &[String]) -> Self {
        let mut p = Self::generic(names.len(), false);
        for (c, n) in p.classes.iter_mut().zip(names) {
            c.name = n.clone();
        }
        p
    }

    /// Number of classes, dontcare included.
    pub fn len(&self) -> usize {
        self.classes.len()
    }

    /// Whether the palette has no classes.
    pub fn is_empty(&self) -> bool {
        self.classes.is_empty()
    }

    /// Checks ids are 0..n in order and the counts agree.
    pub fn validate(&self) -> Result<(), String> {
        for (i, c) in self.classes.iter().enumerate() {
            if c.id as usize != i {
                return Err(format!("class {} has id {}, expected {i}", c.name, c.id));
            }
        }
        let expected = self.label_nc + self.dontcare.is_some() as usize;
        if self.classes.len() != expected {
            return Err(format!(
                "{} classes listed, expected {expected}",
                self.classes.len()
            ));
        }
        Ok(())
    }

    /// The id whose colour is exactly `rgb` (the first one where colours repeat).
    pub fn id_of_color(&self, rgb: [u8; 3]) -> Option<u16> {
        self.classes.iter().find(|c| c.color == rgb).map(|c| c.id)
    }

    /// The colour of an id (magenta for ids outside the palette).
    pub fn color(&self, id: u16) -> [u8; 3] {
        self.classes
            .get(id as usize)
            .map(|c| c.color)
            .unwrap_or([255, 0, 255])
    }

    /// Row-major class ids of a `width` x `height` map, shown in the palette's colours.
    pub fn colour_image(&self, ids: &[u16], width: usize, height: usize) -> image::RgbImage {
        image::RgbImage::from_fn(width as u32, height as u32, |x, y| {
            image::Rgb(self.color(ids[y as usize * width + x as usize]))
        })
    }
}

/// A deterministic, well-spread colour for class `i` (golden-angle hue walk).
fn spread_color(i: usize) -> [u8; 3] {
    let h = (i as f64 * 137.508) % 360.0;
    let s = 0.55 + 0.35 * ((i / 7) % 2) as f64;
    let v = 0.95 - 0.3 * ((i / 3) % 2) as f64;
    let c = v * s;
    let x = c * (1.0 - ((h / 60.0) % 2.0 - 1.0).abs());
    let m = v - c;
    let (r, g, b) = match (h / 60.0) as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let f = |v: f64| ((v + m) * 255.0).round() as u8;
    [f(r), f(g), f(b)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_are_valid() {
        for (name, n) in [
            ("ade20k", 151),
            ("coco", 183),
            ("cityscapes", 35),
            ("cmp_facade", 12),
        ] {
            let p = Palette::builtin(name).unwrap();
            p.validate().unwrap();
            assert_eq!(p.len(), n, "{name}");
        }
        assert_eq!(Palette::builtin("ade20k").unwrap().dontcare, Some(150));
        assert!(Palette::builtin("cmp_facade").unwrap().credit.is_some());
    }

    #[test]
    fn generic_colours_are_distinct() {
        let p = Palette::generic(40, true);
        p.validate().unwrap();
        let mut colours: Vec<_> = p.classes.iter().map(|c| c.color).collect();
        colours.sort();
        colours.dedup();
        assert_eq!(colours.len(), 41);
    }
}
