//! Fuzz target: see `checks::ggml_reader`.
#![no_main]
#[path = "../checks.rs"]
mod checks;
libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::ggml_reader(data));
