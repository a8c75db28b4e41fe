//! The dataset scan reports every problem by file, and training refuses a dirty dataset unless
//! asked to skip the bad pairs; preprocessing and the data order are reproducible.

mod train_support;

use std::path::Path;
use std::process::Command;

use gaugan::labels::LabelMap;
use gaugan::labels::png_io::encode_label_png;
use gaugan::train::data::{DataOrder, Preprocess, load_sample};
use gaugan::train::{Problem, scan};
use train_support::write_dataset;

fn gaugan() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gaugan"))
}

fn write_label(dir: &Path, name: &str, w: usize, h: usize, fill: u16) {
    let m = LabelMap::filled(w, h, fill);
    std::fs::write(dir.join("labels").join(name), encode_label_png(&m, None)).unwrap();
}

fn write_photo(dir: &Path, name: &str, w: u32, h: u32) {
    image::RgbImage::new(w, h)
        .save(dir.join("images").join(name))
        .unwrap();
}

/// A dataset with one good pair and one of each problem.
fn dirty(dir: &Path) {
    write_dataset(dir, 2, 32, 9); // p000, p001: good
    write_label(dir, "nophoto.png", 32, 32, 1);
    write_photo(dir, "nolabel.png", 32, 32);
    std::fs::write(dir.join("images/broken.jpg"), b"not a jpeg at all").unwrap();
    write_label(dir, "broken.png", 32, 32, 0);
    std::fs::write(
        dir.join("labels/badlabel.png"),
        b"\x89PNG\r\n\x1a\n garbage",
    )
    .unwrap();
    write_photo(dir, "badlabel.png", 32, 32);
    write_label(dir, "mismatch.png", 32, 32, 0);
    write_photo(dir, "mismatch.png", 40, 32);
    // class 7 at 6 pixels, class 9 elsewhere: 4 classes only
    let mut m = LabelMap::filled(32, 32, 1);
    for x in 0..6 {
        m.set(x, 0, 7);
    }
    m.set(31, 31, 9);
    std::fs::write(dir.join("labels/range.png"), encode_label_png(&m, None)).unwrap();
    write_photo(dir, "range.png", 32, 32);
}

#[test]
fn every_bad_case_has_its_report_entry() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    dirty(d);
    let s = scan(d).unwrap();
    eprintln!("{}", s.report());
    let find = |kind: &str, file: &str| {
        s.problems
            .iter()
            .find(|p| p.kind() == kind && p.path().ends_with(file))
            .unwrap_or_else(|| panic!("no `{kind}` entry for {file}:\n{}", s.report()))
            .clone()
    };
    find("no-image", "labels/nophoto.png");
    find("no-label", "images/nolabel.png");
    find("unreadable-image", "images/broken.jpg");
    find("unreadable-label", "labels/badlabel.png");
    match find("size-mismatch", "images/mismatch.png") {
        Problem::SizeMismatch {
            image_size,
            label_size,
            ..
        } => assert_eq!((image_size, label_size), ([40, 32], [32, 32])),
        p => panic!("{p:?}"),
    }
    match find("class-out-of-range", "labels/range.png") {
        Problem::OutOfRange {
            value,
            count,
            classes,
            more,
            ..
        } => {
            assert_eq!((value, count, classes), (7, 6, 4));
            assert!(more.contains("9"), "{more}");
        }
        p => panic!("{p:?}"),
    }
    assert_eq!(s.problems.len(), 6, "{}", s.report());
    // The report names each file once, with what is wrong.
    let report = s.report();
    assert!(report.contains("class id 7 at 6 pixels"), "{report}");
    assert!(
        report.contains("photo is 40x32 but its label map is 32x32"),
        "{report}"
    );
    // Training refuses, or takes exactly the good pairs.
    let err = s.usable(false).unwrap_err().to_string();
    assert!(
        err.contains("6 problem(s)") && err.contains("--skip-bad"),
        "{err}"
    );
    let good: Vec<_> = s
        .usable(true)
        .unwrap()
        .into_iter()
        .map(|p| p.stem)
        .collect();
    assert_eq!(good, vec!["p000", "p001"]);
}

#[test]
fn empty_and_missing_layouts_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // no folders at all
    let e = scan(d).unwrap_err().to_string();
    assert!(e.contains("no `labels` folder"), "{e}");
    std::fs::create_dir_all(d.join("labels")).unwrap();
    std::fs::create_dir_all(d.join("images")).unwrap();
    let e = scan(d).unwrap_err().to_string();
    assert!(e.contains("classes.txt"), "{e}");
    std::fs::write(d.join("classes.txt"), "a\nb\n").unwrap();
    let s = scan(d).unwrap();
    let kinds: Vec<_> = s.problems.iter().map(|p| p.kind()).collect();
    assert_eq!(kinds, vec!["empty", "empty"]);
    assert!(s.usable(true).is_err());
}

#[test]
fn official_folder_names_and_colour_labels_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("train_label")).unwrap();
    std::fs::create_dir_all(d.join("train_img")).unwrap();
    std::fs::write(d.join("classes.txt"), "wall\ndoor\n").unwrap();
    std::fs::write(
        d.join("palette.txt"),
        "# id name R G B\n0 wall 10 20 30\n1 door 200 100 0\n",
    )
    .unwrap();
    // A colour label PNG in the palette's colours, and one with a foreign colour.
    let mut img = image::RgbImage::from_pixel(8, 8, image::Rgb([10, 20, 30]));
    img.put_pixel(0, 0, image::Rgb([200, 100, 0]));
    img.save(d.join("train_label/a.png")).unwrap();
    img.put_pixel(1, 1, image::Rgb([1, 2, 3]));
    img.save(d.join("train_label/b.png")).unwrap();
    image::RgbImage::new(8, 8)
        .save(d.join("train_img/a.jpg"))
        .unwrap();
    image::RgbImage::new(8, 8)
        .save(d.join("train_img/b.jpg"))
        .unwrap();
    let s = scan(d).unwrap();
    assert_eq!(s.palette.classes[1].color, [200, 100, 0]);
    assert_eq!(s.pairs.len(), 2);
    assert_eq!(s.problems.len(), 1, "{}", s.report());
    assert!(s.problems[0].path().ends_with("train_label/b.png"));
    assert!(s.report().contains("[1, 2, 3]"), "{}", s.report());
}

#[test]
fn preprocessing_crops_flips_and_normalises() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_dataset(d, 3, 40, 4);
    let s = scan(d).unwrap();
    let pre = Preprocess {
        size: 32,
        load_size: 36,
        flip: true,
        classes: 4,
        instance: false,
        palette: s.palette.clone(),
    };
    let pair = &s.pairs[0];
    let centred = load_sample(pair, &pre, None).unwrap();
    assert_eq!(centred.semantics.len(), 4 * 32 * 32);
    assert_eq!(centred.image.len(), 3 * 32 * 32);
    assert!(centred.image.iter().all(|v| (-1.0..=1.0).contains(v)));
    // one-hot: every pixel exactly one class, matching the ids
    for i in 0..32 * 32 {
        let hot: Vec<usize> = (0..4)
            .filter(|c| centred.semantics[c * 1024 + i] == 1.0)
            .collect();
        assert_eq!(hot, vec![centred.labels[i] as usize]);
    }
    // The same draw gives the same sample; the order is a permutation per epoch.
    let mut r1 = gaugan::train::rng::SplitMix::new(1, 3, 5);
    let mut r2 = r1.clone();
    let a = load_sample(pair, &pre, Some(&mut r1)).unwrap();
    let b = load_sample(pair, &pre, Some(&mut r2)).unwrap();
    assert_eq!(a.image, b.image);
    let mut order = DataOrder::new(7, 5);
    let mut epoch: Vec<usize> = (0..5).map(|p| order.index(p)).collect();
    epoch.sort();
    assert_eq!(epoch, vec![0, 1, 2, 3, 4]);
}

#[test]
fn the_command_line_stops_on_a_dirty_dataset_unless_told_to_skip() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    dirty(&d);
    let run = dir.path().join("run");
    let args = |extra: &[&str]| {
        let mut c = gaugan();
        c.args(["train", "--data"])
            .arg(&d)
            .arg("--out")
            .arg(&run)
            .args([
                "--size",
                "32",
                "--ngf",
                "2",
                "--ndf",
                "4",
                "--spade-hidden",
                "8",
                "--no-vae",
            ])
            .args([
                "--steps",
                "1",
                "--batch",
                "1",
                "--backend",
                "cpu",
                "--sample-every",
                "1",
            ])
            .args(extra);
        c.output().unwrap()
    };
    let out = args(&[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("broken.jpg") && err.contains("--skip-bad"),
        "{err}"
    );
    assert!(!run.join("model.gaugan").exists());

    let out = args(&["--skip-bad"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("skipping 4 bad pair(s): training on 2"),
        "{err}"
    );
    assert!(err.contains("VGG perceptual loss off"), "{err}");
    assert!(run.join("model.gaugan").is_file());
    assert!(run.join("samples/step_00000001.png").is_file());
    // An existing run is not overwritten by accident.
    let out = args(&["--skip-bad"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--resume"));
}
