//! Text to speech for ownvoice.
//!
//! - [`phonemize`]: English text → IPA phonemes with espeak-ng (linked as a C library), keeping
//!   the punctuation that shapes prosody, sentence by sentence.
//! - [`piper`]: Piper VITS voices (ONNX) on the ONNX Runtime layer: phonemes → phoneme ids →
//!   audio.

pub mod phonemize;
pub mod piper;

pub use piper::{PiperVoice, SynthOptions};

/// Errors of the TTS crate.
#[derive(Debug, thiserror::Error)]
pub enum TtsError {
    #[error("espeak-ng: {0}")]
    Espeak(String),
    #[error("{path}: {detail}")]
    Config { path: String, detail: String },
    #[error(transparent)]
    Onnx(#[from] ownvoice_onnx::OnnxError),
    #[error("nothing to say: the text has no speakable words")]
    EmptyText,
}
