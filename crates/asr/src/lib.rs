//! Speech recognition for ownvoice.
//!
//! - [`ct2`]: a reader of CTranslate2's `model.bin` (the format faster-whisper models ship in).
//! - [`ggml`]: the whisper.cpp ggml model format: a writer and a one-pass reader.
//! - [`convert`]: a CTranslate2 Whisper folder → a ggml model that whisper.cpp loads.
//! - [`transcribe`]: transcription with whisper.cpp (through whisper-rs), from a file or from bytes
//!   in memory.
//! - [`subtitles`]: SubRip and WebVTT rendering of transcript segments.
//! - [`wer`]: text normalisation and word error rate (WER) scoring.

pub mod convert;
pub mod ct2;
pub mod ggml;
pub mod numbers;
pub mod subtitles;
pub mod transcribe;
pub mod wer;

pub use transcribe::{DecodeOptions, Segment, Transcript, WhisperModel};
