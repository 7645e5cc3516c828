//! The candle Whisper loaded from the fetched tiny.en ggml model transcribes real speech:
//! greedy decoding of the jfk clip gives its words (so every weight is where it belongs).

use candle_core::{DType, Device, Tensor, D};
use candle_nn::VarBuilder;
use ownvoice_adapt::{features::log_mel_window, varmap_from_ggml, Config, SpecialTokens, Whisper};

#[test]
fn greedy_decoding_of_jfk_gives_its_words() {
    let cache = std::env::var_os("OWNVOICE_MODELS_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            let base = std::env::var_os("XDG_CACHE_HOME").map_or_else(
                || std::path::PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache"),
                std::path::PathBuf::from,
            );
            base.join("ownvoice/models")
        });
    let bytes = std::fs::read(cache.join("tiny.en/ggml-model.bin"))
        .expect("tiny.en fetched (ownvoice models fetch)");
    let ggml = ownvoice_asr::ggml::WhisperGgml::parse(&bytes).unwrap();
    let dev = Device::Cpu;
    let config = Config::from(&ggml.hparams);
    let vm = varmap_from_ggml(&ggml, &dev).unwrap();
    let vb = VarBuilder::from_varmap(&vm, DType::F32, &dev);
    let model = Whisper::load(&vb, config).unwrap();

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let audio =
        ownvoice_audio_for_tests::load(&root.join("datasets/jfk_whisper_sample/wav/jfk/jfk.wav"));
    let mel = log_mel_window(&audio, config.n_mels, &dev).unwrap();
    let xa = model.encode(&mel).unwrap();
    let special = SpecialTokens::for_vocab(config.n_vocab);
    let mut tokens = special.prompt();
    for _ in 0..40 {
        let t = Tensor::new(tokens.as_slice(), &dev)
            .unwrap()
            .unsqueeze(0)
            .unwrap();
        let logits = model.decode(&t, &xa).unwrap();
        let last = logits.squeeze(0).unwrap().get(tokens.len() - 1).unwrap();
        let next = last.argmax(D::Minus1).unwrap().to_scalar::<u32>().unwrap();
        if next == special.eot {
            break;
        }
        tokens.push(next);
    }
    let text: Vec<u8> = tokens[special.prompt().len()..]
        .iter()
        .flat_map(|&t| ggml.vocab.get(t as usize).cloned().unwrap_or_default())
        .collect();
    let text = String::from_utf8_lossy(&text).to_lowercase();
    assert!(
        text.contains("ask not what your country can do for you"),
        "greedy transcript: {text:?}"
    );
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
