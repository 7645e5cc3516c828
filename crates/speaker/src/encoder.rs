//! The d-vector of an utterance: Resemblyzer's `VoiceEncoder.embed_utterance` (rate 1.3 partials
//! per second, minimum coverage 0.75) on the converted ONNX encoder.
//!
//! The preprocessed 16 kHz signal is cut into partial utterances of 160 mel frames (1.6 s) that
//! start every 77 frames (`round(16000 / 1.3 / 160)`); the last partial is dropped when it covers
//! less than 75 % of its 1.6 s (unless it is the only one), and the signal is zero-padded to the
//! end of the last partial. Each partial gives an L2-normalised embedding; their mean,
//! L2-normalised again, is the utterance's d-vector.

use std::path::Path;

use ndarray::{Array3, Axis};
use ort::session::Session;
use ort::value::Tensor;

use crate::convert::{HIDDEN, N_MELS, PARTIAL_FRAMES};
use crate::preprocess::preprocess;
use crate::SpeakerError;

/// Samples per mel frame (10 ms hop at 16 kHz).
const HOP: usize = 160;
/// Frames between partial starts: `round((16000 / 1.3) / 160)`.
pub const PARTIAL_STEP: usize = 77;
/// Minimum share of its 1.6 s the last partial must cover to be kept.
const MIN_COVERAGE: f64 = 0.75;

/// A 256-dimensional, L2-normalised speaker embedding (d-vector).
#[derive(Debug, Clone, PartialEq)]
pub struct Embedding(pub Vec<f32>);

impl Embedding {
    /// Cosine similarity with `other` (the dot product, both being unit vectors), in [−1, 1].
    pub fn cosine(&self, other: &Embedding) -> f32 {
        let dot: f32 = self.0.iter().zip(&other.0).map(|(a, b)| a * b).sum();
        let na: f32 = self.0.iter().map(|a| a * a).sum::<f32>().sqrt();
        let nb: f32 = other.0.iter().map(|b| b * b).sum::<f32>().sqrt();
        if na == 0.0 || nb == 0.0 {
            0.0
        } else {
            dot / (na * nb)
        }
    }

    /// The L2-normalised mean of `embeddings` (the centroid of a speaker's utterances).
    ///
    /// # Panics
    /// When `embeddings` is empty.
    pub fn mean(embeddings: &[Embedding]) -> Embedding {
        assert!(!embeddings.is_empty(), "mean of no embeddings");
        let mut sum = vec![0.0f32; embeddings[0].0.len()];
        for e in embeddings {
            for (s, x) in sum.iter_mut().zip(&e.0) {
                *s += x;
            }
        }
        normalized(sum)
    }
}

fn normalized(mut v: Vec<f32>) -> Embedding {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    Embedding(v)
}

/// Start frames of the partial utterances of a signal of `n_samples` (at 16 kHz).
pub fn partial_starts(n_samples: usize) -> Vec<usize> {
    let n_frames = (n_samples + 1).div_ceil(HOP);
    let steps = (n_frames + PARTIAL_STEP + 1)
        .saturating_sub(PARTIAL_FRAMES)
        .max(1);
    let mut starts: Vec<usize> = (0..steps).step_by(PARTIAL_STEP).collect();
    if starts.len() > 1 {
        let last = *starts.last().expect("non-empty");
        let coverage = (n_samples as f64 - (last * HOP) as f64) / (PARTIAL_FRAMES * HOP) as f64;
        if coverage < MIN_COVERAGE {
            starts.pop();
        }
    }
    starts
}

/// The GE2E speaker encoder on ONNX Runtime.
pub struct SpeakerEncoder {
    session: Session,
}

impl SpeakerEncoder {
    /// Loads the converted encoder (`encoder.onnx`); ONNX Runtime must be initialised.
    ///
    /// # Errors
    /// [`SpeakerError::Onnx`] naming the file.
    pub fn load(path: &Path, threads: usize) -> Result<SpeakerEncoder, SpeakerError> {
        Ok(SpeakerEncoder {
            session: ownvoice_onnx::session_from_file(path, threads)?,
        })
    }

    /// The d-vector of a 16 kHz mono utterance: [`preprocess`], then
    /// [`SpeakerEncoder::embed_preprocessed`].
    ///
    /// # Errors
    /// [`SpeakerError::NoSpeech`] when nothing is left after silence trimming; ONNX errors.
    pub fn embed_utterance(&mut self, wav: &[f32]) -> Result<Embedding, SpeakerError> {
        Ok(self.embed_preprocessed(&preprocess(wav))?.0)
    }

    /// The d-vector of an already preprocessed signal, with the embeddings of its partials.
    ///
    /// # Errors
    /// [`SpeakerError::NoSpeech`] for an empty signal; ONNX errors.
    pub fn embed_preprocessed(
        &mut self,
        wav: &[f32],
    ) -> Result<(Embedding, Vec<Embedding>), SpeakerError> {
        if wav.is_empty() {
            return Err(SpeakerError::NoSpeech);
        }
        let starts = partial_starts(wav.len());
        let last = *starts.last().expect("at least one partial");
        let needed = (last + PARTIAL_FRAMES) * HOP;
        let mut padded = wav.to_vec();
        if needed >= padded.len() {
            padded.resize(needed, 0.0);
        }
        let mel = ownvoice_features::speaker_mel::speaker_mel(&padded)?; // [40, n_frames]
        let mut batch = Array3::<f32>::zeros((starts.len(), PARTIAL_FRAMES, N_MELS));
        for (b, &s) in starts.iter().enumerate() {
            let part = mel.slice(ndarray::s![.., s..s + PARTIAL_FRAMES]);
            batch.index_axis_mut(Axis(0), b).assign(&part.t());
        }
        let shape = [starts.len(), PARTIAL_FRAMES, N_MELS];
        let data = batch.into_raw_vec_and_offset().0;
        let outputs = self
            .session
            .run(ort::inputs!["mels" => Tensor::from_array((shape, data))?])?;
        let (_, embeds) = outputs["embeds"].try_extract_tensor::<f32>()?;
        let partials: Vec<Embedding> = embeds
            .chunks_exact(HIDDEN)
            .map(|c| Embedding(c.to_vec()))
            .collect();
        Ok((Embedding::mean(&partials), partials))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partials_follow_resemblyzer() {
        // The fixture clips' partials (Resemblyzer 0.1.4, tests/fixtures/speaker/README.md).
        assert_eq!(partial_starts(27840), [0]);
        assert_eq!(partial_starts(60000), [0, 77, 154, 231]);
        assert_eq!(partial_starts(43200), [0, 77]);
        assert_eq!(partial_starts(149760).len(), 11);
        assert_eq!(partial_starts(163200).len(), 12);
        assert_eq!(partial_starts(480), [0]);
    }

    #[test]
    fn mean_is_normalised() {
        let a = Embedding(vec![1.0, 0.0]);
        let b = Embedding(vec![0.0, 1.0]);
        let m = Embedding::mean(&[a.clone(), b]);
        assert!((m.0[0] - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-6);
        assert!((a.cosine(&a) - 1.0).abs() < 1e-6);
    }
}
