//! Speaker-adapted speech recognition: Whisper fine-tuned on one person's enrolled takes, on the
//! device.
//!
//! - [`model`]: Whisper in candle, every weight a trainable variable loaded by name from the ggml
//!   model whisper.cpp runs (so what is trained is exactly what is deployed).
//! - [`lora`]: low-rank adapters on chosen layers.
//! - [`train`]: teacher-forced fine-tuning with AdamW, warm-up, early stopping.
//! - [`features`]: the encoder input as Whisper computes it (30 s windows of log-mel).
//! - [`augment`]: speed perturbation, more varied training audio from the same takes.
//! - [`pack`]: short takes packed into shared 30 s windows.
//! - [`frozen`]: matmul by a weight that is not trained, with no gradient computed for it.
//! - [`softmax`]: softmax as one fused operation with its backward pass.
//! - [`targets`]: the token sequence Whisper emits for a window, with or without timestamps.

pub mod augment;
pub mod checkpoint;
pub mod export;
pub mod features;
pub mod frozen;
pub mod lora;
pub mod model;
pub mod pack;
pub mod softmax;
pub mod targets;
pub mod train;

pub use model::{varmap_from_ggml, Config, Whisper};

#[cfg(test)]
mod op_check {
    use candle_core::{Device, Tensor, Var};

    /// The largest absolute difference between two tensors of one shape.
    pub fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
        (a - b)
            .and_then(|d| d.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>())
            .expect("same shapes")
    }

    /// Asserts that `ours` and `reference` agree, within `tol`, on a random input of `shape`
    /// (normal, standard deviation `std`): in their outputs, and in the input's gradient of a
    /// random weighted sum of the outputs, which must not be zero.
    pub fn assert_same_op(
        shape: &[usize],
        std: f32,
        tol: f32,
        ours: impl Fn(&Tensor) -> Tensor,
        reference: impl Fn(&Tensor) -> Tensor,
    ) {
        let dev = Device::Cpu;
        let x = Var::from_tensor(&Tensor::randn(0f32, std, shape, &dev).unwrap()).unwrap();
        let (a, b) = (ours(x.as_tensor()), reference(x.as_tensor()));
        assert_eq!(a.dims(), b.dims());
        assert!(
            max_abs_diff(&a, &b) < tol,
            "outputs differ by {}",
            max_abs_diff(&a, &b)
        );
        let c = Tensor::randn(0f32, 1.0, a.dims(), &dev).unwrap();
        let grad = |y: &Tensor| (y * &c).unwrap().sum_all().unwrap().backward().unwrap();
        let (ga, gb) = (grad(&a), grad(&b));
        let (ga, gb) = (ga.get(&x).unwrap(), gb.get(&x).unwrap());
        assert!(
            max_abs_diff(ga, gb) < tol,
            "gradients differ by {}",
            max_abs_diff(ga, gb)
        );
        assert!(
            ga.abs()
                .unwrap()
                .sum_all()
                .unwrap()
                .to_scalar::<f32>()
                .unwrap()
                > 1e-3
        );
    }
}

/// Special tokens of Whisper's vocabularies (whisper.cpp `whisper_vocab`): English-only models
/// (`n_vocab` 51864) have them one lower than multilingual ones (51865 and up).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpecialTokens {
    pub eot: u32,
    pub sot: u32,
    pub transcribe: u32,
    pub no_timestamps: u32,
    /// `<|0.00|>`, the first of the 1501 timestamp tokens (0.02 s apart, to `<|30.00|>`).
    pub timestamp_begin: u32,
    /// `<|en|>` for multilingual models.
    pub english: Option<u32>,
}

impl SpecialTokens {
    /// The special tokens of a vocabulary of `n_vocab` entries.
    pub fn for_vocab(n_vocab: usize) -> SpecialTokens {
        let multilingual = n_vocab >= 51865;
        let shift = u32::from(multilingual);
        SpecialTokens {
            eot: 50256 + shift,
            sot: 50257 + shift,
            transcribe: 50358 + shift,
            no_timestamps: 50362 + shift,
            timestamp_begin: 50363 + shift,
            english: multilingual.then_some(50259),
        }
    }

    /// The decoder prompt for English transcription without timestamps.
    pub fn prompt(&self) -> Vec<u32> {
        let mut p = self.prompt_timestamped();
        p.push(self.no_timestamps);
        p
    }

    /// The decoder prompt for English transcription with timestamps (whisper.cpp's default
    /// decoding): the first predicted token is then a timestamp.
    pub fn prompt_timestamped(&self) -> Vec<u32> {
        match self.english {
            Some(en) => vec![self.sot, en, self.transcribe],
            None => vec![self.sot],
        }
    }

    /// The decoder prompt with timestamps ([`Self::prompt_timestamped`]) or without
    /// ([`Self::prompt`]).
    pub fn prompt_for(&self, timestamps: bool) -> Vec<u32> {
        if timestamps {
            self.prompt_timestamped()
        } else {
            self.prompt()
        }
    }

    /// The timestamp token nearest to `seconds` into the window: Whisper's timestamps step
    /// 0.02 s from `<|0.00|>` to `<|30.00|>` (Radford et al. 2022, §2.3); outside that range
    /// the nearest end.
    pub fn timestamp(&self, seconds: f32) -> u32 {
        self.timestamp_begin + (seconds / 0.02).round().clamp(0.0, 1500.0) as u32
    }
}

/// The model's own tokenizer (`tokenizer.json` of the CTranslate2 folder, read by the
/// `tokenizers` crate).
pub struct TextTokenizer(tokenizers::Tokenizer);

impl TextTokenizer {
    /// Reads `tokenizer.json`.
    ///
    /// # Errors
    /// A message naming the file.
    pub fn from_file(path: &std::path::Path) -> Result<TextTokenizer, String> {
        tokenizers::Tokenizer::from_file(path)
            .map(TextTokenizer)
            .map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Token ids of a transcript as Whisper predicts it: with a leading space, no special tokens.
    ///
    /// # Errors
    /// A message from the tokenizer.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, String> {
        let t = format!(" {}", text.trim());
        self.0
            .encode(t.as_str(), false)
            .map(|e| e.get_ids().to_vec())
            .map_err(|e| e.to_string())
    }
}

/// A transcript in the style Whisper writes: an all-upper-case transcript (as some datasets
/// give them) becomes sentence case with a full stop, so training does not teach the model to
/// shout (or to run packed sentences together).
pub fn whisper_style(text: &str) -> String {
    let t = text.trim();
    if t.chars().any(char::is_lowercase) || !t.chars().any(char::is_uppercase) {
        return t.to_string();
    }
    let lower = t.to_lowercase();
    let mut out = String::with_capacity(lower.len());
    let mut start = true;
    for w in lower.split(' ') {
        if !out.is_empty() {
            out.push(' ');
        }
        if start || w == "i" || w.starts_with("i'") {
            let mut c = w.chars();
            if let Some(f) = c.next() {
                out.extend(f.to_uppercase());
                out.push_str(c.as_str());
            }
        } else {
            out.push_str(w);
        }
        start = false;
    }
    if !out.ends_with(['.', '?', '!']) {
        out.push('.');
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn shouting_transcripts_become_sentence_case() {
        assert_eq!(
            super::whisper_style("IT'S JUST SO HARD I THINK"),
            "It's just so hard I think."
        );
        assert_eq!(super::whisper_style("Already fine."), "Already fine.");
    }
}
