//! PyTorch `.pth` files: the zip format (torch >= 1.6) and the legacy pickle stream (the 2019
//! official SPADE checkpoints). Both hold a pickled `state_dict` whose tensors point, through
//! persistent ids, at raw little-endian storages; this module reads them without running any
//! code (see [`super::pickle`]) and checks every declared size against the file before
//! allocating.

use std::io::{Cursor, Read};
use std::path::Path;

use super::pickle::{Global, PickleError, StorageDtype, Value, read_pickle};
use super::state_dict::{StateDict, StateTensor};

/// Why a `.pth` file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PthError {
    #[error("{path}: cannot read the file: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a PyTorch checkpoint ({why})")]
    Foreign { path: String, why: String },
    #[error("{path}: {source}")]
    Pickle { path: String, source: PickleError },
    #[error("{path}: {what}")]
    Layout { path: String, what: String },
}

/// The legacy format starts with this magic number, pickled.
const LEGACY_MAGIC: u128 = 0x1950a86a20f9469cfc6c;
/// Largest file we agree to read whole (official checkpoints are about 400 MB).
const MAX_FILE_BYTES: u64 = 4 << 30;

/// Reads a `.pth` file into a state dict.
pub fn read_pth(path: &Path) -> Result<StateDict, PthError> {
    let p = path.display().to_string();
    let io = |source| PthError::Io {
        path: p.clone(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(PthError::Foreign {
            path: p,
            why: format!("{} bytes is larger than any SPADE checkpoint", meta.len()),
        });
    }
    let bytes = std::fs::read(path).map_err(io)?;
    read_pth_bytes(&bytes, &p)
}

/// Reads `.pth` bytes; `name` is used in error messages.
pub fn read_pth_bytes(bytes: &[u8], name: &str) -> Result<StateDict, PthError> {
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        read_zip(bytes, name)
    } else if bytes.first() == Some(&0x80) {
        read_legacy(bytes, name)
    } else if bytes.is_empty() {
        Err(PthError::Foreign {
            path: name.into(),
            why: "the file is empty".into(),
        })
    } else {
        Err(PthError::Foreign {
            path: name.into(),
            why: "it is neither a zip archive nor a pickle".into(),
        })
    }
}

/// Where a tensor's data lives, as the pickle declares it.
struct TensorRef {
    key: String,
    storage_key: String,
    dtype: StorageDtype,
    offset: usize,
    shape: Vec<usize>,
    stride: Vec<usize>,
}

fn layout(name: &str, what: impl Into<String>) -> PthError {
    PthError::Layout {
        path: name.into(),
        what: what.into(),
    }
}

/// Walks the unpickled object down to the list of tensors of a state dict.
fn collect_tensors(root: &Value, name: &str) -> Result<Vec<TensorRef>, PthError> {
    let Value::Dict(d) = root else {
        return Err(layout(
            name,
            format!("the pickle holds a {}, not a state dict", root.kind()),
        ));
    };
    let entries = d.borrow().clone();
    // Some trainers wrap the weights: {"state_dict": {...}} or {"model": {...}}.
    if entries.len() <= 8 {
        for (k, v) in &entries {
            if matches!(k.as_str(), Some("state_dict" | "model" | "netG" | "netE"))
                && matches!(v, Value::Dict(_))
            {
                return collect_tensors(v, name);
            }
        }
    }
    let mut out = Vec::with_capacity(entries.len());
    for (k, v) in entries {
        let Some(key) = k.as_str() else {
            return Err(layout(name, format!("a state-dict key is a {}", k.kind())));
        };
        out.push(tensor_ref(key, &v, name)?);
    }
    Ok(out)
}

fn tensor_ref(key: &str, v: &Value, name: &str) -> Result<TensorRef, PthError> {
    let bad = |what: &str| layout(name, format!("entry `{key}`: {what}"));
    let (g, args) = match v {
        Value::Call(g, a) => (*g, a.clone()),
        other => {
            return Err(bad(&format!(
                "a {} where a tensor was expected",
                other.kind()
            )));
        }
    };
    let args = match g {
        Global::RebuildParameter => match args.first() {
            Some(Value::Call(Global::RebuildTensor, inner)) => inner.clone(),
            _ => return Err(bad("a Parameter that does not wrap a tensor")),
        },
        Global::RebuildTensor => args,
        _ => return Err(bad("an object that is not a tensor")),
    };
    if args.len() < 4 {
        return Err(bad("tensor rebuild with too few arguments"));
    }
    let Value::PersistentId(pid) = &args[0] else {
        return Err(bad("tensor without a storage"));
    };
    let pid = pid
        .items()
        .ok_or_else(|| bad("storage id is not a tuple"))?;
    // ('storage', storage_type, key, location, numel[, view_metadata])
    if pid.len() < 5 || pid[0].as_str() != Some("storage") {
        return Err(bad("unknown storage id"));
    }
    let dtype = match &pid[1] {
        Value::Global(Global::Storage(d)) | Value::Global(Global::Dtype(d)) => *d,
        other => return Err(bad(&format!("storage type is a {}", other.kind()))),
    };
    let storage_key = pid[2]
        .as_str()
        .ok_or_else(|| bad("storage key is not a string"))?
        .to_owned();
    let to_usize = |v: &Value, what: &str| -> Result<usize, PthError> {
        v.as_int()
            .and_then(|i| usize::try_from(i).ok())
            .ok_or_else(|| bad(&format!("{what} is not a non-negative integer")))
    };
    let offset = to_usize(&args[1], "storage offset")?;
    let shape = args[2]
        .items()
        .ok_or_else(|| bad("size is not a tuple"))?
        .iter()
        .map(|v| to_usize(v, "a dimension"))
        .collect::<Result<Vec<_>, _>>()?;
    let stride = args[3]
        .items()
        .ok_or_else(|| bad("stride is not a tuple"))?
        .iter()
        .map(|v| to_usize(v, "a stride"))
        .collect::<Result<Vec<_>, _>>()?;
    if shape.len() != stride.len() || shape.len() > 8 {
        return Err(bad("size and stride disagree"));
    }
    Ok(TensorRef {
        key: key.to_owned(),
        storage_key,
        dtype,
        offset,
        shape,
        stride,
    })
}

/// Materialises one tensor as f32 from its storage bytes (any strides), checking bounds.
fn materialise(t: &TensorRef, storage: &[u8], name: &str) -> Result<StateTensor, PthError> {
    let es = t.dtype.size();
    let numel = t
        .shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| layout(name, format!("entry `{}`: size overflows", t.key)))?;
    let storage_len = storage.len() / es;
    // Largest element index the view touches.
    let mut last = t.offset;
    if numel > 0 {
        for (&d, &s) in t.shape.iter().zip(&t.stride) {
            last = d
                .checked_sub(1)
                .and_then(|d| d.checked_mul(s))
                .and_then(|x| x.checked_add(last))
                .ok_or_else(|| layout(name, format!("entry `{}`: stride overflows", t.key)))?;
        }
        if last >= storage_len {
            return Err(layout(
                name,
                format!(
                    "entry `{}` reads element {} of a storage of {} (truncated file?)",
                    t.key, last, storage_len
                ),
            ));
        }
    }
    let read = |i: usize| -> f32 {
        let b = &storage[i * es..i * es + es];
        match t.dtype {
            StorageDtype::F32 => f32::from_le_bytes(b.try_into().unwrap()),
            StorageDtype::F64 => f64::from_le_bytes(b.try_into().unwrap()) as f32,
            StorageDtype::F16 => half::f16::from_le_bytes(b.try_into().unwrap()).to_f32(),
            StorageDtype::BF16 => half::bf16::from_le_bytes(b.try_into().unwrap()).to_f32(),
            StorageDtype::I64 => i64::from_le_bytes(b.try_into().unwrap()) as f32,
            StorageDtype::I32 => i32::from_le_bytes(b.try_into().unwrap()) as f32,
            StorageDtype::I16 => i16::from_le_bytes(b.try_into().unwrap()) as f32,
            StorageDtype::I8 => b[0] as i8 as f32,
            StorageDtype::U8 | StorageDtype::Bool => b[0] as f32,
        }
    };
    let mut data = Vec::with_capacity(numel);
    let rank = t.shape.len();
    let mut idx = vec![0usize; rank];
    for _ in 0..numel {
        let at = t.offset + idx.iter().zip(&t.stride).map(|(i, s)| i * s).sum::<usize>();
        data.push(read(at));
        for d in (0..rank).rev() {
            idx[d] += 1;
            if idx[d] < t.shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    Ok(StateTensor {
        shape: t.shape.clone(),
        data,
        is_float: t.dtype.is_float(),
    })
}

fn read_zip(bytes: &[u8], name: &str) -> Result<StateDict, PthError> {
    let foreign = |why: String| PthError::Foreign {
        path: name.into(),
        why,
    };
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| foreign(format!("unreadable zip archive: {e}")))?;
    let pkl_name = zip
        .file_names()
        .find(|n| n.ends_with("/data.pkl") || *n == "data.pkl")
        .map(str::to_owned)
        .ok_or_else(|| foreign("the zip archive has no data.pkl".into()))?;
    let prefix = pkl_name.trim_end_matches("data.pkl").to_owned();
    let read_entry = |zip: &mut zip::ZipArchive<Cursor<&[u8]>>, entry: &str| {
        let mut f = zip
            .by_name(entry)
            .map_err(|e| layout(name, format!("zip entry {entry}: {e}")))?;
        if f.size() > bytes.len() as u64 {
            return Err(layout(
                name,
                format!(
                    "zip entry {entry} claims {} bytes, more than the file",
                    f.size()
                ),
            ));
        }
        let mut buf = Vec::with_capacity(f.size() as usize);
        f.read_to_end(&mut buf)
            .map_err(|e| layout(name, format!("zip entry {entry}: {e} (truncated file?)")))?;
        Ok(buf)
    };
    let pkl = read_entry(&mut zip, &pkl_name)?;
    let (root, _) = read_pickle(&pkl).map_err(|source| PthError::Pickle {
        path: name.into(),
        source,
    })?;
    let refs = collect_tensors(&root, name)?;
    let mut sd = StateDict::default();
    let mut cache: std::collections::HashMap<String, Vec<u8>> = Default::default();
    for t in refs {
        if !cache.contains_key(&t.storage_key) {
            let entry = format!("{prefix}data/{}", t.storage_key);
            let buf = read_entry(&mut zip, &entry)?;
            cache.insert(t.storage_key.clone(), buf);
        }
        let tensor = materialise(&t, &cache[&t.storage_key], name)?;
        sd.insert(t.key.clone(), tensor);
    }
    Ok(sd)
}

fn read_legacy(bytes: &[u8], name: &str) -> Result<StateDict, PthError> {
    let pk = |source| PthError::Pickle {
        path: name.into(),
        source,
    };
    let mut pos = 0;
    let next = |pos: &mut usize| -> Result<Value, PthError> {
        let (v, used) = read_pickle(&bytes[*pos..]).map_err(pk)?;
        *pos += used;
        Ok(v)
    };
    let magic = next(&mut pos)?;
    if !matches!(magic, Value::BigInt(m) if m == LEGACY_MAGIC) {
        return Err(PthError::Foreign {
            path: name.into(),
            why: "a pickle, but without torch's magic number".into(),
        });
    }
    let _protocol = next(&mut pos)?;
    let _sys_info = next(&mut pos)?;
    let root = next(&mut pos)?;
    let keys = next(&mut pos)?;
    let keys: Vec<String> = keys
        .items()
        .ok_or_else(|| layout(name, "the storage key list is missing"))?
        .iter()
        .map(|k| {
            k.as_str()
                .map(str::to_owned)
                .ok_or_else(|| layout(name, "a storage key is not a string"))
        })
        .collect::<Result<_, _>>()?;
    let refs = collect_tensors(&root, name)?;
    let dtype_of = |key: &str| refs.iter().find(|t| t.storage_key == key).map(|t| t.dtype);
    // After the pickles: for each key, an int64 element count then the raw bytes.
    let mut storages: std::collections::HashMap<String, &[u8]> = Default::default();
    for key in &keys {
        let head = bytes
            .get(pos..pos + 8)
            .ok_or_else(|| layout(name, format!("storage {key} is missing (truncated file?)")))?;
        let numel = u64::from_le_bytes(head.try_into().unwrap());
        pos += 8;
        let es = dtype_of(key).map(|d| d.size()).unwrap_or(4) as u64;
        let len = numel
            .checked_mul(es)
            .filter(|&l| l <= (bytes.len() - pos) as u64)
            .ok_or_else(|| {
                layout(
                    name,
                    format!(
                        "storage {key} declares {numel} elements, more than the file holds (truncated file?)"
                    ),
                )
            })? as usize;
        storages.insert(key.clone(), &bytes[pos..pos + len]);
        pos += len;
    }
    let mut sd = StateDict::default();
    for t in refs {
        let storage = storages.get(&t.storage_key).ok_or_else(|| {
            layout(
                name,
                format!(
                    "entry `{}` points at a storage that is not in the file",
                    t.key
                ),
            )
        })?;
        let tensor = materialise(&t, storage, name)?;
        sd.insert(t.key.clone(), tensor);
    }
    Ok(sd)
}
