//! Criterion benchmarks of speaker adaptation (needs `ownvoice models fetch`): seconds per
//! optimisation step of tiny.en on real takes (Cathy), for
//!
//! - `lora_step_4_takes`: LoRA on the decoder's attention, encoder outputs cached (what
//!   `ownvoice adapt` does), a batch of 4 takes;
//! - `decoder_step_4_takes`: every decoder weight trained, encoder frozen and cached;
//! - `encoder_lora_step_1_window`: LoRA on the decoder's attention and on the last 2 encoder
//!   blocks (`adapt --encoder-layers 2 --pack`), the frozen blocks' output cached, one 30 s
//!   window of packed takes;
//! - `full_step_1_take`: every weight trained, the encoder run forward and backward on one take.
//!
//! The time of a whole run (100 takes × 3 epochs) and its peak RSS: `bash tools/bench_adapt.sh`.
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
        .map(|(m, t)| Example::frozen(model.encode(m).unwrap(), t.clone()))
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

    // LoRA on the last 2 encoder blocks too, over a packed window.
    let frozen = ownvoice_adapt::model::tensors_from_ggml(&ggml, &dev).unwrap();
    let mut enc_model =
        Whisper::load(&VarBuilder::from_tensors(frozen, DType::F32, &dev), config).unwrap();
    let from = config.n_audio_layer - 2;
    let enc_vars = VarMap::new();
    let lora = LoraConfig {
        encoder_layers: (from..config.n_audio_layer).collect(),
        ..LoraConfig::default()
    };
    attach(&mut enc_model, &lora, &enc_vars, 1).unwrap();
    let packed: Vec<(Vec<f32>, String)> = takes[..8]
        .iter()
        .map(|t| {
            (
                ownvoice_audio::load_16k_mono(&t.path).unwrap(),
                t.text.clone(),
            )
        })
        .collect();
    let packed_window = &ownvoice_adapt::pack::pack(&packed)[0];
    let mut window_tokens = special.prompt();
    window_tokens.extend(tok.encode(&packed_window.text()).unwrap());
    window_tokens.push(special.eot);
    let window = Example {
        encoded: enc_model
            .encode_upto(
                &log_mel_window(&packed_window.samples, config.n_mels, &dev).unwrap(),
                from,
            )
            .unwrap(),
        tokens: window_tokens,
        encoder_from: Some(from),
    };
    let mut opt = candle_nn::AdamW::new_lr(enc_vars.all_vars(), 1e-4).unwrap();
    g.bench_function("encoder_lora_step_1_window", |b| {
        b.iter(|| step(&enc_model, &mut opt, std::slice::from_ref(&window)))
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
        .map(|e| Example::frozen(e.encoded.detach(), e.tokens.clone()))
        .collect();
    let mut opt = candle_nn::AdamW::new_lr(decoder_vars, 1e-5).unwrap();
    g.bench_function("decoder_step_4_takes", |b| {
        b.iter(|| step(&full, &mut opt, &cached))
    });
    let mut opt = candle_nn::AdamW::new_lr(all.all_vars(), 1e-5).unwrap();
    g.bench_function("full_step_1_take", |b| {
        b.iter(|| {
            let ex = Example::frozen(full.encode(&mels[0]).unwrap(), tokens[0].clone());
            let loss = example_loss(&full, &ex, p).unwrap();
            opt.backward_step(&loss).unwrap();
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
