//! A compact level trace of a take — peak and RMS per 20 ms block, in whole dBFS — kept in the
//! profile for every take, accepted or rejected, so that the enrollment report can draw the
//! waveform envelope and level of a take whose audio was not kept.

use ownvoice_audio::levels::Levels;
use serde::{Deserialize, Serialize};

/// Block length of a trace, ms.
pub const BLOCK_MS: u32 = 20;
/// Floor of the trace, dBFS (digital silence is stored as this).
pub const FLOOR_DBFS: i8 = -100;

/// Peak and RMS level per [`BLOCK_MS`] block, dBFS rounded to integers, `[n_blocks]` each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelTrace {
    /// Block length, ms.
    pub block_ms: u32,
    /// Peak level per block, dBFS in `[-100, 0]`.
    pub peak_dbfs: Vec<i8>,
    /// RMS level per block, dBFS in `[-100, 0]`.
    pub rms_dbfs: Vec<i8>,
}

fn quantise(db: f32) -> i8 {
    if db.is_finite() {
        db.round().clamp(FLOOR_DBFS as f32, 0.0) as i8
    } else {
        FLOOR_DBFS
    }
}

impl LevelTrace {
    /// The trace of `samples` at `sample_rate` Hz.
    pub fn measure(samples: &[f32], sample_rate: u32) -> LevelTrace {
        let block = ((sample_rate as usize * BLOCK_MS as usize) / 1000).max(1);
        let (peak_dbfs, rms_dbfs) = samples
            .chunks(block)
            .map(|c| {
                let l = Levels::measure(c);
                (quantise(l.peak_dbfs), quantise(l.rms_dbfs))
            })
            .unzip();
        LevelTrace {
            block_ms: BLOCK_MS,
            peak_dbfs,
            rms_dbfs,
        }
    }

    /// Duration covered, seconds.
    pub fn duration_s(&self) -> f64 {
        self.peak_dbfs.len() as f64 * self.block_ms as f64 / 1000.0
    }
}

/// Percentile of 20 ms block powers taken as the noise floor by [`snr_db`].
pub const NOISE_PERCENTILE: f64 = 0.10;

/// Signal-to-noise estimate in dB: the mean power of the windows that VAD calls speech
/// (`probs[i]` covers samples `[512 i, 512 (i + 1))` of the 16 kHz signal) over the noise floor,
/// the [`NOISE_PERCENTILE`] percentile of the power of 20 ms blocks across the whole take (the
/// pauses between words and the edges of a take sit there, while quiet speech sounds do not
/// pull it up the way a mean over non-speech windows would). `None` without speech windows or
/// when the floor is digital silence.
pub fn snr_db(samples_16k: &[f32], probs: &[f32], threshold: f32) -> Option<f32> {
    let power =
        |w: &[f32]| w.iter().map(|&s| (s as f64) * (s as f64)).sum::<f64>() / w.len() as f64;
    let speech: Vec<f64> = samples_16k
        .chunks(ownvoice_vad::WINDOW_SAMPLES)
        .zip(probs)
        .filter(|(_, &p)| p >= threshold)
        .map(|(w, _)| power(w))
        .collect();
    if speech.is_empty() {
        return None;
    }
    let mut blocks: Vec<f64> = samples_16k.chunks_exact(320).map(power).collect();
    if blocks.is_empty() {
        return None;
    }
    blocks.sort_by(f64::total_cmp);
    let floor = blocks[((blocks.len() - 1) as f64 * NOISE_PERCENTILE) as usize];
    if floor <= 0.0 {
        return None;
    }
    let signal = speech.iter().sum::<f64>() / speech.len() as f64;
    Some((10.0 * (signal / floor).log10()) as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_blocks_and_levels() {
        let mut x = vec![0.0f32; 16_000];
        x[8000..8320].iter_mut().for_each(|s| *s = 0.5);
        let t = LevelTrace::measure(&x, 16_000);
        assert_eq!(t.peak_dbfs.len(), 50);
        assert_eq!(t.peak_dbfs[0], FLOOR_DBFS);
        assert_eq!(t.peak_dbfs[25], -6);
        assert_eq!(t.rms_dbfs[25], -6);
        assert!((t.duration_s() - 1.0).abs() < 1e-9);
    }

    #[test]
    fn snr_of_tone_over_noise() {
        // Speech windows at amplitude 0.1, the rest at 0.001: 40 dB.
        let mut x = vec![0.001f32; 512 * 4];
        x[..1024].iter_mut().for_each(|s| *s = 0.1);
        let snr = snr_db(&x, &[0.9, 0.9, 0.1, 0.1], 0.5).unwrap();
        assert!((snr - 40.0).abs() < 0.01, "{snr}");
        assert_eq!(snr_db(&x, &[0.1; 4], 0.5), None, "no speech");
        let silent_floor: Vec<f32> = x.iter().map(|&s| if s < 0.01 { 0.0 } else { s }).collect();
        assert_eq!(snr_db(&silent_floor, &[0.9, 0.9, 0.1, 0.1], 0.5), None);
    }
}
