//! Enrollment: turning a person's recordings into their encrypted profile.
//!
//! - [`dataset`]: reading a folder of takes with a `transcripts.tsv` (`path<TAB>speaker<TAB>text`).
//! - [`quality`]: the per-take quality gate: duration, peak and clipping, RMS level (dBFS),
//!   speech ratio (Silero VAD) and the ASR round trip (WER of a Whisper transcript against the
//!   text the person read).
//! - [`trace`]: per-take level traces (for the report) and the SNR estimate.
//! - [`profile`]: the person profile's manifest schema and how it maps onto the vault container
//!   (accepted takes' audio is stored inside, as 16 kHz 16-bit PCM).
//! - [`speaker_gate`]: one person's voice: takes far from the others' d-vector mean are flagged,
//!   the rest make the profile's voice print.
//! - [`report`]: the enrollment report, one self-contained HTML page (tables and inline SVG
//!   level plots of every take, accepted or rejected).

pub mod dataset;
pub mod profile;
pub mod quality;
pub mod report;
pub mod speaker_gate;
pub mod trace;

pub use dataset::{read_dataset, DatasetTake};
pub use profile::{AdaptationRecord, ChallengeRecord, PersonProfile, TakeRecord, VoiceRecord};
pub use quality::{TakeQuality, Thresholds};
pub use speaker_gate::{SpeakerPrint, GATE_THRESHOLD};
pub use trace::LevelTrace;
