//! Criterion benchmarks of the main job's steps, with the real models (run `ownvoice models fetch`
//! first): CTranslate2 → ggml import of tiny.en, transcription of the 11 s jfk clip with tiny.en
//! (2 threads, greedy), and synthesis of one sentence with the Piper joe voice.
//!
//! `cargo bench -p ownvoice --bench pipeline`. Criterion reports time per iteration; divide by the
//! audio duration for the real-time factor (RTF).

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use ownvoice_asr::{DecodeOptions, WhisperModel};
use ownvoice_models::ModelCache;
use ownvoice_tts::{PiperVoice, SynthOptions};

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn ct2_import(c: &mut Criterion) {
    let dir = ModelCache::from_env().model_dir("tiny.en");
    let mut g = c.benchmark_group("import");
    g.sample_size(10);
    g.bench_function("ct2_to_ggml_tiny.en", |b| {
        b.iter(|| {
            ownvoice_asr::convert::convert_dir(&dir)
                .expect("tiny.en fetched")
                .to_bytes()
                .len()
        })
    });
    g.finish();
}

fn transcribe(c: &mut Criterion) {
    let cache = ModelCache::from_env();
    let model =
        WhisperModel::from_file(&cache.whisper_ggml("tiny.en").expect("tiny.en fetched")).unwrap();
    let clip = root().join("datasets/jfk_whisper_sample/wav/jfk/jfk.wav");
    let samples = ownvoice_audio::load_16k_mono(&clip).unwrap();
    let opts = DecodeOptions {
        threads: 2,
        ..DecodeOptions::default()
    };
    let mut g = c.benchmark_group("transcribe");
    g.sample_size(10);
    g.bench_function("tiny.en_jfk_11s_2_threads", |b| {
        b.iter(|| model.transcribe(&samples, &opts).unwrap())
    });
    g.finish();
}

fn synthesize(c: &mut Criterion) {
    let cache = ModelCache::from_env();
    ownvoice_onnx::init(&cache.onnxruntime_library().expect("onnxruntime fetched")).unwrap();
    let dir = cache.model_dir("joe");
    let mut voice =
        PiperVoice::load(&dir.join("voice.onnx"), &dir.join("voice.onnx.json"), 2).unwrap();
    let text = "The quick brown fox jumps over the lazy dog, and then it runs home.";
    let mut g = c.benchmark_group("speak");
    g.sample_size(10);
    g.bench_function("joe_one_sentence_2_threads", |b| {
        b.iter(|| voice.synthesize(text, &SynthOptions::default()).unwrap())
    });
    g.finish();
}

criterion_group!(benches, ct2_import, transcribe, synthesize);
criterion_main!(benches);
