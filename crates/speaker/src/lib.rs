//! Speaker embeddings for ownvoice: whose voice is this?
//!
//! A d-vector is the 256-dimensional, L2-normalised output of Resemblyzer's GE2E speaker encoder
//! (Wan et al. 2018, "Generalized End-to-End Loss for Speaker Verification"; weights from the
//! `resemblyzer` 0.1.4 wheel). Two utterances of the same speaker have a high cosine score.
//!
//! - [`convert`]: `pretrained.pt` → ONNX (done once by `ownvoice models fetch`), with the
//!   checkpoint read by [`torch_legacy`] and the protobuf subset in [`onnx_proto`].
//! - [`preprocess`]: Resemblyzer's volume normalisation and long-silence trimming (WebRTC VAD).
//! - [`encoder`]: partial utterances of 160 mel frames, the ONNX encoder, averaging.
//! - [`score`]: cosine scores, EER, minDCF, identification accuracy.

pub mod convert;
pub mod encoder;
pub mod onnx_proto;
pub mod preprocess;
pub mod score;
pub mod torch_legacy;

pub use encoder::{Embedding, SpeakerEncoder};

use std::path::PathBuf;

/// Errors of the speaker encoder.
#[derive(Debug, thiserror::Error)]
pub enum SpeakerError {
    /// The PyTorch checkpoint cannot be converted.
    #[error("{path}: not a usable Resemblyzer checkpoint ({detail})")]
    Checkpoint { path: PathBuf, detail: String },
    /// The audio holds no speech after silence trimming.
    #[error("no speech to embed (after trimming silences, less than 30 ms of audio is left)")]
    NoSpeech,
    /// ONNX Runtime failed.
    #[error(transparent)]
    Onnx(#[from] ownvoice_onnx::OnnxError),
    /// Feature extraction failed.
    #[error(transparent)]
    Features(#[from] ownvoice_features::FeatureError),
}

impl From<ort::Error> for SpeakerError {
    fn from(e: ort::Error) -> Self {
        SpeakerError::Onnx(e.into())
    }
}
