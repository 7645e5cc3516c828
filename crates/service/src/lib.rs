//! The ownvoice service: what lets Home Assistant and local apps reach a person's models.
//!
//! - [`engine`]: the models in memory and the two jobs, transcription and synthesis, behind a
//!   bounded queue ([`jobs`]); the non-speech filter ([`hallucination`]); voices are [`ownvoice_tts::Synthesizer`]s.
//! - [`wyoming`]: the Wyoming protocol (framing, `describe`/`info`, transcribe, synthesize and
//!   streaming synthesis), as served by wyoming-faster-whisper and wyoming-piper.

pub mod dictation;
pub mod engine;
mod error;
pub mod hallucination;
pub mod http;
pub mod jobs;
pub mod mdns;
pub mod pcm;
mod ws;
pub mod wyoming;

pub use engine::{AsrRequest, AsrResult, Engine, EngineConfig, Person, SynthStream, Voice};
pub use error::ServiceError;
