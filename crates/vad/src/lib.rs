//! Silero voice activity detection (VAD) on the ONNX Runtime layer.
//!
//! Model: Silero VAD v6 (`silero_vad.onnx` from the `silero-vad` PyPI wheel, MIT). At 16 kHz it
//! takes windows of [`WINDOW_SAMPLES`] new samples preceded by [`CONTEXT_SAMPLES`] samples of the
//! previous window, and a recurrent state `[2, 1, 128]`; it returns the probability that the
//! window holds speech. The windowing follows the reference `OnnxWrapper` in
//! `silero_vad/utils_vad.py`.

use std::path::Path;

use ort::session::Session;
use ort::value::Tensor;
use ownvoice_onnx::{session_from_file, OnnxError};

/// New samples per window at 16 kHz (32 ms).
pub const WINDOW_SAMPLES: usize = 512;
/// Samples of the previous window prepended to each window at 16 kHz.
pub const CONTEXT_SAMPLES: usize = 64;
/// The only sample rate this wrapper accepts, in Hz.
pub const SAMPLE_RATE: u32 = 16_000;
/// The default speech-probability threshold (the reference implementation's default).
pub const DEFAULT_THRESHOLD: f32 = 0.5;

/// A streaming Silero VAD: feed 512-sample windows in order with [`SileroVad::window`].
pub struct SileroVad {
    session: Session,
    state: Vec<f32>,
    context: Vec<f32>,
}

impl SileroVad {
    /// Loads the model from `path` (ONNX Runtime must be initialised, see `ownvoice_onnx::init`).
    ///
    /// # Errors
    /// [`OnnxError`] naming the file.
    pub fn load(path: &Path) -> Result<Self, OnnxError> {
        Ok(SileroVad {
            session: session_from_file(path, 1)?,
            state: vec![0.0; 2 * 128],
            context: vec![0.0; CONTEXT_SAMPLES],
        })
    }

    /// Forgets the recurrent state and context (start of a new stream).
    pub fn reset(&mut self) {
        self.state.iter_mut().for_each(|s| *s = 0.0);
        self.context.iter_mut().for_each(|s| *s = 0.0);
    }

    /// Speech probability in `[0, 1]` of the next window of exactly [`WINDOW_SAMPLES`] samples
    /// at 16 kHz (pad the last window with zeros).
    ///
    /// # Errors
    /// [`OnnxError::Run`].
    pub fn window(&mut self, samples: &[f32]) -> Result<f32, OnnxError> {
        assert_eq!(
            samples.len(),
            WINDOW_SAMPLES,
            "Silero VAD windows are 512 samples"
        );
        let mut input = Vec::with_capacity(CONTEXT_SAMPLES + WINDOW_SAMPLES);
        input.extend_from_slice(&self.context);
        input.extend_from_slice(samples);
        self.context
            .copy_from_slice(&samples[WINDOW_SAMPLES - CONTEXT_SAMPLES..]);
        let outputs = self.session.run(ort::inputs![
            "input" => Tensor::from_array(([1usize, CONTEXT_SAMPLES + WINDOW_SAMPLES], input))?,
            "state" => Tensor::from_array(([2usize, 1, 128], self.state.clone()))?,
            "sr" => Tensor::from_array(((), vec![SAMPLE_RATE as i64]))?,
        ])?;
        let (_, prob) = outputs["output"].try_extract_tensor::<f32>()?;
        let p = prob[0];
        let (_, state) = outputs["stateN"].try_extract_tensor::<f32>()?;
        self.state.copy_from_slice(state);
        Ok(p)
    }

    /// Speech probabilities of consecutive windows over a whole 16 kHz signal, one per
    /// [`WINDOW_SAMPLES`] (the last window zero-padded). Resets the stream first.
    ///
    /// # Errors
    /// [`OnnxError::Run`].
    pub fn probabilities(&mut self, samples: &[f32]) -> Result<Vec<f32>, OnnxError> {
        self.reset();
        let mut out = Vec::with_capacity(samples.len() / WINDOW_SAMPLES + 1);
        let mut buf = [0.0f32; WINDOW_SAMPLES];
        for chunk in samples.chunks(WINDOW_SAMPLES) {
            buf[..chunk.len()].copy_from_slice(chunk);
            buf[chunk.len()..].iter_mut().for_each(|s| *s = 0.0);
            out.push(self.window(&buf)?);
        }
        Ok(out)
    }

    /// Fraction of windows whose speech probability is at least `threshold`, in `[0, 1]`
    /// (0 for an empty signal).
    ///
    /// # Errors
    /// [`OnnxError::Run`].
    pub fn speech_ratio(&mut self, samples: &[f32], threshold: f32) -> Result<f32, OnnxError> {
        let probs = self.probabilities(samples)?;
        if probs.is_empty() {
            return Ok(0.0);
        }
        Ok(probs.iter().filter(|&&p| p >= threshold).count() as f32 / probs.len() as f32)
    }
}
