//! The speaker encoder's mel spectrogram: Resemblyzer's `audio.wav_to_mel_spectrogram` with the
//! hyper-parameters of `resemblyzer/hparams.py` (after SV2TTS, Jia et al. 2018, and GE2E,
//! Wan et al. 2018): 16 kHz, 25 ms windows (`n_fft` 400), 10 ms hop (160), 40 mel bands.
//!
//! Resemblyzer calls `librosa.feature.melspectrogram(wav, sr, n_fft, hop_length, n_mels)`: power
//! spectrum (`|X|²`) of centred, Hann-windowed frames, then librosa's Slaney mel filters — no log.
//! Frames are reflect-padded, the default of the librosa versions Resemblyzer was trained with
//! (< 0.10). Resemblyzer returns `[n_frames, 40]`; here the shape is `[40, n_frames]`, like every
//! feature in this crate.

use ndarray::Array2;

use crate::mel::mel_filters;
use crate::stft::power_spectrogram;
use crate::FeatureError;

/// Sample rate the speaker encoder expects, in Hz.
pub const SAMPLE_RATE: u32 = 16_000;
/// Mel bands (`mel_n_channels`).
pub const N_MELS: usize = 40;
/// Window and FFT size in samples (`mel_window_length` 25 ms at 16 kHz).
pub const N_FFT: usize = 400;
/// Hop in samples (`mel_window_step` 10 ms at 16 kHz).
pub const HOP_LENGTH: usize = 160;

/// Mel power spectrogram of 16 kHz mono `samples`, shape `[40, n_frames]` with
/// `n_frames = 1 + samples.len() / 160`.
///
/// # Errors
/// [`FeatureError::TooShort`] for fewer than 201 samples.
pub fn speaker_mel(samples: &[f32]) -> Result<Array2<f32>, FeatureError> {
    let power = power_spectrogram(samples, N_FFT, HOP_LENGTH)?;
    let filters = mel_filters(SAMPLE_RATE, N_FFT, N_MELS, 0.0, SAMPLE_RATE as f64 / 2.0);
    let fb = Array2::from_shape_vec((N_MELS, filters.n_freqs), filters.weights)
        .expect("mel filter shape")
        .mapv(|w| w as f64);
    Ok(fb.dot(&power).mapv(|v| v as f32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape() {
        let x = vec![0.1f32; 16_000];
        assert_eq!(speaker_mel(&x).unwrap().dim(), (40, 101));
    }
}
