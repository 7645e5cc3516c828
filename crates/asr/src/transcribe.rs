//! Transcription with whisper.cpp through whisper-rs.

use std::path::Path;
use std::sync::Once;

use serde::Serialize;
use whisper_rs::{FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters};

/// Errors from loading a model or transcribing.
#[derive(Debug, thiserror::Error)]
pub enum AsrError {
    #[error("{path}: cannot load Whisper model: {detail}")]
    Load { path: String, detail: String },
    #[error("transcription failed: {0}")]
    Transcribe(String),
}

/// How to decode.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodeOptions {
    /// Beam width; `None` (the default) decodes greedily.
    pub beam_size: Option<usize>,
    /// CPU threads for whisper.cpp.
    pub threads: usize,
    /// Spoken language code (`en`, `de`, ...) or `auto`; `None` means `en` for English-only
    /// models and `auto` for multilingual ones.
    pub language: Option<String>,
    /// Text that conditions the decoder (names, spellings, the previous sentence), as OpenAI's
    /// `prompt` and whisper.cpp's `initial_prompt`.
    pub initial_prompt: Option<String>,
    /// Encoder audio context in frames of 20 ms (whisper.cpp's `audio_ctx`; the full window is
    /// 1500 = 30 s). A smaller context encodes faster; it must cover the audio. `None` = 1500.
    pub audio_ctx: Option<usize>,
}

impl DecodeOptions {
    /// The audio context (encoder frames of 20 ms, whisper.cpp's `audio_ctx`) for an utterance of
    /// `n_samples` at 16 kHz: enough frames to cover it plus `margin_s` seconds, rounded up to a
    /// multiple of 64, at least [`MIN_AUDIO_CTX`] and at most the full 1500 (30 s).
    pub fn audio_ctx_for(n_samples: usize, margin_s: f64) -> usize {
        let seconds = n_samples as f64 / 16_000.0 + margin_s;
        let frames = (seconds * 50.0).ceil() as usize;
        frames
            .div_ceil(64)
            .saturating_mul(64)
            .clamp(MIN_AUDIO_CTX, 1500)
    }
}

/// The smallest reduced audio context used, in encoder frames (7.68 s). Measured on the 10
/// held-back Cathy takes bundled in `datasets/` (2–4 s each) with tiny.en: WER 4.35 % with
/// the full 1500 frames and with 384, 512 or 768, but 37 % with 256 and 88 % when fitted
/// tightly to each take (`ownvoice eval asr --data datasets/cathy_arctic/heldout --audio-ctx N`).
/// Below this whisper.cpp repeats and garbles words.
pub const MIN_AUDIO_CTX: usize = 384;

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            beam_size: None,
            threads: std::thread::available_parallelism()
                .map_or(2, |n| n.get())
                .min(8),
            language: None,
            initial_prompt: None,
            audio_ctx: None,
        }
    }
}

/// A time-stamped piece of a transcript.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Segment {
    /// Start time in seconds from the beginning of the audio.
    pub start: f64,
    /// End time in seconds.
    pub end: f64,
    /// Text of the segment, trimmed.
    pub text: String,
    /// Whisper's probability that the segment's window holds no speech (0–1), from the
    /// `<|nospeech|>` token at the first decoding step.
    pub no_speech_prob: f32,
}

/// The result of transcribing one signal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transcript {
    /// The whole text (segments joined by a space).
    pub text: String,
    /// Segments in time order.
    pub segments: Vec<Segment>,
    /// The language decoded (the requested one, or the detected one for `auto`).
    pub language: String,
}

/// A loaded Whisper model (whisper.cpp context).
pub struct WhisperModel {
    ctx: WhisperContext,
}

static QUIET: Once = Once::new();

fn quiet_whisper_cpp() {
    // Route whisper.cpp / ggml logging away from stderr (whisper-rs drops it without a backend).
    QUIET.call_once(whisper_rs::install_logging_hooks);
}

impl WhisperModel {
    /// Loads a ggml model file.
    ///
    /// # Errors
    /// [`AsrError::Load`] naming the file.
    pub fn from_file(path: &Path) -> Result<Self, AsrError> {
        quiet_whisper_cpp();
        let err = |detail: String| AsrError::Load {
            path: path.display().to_string(),
            detail,
        };
        if !path.is_file() {
            return Err(err("no such file".into()));
        }
        let ctx = WhisperContext::new_with_params(path, WhisperContextParameters::default())
            .map_err(|e| err(format!("{e:?}")))?;
        Ok(WhisperModel { ctx })
    }

    /// Loads a ggml model from bytes in memory (for models that must never touch the disk
    /// unencrypted, such as a person's adapted model).
    ///
    /// # Errors
    /// [`AsrError::Load`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, AsrError> {
        quiet_whisper_cpp();
        let ctx =
            WhisperContext::new_from_buffer_with_params(bytes, WhisperContextParameters::default())
                .map_err(|e| AsrError::Load {
                    path: "<memory>".into(),
                    detail: format!("{e:?}"),
                })?;
        Ok(WhisperModel { ctx })
    }

    /// True for multilingual models (English-only `.en` models return false).
    pub fn is_multilingual(&self) -> bool {
        self.ctx.is_multilingual()
    }

    /// Language codes the model decodes: `["en"]` for English-only models, else every language
    /// whisper.cpp knows (`en`, `zh`, `de`, ...).
    pub fn languages(&self) -> Vec<String> {
        if !self.is_multilingual() {
            return vec!["en".into()];
        }
        (0..=whisper_rs::get_lang_max_id())
            .filter_map(whisper_rs::get_lang_str)
            .map(str::to_string)
            .collect()
    }

    /// Transcribes 16 kHz mono samples.
    ///
    /// # Errors
    /// [`AsrError::Transcribe`] when whisper.cpp fails, or for a language an English-only model
    /// cannot decode.
    pub fn transcribe(
        &self,
        samples: &[f32],
        opts: &DecodeOptions,
    ) -> Result<Transcript, AsrError> {
        let strategy = match opts.beam_size {
            Some(b) if b > 1 => SamplingStrategy::BeamSearch {
                beam_size: b as i32,
                patience: -1.0,
            },
            _ => SamplingStrategy::Greedy { best_of: 1 },
        };
        let language = match opts.language.as_deref() {
            Some(l) => l.to_string(),
            None if self.is_multilingual() => "auto".into(),
            None => "en".into(),
        };
        if !self.is_multilingual() && language != "en" {
            return Err(AsrError::Transcribe(format!(
                "this model is English-only; --language {language} needs a multilingual model such as `base`"
            )));
        }
        let mut params = FullParams::new(strategy);
        params.set_n_threads(opts.threads.max(1) as i32);
        params.set_language(Some(&language));
        params.set_print_progress(false);
        params.set_print_realtime(false);
        params.set_print_special(false);
        params.set_print_timestamps(false);
        if let Some(prompt) = opts.initial_prompt.as_deref().filter(|p| !p.is_empty()) {
            params.set_initial_prompt(prompt);
        }
        if let Some(ctx) = opts.audio_ctx.filter(|&c| c > 0 && c < 1500) {
            params.set_audio_ctx(ctx as i32);
        }
        let mut state = self
            .ctx
            .create_state()
            .map_err(|e| AsrError::Transcribe(format!("{e:?}")))?;
        state
            .full(params, samples)
            .map_err(|e| AsrError::Transcribe(format!("{e:?}")))?;
        let mut segments = Vec::new();
        for seg in state.as_iter() {
            let text = seg
                .to_str_lossy()
                .map_err(|e| AsrError::Transcribe(format!("{e:?}")))?
                .trim()
                .to_string();
            if text.is_empty() {
                continue;
            }
            segments.push(Segment {
                // whisper.cpp timestamps are in centiseconds.
                start: seg.start_timestamp() as f64 / 100.0,
                end: seg.end_timestamp() as f64 / 100.0,
                text,
                no_speech_prob: seg.no_speech_probability(),
            });
        }
        let text = segments
            .iter()
            .map(|s| s.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let language = if language == "auto" {
            whisper_rs::get_lang_str(state.full_lang_id_from_state())
                .unwrap_or("en")
                .to_string()
        } else {
            language
        };
        Ok(Transcript {
            text,
            segments,
            language,
        })
    }
}
