#![no_main]
//! Fuzz target: see `gaugan::fuzzing::model_file`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| gaugan::fuzzing::model_file(data));
