//! The Wyoming protocol (Home Assistant's voice services): framing ([`frame`]), the `info`
//! description ([`info`]), and the connection handler for speech-to-text and text-to-speech
//! ([`server`]).

pub mod frame;
pub mod info;
pub mod server;

pub use frame::{read_event, write_event, Event, FrameError, FrameLimits};
pub use server::{serve, WyomingConfig};

/// Which service a Wyoming port offers (what `describe` lists; both ports accept every event).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Speech-to-text (wyoming-faster-whisper's role, port 10300).
    Asr,
    /// Text-to-speech (wyoming-piper's role, port 10200).
    Tts,
}
