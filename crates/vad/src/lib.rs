//! Silero voice activity detection (VAD) on the ONNX Runtime layer.
//!
//! Model: Silero VAD v6 (`silero_vad.onnx` from the `silero-vad` PyPI wheel, MIT). At 16 kHz it
//! takes windows of [`WINDOW_SAMPLES`] new samples preceded by [`CONTEXT_SAMPLES`] samples of the
//! previous window, and a recurrent state `[2, 1, 128]`; it returns the probability that the
//! window holds speech. The windowing follows the reference `OnnxWrapper` in
//! `silero_vad/utils_vad.py`.
//!
//! - [`SileroVad`]: the model, one window at a time or over a whole signal.
//! - [`segmenter`]: probabilities → speech segments (hysteresis, minimum durations, padding).
//! - [`VadStream`]: the two together over a live stream of arbitrary-sized chunks, as used by
//!   `record --until-silence`, enrollment trimming and dictation.

pub mod segmenter;

pub use segmenter::{Segment, Segmenter, VadConfig, VadEvent};

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

    /// Speech segments of a whole 16 kHz signal. Resets the stream first.
    ///
    /// # Errors
    /// [`OnnxError::Run`].
    pub fn segments(
        &mut self,
        samples: &[f32],
        config: VadConfig,
    ) -> Result<Vec<Segment>, OnnxError> {
        let probs = self.probabilities(samples)?;
        Ok(segmenter::segments(&probs, samples.len(), config))
    }

    /// The span from the first speech segment's start to the last one's end (padded), or `None`
    /// when the signal holds no speech: what enrollment keeps of a take.
    ///
    /// # Errors
    /// [`OnnxError::Run`].
    pub fn speech_span(
        &mut self,
        samples: &[f32],
        config: VadConfig,
    ) -> Result<Option<Segment>, OnnxError> {
        let segs = self.segments(samples, config)?;
        Ok(match (segs.first(), segs.last()) {
            (Some(a), Some(b)) => Some(Segment {
                start: a.start,
                end: b.end,
            }),
            _ => None,
        })
    }
}

/// Streaming VAD: push 16 kHz chunks of any size, get [`VadEvent`]s as windows complete.
pub struct VadStream {
    vad: SileroVad,
    segmenter: Segmenter,
    pending: Vec<f32>,
    seen: usize,
    last_prob: f32,
}

impl VadStream {
    /// Starts a stream on `vad` (its state is reset) with segmenter `config`.
    pub fn new(mut vad: SileroVad, config: VadConfig) -> Self {
        vad.reset();
        VadStream {
            vad,
            segmenter: Segmenter::new(config),
            pending: Vec::with_capacity(WINDOW_SAMPLES),
            seen: 0,
            last_prob: 0.0,
        }
    }

    /// Feeds `chunk` (16 kHz mono); returns the events of every window it completed.
    ///
    /// # Errors
    /// [`OnnxError::Run`].
    pub fn push(&mut self, chunk: &[f32]) -> Result<Vec<VadEvent>, OnnxError> {
        let mut events = Vec::new();
        self.seen += chunk.len();
        for &s in chunk {
            self.pending.push(s);
            if self.pending.len() == WINDOW_SAMPLES {
                let window = std::mem::take(&mut self.pending);
                self.last_prob = self.vad.window(&window)?;
                self.pending = window;
                self.pending.clear();
                events.extend(self.segmenter.push(self.last_prob));
            }
        }
        Ok(events)
    }

    /// Ends the stream; returns the segment still open, if any.
    pub fn finish(&mut self) -> Option<Segment> {
        self.segmenter.finish(self.seen)
    }

    /// Whether the stream is inside speech now.
    pub fn in_speech(&self) -> bool {
        self.segmenter.in_speech()
    }

    /// Speech probability of the last complete window.
    pub fn last_probability(&self) -> f32 {
        self.last_prob
    }

    /// Samples pushed so far.
    pub fn samples_seen(&self) -> usize {
        self.seen
    }

    /// Gives the model back (for reuse in another stream).
    pub fn into_inner(self) -> SileroVad {
        self.vad
    }
}
