#![no_main]
//! Fuzz target: see `gaugan::fuzzing::label_png`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| gaugan::fuzzing::label_png(data));
