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
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            beam_size: None,
            threads: std::thread::available_parallelism()
                .map_or(2, |n| n.get())
                .min(8),
            language: None,
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
}

/// The result of transcribing one signal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transcript {
    /// The whole text (segments joined by a space).
    pub text: String,
    /// Segments in time order.
    pub segments: Vec<Segment>,
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
            });
        }
        let text = segments
            .iter()
            .map(|s| s.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        Ok(Transcript { text, segments })
    }
}
