//! gaugan's own model file: one safetensors file holding the generator (and encoder) weights in the
//! official state-dict layout, prefixed `netG.` / `netE.`, plus string metadata: a format tag and
//! version, the model config, the palette (class names and colours), and provenance (where the
//! weights came from, dataset credit). Written atomically.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::state_dict::{StateDict, StateTensor};
use crate::labels::Palette;
use crate::model::{EncoderConfig, GeneratorConfig};
use crate::util::atomic::write_atomic;

/// Format tag in the metadata.
pub const FORMAT: &str = "gaugan-model";
/// Current format version; files with a larger one are refused.
pub const VERSION: u32 = 1;
/// Largest model file we read.
const MAX_BYTES: u64 = 2 << 30;

/// Where a model came from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// How it was made (e.g. "imported from ade20k_net_G.pth", "trained by gaugan train").
    pub source: String,
    /// Dataset credit that must travel with the weights.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit: Option<String>,
    /// Tool and version that wrote the file.
    #[serde(default)]
    pub written_by: String,
    /// Free-form details (training steps, command line, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// A complete model: configs, palette, provenance and weights.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelFile {
    /// Generator shape.
    pub generator: GeneratorConfig,
    /// Encoder shape, when the model has one.
    pub encoder: Option<EncoderConfig>,
    /// Class names and colours.
    pub palette: Palette,
    /// Where it came from.
    pub provenance: Provenance,
    /// Generator weights, official layout.
    pub generator_weights: StateDict,
    /// Encoder weights, official layout (empty without an encoder).
    pub encoder_weights: StateDict,
}

/// Why a model file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ModelFileError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a gaugan model file ({why})")]
    Foreign { path: String, why: String },
    #[error("{path}: model file version {found} is newer than this gaugan understands ({VERSION})")]
    TooNew { path: String, found: u32 },
    #[error("{path}: invalid model file: {why}")]
    Invalid { path: String, why: String },
}

impl ModelFile {
    /// Serialises to bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut meta = HashMap::new();
        meta.insert("format".to_owned(), FORMAT.to_owned());
        meta.insert("version".to_owned(), VERSION.to_string());
        meta.insert(
            "generator".to_owned(),
            serde_json::to_string(&self.generator).unwrap(),
        );
        if let Some(e) = &self.encoder {
            meta.insert("encoder".to_owned(), serde_json::to_string(e).unwrap());
        }
        meta.insert(
            "palette".to_owned(),
            serde_json::to_string(&self.palette).unwrap(),
        );
        meta.insert(
            "provenance".to_owned(),
            serde_json::to_string(&self.provenance).unwrap(),
        );
        let mut bufs: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
        for (prefix, sd) in [
            ("netG.", &self.generator_weights),
            ("netE.", &self.encoder_weights),
        ] {
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

    /// Writes the file atomically.
    pub fn save(&self, path: &Path) -> Result<(), ModelFileError> {
        write_atomic(path, &self.to_bytes()).map_err(|source| ModelFileError::Io {
            path: path.display().to_string(),
            source,
        })
    }

    /// Reads a model file.
    pub fn load(path: &Path) -> Result<Self, ModelFileError> {
        let p = path.display().to_string();
        let io = |source| ModelFileError::Io {
            path: p.clone(),
            source,
        };
        let len = std::fs::metadata(path).map_err(io)?.len();
        if len > MAX_BYTES {
            return Err(ModelFileError::Foreign {
                path: p,
                why: format!("{len} bytes is larger than any model gaugan writes"),
            });
        }
        let bytes = std::fs::read(path).map_err(io)?;
        Self::from_bytes(&bytes, &p)
    }

    /// Parses bytes; `name` appears in errors.
    pub fn from_bytes(bytes: &[u8], name: &str) -> Result<Self, ModelFileError> {
        let invalid = |why: String| ModelFileError::Invalid {
            path: name.into(),
            why,
        };
        let st =
            safetensors::SafeTensors::deserialize(bytes).map_err(|e| ModelFileError::Foreign {
                path: name.into(),
                why: format!("not a safetensors file: {e}"),
            })?;
        let (_, header) = safetensors::SafeTensors::read_metadata(bytes).map_err(|e| {
            ModelFileError::Foreign {
                path: name.into(),
                why: e.to_string(),
            }
        })?;
        let meta = header.metadata().clone().unwrap_or_default();
        if meta.get("format").map(String::as_str) != Some(FORMAT) {
            return Err(ModelFileError::Foreign {
                path: name.into(),
                why: "a safetensors file without gaugan's metadata".into(),
            });
        }
        let version: u32 = meta
            .get("version")
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| invalid("no version".into()))?;
        if version > VERSION {
            return Err(ModelFileError::TooNew {
                path: name.into(),
                found: version,
            });
        }
        let json = |key: &str| -> Result<&String, ModelFileError> {
            meta.get(key)
                .ok_or_else(|| invalid(format!("no `{key}` metadata")))
        };
        let generator: GeneratorConfig = serde_json::from_str(json("generator")?)
            .map_err(|e| invalid(format!("generator config: {e}")))?;
        generator
            .validate()
            .map_err(|e| invalid(format!("generator config: {e}")))?;
        let encoder: Option<EncoderConfig> = match meta.get("encoder") {
            Some(s) => {
                let e: EncoderConfig =
                    serde_json::from_str(s).map_err(|e| invalid(format!("encoder config: {e}")))?;
                e.validate()
                    .map_err(|e| invalid(format!("encoder config: {e}")))?;
                Some(e)
            }
            None => None,
        };
        let palette: Palette =
            serde_json::from_str(json("palette")?).map_err(|e| invalid(format!("palette: {e}")))?;
        palette
            .validate()
            .map_err(|e| invalid(format!("palette: {e}")))?;
        let provenance: Provenance = serde_json::from_str(json("provenance")?)
            .map_err(|e| invalid(format!("provenance: {e}")))?;
        // Every size the configs declare is checked against the tensors the file really holds
        // before anything is built from them (a hostile config cannot make us allocate more
        // than the file's own size).
        let mut floats = [0u128; 2];
        for (k, view) in st.iter() {
            let n = view.data().len() as u128 / 4;
            if k.starts_with("netE.") {
                floats[1] += n;
            } else {
                floats[0] += n;
            }
        }
        let declared = [
            generator.state_floats(),
            encoder.as_ref().map_or(0, EncoderConfig::state_floats),
        ];
        for (what, (have, need)) in ["generator", "encoder"]
            .iter()
            .zip(floats.iter().zip(declared))
        {
            if *have != need {
                return Err(invalid(format!(
                    "the {what} weights hold {have} values but its config needs {need}"
                )));
            }
        }
        let mut g = StateDict::default();
        let mut e = StateDict::default();
        for (k, view) in st.iter() {
            if view.dtype() != safetensors::Dtype::F32 {
                return Err(invalid(format!(
                    "tensor `{k}` is {:?}, not F32",
                    view.dtype()
                )));
            }
            let data: Vec<f32> = view
                .data()
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                .collect();
            let t = StateTensor::new(view.shape().to_vec(), data);
            if let Some(k) = k.strip_prefix("netG.") {
                g.insert(k, t);
            } else if let Some(k) = k.strip_prefix("netE.") {
                e.insert(k, t);
            } else {
                return Err(invalid(format!("tensor `{k}` belongs to no network")));
            }
        }
        Ok(Self {
            generator,
            encoder,
            palette,
            provenance,
            generator_weights: g,
            encoder_weights: e,
        })
    }

    /// Number of generator parameters (buffers excluded).
    pub fn generator_parameters(&self) -> usize {
        count_parameters(&self.generator_weights)
    }

    /// Number of encoder parameters.
    pub fn encoder_parameters(&self) -> usize {
        count_parameters(&self.encoder_weights)
    }
}

/// Parameters of an official-layout state dict: everything but batch-norm running statistics and
/// spectral-norm vectors.
pub fn count_parameters(sd: &StateDict) -> usize {
    sd.iter()
        .filter(|(k, t)| {
            t.is_float
                && !k.ends_with(".running_mean")
                && !k.ends_with(".running_var")
                && !k.ends_with(".weight_u")
                && !k.ends_with(".weight_v")
        })
        .map(|(_, t)| t.data.len())
        .sum()
}
