//! A name -> tensor map in the official SPADE state-dict layout, the common currency between
//! file formats (PyTorch `.pth`, our model file) and the Burn modules.

use std::collections::BTreeMap;

/// One tensor of a state dict, as f32 on the host.
#[derive(Debug, Clone, PartialEq)]
pub struct StateTensor {
    /// Dimensions, PyTorch order (e.g. `[out, in, kh, kw]` for a conv weight).
    pub shape: Vec<usize>,
    /// Row-major values.
    pub data: Vec<f32>,
    /// False for integer buffers such as `num_batches_tracked`.
    pub is_float: bool,
}

impl StateTensor {
    /// A float tensor from its shape and values.
    pub fn new(shape: Vec<usize>, data: Vec<f32>) -> Self {
        debug_assert_eq!(shape.iter().product::<usize>(), data.len());
        Self {
            shape,
            data,
            is_float: true,
        }
    }
}

/// Why weights do not fit a model.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum WeightsError {
    #[error("missing weights: {}", .0.join(", "))]
    Missing(Vec<String>),
    #[error("unexpected weights (not part of this model): {}", .0.join(", "))]
    Unexpected(Vec<String>),
    #[error("shape mismatch for `{key}`: the file has {found:?}, the model expects {expected:?}")]
    Shape {
        key: String,
        found: Vec<usize>,
        expected: Vec<usize>,
    },
    #[error("`{key}` holds a non-finite value (NaN or infinity)")]
    NonFinite { key: String },
}

/// A state dict: tensors by their dotted PyTorch names.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StateDict {
    tensors: BTreeMap<String, StateTensor>,
}

impl StateDict {
    /// Adds or replaces a tensor.
    pub fn insert(&mut self, key: impl Into<String>, t: StateTensor) {
        self.tensors.insert(key.into(), t);
    }

    /// Looks a tensor up.
    pub fn get(&self, key: &str) -> Option<&StateTensor> {
        self.tensors.get(key)
    }

    /// Whether the key is present.
    pub fn contains(&self, key: &str) -> bool {
        self.tensors.contains_key(key)
    }

    /// Number of tensors.
    pub fn len(&self) -> usize {
        self.tensors.len()
    }

    /// Whether there are no tensors.
    pub fn is_empty(&self) -> bool {
        self.tensors.is_empty()
    }

    /// Keys in sorted order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.tensors.keys().map(String::as_str)
    }

    /// Iterates over (key, tensor) in sorted key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &StateTensor)> {
        self.tensors.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Shape of a tensor, if present.
    pub fn shape(&self, key: &str) -> Option<&[usize]> {
        self.tensors.get(key).map(|t| t.shape.as_slice())
    }

    /// Removes a prefix (e.g. `module.` from DataParallel) when every key has it.
    pub fn strip_common_prefix(&mut self, prefix: &str) {
        if !self.tensors.is_empty() && self.tensors.keys().all(|k| k.starts_with(prefix)) {
            self.tensors = std::mem::take(&mut self.tensors)
                .into_iter()
                .map(|(k, v)| (k[prefix.len()..].to_owned(), v))
                .collect();
        }
    }

    /// Drops integer buffers (`num_batches_tracked`), which carry nothing a model needs.
    pub fn retain_float(&mut self) {
        self.tensors.retain(|_, t| t.is_float);
    }

    /// Total number of float values (parameters and buffers).
    pub fn numel(&self) -> usize {
        self.tensors
            .values()
            .filter(|t| t.is_float)
            .map(|t| t.data.len())
            .sum()
    }
}

/// Takes tensors out of a state dict while loading a model, collecting every problem so that one
/// error lists all missing keys at once, and reporting the keys nobody asked for.
pub struct WeightReader {
    sd: StateDict,
    missing: Vec<String>,
    first_error: Option<WeightsError>,
}

impl WeightReader {
    /// Starts reading from a state dict.
    pub fn new(sd: StateDict) -> Self {
        Self {
            sd,
            missing: Vec::new(),
            first_error: None,
        }
    }

    /// Whether the key exists (without taking it).
    pub fn has(&self, key: &str) -> bool {
        self.sd.contains(key)
    }

    /// Takes a float tensor with the expected shape. On failure records the problem and returns
    /// zeros so loading can go on and report everything at the end.
    pub fn take(&mut self, key: &str, expected: &[usize]) -> Vec<f32> {
        let n = expected.iter().product();
        match self.sd.tensors.remove(key) {
            None => {
                self.missing.push(key.to_owned());
                vec![0.0; n]
            }
            Some(t) if t.shape != expected => {
                self.first_error.get_or_insert(WeightsError::Shape {
                    key: key.to_owned(),
                    found: t.shape,
                    expected: expected.to_vec(),
                });
                vec![0.0; n]
            }
            Some(t) => {
                if t.data.iter().any(|v| !v.is_finite()) {
                    self.first_error.get_or_insert(WeightsError::NonFinite {
                        key: key.to_owned(),
                    });
                }
                t.data
            }
        }
    }

    /// Drops a key that carries no information for us (e.g. `num_batches_tracked`).
    pub fn skip(&mut self, key: &str) {
        self.sd.tensors.remove(key);
    }

    /// Ends reading: any missing key, bad shape or leftover key is an error.
    pub fn finish(self) -> Result<(), WeightsError> {
        if let Some(e) = self.first_error {
            return Err(e);
        }
        if !self.missing.is_empty() {
            return Err(WeightsError::Missing(self.missing));
        }
        if !self.sd.is_empty() {
            return Err(WeightsError::Unexpected(
                self.sd.keys().map(str::to_owned).collect(),
            ));
        }
        Ok(())
    }
}
