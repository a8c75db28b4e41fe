//! Smoke run on real data: a few pairs of the CMP Facade database (`../shared/datasets/cmp_facade`,
//! JPEG photos of varying sizes, 12 classes), trained for a few steps with a small VAE model; the
//! result loads in the inference engine and paints a label map. Skipped (with a message) where
//! `../shared` is missing, failed under `CI=true`.

mod train_support;

use std::sync::atomic::AtomicBool;

use burn::tensor::Device;
use gaugan::checkpoint::ModelFile;
use gaugan::infer::Synthesizer;
use gaugan::labels::png_io::read_label_png;
use gaugan::train::trainer::TrainData;
use gaugan::train::{TrainEvent, Trainer, scan};

#[test]
fn a_few_steps_on_cmp_facade() {
    let Some(src) = train_support::shared_facades() else {
        return;
    };
    // A small subset, linked (not copied) into a temporary folder.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("facades");
    std::fs::create_dir_all(data.join("images")).unwrap();
    std::fs::create_dir_all(data.join("labels")).unwrap();
    for f in ["classes.txt", "palette.txt"] {
        std::fs::copy(src.join(f), data.join(f)).unwrap();
    }
    for stem in ["cmp_b0001", "cmp_b0002", "cmp_b0003", "cmp_b0004"] {
        let link = |from: std::path::PathBuf, to: std::path::PathBuf| {
            #[cfg(unix)]
            std::os::unix::fs::symlink(&from, &to).unwrap();
            #[cfg(not(unix))]
            std::fs::copy(&from, &to).unwrap();
        };
        link(
            src.join(format!("images/{stem}.jpg")),
            data.join(format!("images/{stem}.jpg")),
        );
        link(
            src.join(format!("labels/{stem}.png")),
            data.join(format!("labels/{stem}.png")),
        );
    }
    let s = scan(&data).unwrap();
    assert!(s.problems.is_empty(), "{}", s.report());
    assert_eq!(s.palette.len(), 12);
    assert_eq!(s.palette.classes[2].name, "window");
    assert!(
        s.palette.credit.is_some(),
        "the CMP credit must travel with the weights"
    );
    let config = train_support::tiny_config(64, 3)
        .with_load_size(None)
        .with_vae(true)
        .with_ngf(8)
        .with_sample_every(3);
    let run = dir.path().join("run");
    let mut t = Trainer::new(
        config,
        &run,
        TrainData::new(&s, s.usable(false).unwrap()),
        Device::flex(),
    )
    .unwrap();
    let mut losses = Vec::new();
    t.run(&AtomicBool::new(false), |ev| {
        if let TrainEvent::Step { losses: l, .. } = ev {
            losses.push(*l);
        }
    })
    .unwrap();
    assert_eq!(losses.len(), 3);
    assert!(
        losses
            .iter()
            .all(|l| l.g_total().is_finite() && l.d_total().is_finite())
    );
    assert!(run.join("samples/step_00000003.png").is_file());

    let model = ModelFile::load(&run.join("model.gaugan")).unwrap();
    assert!(
        model
            .provenance
            .credit
            .as_deref()
            .unwrap_or("")
            .contains("CMP")
    );
    let synth = Synthesizer::new(&model, Device::flex()).unwrap();
    let labels =
        read_label_png(&data.join("labels/cmp_b0001.png"), 12, Some(&model.palette)).unwrap();
    let photo = synth
        .synthesize(&labels, None, synth.random_style(1).as_ref())
        .unwrap();
    assert_eq!((photo.width, photo.height), (64, 64));
    assert!(photo.data.iter().all(|v| v.is_finite()));
}
