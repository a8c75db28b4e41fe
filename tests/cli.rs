//! The `gaugan` command line, run as a user would: import, infer, info, eval.

mod common;
mod train_support;

use std::path::Path;
use std::process::Command;

use common::*;

fn gaugan(args: &[&str]) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_gaugan"))
        .args(args)
        .output()
        .expect("run gaugan");
    eprintln!(
        "$ gaugan {}\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn assert_png_within_one(ours: &Path, expected: &Path) {
    let a = image::open(ours).unwrap().to_rgb8();
    let b = image::open(expected).unwrap().to_rgb8();
    assert_eq!(a.dimensions(), b.dimensions());
    let worst = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| x.abs_diff(*y))
        .max()
        .unwrap();
    assert!(worst <= 1, "PNG differs by {worst} (bound 1)");
}

#[test]
fn infer_on_the_official_legacy_checkpoint_matches_expected_png() {
    let Some(dir) = shared_fixture() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out.png");
    let raw = tmp.path().join("out.npy");
    let o = gaugan(&[
        "infer",
        "--model",
        s(&dir.join("netG_legacy.pth")),
        "--dataset",
        "ade20k",
        "--labels",
        s(&dir.join("label.png")),
        "--out",
        s(&out),
        "--raw-out",
        s(&raw),
        "--backend",
        "cpu",
    ]);
    assert!(o.status.success());
    assert_png_within_one(&out, &dir.join("expected.png"));
    assert_parity(
        "gaugan infer --raw-out",
        &npy(raw),
        &npy(dir.join("expected.npy")),
    );
}

#[test]
fn import_then_infer_with_style_instance_and_2to1_aspect() {
    let dir = ref_fixture("vae-inst-2to1");
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("vae.gaugan");
    let o = gaugan(&[
        "import",
        "--generator",
        s(&dir.join("netG.pth")),
        "--encoder",
        s(&dir.join("netE.pth")),
        "--dataset",
        "custom",
        "--label-nc",
        "12",
        "--instance",
        "--aspect-ratio",
        "2",
        "--out",
        s(&model),
    ]);
    assert!(o.status.success());
    let out = tmp.path().join("o.png");
    let raw = tmp.path().join("o.npy");
    let o = gaugan(&[
        "infer",
        "--model",
        s(&model),
        "--labels",
        s(&dir.join("label.png")),
        "--instance",
        s(&dir.join("instance.png")),
        "--style",
        s(&dir.join("style.npy")),
        "--out",
        s(&out),
        "--raw-out",
        s(&raw),
        "--backend",
        "cpu",
    ]);
    assert!(o.status.success());
    assert_parity(
        "import + infer --style",
        &npy(raw.clone()),
        &npy(dir.join("expected.npy")),
    );
    assert_png_within_one(&out, &dir.join("expected.png"));

    // A seeded random style is deterministic, and differs from the encoded one.
    let a = tmp.path().join("a.npy");
    let b = tmp.path().join("b.npy");
    for (p, seed) in [(&a, "7"), (&b, "7")] {
        let o = gaugan(&[
            "infer",
            "--model",
            s(&model),
            "--labels",
            s(&dir.join("label.png")),
            "--seed",
            seed,
            "--out",
            s(&tmp.path().join("x.png")),
            "--raw-out",
            s(p),
            "--backend",
            "cpu",
        ]);
        assert!(o.status.success());
    }
    assert_eq!(npy(a.clone()), npy(b));
    let (_, mean) = diff(&npy(a), &npy(raw));
    assert!(
        mean > 1e-3,
        "a random style should change the picture (mean diff {mean})"
    );
}

#[test]
fn info_describes_the_model() {
    let Some(dir) = shared_fixture() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("ade.gaugan");
    let o = gaugan(&[
        "import",
        "--generator",
        s(&dir.join("netG.pth")),
        "--dataset",
        "ade20k",
        "--out",
        s(&model),
    ]);
    assert!(o.status.success());
    let o = gaugan(&["info", s(&model)]);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    for want in [
        "ngf 16",
        "parameters: 13963251",
        "151 = 150 classes + dontcare",
        "150:unknown",
        "2:sky",
        "output 256x256",
        "imported from official SPADE checkpoint netG.pth",
    ] {
        assert!(text.contains(want), "`{want}` missing from:\n{text}");
    }
}

#[test]
fn out_of_range_label_is_an_error_naming_value_and_count() {
    let dir = ref_fixture("tiny");
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.png");
    let mut img = image::GrayImage::new(32, 32);
    for (i, p) in img.pixels_mut().enumerate() {
        p.0[0] = if i < 10 { 200 } else { 1 };
    }
    img.save(&bad).unwrap();
    let o = gaugan(&[
        "infer",
        "--model",
        s(&dir.join("netG.pth")),
        "--dataset",
        "custom",
        "--crop-size",
        "32",
        "--labels",
        s(&bad),
        "--out",
        s(&tmp.path().join("o.png")),
        "--backend",
        "cpu",
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bad.png") && err.contains("value 200") && err.contains("10 pixels"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn eval_prints_model_and_untrained_figures_and_writes_the_grid() {
    use gaugan::train::trainer::{TrainData, Trainer};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    train_support::write_dataset(&data, 6, 32, 11);
    let scanned = gaugan::train::scan(&data).unwrap();
    let pairs = scanned.usable(false).unwrap();
    let run = dir.path().join("run");
    let config = train_support::tiny_config(32, 2).with_vae(true);
    Trainer::new(
        config,
        &run,
        TrainData::new(&scanned, pairs),
        burn::tensor::Device::flex(),
    )
    .unwrap()
    .run(&std::sync::atomic::AtomicBool::new(false), |_| {})
    .unwrap();
    let grid = dir.path().join("grid.png");
    let out = gaugan(&[
        "eval",
        "--model",
        s(&run.join("model.gaugan")),
        "--data",
        s(&data),
        "--val-every",
        "2",
        "--styles",
        "3",
        "--backend",
        "cpu",
        "--grid",
        s(&grid),
        "--grid-rows",
        "2",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("eval on 3 pairs"), "{text}");
    for row in ["model ", "untrained "] {
        let line = text
            .lines()
            .find(|l| l.starts_with(row))
            .unwrap_or_else(|| panic!("no `{row}` row in\n{text}"));
        let nums: Vec<f64> = line
            .split_whitespace()
            .skip(1)
            .map(|v| v.parse().unwrap())
            .collect();
        assert_eq!(nums.len(), 3, "{line}");
        assert!(nums.iter().all(|v| v.is_finite() && *v >= 0.0), "{line}");
        assert!(nums[0] > 0.0 && nums[0] < 1.0, "L1 on a 0..1 scale: {line}");
    }
    assert!(text.contains("per-class mean colour error"), "{text}");
    let img = image::open(&grid).unwrap();
    assert_eq!((img.width(), img.height()), (5 * 32, 2 * 32));
}
