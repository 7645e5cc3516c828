//! Personal TTS voices: a Kokoro style fitted to a person's own speech, on this device.
//!
//! - [`cmaes`]: sep-CMA-ES (Ros & Hansen 2008), the derivative-free optimiser.
//! - [`space`]: the search space — a mix of the best few stock style packs (the basis) plus an
//!   offset in units of the stock styles' spread — and the penalty that keeps it near natural
//!   styles.
//! - [`fit`]: the objective (speaker-encoder cosine to the person's takes, Whisper WER of the
//!   synthesised sentences, the naturalness penalty), evaluated in parallel, with checkpoints;
//!   each generation speaks two sentences of a rotating pool, the finalists all of them.
//! - [`evaluate`]: scoring candidates in parallel, in two phases, so that Whisper transcribes
//!   only those that can enter a generation's best half.
//! - [`rate`]: the fitted voice's speaking rate, chosen after the search by the same objective.
//! - [`report`]: how a voice compares with the person's real takes (similarity, WER, F0, speed).

pub mod cmaes;
pub mod evaluate;
pub mod fit;
pub mod rate;
pub mod report;
pub mod space;

/// Kokoro's normal speed (1.0), the serde default of reports and scores written before they
/// recorded a speed.
pub(crate) fn normal_speed() -> f32 {
    1.0
}

/// Errors of voice fitting.
#[derive(Debug, thiserror::Error)]
pub enum VoiceError {
    #[error(transparent)]
    Tts(#[from] ownvoice_tts::TtsError),
    #[error(transparent)]
    Speaker(#[from] ownvoice_speaker::SpeakerError),
    #[error(transparent)]
    Asr(#[from] ownvoice_asr::transcribe::AsrError),
    #[error(transparent)]
    Audio(#[from] ownvoice_audio::AudioError),
    #[error("{0}")]
    Input(String),
    /// A checkpoint saved by a search over another space (another offset).
    #[error("the checkpoint searched {saved} coordinates, this search {searched}")]
    CheckpointSpace { saved: usize, searched: usize },
}
