//! Fuzz target: see `checks::decode_audio`.
#![no_main]
#[path = "../checks.rs"]
mod checks;
libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::decode_audio(data));
