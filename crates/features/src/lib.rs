//! Feature extraction for ownvoice.
//!
//! For now: the mel filter bank that Whisper's front end uses ([`mel::mel_filters`]), computed as
//! librosa computes it, so that a converted Whisper model carries the exact filters OpenAI shipped.

pub mod mel;
