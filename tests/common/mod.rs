//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// The shared parity fixture (`../shared/fixtures/spade-parity/ade20k-small`), or `None` when this
/// clone has no `../shared` (a user's machine). Under CI (`CI=true`) a missing fixture fails.
pub fn shared_fixture() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures/spade-parity/ade20k-small");
    if dir.join("netG.pth").exists() {
        return Some(dir);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "CI: the shared parity fixture is missing at {} (CI must provide ../shared)",
            dir.display()
        );
    }
    eprintln!(
        "SKIPPED: shared parity fixture not found at {} (not in CI)",
        dir.display()
    );
    None
}

/// One of our own reference fixtures under `tests/fixtures/spade-ref/`.
pub fn ref_fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/spade-ref")
        .join(name)
}

/// Max and mean absolute difference.
pub fn diff(a: &[f32], b: &[f32]) -> (f32, f32) {
    assert_eq!(a.len(), b.len(), "length mismatch");
    let mut max = 0f32;
    let mut sum = 0f64;
    for (x, y) in a.iter().zip(b) {
        let d = (x - y).abs();
        max = max.max(if d.is_nan() { f32::INFINITY } else { d });
        sum += d as f64;
    }
    (max, (sum / a.len() as f64) as f32)
}

/// The parity bound of the core issue: max <= 5e-4, mean <= 2e-5.
pub fn assert_parity(what: &str, ours: &[f32], expected: &[f32]) {
    let (max, mean) = diff(ours, expected);
    eprintln!("{what}: max |diff| {max:.3e}, mean {mean:.3e}");
    assert!(
        max <= 5e-4 && mean <= 2e-5,
        "{what}: max |diff| {max:e} (bound 5e-4), mean {mean:e} (bound 2e-5)"
    );
}

/// Reads a float32 .npy.
pub fn npy(path: PathBuf) -> Vec<f32> {
    gaugan::util::npy::read_f32(&path).unwrap().data
}

/// The wgpu backend (any adapter, lavapipe in CI), or `None` where there is no adapter (see
/// [`wgpu_available`]).
pub fn wgpu_backend() -> Option<gaugan::infer::Backend> {
    if !wgpu_available() {
        return None;
    }
    let be = gaugan::infer::backend::select(gaugan::infer::BackendChoice::Wgpu).unwrap();
    eprintln!("wgpu adapter: {}", be.description);
    Some(be)
}

/// Whether a wgpu adapter exists; in CI a missing one fails (CI installs lavapipe).
pub fn wgpu_available() -> bool {
    if !gaugan::infer::backend::adapters().is_empty() {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI: no wgpu adapter (mesa-vulkan-drivers should provide lavapipe)");
    }
    eprintln!("SKIPPED: no wgpu adapter on this machine");
    false
}
