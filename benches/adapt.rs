//! Criterion benchmarks of speaker adaptation (needs `ownvoice models fetch`): seconds per
//! optimisation step of tiny.en on real takes (Cathy), for
//!
//! - `lora_step_4_takes`: LoRA on the decoder's attention, encoder outputs cached (what
//!   `ownvoice adapt` does), a batch of 4 takes;
//! - `decoder_step_4_takes`: every decoder weight trained, encoder frozen and cached;
//! - `full_step_1_take`: every weight trained, the encoder run forward and backward on one take.
//!
//! `cargo bench -p ownvoice --bench adapt`.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device};
use candle_nn::{Optimizer, VarBuilder, VarMap};
use criterion::{criterion_group, criterion_main, Criterion};
use ownvoice_adapt::features::log_mel_window;
use ownvoice_adapt::lora::{attach, LoraConfig};
use ownvoice_adapt::train::{example_loss, Example};
use ownvoice_adapt::{Config, SpecialTokens, TextTokenizer, Whisper};

fn root() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).to_path_buf()
}

fn bench(c: &mut Criterion) {
    let cache = ownvoice_models::ModelCache::from_env();
    let dir = cache.model_dir("tiny.en");
    let bytes = std::fs::read(dir.join("ggml-model.bin")).expect("tiny.en fetched");
    let ggml = ownvoice_asr::ggml::WhisperGgml::parse(&bytes).unwrap();
    let tok = TextTokenizer::from_file(&dir.join("tokenizer.json")).unwrap();
    let dev = Device::Cpu;
    let config = Config::from(&ggml.hparams);
    let special = SpecialTokens::for_vocab(config.n_vocab);
    let takes =
        ownvoice_enroll::read_dataset(&root().join("datasets/cathy_arctic/enroll")).unwrap();
    let mels: Vec<_> = takes[..4]
        .iter()
        .map(|t| {
            let audio = ownvoice_audio::load_16k_mono(&t.path).unwrap();
            log_mel_window(&audio, config.n_mels, &dev).unwrap()
        })
        .collect();
    let tokens: Vec<Vec<u32>> = takes[..4]
        .iter()
        .map(|t| {
            let mut v = special.prompt();
            v.extend(tok.encode(&t.text).unwrap());
            v.push(special.eot);
            v
        })
        .collect();
    let p = special.prompt().len();
    let mut g = c.benchmark_group("adapt");
    g.sample_size(10);

    // LoRA, encoder cached.
    let frozen = ownvoice_adapt::model::tensors_from_ggml(&ggml, &dev).unwrap();
    let mut model =
        Whisper::load(&VarBuilder::from_tensors(frozen, DType::F32, &dev), config).unwrap();
    let vars = VarMap::new();
    attach(&mut model, &LoraConfig::default(), &vars, 1).unwrap();
    let examples: Vec<Example> = mels
        .iter()
        .zip(&tokens)
        .map(|(m, t)| Example {
            encoded: model.encode(m).unwrap(),
            tokens: t.clone(),
        })
        .collect();
    let mut opt = candle_nn::AdamW::new_lr(vars.all_vars(), 1e-4).unwrap();
    let step = |model: &Whisper, opt: &mut candle_nn::AdamW, ex: &[Example]| {
        let mut loss = example_loss(model, &ex[0], p).unwrap();
        for e in &ex[1..] {
            loss = (loss + example_loss(model, e, p).unwrap()).unwrap();
        }
        opt.backward_step(&loss).unwrap();
    };
    g.bench_function("lora_step_4_takes", |b| {
        b.iter(|| step(&model, &mut opt, &examples))
    });

    // Every weight a variable.
    let all = ownvoice_adapt::varmap_from_ggml(&ggml, &dev).unwrap();
    let full = Whisper::load(&VarBuilder::from_varmap(&all, DType::F32, &dev), config).unwrap();
    let decoder_vars: Vec<_> = {
        let data = all.data().lock().unwrap();
        data.iter()
            .filter(|(n, _)| n.starts_with("decoder."))
            .map(|(_, v)| v.clone())
            .collect()
    };
    let cached: Vec<Example> = examples
        .iter()
        .map(|e| Example {
            encoded: e.encoded.detach(),
            tokens: e.tokens.clone(),
        })
        .collect();
    let mut opt = candle_nn::AdamW::new_lr(decoder_vars, 1e-5).unwrap();
    g.bench_function("decoder_step_4_takes", |b| {
        b.iter(|| step(&full, &mut opt, &cached))
    });
    let mut opt = candle_nn::AdamW::new_lr(all.all_vars(), 1e-5).unwrap();
    g.bench_function("full_step_1_take", |b| {
        b.iter(|| {
            let ex = Example {
                encoded: full.encode(&mels[0]).unwrap(),
                tokens: tokens[0].clone(),
            };
            let loss = example_loss(&full, &ex, p).unwrap();
            opt.backward_step(&loss).unwrap();
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
