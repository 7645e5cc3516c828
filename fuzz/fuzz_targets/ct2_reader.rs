//! Fuzz target: see `checks::ct2_reader`.
#![no_main]
#[path = "../checks.rs"]
mod checks;
libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::ct2_reader(data));
