//! Bad input: each case is a one-line error naming the file, a non-zero exit, no panic, and the
//! other files of the same call are still transcribed.

mod common;

use common::{assert_clean_failure, dataset, Env};

fn check(bad: &std::path::Path, problem: &str) {
    let env = Env::new();
    let good = dataset("jfk_whisper_sample/wav/jfk/jfk.wav");
    let out = env.run(&["transcribe", bad.to_str().unwrap(), good.to_str().unwrap()]);
    assert_clean_failure(&out, &bad.display().to_string());
    assert_clean_failure(&out, problem);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("ask not what your country"),
        "good file not transcribed: {stdout}"
    );
}

#[test]
fn missing_file() {
    check(
        std::path::Path::new("/nonexistent/take.wav"),
        "no such file",
    );
}

#[test]
fn not_audio() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("notes.wav");
    std::fs::write(&p, "this is a text file, not a recording\n").unwrap();
    check(&p, "not an audio file");
}

#[test]
fn empty_file() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("empty.wav");
    std::fs::write(&p, b"").unwrap();
    check(&p, "empty");
}

#[test]
fn zero_length_audio() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("zero.wav");
    common::write_wav(&p, &[], 16_000, 1, 16, false);
    check(&p, "empty audio");
}

#[test]
fn unsupported_encoding() {
    // MS ADPCM (format tag 2): a valid WAV that ownvoice does not decode.
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("adpcm.wav");
    let data = vec![0xd5u8; 8000];
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(4 + 26 + 8 + data.len() as u32).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&18u32.to_le_bytes());
    b.extend_from_slice(&2u16.to_le_bytes()); // MS ADPCM
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&8000u32.to_le_bytes());
    b.extend_from_slice(&8000u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&8u16.to_le_bytes());
    b.extend_from_slice(&0u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&(data.len() as u32).to_le_bytes());
    b.extend_from_slice(&data);
    std::fs::write(&p, b).unwrap();
    check(&p, "unsupported");
}

#[test]
fn truncated_wav_header() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("cut.wav");
    let full = std::fs::read(dataset("jfk_whisper_sample/wav/jfk/jfk.wav")).unwrap();
    std::fs::write(&p, &full[..30]).unwrap();
    check(&p, "not an audio file");
}

#[test]
fn unknown_model_is_a_clear_error() {
    let env = Env::new();
    let good = dataset("jfk_whisper_sample/wav/jfk/jfk.wav");
    let out = env.run(&[
        "transcribe",
        "--model",
        "nonexistent-model",
        good.to_str().unwrap(),
    ]);
    assert_clean_failure(&out, "nonexistent-model");
}
