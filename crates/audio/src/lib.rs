//! Audio I/O for ownvoice: the one place where sound enters and leaves the toolkit.
//!
//! - [`decode`]: [`read_audio`] reads WAV, FLAC, MP3 or Ogg Vorbis into mono `f32` samples, and
//!   [`load_16k_mono`] gives the 16 kHz mono signal every model in ownvoice consumes.
//! - [`compressed`]: the symphonia side of decoding (FLAC, MP3, Vorbis, exotic WAV encodings).
//! - [`resample`]: sample-rate conversion (rubato's FFT resampler).
//! - [`levels`]: peak, RMS (dBFS) and clipping statistics of a signal.
//! - [`write`]: 16-bit WAV encoding, in memory or written atomically to disk.
//! - [`capture`]: input sources — a live device (cpal) or a file at real-time pace (test seam) —
//!   and device listing.
//! - [`playback`]: play samples on the default output device (cpal).
//!
//! Samples are `f32` in `[-1.0, 1.0]` throughout.

pub mod capture;
pub mod compressed;
pub mod decode;
pub mod levels;
pub mod playback;
pub mod resample;
pub mod write;

pub use decode::{decode_bytes, decode_wav_bytes, load_16k_mono, read_audio, read_wav, Audio};
pub use levels::Levels;

use std::path::PathBuf;

/// The sample rate, in Hz, of every signal ownvoice feeds to a speech model (Whisper, Silero VAD).
pub const SPEECH_SAMPLE_RATE: u32 = 16_000;

/// Errors from reading, converting, writing or playing audio. Each names the file it concerns.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    /// The file does not exist.
    #[error("{path}: no such file")]
    NotFound { path: PathBuf },
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not WAV, FLAC, MP3 or Ogg, or its header or stream is malformed.
    #[error("{path}: not an audio file ownvoice reads (WAV, FLAC, MP3, Ogg Vorbis): {detail}")]
    NotAudio { path: PathBuf, detail: String },
    /// An audio file whose encoding ownvoice does not read (for example ADPCM in a WAV).
    #[error("{path}: unsupported audio encoding ({detail})")]
    Unsupported { path: PathBuf, detail: String },
    /// The file holds no samples at all.
    #[error("{path}: empty audio (0 samples)")]
    Empty { path: PathBuf },
    /// Resampling failed (an invalid rate, for example 0 Hz).
    #[error("resampling {from_hz} Hz -> {to_hz} Hz failed: {detail}")]
    Resample {
        from_hz: u32,
        to_hz: u32,
        detail: String,
    },
    /// No audio input device (of the name asked for) is available.
    #[error("{}", match .0 { Some(n) => format!("no audio input device named {n:?} (see `ownvoice devices`)"), None => "no audio input device found (is a microphone, sound card or PulseAudio/PipeWire available? see `ownvoice devices`)".to_string() })]
    NoInputDevice(Option<String>),
    /// Capture failed on the device.
    #[error("recording failed: {0}")]
    Capture(String),
    /// No audio output device is available for playback.
    #[error("no audio output device found (is a sound card or PulseAudio/PipeWire available?)")]
    NoOutputDevice,
    /// Playback failed on the device.
    #[error("playback failed: {0}")]
    Playback(String),
}
