//! Replays the fuzz corpus (`fuzz/corpus/<target>/`) and every saved crash
//! (`fuzz/regressions/<target>/`) through the fuzz targets' bodies: none may panic. A quick
//! regression test of what `cargo fuzz` found, not a fuzzing run.

use std::path::{Path, PathBuf};

fn inputs(target: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut files = Vec::new();
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        for e in entries.flatten() {
            if e.path().is_file() {
                files.push(e.path());
            }
        }
    }
    files.sort();
    files
}

fn replay(target: &str, run: impl Fn(&[u8])) {
    let files = inputs(target);
    assert!(!files.is_empty(), "no corpus for {target}");
    for f in &files {
        let data = std::fs::read(f).unwrap();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&data)));
        assert!(outcome.is_ok(), "{target}: {} panics", f.display());
    }
    eprintln!("{target}: {} inputs", files.len());
}

#[test]
fn pth_reader_corpus() {
    replay("pth_reader", gaugan::fuzzing::pth);
}

#[test]
fn model_file_corpus() {
    replay("model_file", gaugan::fuzzing::model_file);
}

#[test]
fn label_png_corpus() {
    replay("label_png", gaugan::fuzzing::label_png);
}

#[test]
fn dataset_scan_corpus() {
    let dir = tempfile::tempdir().unwrap();
    replay("dataset_scan", |d| {
        gaugan::fuzzing::dataset(d, &dir.path().join("data"))
    });
}

#[test]
fn the_hand_made_seeds_are_what_they_claim() {
    // The crafted torch files are real state dicts (so the fuzzer starts from valid ones).
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/pth_reader");
    for name in ["tiny_legacy.pth", "tiny_zip.pth"] {
        let sd = gaugan::checkpoint::pth::read_pth(&root.join(name)).unwrap();
        assert_eq!(sd.get("fc.weight").unwrap().shape, vec![2, 3], "{name}");
        assert_eq!(sd.get("fc.bias").unwrap().data, vec![0.1, -0.2], "{name}");
        assert!(sd.contains("norm.num_batches_tracked"), "{name}");
    }
    let e = gaugan::checkpoint::pth::read_pth(&root.join("os_system.pth")).unwrap_err();
    assert!(e.to_string().contains("posix.system"), "{e}");
}
