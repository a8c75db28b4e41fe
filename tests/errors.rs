//! Bad input gets an error that names the file and the fault, never a panic.

mod common;

use std::io::Write;

use burn::tensor::Device;
use common::*;
use gaugan::checkpoint::convert::load_generator;
use gaugan::checkpoint::pth::{read_pth, read_pth_bytes};
use gaugan::checkpoint::{
    Dataset, ImportOptions, ModelFile, StateTensor, WeightsError, import_official,
};

/// Protocol-2 pickle whose object reduces to `os.system('echo pwned')`.
const OS_SYSTEM: &[u8] =
    b"\x80\x02cposix\nsystem\nq\x00X\n\x00\x00\x00echo pwnedq\x01\x85q\x02Rq\x03.";

fn tiny_pth() -> std::path::PathBuf {
    ref_fixture("tiny").join("netG.pth")
}

#[test]
fn a_pickle_calling_os_system_is_refused_by_name() {
    // As a legacy .pth...
    let e = read_pth_bytes(OS_SYSTEM, "evil.pth")
        .unwrap_err()
        .to_string();
    assert!(e.contains("evil.pth") && e.contains("posix.system"), "{e}");
    // ...and inside a zip-format .pth.
    let mut buf = Vec::new();
    {
        let mut z = zip::ZipWriter::new(std::io::Cursor::new(&mut buf));
        let o = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        z.start_file("archive/data.pkl", o).unwrap();
        z.write_all(OS_SYSTEM).unwrap();
        z.finish().unwrap();
    }
    let e = read_pth_bytes(&buf, "evil.pth").unwrap_err().to_string();
    assert!(e.contains("posix.system"), "{e}");
}

#[test]
fn truncated_checkpoints_are_errors() {
    let bytes = std::fs::read(tiny_pth()).unwrap();
    for cut in [10, 1000, bytes.len() / 2, bytes.len() - 100] {
        let e = read_pth_bytes(&bytes[..cut], "cut.pth");
        assert!(e.is_err(), "a .pth cut at {cut} bytes loaded");
        assert!(e.unwrap_err().to_string().contains("cut.pth"));
    }
    let legacy = std::fs::read(ref_fixture("most-up").join("netG_legacy.pth")).unwrap();
    for cut in [5, 300, legacy.len() / 2, legacy.len() - 1] {
        let e = read_pth_bytes(&legacy[..cut], "cut_legacy.pth")
            .unwrap_err()
            .to_string();
        assert!(e.contains("cut_legacy.pth"), "{e}");
    }
}

#[test]
fn foreign_and_empty_files_are_errors() {
    let e = read_pth_bytes(b"", "empty.pth").unwrap_err().to_string();
    assert!(e.contains("empty"), "{e}");
    let e = read_pth_bytes(b"\x89PNG\r\n\x1a\n....", "photo.pth")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("photo.pth") && e.contains("not a PyTorch checkpoint"),
        "{e}"
    );
    let e = read_pth(std::path::Path::new("/nonexistent/x.pth"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("/nonexistent/x.pth"), "{e}");
    let e = ModelFile::from_bytes(b"garbage", "m.gaugan")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("m.gaugan") && e.contains("not a gaugan model file"),
        "{e}"
    );
}

#[test]
fn missing_unexpected_and_misshaped_keys_are_named() {
    let opts = ImportOptions {
        dataset: Some(Dataset::Custom),
        crop_size: Some(32),
        ..Default::default()
    };
    let model = import_official(&tiny_pth(), None, &opts).unwrap();
    let device = Device::flex();
    let cfg = &model.generator;

    let mut sd = model.generator_weights.clone();
    let mut missing = gaugan::checkpoint::StateDict::default();
    for (k, t) in sd.iter() {
        if k != "up_1.norm_0.mlp_beta.bias" {
            missing.insert(k, t.clone());
        }
    }
    let e = load_generator(cfg, missing, &device).unwrap_err();
    assert_eq!(
        e,
        WeightsError::Missing(vec!["up_1.norm_0.mlp_beta.bias".into()])
    );

    sd.insert("extra.weight", StateTensor::new(vec![1], vec![0.0]));
    let e = load_generator(cfg, sd, &device).unwrap_err();
    assert_eq!(e, WeightsError::Unexpected(vec!["extra.weight".into()]));

    let mut sd = model.generator_weights.clone();
    sd.insert("conv_img.bias", StateTensor::new(vec![4], vec![0.0; 4]));
    let e = load_generator(cfg, sd, &device).unwrap_err().to_string();
    assert!(
        e.contains("conv_img.bias") && e.contains("[4]") && e.contains("[3]"),
        "{e}"
    );
}

#[test]
fn wrong_dataset_preset_explains_the_channel_count() {
    let opts = ImportOptions {
        dataset: Some(Dataset::Ade20k),
        ..Default::default()
    };
    let e = import_official(&tiny_pth(), None, &opts)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("netG.pth") && e.contains("5 label channels") && e.contains("151"),
        "{e}"
    );
}

#[test]
fn model_file_round_trips_and_rejects_corruption() {
    let opts = ImportOptions {
        dataset: Some(Dataset::Custom),
        crop_size: Some(32),
        ..Default::default()
    };
    let model = import_official(&tiny_pth(), None, &opts).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("tiny.gaugan");
    model.save(&p).unwrap();
    let back = ModelFile::load(&p).unwrap();
    assert_eq!(back, model);
    let bytes = std::fs::read(&p).unwrap();
    for cut in [4, 100, bytes.len() / 2, bytes.len() - 1] {
        let e = ModelFile::from_bytes(&bytes[..cut], "cut.gaugan");
        assert!(e.is_err(), "cut at {cut} loaded");
    }
}
