//! The bodies of the fuzz targets (`fuzz/`, run with `cargo fuzz`), shared with the corpus
//! regression test (`tests/fuzz_corpus.rs`) so that CI replays every saved input through exactly
//! the code the fuzzer ran. Each takes arbitrary bytes and must return without panicking,
//! whatever the bytes are; errors are the expected outcome for most inputs.

use std::path::Path;

use crate::checkpoint::import::{infer_encoder_config, infer_generator_config};
use crate::checkpoint::pth::read_pth_bytes;
use crate::checkpoint::{Dataset, ImportOptions, ModelFile};
use crate::labels::Palette;
use crate::labels::png_io::decode_label_png;

/// A `.pth` (zip or legacy pickle): read it, then infer a generator and an encoder config from
/// its shapes the way `gaugan import` does.
pub fn pth(data: &[u8]) {
    let Ok(mut sd) = read_pth_bytes(data, "fuzz.pth") else {
        return;
    };
    sd.strip_common_prefix("module.");
    sd.retain_float();
    for dataset in [Dataset::Custom, Dataset::Ade20k] {
        let opts = ImportOptions {
            dataset: Some(dataset),
            ..Default::default()
        };
        let _ = infer_generator_config(&sd, &opts, "fuzz.pth");
    }
    let _ = infer_encoder_config(&sd, "fuzz.pth");
}

/// A gaugan model file: parse it, and when it parses, build its CPU generator.
pub fn model_file(data: &[u8]) {
    let Ok(m) = ModelFile::from_bytes(data, "fuzz.gaugan") else {
        return;
    };
    let _ = crate::infer::cpu::CpuGenerator::from_state_dict(&m.generator, m.generator_weights);
}

/// A label PNG: as class ids (12 classes, like CMP Facade) and as colours of a palette.
pub fn label_png(data: &[u8]) {
    let palette = Palette::builtin("cmp_facade").expect("built-in palette");
    let _ = decode_label_png(data, "fuzz.png", palette.len(), Some(&palette));
    let _ = decode_label_png(data, "fuzz.png", 151, None);
}

/// A dataset folder made of the input: `classes.txt`, `palette.txt`, one label PNG and one
/// photo, cut out of the bytes by the length prefixes at their front; then the scan, and
/// preprocessing of every pair it calls good.
pub fn dataset(data: &[u8], dir: &Path) {
    let mut rest = data;
    let mut part = |max: usize| -> Vec<u8> {
        let n = match rest {
            [a, b, tail @ ..] => {
                rest = tail;
                (u16::from_le_bytes([*a, *b]) as usize).min(max)
            }
            _ => 0,
        };
        let n = n.min(rest.len());
        let (head, tail) = rest.split_at(n);
        rest = tail;
        head.to_vec()
    };
    let classes = part(4096);
    let palette = part(4096);
    let label = part(usize::MAX);
    let photo = rest.to_vec();
    let _ = std::fs::remove_dir_all(dir);
    let write = |p: &str, b: &[u8]| {
        let path = dir.join(p);
        if let Some(d) = path.parent() {
            std::fs::create_dir_all(d).expect("fuzz scratch folder");
        }
        std::fs::write(path, b).expect("fuzz scratch file");
    };
    write("classes.txt", &classes);
    if !palette.is_empty() {
        write("palette.txt", &palette);
    }
    write("labels/a.png", &label);
    write("images/a.png", &photo);
    let Ok(scan) = crate::train::scan(dir) else {
        return;
    };
    let pre = crate::train::data::Preprocess {
        size: 16,
        load_size: 18,
        flip: true,
        classes: scan.palette.len(),
        instance: scan.instance,
        palette: scan.palette.clone(),
    };
    for pair in scan.good_pairs() {
        let mut rng = crate::train::rng::SplitMix::new(1, 2, 3);
        let _ = crate::train::data::load_sample(&pair, &pre, Some(&mut rng));
    }
}
