//! Whisper's log-mel spectrogram, as OpenAI computes it in `whisper/audio.py`
//! (`log_mel_spectrogram` with `padding=0`; whisper.cpp's `log_mel_spectrogram` follows it):
//!
//! 1. STFT: `n_fft` 400 (25 ms), hop 160 (10 ms) at 16 kHz, periodic Hann window, centred frames
//!    with reflect padding; power `|X|²`; the last frame is dropped (`stft[..., :-1]`).
//! 2. Slaney mel filter bank from librosa (`librosa.filters.mel(sr=16000, n_fft=400, n_mels)`),
//!    80 bands (tiny … large-v2) or 128 (large-v3).
//! 3. `log10(max(mel, 1e-10))`, clamped below at `max - 8` (an 80 dB range), then `(x + 4) / 4`.

use ndarray::Array2;

use crate::mel::whisper_mel_filters;
use crate::stft::power_spectrogram;
use crate::FeatureError;

/// Whisper's FFT size in samples at 16 kHz (25 ms).
pub const N_FFT: usize = 400;
/// Whisper's hop length in samples at 16 kHz (10 ms): 100 frames per second.
pub const HOP_LENGTH: usize = 160;

/// Log-mel spectrogram of 16 kHz mono `samples`, shape `[n_mels, n_frames]` with
/// `n_frames = samples.len() / 160`, values in Whisper's scaled log10 units (roughly `[-1, 2]`).
///
/// # Errors
/// [`FeatureError::BadMelCount`] unless `n_mels` is 80 or 128; [`FeatureError::TooShort`] for
/// fewer than 201 samples (reflect padding needs them).
pub fn whisper_log_mel(samples: &[f32], n_mels: usize) -> Result<Array2<f32>, FeatureError> {
    if n_mels != 80 && n_mels != 128 {
        return Err(FeatureError::BadMelCount { n_mels });
    }
    let power = power_spectrogram(samples, N_FFT, HOP_LENGTH)?;
    let n_frames = power.ncols() - 1; // whisper: stft[..., :-1]
    let power = power.slice(ndarray::s![.., ..n_frames]);
    let filters = whisper_mel_filters(n_mels);
    let fb = Array2::from_shape_vec((n_mels, filters.n_freqs), filters.weights)
        .expect("mel filter shape")
        .mapv(|w| w as f64);
    let mut log_spec = fb.dot(&power).mapv(|m| m.max(1e-10).log10());
    let max = log_spec.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    log_spec.mapv_inplace(|v| (v.max(max - 8.0) + 4.0) / 4.0);
    Ok(log_spec.mapv(|v| v as f32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_and_range() {
        let x: Vec<f32> = (0..16_000)
            .map(|i| ((i as f32) * 0.05).sin() * 0.3)
            .collect();
        let m = whisper_log_mel(&x, 80).unwrap();
        assert_eq!(m.dim(), (80, 100));
        let max = m.iter().copied().fold(f32::MIN, f32::max);
        let min = m.iter().copied().fold(f32::MAX, f32::min);
        assert!(max - min <= 2.0 + 1e-6, "clamped to an 80 dB range");
        assert_eq!(whisper_log_mel(&x, 128).unwrap().dim(), (128, 100));
        assert!(matches!(
            whisper_log_mel(&x, 40),
            Err(FeatureError::BadMelCount { n_mels: 40 })
        ));
        assert!(matches!(
            whisper_log_mel(&x[..200], 80),
            Err(FeatureError::TooShort { .. })
        ));
    }
}
