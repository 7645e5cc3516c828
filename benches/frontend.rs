//! Criterion benchmarks of the audio front end, on real speech (the bundled clips; VAD needs
//! `ownvoice models fetch` for Silero): Whisper log-mel of 30 s of audio, Silero VAD over 60 s,
//! and decoding the MP3 fixture. Throughput is reported in samples (audio seconds × 16 000) or
//! bytes per second.
//!
//! `cargo bench -p ownvoice --bench frontend`; the log-mel speed ratio against librosa on the
//! same 30 s is `python3 tools/compare_logmel.py`.

use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ownvoice_models::ModelCache;

fn root() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).to_path_buf()
}

/// `seconds` of real speech at 16 kHz: the jfk clip and Cathy takes, concatenated and repeated.
fn speech(seconds: usize) -> Vec<f32> {
    let d = root().join("datasets");
    let mut clips = vec![d.join("jfk_whisper_sample/wav/jfk/jfk.wav")];
    for i in 1..=10 {
        clips.push(d.join(format!("cathy_arctic/enroll/wav/cathy/arctic_a{i:04}.wav")));
    }
    let all: Vec<f32> = clips
        .iter()
        .flat_map(|p| ownvoice_audio::load_16k_mono(p).unwrap())
        .collect();
    all.iter().copied().cycle().take(seconds * 16_000).collect()
}

fn log_mel(c: &mut Criterion) {
    let x = speech(30);
    let mut g = c.benchmark_group("features");
    g.throughput(Throughput::Elements(x.len() as u64));
    g.bench_function("whisper_log_mel_80_30s", |b| {
        b.iter(|| ownvoice_features::whisper_log_mel(&x, 80).unwrap())
    });
    g.bench_function("speaker_mel_30s", |b| {
        b.iter(|| ownvoice_features::speaker_mel(&x).unwrap())
    });
    g.finish();
}

fn vad(c: &mut Criterion) {
    let cache = ModelCache::from_env();
    ownvoice_onnx::init(&cache.onnxruntime_library().expect("onnxruntime fetched")).unwrap();
    let mut vad =
        ownvoice_vad::SileroVad::load(&cache.model_dir("silero-vad").join("silero_vad.onnx"))
            .unwrap();
    let x = speech(60);
    let mut g = c.benchmark_group("vad");
    g.sample_size(10);
    g.throughput(Throughput::Elements(x.len() as u64));
    g.bench_function("silero_segments_60s", |b| {
        b.iter(|| {
            vad.segments(&x, ownvoice_vad::VadConfig::default())
                .unwrap()
        })
    });
    g.finish();
}

fn decode_mp3(c: &mut Criterion) {
    let p = root().join("tests/fixtures/decode/mp3_44k_stereo.mp3");
    let bytes = std::fs::read(&p).unwrap();
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("mp3_44k_stereo_3.3s", |b| {
        b.iter(|| ownvoice_audio::decode_bytes(bytes.clone(), &p).unwrap())
    });
    g.finish();
}

criterion_group!(benches, log_mel, vad, decode_mp3);
criterion_main!(benches);
