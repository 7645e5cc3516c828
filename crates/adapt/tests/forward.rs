//! The candle Whisper loaded from the fetched tiny.en ggml model transcribes real speech:
//! greedy decoding of the jfk clip gives its words (so every weight is where it belongs).

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use ownvoice_adapt::{features::log_mel_window, varmap_from_ggml, Config, SpecialTokens, Whisper};

/// The tiny.en model, its ggml file (for the vocabulary) and jfk's encoder output.
fn jfk_encoded() -> (Whisper, ownvoice_asr::ggml::WhisperGgml, Tensor) {
    let bytes = std::fs::read(models_dir().join("tiny.en/ggml-model.bin"))
        .expect("tiny.en fetched (ownvoice models fetch)");
    let ggml = ownvoice_asr::ggml::WhisperGgml::parse(&bytes).unwrap();
    let dev = Device::Cpu;
    let config = Config::from(&ggml.hparams);
    let vm = varmap_from_ggml(&ggml, &dev).unwrap();
    let vb = VarBuilder::from_varmap(&vm, DType::F32, &dev);
    let model = Whisper::load(&vb, config).unwrap();
    let root = repo_root();
    let audio =
        ownvoice_audio_for_tests::load(&root.join("datasets/jfk_whisper_sample/wav/jfk/jfk.wav"));
    let mel = log_mel_window(&audio, config.n_mels, &dev).unwrap();
    let xa = model.encode(&mel).unwrap();
    (model, ggml, xa)
}

/// Greedy decoding after `prompt`, at most 40 tokens, never choosing `suppress`; the tokens
/// after the prompt.
fn greedy(model: &Whisper, xa: &Tensor, prompt: Vec<u32>, eot: u32, suppress: u32) -> Vec<u32> {
    let mut tokens = prompt.clone();
    for _ in 0..40 {
        let t = Tensor::new(tokens.as_slice(), xa.device())
            .unwrap()
            .unsqueeze(0)
            .unwrap();
        let logits = model.decode(&t, xa).unwrap();
        let mut last: Vec<f32> = logits
            .squeeze(0)
            .unwrap()
            .get(tokens.len() - 1)
            .unwrap()
            .to_vec1()
            .unwrap();
        last[suppress as usize] = f32::NEG_INFINITY;
        let next = (0..last.len())
            .max_by(|&a, &b| last[a].total_cmp(&last[b]))
            .unwrap() as u32;
        if next == eot {
            break;
        }
        tokens.push(next);
    }
    tokens.split_off(prompt.len())
}

/// The lower-case text of `tokens`, special and timestamp tokens left out.
fn text_of(ggml: &ownvoice_asr::ggml::WhisperGgml, tokens: &[u32], eot: u32) -> String {
    let text: Vec<u8> = tokens
        .iter()
        .filter(|&&t| t < eot)
        .flat_map(|&t| ggml.vocab.get(t as usize).cloned().unwrap_or_default())
        .collect();
    String::from_utf8_lossy(&text).to_lowercase()
}

#[test]
fn greedy_decoding_of_jfk_gives_its_words() {
    let (model, ggml, xa) = jfk_encoded();
    let special = SpecialTokens::for_vocab(ggml.hparams.n_vocab as usize);
    let tokens = greedy(&model, &xa, special.prompt(), special.eot, special.sot);
    let text = text_of(&ggml, &tokens, special.eot);
    assert!(
        text.contains("ask not what your country can do for you"),
        "greedy transcript: {text:?}"
    );
}

/// The timestamped format the adaptation trains on (and whisper.cpp decodes in): after
/// `<|startoftranscript|>` alone, with `<|notimestamps|>` suppressed as whisper.cpp does when
/// it decodes with timestamps, the model predicts a start time near 0 s, the words, and end
/// times inside the 11 s clip; so the timestamp token ids are the model's own.
#[test]
fn timestamped_decoding_of_jfk_gives_times_around_its_words() {
    let (model, ggml, xa) = jfk_encoded();
    let special = SpecialTokens::for_vocab(ggml.hparams.n_vocab as usize);
    let tokens = greedy(
        &model,
        &xa,
        special.prompt_timestamped(),
        special.eot,
        special.no_timestamps,
    );
    let seconds = |t: u32| (t - special.timestamp_begin) as f32 * 0.02;
    let times: Vec<f32> = tokens
        .iter()
        .filter(|&&t| t >= special.timestamp_begin)
        .map(|&t| seconds(t))
        .collect();
    assert!(
        tokens[0] >= special.timestamp_begin && seconds(tokens[0]) < 1.0,
        "first token {} is not a start time near 0 s",
        tokens[0]
    );
    let last = *times.last().expect("timestamps");
    assert!((8.0..=11.5).contains(&last), "last time {last} s");
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "times {times:?}");
    assert_eq!(special.timestamp(seconds(tokens[0])), tokens[0]);
    let text = text_of(&ggml, &tokens, special.eot);
    assert!(text.contains("ask not what your country"), "{text:?}");
}

#[test]
fn lora_training_lowers_the_loss_of_a_take_and_merges_into_the_weights() {
    use ownvoice_adapt::lora::{attach, LoraConfig};
    use ownvoice_adapt::train::{example_loss, train, Example, TrainConfig};
    let bytes = std::fs::read(models_dir().join("tiny.en/ggml-model.bin")).unwrap();
    let ggml = ownvoice_asr::ggml::WhisperGgml::parse(&bytes).unwrap();
    let dev = Device::Cpu;
    let config = Config::from(&ggml.hparams);
    let frozen = ownvoice_adapt::model::tensors_from_ggml(&ggml, &dev).unwrap();
    let vb = VarBuilder::from_tensors(frozen, DType::F32, &dev);
    let mut model = Whisper::load(&vb, config).unwrap();
    let vars = candle_nn::VarMap::new();
    let n = attach(&mut model, &LoraConfig::default(), &vars, 7).unwrap();
    assert_eq!(
        n,
        4 * 8,
        "q, k, v, out of self- and cross-attention in 4 decoder blocks"
    );

    let root = repo_root();
    let audio =
        ownvoice_audio_for_tests::load(&root.join("datasets/jfk_whisper_sample/wav/jfk/jfk.wav"));
    let mel = log_mel_window(&audio, config.n_mels, &dev).unwrap();
    let encoded = model.encode(&mel).unwrap();
    let special = SpecialTokens::for_vocab(config.n_vocab);
    // A deliberately unusual transcript, so there is something to learn.
    let text = " And so, my fellow Americans: ask NOT what your country can do for you!";
    let mut tokens = special.prompt();
    tokens.extend(encode_with_vocab(&ggml.vocab, text));
    tokens.push(special.eot);
    let ex = Example::frozen(encoded, tokens);
    let p = special.prompt().len();
    let before = example_loss(&model, &ex, p)
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    let cfg = TrainConfig {
        epochs: 8,
        batch: 1,
        warmup: 2,
        dropout: 0.0,
        ..Default::default()
    };
    let report = train(
        &mut model,
        &vars,
        std::slice::from_ref(&ex),
        std::slice::from_ref(&ex),
        p,
        &cfg,
        None,
        &mut |_| true,
    )
    .unwrap();
    let after = example_loss(&model, &ex, p)
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    assert!(
        after < before * 0.5,
        "loss {before} -> {after} ({report:?})"
    );
    // The merged weights reproduce the adapted model's output.
    let merged = model.merged_weights().unwrap();
    assert_eq!(merged.len(), n);
    let w = &merged[0].1;
    let base = &model
        .linears_mut()
        .into_iter()
        .find(|l| l.lora.is_some())
        .unwrap()
        .weight
        .clone();
    let diff = (w - base)
        .unwrap()
        .abs()
        .unwrap()
        .sum_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    assert!(diff > 0.0, "the adapters changed the weights");
}

/// Greedy longest-match tokenisation with the ggml vocabulary (test helper only).
fn encode_with_vocab(vocab: &[Vec<u8>], text: &str) -> Vec<u32> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let (id, len) = (0..vocab.len())
            .filter(|&t| !vocab[t].is_empty() && bytes[i..].starts_with(&vocab[t]))
            .map(|t| (t, vocab[t].len()))
            .max_by_key(|&(_, l)| l)
            .expect("every byte has a token");
        out.push(id as u32);
        i += len;
    }
    out
}

fn models_dir() -> std::path::PathBuf {
    std::env::var_os("OWNVOICE_MODELS_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            let base = std::env::var_os("XDG_CACHE_HOME").map_or_else(
                || std::path::PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache"),
                std::path::PathBuf::from,
            );
            base.join("ownvoice/models")
        })
}

/// The repository root, from the `CARGO_MANIFEST_DIR` that `cargo test` sets at run time (a
/// binary reused from a checkout at another path still finds this checkout's data; cargo does
/// not rebuild a test when only the checkout's path changed).
fn repo_root() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(
            || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")),
            std::path::PathBuf::from,
        )
        .join("../..")
}

mod ownvoice_audio_for_tests {
    /// Reads a 16-bit mono 16 kHz WAV (the bundled clips) as f32.
    pub fn load(path: &std::path::Path) -> Vec<f32> {
        let mut r = hound::WavReader::open(path).unwrap();
        assert_eq!(r.spec().sample_rate, 16_000);
        r.samples::<i16>()
            .map(|s| s.unwrap() as f32 / 32768.0)
            .collect()
    }
}

#[test]
fn an_exported_model_transcribes_the_same_from_memory_and_from_a_file() {
    use ownvoice_adapt::lora::{attach, LoraConfig};
    let bytes = std::fs::read(models_dir().join("tiny.en/ggml-model.bin")).unwrap();
    let ggml = ownvoice_asr::ggml::WhisperGgml::parse(&bytes).unwrap();
    let dev = Device::Cpu;
    let frozen = ownvoice_adapt::model::tensors_from_ggml(&ggml, &dev).unwrap();
    let vb = VarBuilder::from_tensors(frozen, DType::F32, &dev);
    let mut model = Whisper::load(&vb, Config::from(&ggml.hparams)).unwrap();
    let vars = candle_nn::VarMap::new();
    attach(&mut model, &LoraConfig::default(), &vars, 3).unwrap();
    // Give the adapters a small non-zero effect.
    for v in vars.all_vars() {
        let t = (v.as_tensor().ones_like().unwrap() * 1e-3).unwrap();
        v.set(&t).unwrap();
    }
    let merged = model.merged_weights().unwrap();
    let adapted = ownvoice_adapt::export::with_weights(&ggml, &merged).unwrap();
    let out = adapted.to_bytes();
    assert_ne!(out, bytes, "the adapters changed the model");
    assert_eq!(out.len(), bytes.len(), "same tensors, same storage types");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("adapted.bin");
    std::fs::write(&file, &out).unwrap();
    let root = repo_root();
    let audio =
        ownvoice_audio_for_tests::load(&root.join("datasets/jfk_whisper_sample/wav/jfk/jfk.wav"));
    let opts = ownvoice_asr::DecodeOptions::default();
    let from_memory = ownvoice_asr::WhisperModel::from_bytes(&out)
        .unwrap()
        .transcribe(&audio, &opts)
        .unwrap();
    let from_file = ownvoice_asr::WhisperModel::from_file(&file)
        .unwrap()
        .transcribe(&audio, &opts)
        .unwrap();
    assert_eq!(from_memory.text, from_file.text);
    assert!(from_memory
        .text
        .to_lowercase()
        .contains("ask not what your country"));
}

#[test]
fn encoder_adapters_train_over_cached_frozen_blocks() {
    use ownvoice_adapt::lora::{attach, LoraConfig};
    use ownvoice_adapt::train::{example_loss, train, Example, TrainConfig};
    let bytes = std::fs::read(models_dir().join("tiny.en/ggml-model.bin")).unwrap();
    let ggml = ownvoice_asr::ggml::WhisperGgml::parse(&bytes).unwrap();
    let dev = Device::Cpu;
    let config = Config::from(&ggml.hparams);
    let frozen = ownvoice_adapt::model::tensors_from_ggml(&ggml, &dev).unwrap();
    let mut model =
        Whisper::load(&VarBuilder::from_tensors(frozen, DType::F32, &dev), config).unwrap();
    let root = repo_root();
    let audio =
        ownvoice_audio_for_tests::load(&root.join("datasets/jfk_whisper_sample/wav/jfk/jfk.wav"));
    let mel = log_mel_window(&audio, config.n_mels, &dev).unwrap();

    // Splitting the encoder at the last block computes the same output.
    let last = config.n_audio_layer - 1;
    let hidden = model.encode_upto(&mel, last).unwrap();
    let split = model.encode_from(&hidden, last).unwrap();
    let whole = model.encode(&mel).unwrap();
    let diff = (split - &whole).unwrap().abs().unwrap().max_all().unwrap();
    assert!(diff.to_scalar::<f32>().unwrap() < 1e-5);

    // Adapters on the last encoder block only: training moves them and lowers the loss.
    let vars = candle_nn::VarMap::new();
    let lora = LoraConfig {
        decoder: false,
        encoder_layers: vec![last],
        dropout: 0.0,
        ..LoraConfig::default()
    };
    assert_eq!(
        attach(&mut model, &lora, &vars, 5).unwrap(),
        4,
        "q, k, v, out"
    );
    let special = SpecialTokens::for_vocab(config.n_vocab);
    let mut tokens = special.prompt();
    tokens.extend(encode_with_vocab(
        &ggml.vocab,
        " And so, my fellow Americans: ask NOT what your country can do for you!",
    ));
    tokens.push(special.eot);
    let ex = Example {
        encoded: hidden,
        tokens,
        encoder_from: Some(last),
    };
    let p = special.prompt().len();
    let loss = |m: &Whisper| example_loss(m, &ex, p).unwrap().to_scalar::<f32>().unwrap();
    let before = loss(&model);
    let cfg = TrainConfig {
        epochs: 4,
        batch: 1,
        warmup: 1,
        lr: 2e-3,
        dropout: 0.0,
        keep_last: true,
        ..Default::default()
    };
    let one = std::slice::from_ref(&ex);
    train(&mut model, &vars, one, one, p, &cfg, None, &mut |_| true).unwrap();
    let after = loss(&model);
    assert!(after < before * 0.8, "loss {before} -> {after}");
    let merged = model.merged_weights().unwrap();
    assert!(merged
        .iter()
        .all(|(n, _)| n.starts_with(&format!("encoder.blocks.{last}."))));
}
