//! Training checkpoints: one folder per saved step,
//!
//! ```text
//! RUN/checkpoints/step_00001000/model.gaugan         generator (+ encoder): a gaugan model file
//! RUN/checkpoints/step_00001000/train-state.safetensors
//!                                                    discriminator, both optimizers' moments,
//!                                                    step, configuration, data fingerprint
//! RUN/model.gaugan                                   a copy of the newest model file
//! ```
//!
//! A checkpoint is written into a hidden `.step_XXXXXXXX.partial-PID` folder (each file through
//! [`crate::util::atomic`], flushed to disk), which is then renamed into place: a run killed at any
//! moment leaves the previous checkpoints complete, and [`latest`] never sees half of one.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::TrainConfig;
use crate::checkpoint::{ModelFile, StateDict, StateTensor};
use crate::util::atomic::write_atomic;

/// Format tag of the training-state file.
pub const STATE_FORMAT: &str = "gaugan-train-state";
/// Its version.
pub const STATE_VERSION: u32 = 1;
/// Model file name inside a checkpoint folder.
pub const MODEL_FILE: &str = "model.gaugan";
/// Training-state file name inside a checkpoint folder.
pub const STATE_FILE: &str = "train-state.safetensors";

/// Everything besides the generator needed to continue a run.
#[derive(Debug, Clone)]
pub struct TrainState {
    /// Steps done.
    pub step: usize,
    /// The run's configuration.
    pub config: TrainConfig,
    /// Number of training pairs and a hash of their stems (the data order depends on them).
    pub data: DataFingerprint,
    /// Discriminator weights (official-style names).
    pub discriminator: StateDict,
    /// Generator(+encoder) optimizer moments, by parameter position.
    pub adam_g: StateDict,
    /// Their step counts.
    pub adam_g_times: BTreeMap<usize, usize>,
    /// Discriminator optimizer moments.
    pub adam_d: StateDict,
    /// Their step counts.
    pub adam_d_times: BTreeMap<usize, usize>,
}

/// What the data order of a run depends on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataFingerprint {
    /// Number of pairs trained on.
    pub pairs: usize,
    /// FNV-1a hash of their stems, in order (as a string: JSON numbers lose 64-bit precision).
    pub stems: String,
}

impl DataFingerprint {
    /// Fingerprint of a list of stems.
    pub fn of<'a>(stems: impl Iterator<Item = &'a str>) -> Self {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut n = 0;
        for s in stems {
            n += 1;
            for b in s.bytes().chain([0u8]) {
                h ^= b as u64;
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        }
        Self {
            pairs: n,
            stems: format!("{h:016x}"),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct StateMeta {
    step: usize,
    config: TrainConfig,
    data: DataFingerprint,
    adam_g_times: BTreeMap<usize, usize>,
    adam_d_times: BTreeMap<usize, usize>,
}

/// Why a checkpoint could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a gaugan training state ({why})")]
    Invalid { path: String, why: String },
    #[error(transparent)]
    Model(#[from] crate::checkpoint::ModelFileError),
}

fn serialize(groups: &[(&str, &StateDict)], meta: HashMap<String, String>) -> Vec<u8> {
    let mut bufs: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (prefix, sd) in groups {
        for (k, t) in sd.iter() {
            let bytes = t.data.iter().flat_map(|v| v.to_le_bytes()).collect();
            bufs.push((format!("{prefix}{k}"), t.shape.clone(), bytes));
        }
    }
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = bufs
        .iter()
        .map(|(k, shape, b)| {
            (
                k.clone(),
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), b)
                    .expect("sizes agree"),
            )
        })
        .collect();
    safetensors::serialize(views, Some(meta)).expect("serialising to memory")
}

impl TrainState {
    /// Serialises to a safetensors file image.
    pub fn to_bytes(&self) -> Vec<u8> {
        let meta = StateMeta {
            step: self.step,
            config: self.config.clone(),
            data: self.data.clone(),
            adam_g_times: self.adam_g_times.clone(),
            adam_d_times: self.adam_d_times.clone(),
        };
        let mut m = HashMap::new();
        m.insert("format".to_owned(), STATE_FORMAT.to_owned());
        m.insert("version".to_owned(), STATE_VERSION.to_string());
        m.insert("state".to_owned(), serde_json::to_string(&meta).unwrap());
        m.insert("written_by".to_owned(), crate::written_by());
        serialize(
            &[
                ("netD.", &self.discriminator),
                ("adamG.", &self.adam_g),
                ("adamD.", &self.adam_d),
            ],
            m,
        )
    }

    /// Parses a training-state file image; `name` appears in errors.
    pub fn from_bytes(bytes: &[u8], name: &str) -> Result<Self, CheckpointError> {
        let invalid = |why: String| CheckpointError::Invalid {
            path: name.into(),
            why,
        };
        let st = safetensors::SafeTensors::deserialize(bytes)
            .map_err(|e| invalid(format!("not a safetensors file: {e}")))?;
        let (_, header) =
            safetensors::SafeTensors::read_metadata(bytes).map_err(|e| invalid(e.to_string()))?;
        let meta = header.metadata().clone().unwrap_or_default();
        if meta.get("format").map(String::as_str) != Some(STATE_FORMAT) {
            return Err(invalid("no gaugan training-state metadata".into()));
        }
        let version: u32 = meta
            .get("version")
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| invalid("no version".into()))?;
        if version > STATE_VERSION {
            return Err(invalid(format!(
                "version {version} is newer than this gaugan understands ({STATE_VERSION})"
            )));
        }
        let m: StateMeta = serde_json::from_str(
            meta.get("state")
                .ok_or_else(|| invalid("no `state` metadata".into()))?,
        )
        .map_err(|e| invalid(format!("state: {e}")))?;
        let (mut d, mut g_opt, mut d_opt) = Default::default();
        for (k, view) in st.iter() {
            if view.dtype() != safetensors::Dtype::F32 {
                return Err(invalid(format!("tensor `{k}` is not F32")));
            }
            let data: Vec<f32> = view
                .data()
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                .collect();
            let t = StateTensor::new(view.shape().to_vec(), data);
            let (sd, key): (&mut StateDict, &str) = if let Some(k) = k.strip_prefix("netD.") {
                (&mut d, k)
            } else if let Some(k) = k.strip_prefix("adamG.") {
                (&mut g_opt, k)
            } else if let Some(k) = k.strip_prefix("adamD.") {
                (&mut d_opt, k)
            } else {
                return Err(invalid(format!("unknown tensor `{k}`")));
            };
            sd.insert(key, t);
        }
        Ok(Self {
            step: m.step,
            config: m.config,
            data: m.data,
            discriminator: d,
            adam_g: g_opt,
            adam_g_times: m.adam_g_times,
            adam_d: d_opt,
            adam_d_times: m.adam_d_times,
        })
    }

    /// Reads a training-state file.
    pub fn load(path: &Path) -> Result<Self, CheckpointError> {
        let bytes = std::fs::read(path).map_err(|source| CheckpointError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_bytes(&bytes, &path.display().to_string())
    }
}

/// The checkpoints folder of a run.
pub fn checkpoints_dir(run: &Path) -> PathBuf {
    run.join("checkpoints")
}

/// The folder of the checkpoint at `step`.
pub fn step_dir(run: &Path, step: usize) -> PathBuf {
    checkpoints_dir(run).join(format!("step_{step:08}"))
}

/// Complete checkpoints of a run, oldest first: `(step, folder)`.
pub fn list(run: &Path) -> Vec<(usize, PathBuf)> {
    let Ok(rd) = std::fs::read_dir(checkpoints_dir(run)) else {
        return Vec::new();
    };
    let mut out: Vec<(usize, PathBuf)> = rd
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let step = name.strip_prefix("step_")?.parse().ok()?;
            let dir = e.path();
            (dir.join(MODEL_FILE).is_file() && dir.join(STATE_FILE).is_file())
                .then_some((step, dir))
        })
        .collect();
    out.sort();
    out
}

/// The newest checkpoint whose files both load: `(step, model, state)`.
pub fn latest(run: &Path) -> Option<(usize, ModelFile, TrainState)> {
    for (step, dir) in list(run).into_iter().rev() {
        let model = ModelFile::load(&dir.join(MODEL_FILE));
        let state = TrainState::load(&dir.join(STATE_FILE));
        if let (Ok(m), Ok(s)) = (model, state)
            && s.step == step
        {
            return Some((step, m, s));
        }
    }
    None
}

/// Writes a checkpoint folder for `state.step` and the run's `model.gaugan`, then keeps only the
/// `keep` newest checkpoints (0 keeps all). Returns the folder.
pub fn save(
    run: &Path,
    model: &ModelFile,
    state: &TrainState,
    keep: usize,
) -> std::io::Result<PathBuf> {
    let dir = checkpoints_dir(run);
    std::fs::create_dir_all(&dir)?;
    let final_dir = step_dir(run, state.step);
    let tmp = dir.join(format!(
        ".step_{:08}.partial-{}",
        state.step,
        std::process::id()
    ));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp)?;
    }
    std::fs::create_dir(&tmp)?;
    let model_bytes = model.to_bytes();
    write_atomic(&tmp.join(MODEL_FILE), &model_bytes)?;
    write_atomic(&tmp.join(STATE_FILE), &state.to_bytes())?;
    if final_dir.exists() {
        std::fs::remove_dir_all(&final_dir)?;
    }
    std::fs::rename(&tmp, &final_dir)?;
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    write_atomic(&run.join(MODEL_FILE), &model_bytes)?;
    // Leftovers of runs killed mid-write, and old checkpoints beyond `keep`.
    if let Ok(rd) = std::fs::read_dir(&dir) {
        for e in rd.filter_map(|e| e.ok()) {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with(".step_") && e.path() != tmp {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    if keep > 0 {
        let all = list(run);
        for (_, old) in all.iter().take(all.len().saturating_sub(keep)) {
            let _ = std::fs::remove_dir_all(old);
        }
    }
    Ok(final_dir)
}
