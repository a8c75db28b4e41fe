//! Importing official NVlabs/SPADE checkpoints (`*_net_G.pth`, `*_net_E.pth`).
//!
//! Shapes tell the generator's width, SPADE hidden width, head kind, z size and semantic channel
//! count, and the encoder's width, depth and z size. What shapes cannot tell (how the semantic
//! channels split into classes / dontcare / instance edge, the number of upsamplings, the aspect
//! ratio) comes from a dataset preset (the official options of the released checkpoints) or flags.

use std::path::Path;

use super::model_file::{ModelFile, Provenance};
use super::pth::{PthError, read_pth};
use super::state_dict::{StateDict, WeightsError};
use crate::labels::Palette;
use crate::model::{EncoderConfig, GeneratorConfig, LabelChannels, Upsampling};

/// The datasets of the official checkpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dataset {
    /// ADE20K: 150 classes + dontcare, no instance maps, 256x256.
    Ade20k,
    /// COCO-Stuff: 182 classes + dontcare, instance maps, 256x256.
    Coco,
    /// Cityscapes: 35 classes, instance maps, 512x256 (aspect 2).
    Cityscapes,
    /// Anything else: say what the channels are with flags.
    Custom,
}

impl std::str::FromStr for Dataset {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "ade20k" => Dataset::Ade20k,
            "coco" => Dataset::Coco,
            "cityscapes" => Dataset::Cityscapes,
            "custom" => Dataset::Custom,
            _ => {
                return Err(format!(
                    "unknown dataset `{s}` (ade20k, coco, cityscapes, custom)"
                ));
            }
        })
    }
}

/// What the user tells about a checkpoint; `None` takes the preset's value or infers it.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Dataset preset.
    pub dataset: Option<Dataset>,
    /// Real classes.
    pub label_nc: Option<usize>,
    /// Whether a dontcare channel follows.
    pub dontcare: Option<bool>,
    /// Whether an instance-edge channel comes last.
    pub instance: Option<bool>,
    /// Number of upsamplings.
    pub upsampling: Option<Upsampling>,
    /// Width / height.
    pub aspect_ratio: Option<f64>,
    /// Output width.
    pub crop_size: Option<usize>,
}

/// Why an import failed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Pth(#[from] PthError),
    #[error("{path}: {source}")]
    Weights { path: String, source: WeightsError },
    #[error("{path}: {why}")]
    Config { path: String, why: String },
}

struct Preset {
    label_nc: usize,
    dontcare: bool,
    instance: bool,
    crop_size: usize,
    aspect_ratio: f64,
    palette: &'static str,
}

fn preset(d: Dataset) -> Option<Preset> {
    Some(match d {
        Dataset::Ade20k => Preset {
            label_nc: 150,
            dontcare: true,
            instance: false,
            crop_size: 256,
            aspect_ratio: 1.0,
            palette: "ade20k",
        },
        Dataset::Coco => Preset {
            label_nc: 182,
            dontcare: true,
            instance: true,
            crop_size: 256,
            aspect_ratio: 1.0,
            palette: "coco",
        },
        Dataset::Cityscapes => Preset {
            label_nc: 35,
            dontcare: false,
            instance: true,
            crop_size: 512,
            aspect_ratio: 2.0,
            palette: "cityscapes",
        },
        Dataset::Custom => return None,
    })
}

fn dims<'a>(sd: &'a StateDict, key: &str, path: &str) -> Result<&'a [usize], ImportError> {
    sd.shape(key).ok_or_else(|| ImportError::Weights {
        path: path.into(),
        source: WeightsError::Missing(vec![key.into()]),
    })
}

/// Infers the generator config from official weights and the options.
pub fn infer_generator_config(
    sd: &StateDict,
    opts: &ImportOptions,
    path: &str,
) -> Result<GeneratorConfig, ImportError> {
    let cfg_err = |why: String| ImportError::Config {
        path: path.into(),
        why,
    };
    if sd.is_empty() {
        return Err(cfg_err("the checkpoint holds no tensors".into()));
    }
    let head = dims(sd, "head_0.conv_0.weight_orig", path)?;
    if head.len() != 4 || head[0] % 16 != 0 {
        return Err(cfg_err(format!(
            "head_0.conv_0.weight_orig has shape {head:?}, not a SPADE generator's"
        )));
    }
    let ngf = head[0] / 16;
    let shared = dims(sd, "head_0.norm_0.mlp_shared.0.weight", path)?;
    if shared.len() != 4 {
        return Err(cfg_err(format!("mlp_shared weight has shape {shared:?}")));
    }
    let (spade_hidden, semantic_nc) = (shared[0], shared[1]);
    let fc = dims(sd, "fc.weight", path)?;
    let z_dim = match fc.len() {
        4 => None,
        2 => Some(fc[1]),
        _ => return Err(cfg_err(format!("fc.weight has shape {fc:?}"))),
    };
    let upsampling = if sd.contains("up_4.conv_0.weight_orig") {
        if opts.upsampling.is_some_and(|u| u != Upsampling::Most) {
            return Err(cfg_err(
                "the checkpoint has up_4, so its upsampling is `most`".into(),
            ));
        }
        Upsampling::Most
    } else {
        match opts.upsampling {
            Some(Upsampling::Most) => {
                return Err(cfg_err(
                    "`most` upsampling needs an up_4 block, which the checkpoint lacks".into(),
                ));
            }
            Some(u) => u,
            None => Upsampling::Normal,
        }
    };
    let p = opts.dataset.and_then(preset);
    let dontcare = opts
        .dontcare
        .or(p.as_ref().map(|p| p.dontcare))
        .unwrap_or(false);
    let instance = opts
        .instance
        .or(p.as_ref().map(|p| p.instance))
        .unwrap_or(false);
    let label_nc = match opts.label_nc.or(p.as_ref().map(|p| p.label_nc)) {
        Some(n) => n,
        None => semantic_nc
            .checked_sub(dontcare as usize + instance as usize)
            .filter(|&n| n > 0)
            .ok_or_else(|| {
                cfg_err(format!(
                    "{semantic_nc} semantic channels cannot hold the flags given"
                ))
            })?,
    };
    let labels = LabelChannels {
        label_nc,
        dontcare,
        instance,
    };
    if labels.semantic_nc() != semantic_nc {
        return Err(cfg_err(format!(
            "the checkpoint reads {semantic_nc} label channels, but {label_nc} classes{}{} make {} \
             (check --dataset, --label-nc, --dontcare, --instance)",
            if dontcare { " + dontcare" } else { "" },
            if instance { " + instance edges" } else { "" },
            labels.semantic_nc()
        )));
    }
    let crop_size = opts
        .crop_size
        .or(p.as_ref().map(|p| p.crop_size))
        .unwrap_or(256);
    let aspect_ratio = opts
        .aspect_ratio
        .or(p.as_ref().map(|p| p.aspect_ratio))
        .unwrap_or(1.0);
    let cfg = GeneratorConfig {
        labels,
        ngf,
        spade_hidden,
        upsampling,
        crop_size,
        aspect_ratio,
        z_dim,
    };
    cfg.validate().map_err(cfg_err)?;
    if let Some(z) = z_dim {
        let [sh, sw] = cfg.latent_size();
        let want = 16 * ngf * sh * sw;
        if fc[0] != want {
            return Err(cfg_err(format!(
                "fc.weight maps z to {} values, but a {sw}x{sh} latent grid at ngf {ngf} needs {want} \
                 (check --upsampling, --aspect-ratio, --crop-size); z size {z}",
                fc[0]
            )));
        }
    }
    Ok(cfg)
}

/// Infers the encoder config from official `netE` weights.
pub fn infer_encoder_config(sd: &StateDict, path: &str) -> Result<EncoderConfig, ImportError> {
    let cfg_err = |why: String| ImportError::Config {
        path: path.into(),
        why,
    };
    let first = dims(sd, "layer1.0.weight_orig", path)?;
    let ndf = first[0];
    let layers = (1..=8)
        .take_while(|i| sd.contains(&format!("layer{i}.0.weight_orig")))
        .count();
    let mu = dims(sd, "fc_mu.weight", path)?;
    if mu.len() != 2 {
        return Err(cfg_err(format!("fc_mu.weight has shape {mu:?}")));
    }
    let z_dim = mu[0];
    let last_c = ndf * 8;
    let area = mu[1] / last_c.max(1);
    let s0 = (area as f64).sqrt().round() as usize;
    if s0 * s0 * last_c != mu[1] {
        return Err(cfg_err(format!(
            "fc_mu takes {} inputs, not {ndf}*8 channels times a square grid",
            mu[1]
        )));
    }
    let cfg = EncoderConfig {
        ndf,
        layers,
        input_size: s0 << layers,
        z_dim,
    };
    cfg.validate().map_err(cfg_err)?;
    Ok(cfg)
}

/// Reads an official generator (and encoder) and builds a gaugan model file.
pub fn import_official(
    generator: &Path,
    encoder: Option<&Path>,
    opts: &ImportOptions,
) -> Result<ModelFile, ImportError> {
    let gpath = generator.display().to_string();
    let mut gsd = read_pth(generator)?;
    gsd.strip_common_prefix("module.");
    gsd.retain_float();
    let gcfg = infer_generator_config(&gsd, opts, &gpath)?;
    check_generator_weights(&gcfg, &gsd, &gpath)?;
    let (ecfg, esd) = match encoder {
        Some(e) => {
            let epath = e.display().to_string();
            let mut esd = read_pth(e)?;
            esd.strip_common_prefix("module.");
            esd.retain_float();
            let ecfg = infer_encoder_config(&esd, &epath)?;
            if gcfg.z_dim != Some(ecfg.z_dim) {
                return Err(ImportError::Config {
                    path: epath,
                    why: format!(
                        "the encoder makes z of size {}, but the generator {}",
                        ecfg.z_dim,
                        match gcfg.z_dim {
                            Some(z) => format!("takes {z}"),
                            None => "has no VAE head".into(),
                        }
                    ),
                });
            }
            check_encoder_weights(&ecfg, &esd, &epath)?;
            (Some(ecfg), esd)
        }
        None => (None, StateDict::default()),
    };
    let palette = opts
        .dataset
        .and_then(preset)
        .and_then(|p| Palette::builtin(p.palette))
        .filter(|p| p.len() == gcfg.labels.classes())
        .unwrap_or_else(|| Palette::generic(gcfg.labels.label_nc, gcfg.labels.dontcare));
    let source = match encoder {
        Some(e) => format!(
            "imported from official SPADE checkpoints {} and {}",
            file_name(generator),
            file_name(e)
        ),
        None => format!(
            "imported from official SPADE checkpoint {}",
            file_name(generator)
        ),
    };
    Ok(ModelFile {
        generator: gcfg,
        encoder: ecfg,
        palette,
        provenance: Provenance {
            source,
            credit: None,
            written_by: crate::written_by(),
            notes: None,
        },
        generator_weights: gsd,
        encoder_weights: esd,
    })
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

/// The network the shapes describe must be about the size of what the file holds (it is exactly
/// that size when nothing is missing); the detailed check below then names any missing key.
/// Without this bound, a few hostile shapes could make the check allocate a huge network.
fn bounded(needed: u128, sd: &StateDict, path: &str) -> Result<(), ImportError> {
    let held = sd.numel() as u128;
    if needed > 2 * held + (1 << 20) {
        return Err(ImportError::Config {
            path: path.into(),
            why: format!(
                "its shapes describe a network of {needed} values but it holds only {held} (a truncated or foreign checkpoint?)"
            ),
        });
    }
    Ok(())
}

/// Checks every key and shape without building the network: the same walk as loading, on a
/// throwaway CPU copy of the module structure.
fn check_generator_weights(
    cfg: &GeneratorConfig,
    sd: &StateDict,
    path: &str,
) -> Result<(), ImportError> {
    bounded(cfg.state_floats(), sd, path)?;
    let device = burn::tensor::Device::flex();
    super::convert::load_generator(cfg, sd.clone(), &device)
        .map(|_| ())
        .map_err(|source| ImportError::Weights {
            path: path.into(),
            source,
        })
}

fn check_encoder_weights(
    cfg: &EncoderConfig,
    sd: &StateDict,
    path: &str,
) -> Result<(), ImportError> {
    bounded(cfg.state_floats(), sd, path)?;
    let device = burn::tensor::Device::flex();
    super::convert::load_encoder(cfg, sd.clone(), &device)
        .map(|_| ())
        .map_err(|source| ImportError::Weights {
            path: path.into(),
            source,
        })
}
