//! Training data: a folder in the official SPADE "custom" layout, checked before training, and
//! loaded on background threads.
//!
//! ```text
//! DIR/classes.txt      one class name per line (id = line number, from 0)
//! DIR/palette.txt      optional: `id name R G B` per line (`#` comments), display colours
//! DIR/palette.json     optional: a gaugan palette (names, colours, dontcare, credit)
//! DIR/labels/*.png     class ids (grayscale / indexed PNG), or colours of the palette
//! DIR/images/*.jpg     photos (jpg, jpeg or png), paired with the labels by file stem
//! DIR/instances/*.png  optional instance maps (the model then reads instance edges)
//! ```
//!
//! `train_label/`, `train_img/`, `train_inst/` (the official option names) are accepted too.
//!
//! [`scan`] reads every file once and reports every problem by file; nothing is dropped silently:
//! training stops on a dirty dataset unless the user asks to skip the bad pairs.
//!
//! Preprocessing follows the official `scale_shortside_and_crop`: the shorter side is scaled to the
//! load size (photos bicubic, labels and instances nearest), a random `size x size` crop is taken
//! and flipped horizontally half the time; photos go to `[-1, 1]`. Which pairs form a batch, and
//! each sample's crop and flip, are pure functions of the seed and the step (see [`super::rng`]), so
//! a resumed run sees exactly the data an uninterrupted one would.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use image::RgbImage;

use super::rng::{SplitMix, stream};
use crate::labels::encode::semantics;
use crate::labels::png_io::{read_instance_png, read_label_png};
use crate::labels::{InstanceMap, LabelError, LabelMap, Palette};

/// Memory the loader may keep decoded pairs in (about 2,000 photos of 286 x 400).
const DECODE_CACHE_BYTES: usize = 1 << 30;

/// Photo extensions we read.
const IMAGE_EXTS: [&str; 3] = ["jpg", "jpeg", "png"];

/// A photo with its label map (and instance map).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    /// The shared file stem.
    pub stem: String,
    /// Label PNG.
    pub label: PathBuf,
    /// Photo.
    pub image: PathBuf,
    /// Instance PNG, when the dataset has instances.
    pub instance: Option<PathBuf>,
}

/// One problem found by [`scan`].
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    /// A folder without any usable file.
    Empty { dir: PathBuf },
    /// A label without a photo.
    NoImage { label: PathBuf },
    /// A second file for the same stem (e.g. `a.jpg` and `a.png`): which one is meant?
    Duplicate { path: PathBuf, other: PathBuf },
    /// A photo without a label.
    NoLabel { image: PathBuf },
    /// A pair without an instance map although the dataset has instances.
    NoInstance { stem: String, label: PathBuf },
    /// A photo that does not decode.
    UnreadableImage { path: PathBuf, why: String },
    /// A label or instance map that does not decode (or a colour outside the palette).
    UnreadableLabel { path: PathBuf, why: String },
    /// Photo and label of different sizes.
    SizeMismatch {
        stem: String,
        image: PathBuf,
        image_size: [u32; 2],
        label_size: [u32; 2],
    },
    /// An instance map of another size than its label map.
    InstanceSizeMismatch {
        path: PathBuf,
        size: [u32; 2],
        label_size: [u32; 2],
    },
    /// Class ids outside `0..classes`: the smallest such value, its pixel count, and the others.
    OutOfRange {
        path: PathBuf,
        value: u32,
        count: usize,
        classes: usize,
        more: String,
    },
}

impl Problem {
    /// The file (or folder) the problem is about.
    pub fn path(&self) -> &Path {
        match self {
            Problem::Empty { dir } => dir,
            Problem::NoImage { label } => label,
            Problem::Duplicate { path, .. } => path,
            Problem::NoLabel { image } => image,
            Problem::NoInstance { label, .. } => label,
            Problem::UnreadableImage { path, .. }
            | Problem::UnreadableLabel { path, .. }
            | Problem::InstanceSizeMismatch { path, .. }
            | Problem::OutOfRange { path, .. } => path,
            Problem::SizeMismatch { image, .. } => image,
        }
    }

    /// A short machine-friendly kind, e.g. for the app's table.
    pub fn kind(&self) -> &'static str {
        match self {
            Problem::Empty { .. } => "empty",
            Problem::NoImage { .. } => "no-image",
            Problem::Duplicate { .. } => "duplicate",
            Problem::NoLabel { .. } => "no-label",
            Problem::NoInstance { .. } => "no-instance",
            Problem::UnreadableImage { .. } => "unreadable-image",
            Problem::UnreadableLabel { .. } => "unreadable-label",
            Problem::SizeMismatch { .. } => "size-mismatch",
            Problem::InstanceSizeMismatch { .. } => "instance-size-mismatch",
            Problem::OutOfRange { .. } => "class-out-of-range",
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Empty { dir } => write!(f, "{}: no files", dir.display()),
            Problem::NoImage { label } => {
                write!(
                    f,
                    "{}: label without a photo of the same name",
                    label.display()
                )
            }
            Problem::Duplicate { path, other } => write!(
                f,
                "{}: same name as {} (remove one of them)",
                path.display(),
                other.display()
            ),
            Problem::NoLabel { image } => {
                write!(
                    f,
                    "{}: photo without a label of the same name",
                    image.display()
                )
            }
            Problem::NoInstance { stem, label } => write!(
                f,
                "{}: no instance map `{stem}` although the dataset has instances",
                label.display()
            ),
            Problem::UnreadableImage { path, why } => {
                write!(f, "{}: unreadable photo ({why})", path.display())
            }
            Problem::UnreadableLabel { path, why } => write!(f, "{}: {why}", path.display()),
            Problem::SizeMismatch {
                image,
                image_size,
                label_size,
                ..
            } => write!(
                f,
                "{}: photo is {}x{} but its label map is {}x{}",
                image.display(),
                image_size[0],
                image_size[1],
                label_size[0],
                label_size[1]
            ),
            Problem::InstanceSizeMismatch {
                path,
                size,
                label_size,
            } => write!(
                f,
                "{}: instance map is {}x{} but its label map is {}x{}",
                path.display(),
                size[0],
                size[1],
                label_size[0],
                label_size[1]
            ),
            Problem::OutOfRange {
                path,
                value,
                count,
                classes,
                more,
            } => write!(
                f,
                "{}: class id {value} at {count} pixels is outside the dataset's {classes} classes (0..={}){more}",
                path.display(),
                classes.saturating_sub(1)
            ),
        }
    }
}

/// Why a dataset cannot be used at all.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("{0}: not a folder")]
    NotAFolder(PathBuf),
    #[error(
        "{dir}: no `{what}` folder (expected the SPADE custom layout: labels/, images/, classes.txt)"
    )]
    MissingFolder { dir: PathBuf, what: &'static str },
    #[error("{0}: no classes.txt (one class name per line) or palette")]
    NoClasses(PathBuf),
    #[error("{path}: {why}")]
    BadClasses { path: PathBuf, why: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the dataset has {count} problem(s); fix them or pass --skip-bad to train without the bad pairs:\n{report}"
    )]
    Problems { count: usize, report: String },
    #[error("no usable pair left in {0}")]
    NoUsablePair(PathBuf),
}

/// The outcome of [`scan`]: the classes, the pairs and every problem.
#[derive(Debug, Clone)]
pub struct DatasetScan {
    /// The dataset folder.
    pub root: PathBuf,
    /// Class names and colours.
    pub palette: Palette,
    /// Whether the dataset has instance maps.
    pub instance: bool,
    /// Every complete pair, in stem order (bad ones included; see [`DatasetScan::good_pairs`]).
    pub pairs: Vec<Pair>,
    /// Every problem, in file order.
    pub problems: Vec<Problem>,
    /// Stems of pairs that have a problem.
    pub bad_stems: BTreeSet<String>,
}

impl DatasetScan {
    /// Pairs without any problem.
    pub fn good_pairs(&self) -> Vec<Pair> {
        self.pairs
            .iter()
            .filter(|p| !self.bad_stems.contains(&p.stem))
            .cloned()
            .collect()
    }

    /// The report: one line per problem.
    pub fn report(&self) -> String {
        self.problems
            .iter()
            .map(|p| format!("  {p}"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Splits off a validation set: every `every`-th pair in stem order (the `every`-th, the
    /// `2 * every`-th, ...) is held out. Returns `(training, validation)` stems' pairs out of
    /// `pairs`; `every == 0` holds nothing out. The split depends only on the dataset's stems, so
    /// training and `gaugan eval` agree on it.
    pub fn split_validation(&self, pairs: Vec<Pair>, every: usize) -> (Vec<Pair>, Vec<Pair>) {
        if every == 0 {
            return (pairs, Vec::new());
        }
        let held: BTreeSet<&str> = self
            .pairs
            .iter()
            .enumerate()
            .filter(|(i, _)| (i + 1) % every == 0)
            .map(|(_, p)| p.stem.as_str())
            .collect();
        pairs
            .into_iter()
            .partition(|p| !held.contains(p.stem.as_str()))
    }

    /// The pairs to train on: all of them when the scan is clean; with problems, an error unless
    /// `skip_bad` (then the good pairs; an error if none is left).
    pub fn usable(&self, skip_bad: bool) -> Result<Vec<Pair>, DatasetError> {
        if !self.problems.is_empty() && !skip_bad {
            return Err(DatasetError::Problems {
                count: self.problems.len(),
                report: self.report(),
            });
        }
        let good = self.good_pairs();
        if good.is_empty() {
            return Err(DatasetError::NoUsablePair(self.root.clone()));
        }
        Ok(good)
    }
}

/// The sub-folder for `names` (first that exists).
fn sub_folder(root: &Path, names: &[&str]) -> Option<PathBuf> {
    names.iter().map(|n| root.join(n)).find(|p| p.is_dir())
}

/// Files of a folder by stem, those with one of `exts` (case-insensitive), sorted.
fn files_by_stem(
    dir: &Path,
    exts: &[&str],
) -> Result<(BTreeMap<String, PathBuf>, Vec<PathBuf>), DatasetError> {
    let io = |source| DatasetError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut map = BTreeMap::new();
    let mut duplicates = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    entries.sort();
    for p in entries {
        let ext_ok = p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| exts.iter().any(|x| e.eq_ignore_ascii_case(x)));
        if !ext_ok {
            continue;
        }
        let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
        match map.entry(stem) {
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(p);
            }
            std::collections::btree_map::Entry::Occupied(_) => duplicates.push(p),
        }
    }
    Ok((map, duplicates))
}

/// Reads `palette.txt`: `id name R G B` per line, `#` comments.
fn read_palette_txt(path: &Path) -> Result<Vec<(String, [u8; 3])>, DatasetError> {
    let text = std::fs::read_to_string(path).map_err(|source| DatasetError::Io {
        path: path.into(),
        source,
    })?;
    let bad = |why: String| DatasetError::BadClasses {
        path: path.into(),
        why,
    };
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 5 {
            return Err(bad(format!("line {}: expected `id name R G B`", n + 1)));
        }
        let id: usize = f[0]
            .parse()
            .map_err(|_| bad(format!("line {}: `{}` is not an id", n + 1, f[0])))?;
        if id != out.len() {
            return Err(bad(format!(
                "line {}: id {id}, expected {}",
                n + 1,
                out.len()
            )));
        }
        let c = |s: &str| {
            s.parse::<u8>().map_err(|_| {
                bad(format!(
                    "line {}: `{s}` is not a colour value 0..255",
                    n + 1
                ))
            })
        };
        let k = f.len();
        let name = f[1..k - 3].join(" ");
        out.push((name, [c(f[k - 3])?, c(f[k - 2])?, c(f[k - 1])?]));
    }
    Ok(out)
}

/// The dataset's classes: `palette.json`, else `classes.txt` (+ `palette.txt` colours).
pub fn read_classes(root: &Path) -> Result<Palette, DatasetError> {
    let json = root.join("palette.json");
    if json.is_file() {
        let text = std::fs::read_to_string(&json).map_err(|source| DatasetError::Io {
            path: json.clone(),
            source,
        })?;
        let p: Palette = serde_json::from_str(&text).map_err(|e| DatasetError::BadClasses {
            path: json.clone(),
            why: e.to_string(),
        })?;
        p.validate()
            .map_err(|why| DatasetError::BadClasses { path: json, why })?;
        return Ok(p);
    }
    let classes_txt = root.join("classes.txt");
    let palette_txt = root.join("palette.txt");
    let names: Option<Vec<String>> = if classes_txt.is_file() {
        let text = std::fs::read_to_string(&classes_txt).map_err(|source| DatasetError::Io {
            path: classes_txt.clone(),
            source,
        })?;
        Some(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    } else {
        None
    };
    let colours = if palette_txt.is_file() {
        Some(read_palette_txt(&palette_txt)?)
    } else {
        None
    };
    let names = match (names, &colours) {
        (Some(n), _) => n,
        (None, Some(c)) => c.iter().map(|(n, _)| n.clone()).collect(),
        (None, None) => return Err(DatasetError::NoClasses(root.to_path_buf())),
    };
    if names.is_empty() {
        return Err(DatasetError::BadClasses {
            path: classes_txt,
            why: "no class names".into(),
        });
    }
    if names.len() > u16::MAX as usize {
        return Err(DatasetError::BadClasses {
            path: classes_txt,
            why: format!("{} classes is too many", names.len()),
        });
    }
    let mut palette = Palette::from_names(&names);
    palette.name = root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "custom".into());
    if let Some(c) = colours {
        if c.len() != names.len() {
            return Err(DatasetError::BadClasses {
                path: palette_txt,
                why: format!(
                    "{} colours for the {} classes of classes.txt",
                    c.len(),
                    names.len()
                ),
            });
        }
        for (class, (_, rgb)) in palette.classes.iter_mut().zip(c) {
            class.color = rgb;
        }
    }
    // A known dataset keeps its credit (and name) wherever the trained weights go.
    for b in Palette::builtin_names().filter_map(Palette::builtin) {
        let same = b.classes.len() == palette.classes.len()
            && b.classes
                .iter()
                .zip(&palette.classes)
                .all(|(x, y)| x.name == y.name);
        if same {
            palette.credit = b.credit.clone();
            palette.name = b.name.clone();
        }
    }
    Ok(palette)
}

/// Checks one pair: decodes the photo, the label map and the instance map, compares sizes and
/// class ids. Returns the problems found.
fn check_pair(pair: &Pair, palette: &Palette) -> Vec<Problem> {
    let mut problems = Vec::new();
    let image_size = match crate::util::photo::read_rgb(&pair.image) {
        Ok(img) => Some([img.width(), img.height()]),
        Err(e) => {
            problems.push(Problem::UnreadableImage {
                path: pair.image.clone(),
                why: e.reason(),
            });
            None
        }
    };
    let label_size = match read_label_png(&pair.label, palette.len(), Some(palette)) {
        Ok(l) => Some([l.width() as u32, l.height() as u32]),
        Err(LabelError::OutOfRange {
            value,
            count,
            classes,
            more,
            ..
        }) => {
            problems.push(Problem::OutOfRange {
                path: pair.label.clone(),
                value,
                count,
                classes,
                more,
            });
            None
        }
        Err(e) => {
            problems.push(Problem::UnreadableLabel {
                path: pair.label.clone(),
                why: strip_path(&e.to_string(), &pair.label),
            });
            None
        }
    };
    if let (Some(i), Some(l)) = (image_size, label_size)
        && i != l
    {
        problems.push(Problem::SizeMismatch {
            stem: pair.stem.clone(),
            image: pair.image.clone(),
            image_size: i,
            label_size: l,
        });
    }
    if let Some(inst) = &pair.instance {
        match read_instance_png(inst) {
            Ok(m) => {
                let s = [m.width() as u32, m.height() as u32];
                if let Some(l) = label_size
                    && s != l
                {
                    problems.push(Problem::InstanceSizeMismatch {
                        path: inst.clone(),
                        size: s,
                        label_size: l,
                    });
                }
            }
            Err(e) => problems.push(Problem::UnreadableLabel {
                path: inst.clone(),
                why: strip_path(&e.to_string(), inst),
            }),
        }
    }
    problems
}

/// Drops a leading `path: ` from an error message (the report prints the path itself).
fn strip_path(msg: &str, path: &Path) -> String {
    let prefix = format!("{}: ", path.display());
    msg.strip_prefix(&prefix).unwrap_or(msg).to_owned()
}

/// Scans a dataset folder: pairs files by stem and checks every pair (on all cores).
pub fn scan(root: &Path) -> Result<DatasetScan, DatasetError> {
    if !root.is_dir() {
        return Err(DatasetError::NotAFolder(root.to_path_buf()));
    }
    let labels_dir =
        sub_folder(root, &["labels", "train_label"]).ok_or(DatasetError::MissingFolder {
            dir: root.to_path_buf(),
            what: "labels",
        })?;
    let images_dir =
        sub_folder(root, &["images", "train_img"]).ok_or(DatasetError::MissingFolder {
            dir: root.to_path_buf(),
            what: "images",
        })?;
    let instances_dir = sub_folder(root, &["instances", "train_inst"]);
    let palette = read_classes(root)?;

    let (labels, dup_labels) = files_by_stem(&labels_dir, &["png"])?;
    let (images, dup_images) = files_by_stem(&images_dir, &IMAGE_EXTS)?;
    let instances = match &instances_dir {
        Some(d) => Some(files_by_stem(d, &["png"])?.0),
        None => None,
    };

    let mut problems = Vec::new();
    let mut bad_stems = BTreeSet::new();
    if labels.is_empty() {
        problems.push(Problem::Empty { dir: labels_dir });
    }
    if images.is_empty() {
        problems.push(Problem::Empty { dir: images_dir });
    }
    for (dups, map) in [(dup_images, &images), (dup_labels, &labels)] {
        for p in dups {
            let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
            bad_stems.insert(stem.clone());
            problems.push(Problem::Duplicate {
                other: map[&stem].clone(),
                path: p,
            });
        }
    }
    let mut pairs = Vec::new();
    for (stem, label) in &labels {
        match images.get(stem) {
            Some(image) => {
                let instance = instances.as_ref().and_then(|m| m.get(stem).cloned());
                if instances.is_some() && instance.is_none() {
                    problems.push(Problem::NoInstance {
                        stem: stem.clone(),
                        label: label.clone(),
                    });
                    bad_stems.insert(stem.clone());
                }
                pairs.push(Pair {
                    stem: stem.clone(),
                    label: label.clone(),
                    image: image.clone(),
                    instance,
                });
            }
            None => problems.push(Problem::NoImage {
                label: label.clone(),
            }),
        }
    }
    for (stem, image) in &images {
        if !labels.contains_key(stem) {
            problems.push(Problem::NoLabel {
                image: image.clone(),
            });
        }
    }

    // Decode everything, on all cores.
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(pairs.len().max(1));
    let chunk = pairs.len().div_ceil(threads).max(1);
    let found: Vec<Vec<Problem>> = std::thread::scope(|s| {
        let handles: Vec<_> = pairs
            .chunks(chunk)
            .map(|c| {
                let palette = &palette;
                s.spawn(move || c.iter().map(|p| check_pair(p, palette)).collect::<Vec<_>>())
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("scan thread"))
            .collect()
    });
    for (pair, ps) in pairs.iter().zip(found) {
        if !ps.is_empty() {
            bad_stems.insert(pair.stem.clone());
        }
        problems.extend(ps);
    }
    problems.sort_by(|a, b| a.path().cmp(b.path()));
    Ok(DatasetScan {
        root: root.to_path_buf(),
        instance: instances_dir.is_some(),
        palette,
        pairs,
        problems,
        bad_stems,
    })
}

/// How samples are prepared.
#[derive(Debug, Clone)]
pub struct Preprocess {
    /// Side of the square crop fed to the model.
    pub size: usize,
    /// The shorter side is scaled to this before cropping (official `load_size`).
    pub load_size: usize,
    /// Random horizontal flips.
    pub flip: bool,
    /// Class count (dontcare included): the one-hot width.
    pub classes: usize,
    /// Whether the model reads an instance-edge channel.
    pub instance: bool,
    /// For colour label PNGs.
    pub palette: Palette,
}

impl Preprocess {
    /// Semantic channels.
    pub fn semantic_nc(&self) -> usize {
        self.classes + self.instance as usize
    }
}

/// One prepared sample.
#[derive(Debug, Clone)]
pub struct Sample {
    /// `[semantic_nc, S, S]`: one-hot classes (+ instance edges).
    pub semantics: Vec<f32>,
    /// `[3, S, S]` in `[-1, 1]`.
    pub image: Vec<f32>,
    /// `[S, S]` class ids (for previews).
    pub labels: Vec<u16>,
}

/// A pair decoded and scaled to the load size, before the random crop: what every epoch reuses.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// The photo, shorter side scaled to the load size.
    pub photo: RgbImage,
    /// Its labels at the same size (nearest).
    pub labels: LabelMap,
    /// Its instance map at the same size, when the model reads instance edges.
    pub instance: Option<InstanceMap>,
}

impl Decoded {
    /// Bytes held in memory.
    pub fn bytes(&self) -> usize {
        self.photo.as_raw().len()
            + self.labels.data().len() * 2
            + self.instance.as_ref().map_or(0, |i| i.data().len() * 4)
    }
}

/// Decodes one pair and scales its shorter side to the load size (photos bicubic, label and
/// instance maps nearest, like the official `scale_shortside`).
pub fn decode_pair(pair: &Pair, pre: &Preprocess) -> Result<Decoded, String> {
    let photo = crate::util::photo::read_rgb(&pair.image).map_err(|e| e.to_string())?;
    let labels =
        read_label_png(&pair.label, pre.classes, Some(&pre.palette)).map_err(|e| e.to_string())?;
    let instance = match (&pair.instance, pre.instance) {
        (Some(p), true) => Some(read_instance_png(p).map_err(|e| e.to_string())?),
        _ => None,
    };
    let (w, h) = (labels.width(), labels.height());
    if (photo.width() as usize, photo.height() as usize) != (w, h) {
        return Err(format!(
            "{}: photo is {}x{} but its label map is {w}x{h}",
            pair.image.display(),
            photo.width(),
            photo.height()
        ));
    }
    if let Some(i) = &instance
        && (i.width(), i.height()) != (w, h)
    {
        return Err(format!(
            "{}: instance map is {}x{} but its label map is {w}x{h}",
            pair.instance
                .as_ref()
                .map_or(Path::new(""), |p| p)
                .display(),
            i.width(),
            i.height()
        ));
    }
    // Scale the shorter side to load_size (never below the crop).
    let load = pre.load_size.max(pre.size);
    let (nw, nh) = if w <= h {
        (load, (load * h / w).max(load))
    } else {
        ((load * w / h).max(load), load)
    };
    let photo = if (nw, nh) != (w, h) {
        image::imageops::resize(
            &photo,
            nw as u32,
            nh as u32,
            image::imageops::FilterType::CatmullRom,
        )
    } else {
        photo
    };
    Ok(Decoded {
        photo,
        labels: labels.resize_nearest(nw, nh),
        instance: instance.map(|i| i.resize_nearest(nw, nh)),
    })
}

/// Loads and prepares one pair. `rng` draws the crop and flip; without it the crop is centred and
/// not flipped (previews).
pub fn load_sample(
    pair: &Pair,
    pre: &Preprocess,
    rng: Option<&mut SplitMix>,
) -> Result<Sample, String> {
    Ok(crop_sample(&decode_pair(pair, pre)?, pre, rng))
}

/// The training sample from a decoded pair: a `size x size` crop (random with `rng`, else
/// centred), flipped half the time with `rng` when flips are on, encoded for the generator.
pub fn crop_sample(d: &Decoded, pre: &Preprocess, rng: Option<&mut SplitMix>) -> Sample {
    let (nw, nh) = (d.labels.width(), d.labels.height());
    let (x0, y0, flip) = match rng {
        Some(r) => (
            r.below_or_eq(nw - pre.size),
            r.below_or_eq(nh - pre.size),
            pre.flip && r.uniform() > 0.5,
        ),
        None => ((nw - pre.size) / 2, (nh - pre.size) / 2, false),
    };
    let s = pre.size;
    let src_x = |x: usize| if flip { x0 + s - 1 - x } else { x0 + x };
    let mut label_crop = Vec::with_capacity(s * s);
    for y in 0..s {
        for x in 0..s {
            label_crop.push(d.labels.get(src_x(x), y0 + y));
        }
    }
    let label_crop = LabelMap::from_vec(s, s, label_crop).expect("s*s ids");
    let inst_crop = d.instance.as_ref().map(|i| {
        let mut v = Vec::with_capacity(s * s);
        for y in 0..s {
            for x in 0..s {
                v.push(i.data()[(y0 + y) * nw + src_x(x)]);
            }
        }
        InstanceMap::from_vec(s, s, v).expect("s*s ids")
    });
    let mut sem = semantics(&label_crop, pre.classes, inst_crop.as_ref());
    if pre.instance && inst_crop.is_none() {
        sem.resize(sem.len() + s * s, 0.0);
    }
    Sample {
        semantics: sem,
        image: crop_photo(&d.photo, x0, y0, s, flip),
        labels: label_crop.data().to_vec(),
    }
}

/// Decoded pairs kept in memory between epochs, up to a byte budget (pairs beyond it are decoded
/// again each time they come up). JPEG decoding and resizing cost more than the crop; on a small
/// machine they would otherwise compete with training for the same cores every step.
#[derive(Debug)]
pub struct DecodeCache {
    slots: Mutex<Vec<Option<Arc<Decoded>>>>,
    used: AtomicUsize,
    budget: usize,
}

impl DecodeCache {
    /// A cache for `pairs` pairs holding at most `budget` bytes.
    pub fn new(pairs: usize, budget: usize) -> Self {
        Self {
            slots: Mutex::new(vec![None; pairs]),
            used: AtomicUsize::new(0),
            budget,
        }
    }

    /// The decoded pair `index`, from memory or freshly decoded (and kept while the budget lasts).
    pub fn get(&self, index: usize, pair: &Pair, pre: &Preprocess) -> Result<Arc<Decoded>, String> {
        if let Some(d) = self.slots.lock().unwrap_or_else(|e| e.into_inner())[index].clone() {
            return Ok(d);
        }
        let d = Arc::new(decode_pair(pair, pre)?);
        let bytes = d.bytes();
        if self.used.load(Ordering::Relaxed) + bytes <= self.budget {
            let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            if slots[index].is_none() {
                self.used.fetch_add(bytes, Ordering::Relaxed);
                slots[index] = Some(d.clone());
            }
        }
        Ok(d)
    }
}

/// `[3, s, s]` in `[-1, 1]` from a crop of `img`.
fn crop_photo(img: &RgbImage, x0: usize, y0: usize, s: usize, flip: bool) -> Vec<f32> {
    let hw = s * s;
    let mut out = vec![0.0f32; 3 * hw];
    for y in 0..s {
        for x in 0..s {
            let sx = if flip { x0 + s - 1 - x } else { x0 + x };
            let px = img.get_pixel(sx as u32, (y0 + y) as u32).0;
            for c in 0..3 {
                out[c * hw + y * s + x] = px[c] as f32 / 255.0 * 2.0 - 1.0;
            }
        }
    }
    out
}

/// A batch of samples, stacked.
#[derive(Debug, Clone)]
pub struct Batch {
    /// The training step it is for.
    pub step: usize,
    /// Samples in the batch.
    pub len: usize,
    /// Crop side.
    pub size: usize,
    /// `[B, semantic_nc, S, S]`.
    pub semantics: Vec<f32>,
    /// `[B, 3, S, S]`.
    pub images: Vec<f32>,
    /// `[B, S, S]`.
    pub labels: Vec<u16>,
    /// The pairs' stems.
    pub stems: Vec<String>,
}

impl Batch {
    /// Stacks samples.
    pub fn stack(step: usize, size: usize, samples: Vec<(String, Sample)>) -> Self {
        let mut b = Batch {
            step,
            len: samples.len(),
            size,
            semantics: Vec::new(),
            images: Vec::new(),
            labels: Vec::new(),
            stems: Vec::new(),
        };
        for (stem, s) in samples {
            b.semantics.extend(s.semantics);
            b.images.extend(s.image);
            b.labels.extend(s.labels);
            b.stems.push(stem);
        }
        b
    }
}

/// The data order: which pair is the `position`-th sample of the run. Each epoch is a fresh
/// permutation drawn from `(seed, epoch)`.
#[derive(Debug, Clone)]
pub struct DataOrder {
    seed: u64,
    n: usize,
    cached: Option<(usize, Vec<usize>)>,
}

impl DataOrder {
    /// Order over `n` pairs.
    pub fn new(seed: u64, n: usize) -> Self {
        Self {
            seed,
            n,
            cached: None,
        }
    }

    /// Index of the pair at `position`.
    pub fn index(&mut self, position: usize) -> usize {
        let epoch = position / self.n;
        if self.cached.as_ref().is_none_or(|(e, _)| *e != epoch) {
            let mut perm: Vec<usize> = (0..self.n).collect();
            SplitMix::new(self.seed, stream::ORDER, epoch as u64).shuffle(&mut perm);
            self.cached = Some((epoch, perm));
        }
        self.cached.as_ref().unwrap().1[position % self.n]
    }
}

/// Loads the batch of `step`: pure function of `(seed, step)`.
pub fn load_batch(
    pairs: &[Pair],
    pre: &Preprocess,
    cache: &DecodeCache,
    order: &mut DataOrder,
    seed: u64,
    batch: usize,
    step: usize,
) -> Result<Batch, String> {
    let mut samples = Vec::with_capacity(batch);
    for j in 0..batch {
        let position = step * batch + j;
        let index = order.index(position);
        let pair = &pairs[index];
        let decoded = cache.get(index, pair, pre)?;
        let mut rng = SplitMix::new(seed, stream::AUGMENT, position as u64);
        samples.push((
            pair.stem.clone(),
            crop_sample(&decoded, pre, Some(&mut rng)),
        ));
    }
    Ok(Batch::stack(step, pre.size, samples))
}

/// Batches prepared ahead on background threads: worker `w` of `W` prepares the steps
/// `start + w, start + w + W, ...` into its own bounded channel, so batches come out in step order
/// while decoding runs in parallel with training.
pub struct BatchLoader {
    receivers: Vec<Receiver<Result<Batch, String>>>,
    next: usize,
    start: usize,
    end: usize,
    handles: Vec<JoinHandle<()>>,
}

impl BatchLoader {
    /// Starts `workers` threads preparing the batches of steps `start..end`, each at most
    /// `prefetch` batches ahead.
    pub fn start(
        pairs: Arc<Vec<Pair>>,
        pre: Preprocess,
        seed: u64,
        batch: usize,
        (start, end): (usize, usize),
        workers: usize,
        prefetch: usize,
    ) -> Self {
        let workers = workers.max(1);
        let cache = Arc::new(DecodeCache::new(pairs.len(), DECODE_CACHE_BYTES));
        let mut receivers = Vec::with_capacity(workers);
        let mut handles = Vec::with_capacity(workers);
        for w in 0..workers {
            let (tx, rx): (SyncSender<Result<Batch, String>>, _) = sync_channel(prefetch.max(1));
            let pairs = pairs.clone();
            let pre = pre.clone();
            let cache = cache.clone();
            let handle = std::thread::Builder::new()
                .name(format!("gaugan-data-{w}"))
                .spawn(move || {
                    let mut order = DataOrder::new(seed, pairs.len());
                    let mut step = start + w;
                    while step < end {
                        let b = load_batch(&pairs, &pre, &cache, &mut order, seed, batch, step);
                        let failed = b.is_err();
                        if tx.send(b).is_err() || failed {
                            return;
                        }
                        step += workers;
                    }
                })
                .expect("spawning a data thread");
            receivers.push(rx);
            handles.push(handle);
        }
        Self {
            receivers,
            next: start,
            start,
            end,
            handles,
        }
    }

    /// The next batch in step order; `None` after the last step.
    pub fn next_batch(&mut self) -> Option<Result<Batch, String>> {
        if self.next >= self.end {
            return None;
        }
        let w = (self.next - self.start) % self.receivers.len();
        self.next += 1;
        Some(
            self.receivers[w]
                .recv()
                .unwrap_or_else(|_| Err("a data-loading thread stopped".into())),
        )
    }
}

impl Drop for BatchLoader {
    fn drop(&mut self) {
        // Closing the channels ends the workers at their next send.
        self.receivers.clear();
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
    }
}
