#![no_main]
//! Fuzz target: see `gaugan::fuzzing::dataset`. Each fuzzing process writes its folders under
//! its own scratch directory.

use std::path::PathBuf;
use std::sync::OnceLock;

fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| std::env::temp_dir().join(format!("gaugan-fuzz-{}", std::process::id())))
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| gaugan::fuzzing::dataset(data, &scratch().join("data")));
