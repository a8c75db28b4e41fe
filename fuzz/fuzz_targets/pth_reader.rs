#![no_main]
//! Fuzz target: see `gaugan::fuzzing::pth`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| gaugan::fuzzing::pth(data));
