//! Feature extraction for ownvoice: the inputs of the speech models, computed exactly as their
//! reference implementations compute them.
//!
//! - [`mel`]: librosa's Slaney mel filter banks (also embedded in converted Whisper models).
//! - [`stft`]: centred, reflect-padded, Hann-windowed power spectrogram.
//! - [`logmel`]: Whisper's log-mel spectrogram, `[n_mels, n_frames]` (80 or 128 bands).
//! - [`f0`]: fundamental frequency by YIN, for comparing voices' pitch.
//! - [`speaker_mel`]: the speaker encoder's 40-band mel spectrogram (Resemblyzer), `[40, n_frames]`.
//!
//! All take 16 kHz mono `f32` samples in `[-1, 1]`.

pub mod f0;
pub mod logmel;
pub mod mel;
pub mod speaker_mel;
pub mod stft;

pub use logmel::whisper_log_mel;
pub use speaker_mel::speaker_mel;

/// Errors from feature extraction.
#[derive(Debug, thiserror::Error)]
pub enum FeatureError {
    /// The signal is too short to frame.
    #[error("audio too short for features: {samples} samples, need at least {min_samples}")]
    TooShort { samples: usize, min_samples: usize },
    /// Whisper models use 80 or 128 mel bands.
    #[error("Whisper log-mel has 80 or 128 mel bands, not {n_mels}")]
    BadMelCount { n_mels: usize },
}
