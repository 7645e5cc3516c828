//! Text to speech for ownvoice.
//!
//! - [`phonemize`]: English text → IPA phonemes with espeak-ng (linked as a C library), keeping
//!   the punctuation that shapes prosody, sentence by sentence.
//! - [`kokoro`]: Kokoro-82M (StyleTTS 2) int8 on ONNX Runtime: espeak-ng IPA → misaki's
//!   symbols → audio in a style pack's voice; stock packs and fitted personal voices.
//! - [`synth`]: the [`Synthesizer`] trait all voices share.
//! - [`piper`]: Piper VITS voices (ONNX) on the ONNX Runtime layer: phonemes → phoneme ids →
//!   audio.

pub mod kokoro;
pub mod phonemize;
pub mod piper;
pub mod synth;

pub use piper::{PiperVoice, SynthOptions};
pub use synth::{speed_out_of_range, KokoroVoice, Synthesizer, SPEED_RANGE};

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
