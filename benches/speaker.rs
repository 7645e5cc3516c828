//! Criterion benchmark of speaker embedding throughput (needs `ownvoice models fetch`): the GE2E
//! d-vector of 30 s of real speech (preprocessing, 40-band mel, the ONNX LSTM over ~25 partial
//! utterances, averaging) and of one 3 s enrollment take. Throughput is in samples at 16 kHz, so
//! criterion's elements/s divided by 16 000 is the speed in × real time.
//!
//! `cargo bench -p ownvoice --bench speaker`.

use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ownvoice_models::ModelCache;

fn root() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).to_path_buf()
}

fn load(rel: &str) -> Vec<f32> {
    ownvoice_audio::load_16k_mono(&root().join("datasets").join(rel)).unwrap()
}

fn embedding(c: &mut Criterion) {
    let cache = ModelCache::from_env();
    ownvoice_onnx::init(&cache.onnxruntime_library().expect("onnxruntime fetched")).unwrap();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().min(8));
    let mut enc = ownvoice_speaker::SpeakerEncoder::load(
        &cache
            .model_dir("ge2e")
            .join(ownvoice_models::fetch::SPEAKER_ENCODER_FILE),
        threads,
    )
    .expect("ge2e fetched");
    let take = load("cathy_arctic/enroll/wav/cathy/arctic_a0001.wav");
    let long: Vec<f32> = load("jfk_whisper_sample/wav/jfk/jfk.wav")
        .iter()
        .chain(&take)
        .copied()
        .cycle()
        .take(30 * 16_000)
        .collect();
    let mut g = c.benchmark_group("speaker");
    g.sample_size(20);
    g.throughput(Throughput::Elements(long.len() as u64));
    g.bench_function("ge2e_embed_30s", |b| {
        b.iter(|| enc.embed_utterance(&long).unwrap())
    });
    g.throughput(Throughput::Elements(take.len() as u64));
    g.bench_function("ge2e_embed_take", |b| {
        b.iter(|| enc.embed_utterance(&take).unwrap())
    });
    g.finish();
}

criterion_group!(benches, embedding);
criterion_main!(benches);
