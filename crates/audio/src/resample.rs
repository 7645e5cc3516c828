//! Sample-rate conversion with rubato's synchronous FFT resampler.

use rubato::{FftFixedIn, FftFixedInOut, Resampler};

use crate::AudioError;

/// Frames per processing chunk at the input rate; larger is faster, smaller uses less memory.
const CHUNK_FRAMES: usize = 4096;

/// Resamples a mono signal from `from_hz` to `to_hz`.
///
/// The output has `round(len * to_hz / from_hz)` samples and is aligned with the input (the
/// resampler's delay is removed), so timestamps keep their meaning.
///
/// # Errors
/// [`AudioError::Resample`] when a rate is 0 or rubato rejects the ratio.
pub fn resample(samples: &[f32], from_hz: u32, to_hz: u32) -> Result<Vec<f32>, AudioError> {
    let err = |detail: String| AudioError::Resample {
        from_hz,
        to_hz,
        detail,
    };
    if from_hz == 0 || to_hz == 0 {
        return Err(err("sample rate must be > 0".into()));
    }
    if from_hz == to_hz || samples.is_empty() {
        return Ok(samples.to_vec());
    }
    let mut rs = FftFixedInOut::<f32>::new(from_hz as usize, to_hz as usize, CHUNK_FRAMES, 1)
        .map_err(|e| err(e.to_string()))?;
    let expected =
        ((samples.len() as u64 * to_hz as u64 + from_hz as u64 / 2) / from_hz as u64) as usize;
    let delay = rs.output_delay();
    let mut out = Vec::with_capacity(expected + delay + rs.output_frames_max());
    let mut pos = 0;
    let mut chunk = vec![0.0f32; rs.input_frames_next()];
    // Feed the signal, then zeros until the delayed tail has been flushed out.
    while out.len() < expected + delay {
        let n = rs.input_frames_next();
        chunk.resize(n, 0.0);
        let take = n.min(samples.len().saturating_sub(pos));
        chunk[..take].copy_from_slice(&samples[pos..pos + take]);
        chunk[take..].iter_mut().for_each(|s| *s = 0.0);
        pos += take;
        let frames = rs
            .process(&[&chunk[..]], None)
            .map_err(|e| err(e.to_string()))?;
        out.extend_from_slice(&frames[0]);
    }
    Ok(out[delay..delay + expected].to_vec())
}

/// Streaming resampler for live capture: push chunks of any size at `from_hz`, get what is ready
/// at `to_hz`. The output lags the input by the resampler's delay (a few ms); use [`resample`] on
/// the whole recording where alignment matters.
pub struct StreamResampler {
    inner: Option<FftFixedIn<f32>>,
    pending: Vec<f32>,
}

/// Input frames per step of [`StreamResampler`] (64 ms at 16 kHz, 21 ms at 48 kHz).
const STREAM_CHUNK: usize = 1024;

impl StreamResampler {
    /// A resampler from `from_hz` to `to_hz` (a pass-through when they are equal).
    ///
    /// # Errors
    /// [`AudioError::Resample`] when a rate is 0 or rubato rejects the ratio.
    pub fn new(from_hz: u32, to_hz: u32) -> Result<Self, AudioError> {
        if from_hz == 0 || to_hz == 0 {
            return Err(AudioError::Resample {
                from_hz,
                to_hz,
                detail: "sample rate must be > 0".into(),
            });
        }
        let inner = (from_hz != to_hz)
            .then(|| FftFixedIn::new(from_hz as usize, to_hz as usize, STREAM_CHUNK, 2, 1))
            .transpose()
            .map_err(|e| AudioError::Resample {
                from_hz,
                to_hz,
                detail: e.to_string(),
            })?;
        Ok(StreamResampler {
            inner,
            pending: Vec::new(),
        })
    }

    /// Takes `chunk` and returns the output samples that are complete.
    pub fn push(&mut self, chunk: &[f32]) -> Vec<f32> {
        let Some(rs) = self.inner.as_mut() else {
            return chunk.to_vec();
        };
        self.pending.extend_from_slice(chunk);
        let mut out = Vec::new();
        while self.pending.len() >= rs.input_frames_next() {
            let n = rs.input_frames_next();
            if let Ok(frames) = rs.process(&[&self.pending[..n]], None) {
                out.extend_from_slice(&frames[0]);
            }
            self.pending.drain(..n);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(hz: f32, rate: u32, secs: f32) -> Vec<f32> {
        (0..(rate as f32 * secs) as usize)
            .map(|i| (2.0 * std::f32::consts::PI * hz * i as f32 / rate as f32).sin() * 0.5)
            .collect()
    }

    #[test]
    fn length_and_phase_are_kept() {
        let x = sine(440.0, 44_100, 1.0);
        let y = resample(&x, 44_100, 16_000).unwrap();
        assert_eq!(y.len(), 16_000);
        let reference = sine(440.0, 16_000, 1.0);
        // Away from the edges the resampled sine matches a sine generated at 16 kHz.
        let err = y[1000..15000]
            .iter()
            .zip(&reference[1000..15000])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(err < 0.01, "max error {err}");
    }

    #[test]
    fn zero_rate_is_an_error() {
        assert!(resample(&[0.0; 10], 0, 16_000).is_err());
    }
}
