//! Files: native file dialogs run off the UI thread, the messages shown in the window, reading and
//! writing label maps, photos and style images, and the autosave with crash recovery.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant, SystemTime};

use image::RgbImage;

use crate::labels::png_io::{decode_label_png, encode_label_png};
use crate::labels::{LabelMap, Palette};
use crate::util::atomic::write_atomic;

/// What a file dialog is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// Open a label map PNG.
    OpenLabels,
    /// Save the label map as PNG.
    SaveLabels,
    /// Save the photo as PNG.
    SavePhoto,
    /// Open a model (.gaugan or official .pth).
    OpenModel,
    /// Open an official encoder .pth (import dialog).
    OpenEncoder,
    /// Open a style image.
    OpenStyle,
    /// Choose a training dataset folder (Train tab).
    TrainData,
    /// Choose a training run folder (Train tab).
    TrainRun,
}

impl FileKind {
    fn is_save(self) -> bool {
        matches!(self, FileKind::SaveLabels | FileKind::SavePhoto)
    }

    fn is_folder(self) -> bool {
        matches!(self, FileKind::TrainData | FileKind::TrainRun)
    }

    fn title(self) -> &'static str {
        match self {
            FileKind::OpenLabels => "Open label map",
            FileKind::SaveLabels => "Save label map",
            FileKind::SavePhoto => "Save photo",
            FileKind::OpenModel => "Open model",
            FileKind::OpenEncoder => "Open encoder checkpoint",
            FileKind::OpenStyle => "Open style image",
            FileKind::TrainData => "Choose the dataset folder",
            FileKind::TrainRun => "Choose the run folder",
        }
    }

    fn filter(self) -> (&'static str, &'static [&'static str]) {
        match self {
            FileKind::OpenLabels | FileKind::SaveLabels | FileKind::SavePhoto => {
                ("PNG image", &["png"])
            }
            FileKind::OpenModel => (
                "gaugan model or PyTorch checkpoint",
                &["gaugan", "pth", "pt"],
            ),
            FileKind::OpenEncoder => ("PyTorch checkpoint", &["pth", "pt"]),
            FileKind::OpenStyle => ("Image", &["png", "jpg", "jpeg"]),
            FileKind::TrainData | FileKind::TrainRun => ("Folder", &[]),
        }
    }
}

/// How serious a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Information.
    Info,
    /// Something failed.
    Error,
}

/// A message shown in the window until dismissed (info fades after a while).
#[derive(Debug, Clone)]
pub struct Message {
    /// How serious.
    pub level: Level,
    /// The text.
    pub text: String,
    /// When it appeared.
    pub at: Instant,
}

/// Messages and file dialogs, shared by the tabs.
pub struct Shell {
    messages: Vec<Message>,
    dialog_tx: Sender<(FileKind, Option<PathBuf>)>,
    dialog_rx: Receiver<(FileKind, Option<PathBuf>)>,
    dialog_open: bool,
    /// Folder the last file came from.
    pub last_dir: Option<PathBuf>,
}

impl Default for Shell {
    fn default() -> Self {
        let (dialog_tx, dialog_rx) = channel();
        Self {
            messages: Vec::new(),
            dialog_tx,
            dialog_rx,
            dialog_open: false,
            last_dir: None,
        }
    }
}

/// How long info messages stay.
const INFO_TTL: Duration = Duration::from_secs(8);

impl Shell {
    /// Shows an error.
    pub fn error(&mut self, text: impl Into<String>) {
        self.push(Level::Error, text.into());
    }

    /// Shows an information.
    pub fn info(&mut self, text: impl Into<String>) {
        self.push(Level::Info, text.into());
    }

    fn push(&mut self, level: Level, text: String) {
        self.messages.push(Message {
            level,
            text,
            at: Instant::now(),
        });
        if self.messages.len() > 8 {
            self.messages.remove(0);
        }
    }

    /// Current messages, oldest first.
    pub fn messages(&self) -> &[Message] {
        &self.messages
    }

    /// Removes message `i`.
    pub fn dismiss(&mut self, i: usize) {
        if i < self.messages.len() {
            self.messages.remove(i);
        }
    }

    /// Drops info messages older than their time to live; returns how long until the next one
    /// expires.
    pub fn expire(&mut self) -> Option<Duration> {
        let now = Instant::now();
        self.messages
            .retain(|m| m.level == Level::Error || now.duration_since(m.at) < INFO_TTL);
        self.messages
            .iter()
            .filter(|m| m.level == Level::Info)
            .map(|m| INFO_TTL.saturating_sub(now.duration_since(m.at)))
            .min()
    }

    /// Whether a dialog is open.
    pub fn dialog_open(&self) -> bool {
        self.dialog_open
    }

    /// Opens a native file dialog on its own thread (the UI keeps running); its answer comes
    /// from [`Self::poll_dialog`].
    pub fn open_dialog(&mut self, kind: FileKind, ctx: &egui::Context, file_name: Option<&str>) {
        if self.dialog_open {
            return;
        }
        self.dialog_open = true;
        let tx = self.dialog_tx.clone();
        let ctx = ctx.clone();
        let dir = self.last_dir.clone();
        let file_name = file_name.map(str::to_owned);
        let spawned = std::thread::Builder::new()
            .name("gaugan-file-dialog".into())
            .spawn(move || {
                let (name, ext) = kind.filter();
                let mut d = rfd::FileDialog::new().set_title(kind.title());
                if !kind.is_folder() {
                    d = d.add_filter(name, ext);
                }
                if let Some(dir) = dir {
                    d = d.set_directory(dir);
                }
                if let Some(f) = file_name {
                    d = d.set_file_name(f);
                }
                let path = if kind.is_folder() {
                    d.pick_folder()
                } else if kind.is_save() {
                    d.save_file()
                } else {
                    d.pick_file()
                };
                let _ = tx.send((kind, path));
                ctx.request_repaint();
            });
        if spawned.is_err() {
            self.dialog_open = false;
            self.error("could not open a file dialog (no thread)");
        }
    }

    /// The answer of the file dialog, once it is closed: the kind and the chosen path.
    pub fn poll_dialog(&mut self) -> Option<(FileKind, PathBuf)> {
        match self.dialog_rx.try_recv() {
            Ok((kind, path)) => {
                self.dialog_open = false;
                let path = path?;
                self.last_dir = path.parent().map(Path::to_path_buf);
                Some((kind, path))
            }
            Err(_) => None,
        }
    }
}

/// Reads a label map PNG (ids, or colours of `palette`), checked against the palette's classes.
pub fn read_labels(path: &Path, palette: &Palette) -> Result<LabelMap, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    decode_labels(&bytes, &path.display().to_string(), palette)
}

/// [`read_labels`] on bytes; `name` appears in errors.
pub fn decode_labels(bytes: &[u8], name: &str, palette: &Palette) -> Result<LabelMap, String> {
    decode_label_png(bytes, name, palette.len(), Some(palette)).map_err(|e| e.to_string())
}

/// Writes a label map as an indexed PNG in the palette's colours (atomically).
pub fn write_labels(path: &Path, labels: &LabelMap, palette: &Palette) -> Result<(), String> {
    write_atomic(path, &encode_label_png(labels, Some(palette)))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Writes an RGB image as PNG (atomically).
pub fn write_png(path: &Path, image: &RgbImage) -> Result<(), String> {
    let mut bytes = Vec::new();
    image
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .map_err(|e| format!("{}: {e}", path.display()))?;
    write_atomic(path, &bytes).map_err(|e| format!("{}: {e}", path.display()))
}

/// Decodes a style image (PNG or JPEG) from bytes; `name` appears in errors.
pub fn decode_image(bytes: &[u8], name: &str) -> Result<RgbImage, String> {
    let reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| format!("{name}: {e}"))?;
    let mut reader = reader;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(16_384);
    limits.max_image_height = Some(16_384);
    limits.max_alloc = Some(1 << 30);
    reader.limits(limits);
    reader
        .decode()
        .map(|i| i.to_rgb8())
        .map_err(|e| format!("{name}: not a readable image ({e})"))
}

/// Whether a path looks like a model file.
pub fn is_model_path(path: &Path) -> bool {
    path.extension().is_some_and(|e| {
        ["gaugan", "pth", "pt"]
            .iter()
            .any(|m| e.eq_ignore_ascii_case(m))
    })
}

/// Whether a path is an official PyTorch checkpoint.
pub fn is_pth_path(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("pth") || e.eq_ignore_ascii_case("pt"))
}

/// Autosave of the painting into a folder: `autosave.png` shortly after each change, and a
/// `clean-exit` marker written when the app closes normally. An autosave newer than the marker
/// means the last session crashed, and the app offers the painting back.
pub struct Autosave {
    dir: Option<PathBuf>,
    saved_revision: Option<u64>,
    changed_at: Option<Instant>,
    /// Time after the last change before saving.
    pub delay: Duration,
}

impl Autosave {
    /// Autosaving into `dir` (`None`: nowhere).
    pub fn new(dir: Option<PathBuf>) -> Self {
        Self {
            dir,
            saved_revision: None,
            changed_at: None,
            delay: Duration::from_secs(3),
        }
    }

    /// The folder.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The autosave file.
    pub fn file(&self) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.join("autosave.png"))
    }

    fn marker(&self) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.join("clean-exit"))
    }

    /// The revision the next save starts from (e.g. the first one shown).
    pub fn mark_saved(&mut self, revision: u64) {
        self.saved_revision = Some(revision);
        self.changed_at = None;
    }

    /// Notes the document's revision; saves once it has not changed for [`Self::delay`].
    /// Returns how long to wait before calling again (`None`: nothing pending), or an error.
    pub fn tick(
        &mut self,
        revision: u64,
        labels: &LabelMap,
        palette: &Palette,
    ) -> Result<Option<Duration>, String> {
        if self.dir.is_none() || self.saved_revision == Some(revision) {
            self.changed_at = None;
            return Ok(None);
        }
        let now = Instant::now();
        let changed_at = *self.changed_at.get_or_insert(now);
        let waited = now.duration_since(changed_at);
        if waited < self.delay {
            return Ok(Some(self.delay - waited));
        }
        self.save_now(revision, labels, palette)?;
        Ok(None)
    }

    /// Saves immediately.
    pub fn save_now(
        &mut self,
        revision: u64,
        labels: &LabelMap,
        palette: &Palette,
    ) -> Result<(), String> {
        let Some(file) = self.file() else {
            return Ok(());
        };
        if let Some(d) = &self.dir {
            std::fs::create_dir_all(d).map_err(|e| format!("autosave: {}: {e}", d.display()))?;
        }
        // Marked first: a failing disk is reported once, not every frame.
        self.saved_revision = Some(revision);
        self.changed_at = None;
        write_labels(&file, labels, palette).map_err(|e| format!("autosave failed: {e}"))
    }

    /// Records a clean exit (call after the last save).
    pub fn clean_exit(&self) -> Result<(), String> {
        let Some(marker) = self.marker() else {
            return Ok(());
        };
        write_atomic(&marker, crate::written_by().as_bytes())
            .map_err(|e| format!("{}: {e}", marker.display()))
    }

    /// The autosave file if the last session ended without a clean exit after it.
    pub fn crashed_session(&self) -> Option<PathBuf> {
        let file = self.file()?;
        let saved = modified(&file)?;
        match self.marker().and_then(|m| modified(&m)) {
            Some(clean) if clean >= saved => None,
            _ => Some(file),
        }
    }

    /// Forgets the autosave (after recovery was declined or done).
    pub fn discard_recovery(&self) {
        let _ = self.clean_exit();
    }
}

fn modified(p: &Path) -> Option<SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}
