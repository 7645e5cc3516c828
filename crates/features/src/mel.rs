//! Mel filter banks, computed exactly as `librosa.filters.mel` does (Slaney mel scale and
//! Slaney area normalisation, librosa 0.10 defaults).
//!
//! Source: librosa `filters.mel` and `core.convert.hz_to_mel` / `mel_to_hz` (ISC licence); the
//! Slaney scale is from M. Slaney, "Auditory Toolbox", Interval Research Tech. Report 1998-010.
//! OpenAI Whisper's `assets/mel_filters.npz` was generated with
//! `librosa.filters.mel(sr=16000, n_fft=400, n_mels=80)` (and `n_mels=128`).

/// Frequency (Hz) where the Slaney scale turns from linear to logarithmic.
const MIN_LOG_HZ: f64 = 1000.0;
/// Hz per mel in the linear part of the Slaney scale.
const F_SP: f64 = 200.0 / 3.0;

/// Converts Hz to Slaney mels (librosa `hz_to_mel(htk=False)`).
pub fn hz_to_mel(hz: f64) -> f64 {
    let min_log_mel = MIN_LOG_HZ / F_SP;
    let logstep = 6.4f64.ln() / 27.0;
    if hz >= MIN_LOG_HZ {
        min_log_mel + (hz / MIN_LOG_HZ).ln() / logstep
    } else {
        hz / F_SP
    }
}

/// Converts Slaney mels to Hz (librosa `mel_to_hz(htk=False)`).
pub fn mel_to_hz(mel: f64) -> f64 {
    let min_log_mel = MIN_LOG_HZ / F_SP;
    let logstep = 6.4f64.ln() / 27.0;
    if mel >= min_log_mel {
        MIN_LOG_HZ * (logstep * (mel - min_log_mel)).exp()
    } else {
        F_SP * mel
    }
}

/// A mel filter bank: `weights` is `[n_mels, n_fft / 2 + 1]`, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct MelFilters {
    /// Number of mel bands (rows).
    pub n_mels: usize,
    /// Number of FFT bins (columns): `n_fft / 2 + 1`.
    pub n_freqs: usize,
    /// Row-major weights `[n_mels, n_freqs]`.
    pub weights: Vec<f32>,
}

/// Builds the Slaney-normalised triangular mel filter bank from `fmin` to `fmax` Hz
/// (librosa `filters.mel(sr, n_fft, n_mels, fmin, fmax, htk=False, norm="slaney")`).
///
/// Computed in `f64` and stored as `f32`, as librosa does.
pub fn mel_filters(
    sample_rate: u32,
    n_fft: usize,
    n_mels: usize,
    fmin: f64,
    fmax: f64,
) -> MelFilters {
    let n_freqs = n_fft / 2 + 1;
    let sr = sample_rate as f64;
    // FFT bin centre frequencies: linspace(0, sr/2, n_freqs).
    let fft_freqs: Vec<f64> = (0..n_freqs)
        .map(|i| i as f64 * (sr / 2.0) / (n_freqs - 1) as f64)
        .collect();
    // n_mels + 2 band edges equally spaced on the mel scale.
    let (mel_min, mel_max) = (hz_to_mel(fmin), hz_to_mel(fmax));
    let mel_f: Vec<f64> = (0..n_mels + 2)
        .map(|i| mel_to_hz(mel_min + i as f64 * (mel_max - mel_min) / (n_mels + 1) as f64))
        .collect();
    let mut weights = vec![0.0f32; n_mels * n_freqs];
    for m in 0..n_mels {
        let (lo, mid, hi) = (mel_f[m], mel_f[m + 1], mel_f[m + 2]);
        let enorm = 2.0 / (hi - lo);
        for (k, &f) in fft_freqs.iter().enumerate() {
            let lower = (f - lo) / (mid - lo);
            let upper = (hi - f) / (hi - mid);
            let w = lower.min(upper).max(0.0);
            weights[m * n_freqs + k] = (w * enorm) as f32;
        }
    }
    MelFilters {
        n_mels,
        n_freqs,
        weights,
    }
}

/// Whisper's filter bank: 16 kHz, `n_fft` 400, `n_mels` bands (80 or 128) from 0 Hz to 8 kHz.
pub fn whisper_mel_filters(n_mels: usize) -> MelFilters {
    mel_filters(16_000, 400, n_mels, 0.0, 8_000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_round_trips() {
        for hz in [0.0, 100.0, 999.0, 1000.0, 4000.0, 8000.0] {
            assert!((mel_to_hz(hz_to_mel(hz)) - hz).abs() < 1e-9);
        }
    }

    #[test]
    fn whisper_80_shape_and_known_values() {
        let f = whisper_mel_filters(80);
        assert_eq!((f.n_mels, f.n_freqs), (80, 201));
        // Values from OpenAI Whisper's assets/mel_filters.npz (mel_80): row 0 peaks at bin 1.
        assert!(
            (f.weights[1] - 0.024_862_887).abs() < 1e-6,
            "{}",
            f.weights[1]
        );
        assert_eq!(f.weights[0], 0.0);
        // Every band has some weight; the last band ends below Nyquist.
        for m in 0..80 {
            assert!(f.weights[m * 201..(m + 1) * 201].iter().any(|&w| w > 0.0));
        }
    }
}
