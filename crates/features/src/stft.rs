//! Short-time Fourier transform power spectrogram with centred, reflect-padded frames — the
//! framing shared by `torch.stft(center=True, pad_mode="reflect")` (Whisper) and
//! `librosa.stft(center=True, pad_mode="reflect")` (Resemblyzer's speaker encoder).
//!
//! Computed in `f64` (the references run in `float32`/`float64`; `f64` keeps this side's error far
//! below the 1e-3 tolerance the fixtures check).

use ndarray::Array2;
use realfft::RealFftPlanner;

use crate::FeatureError;

/// The periodic Hann window of `n` samples, `w[i] = 0.5 - 0.5 cos(2πi / n)` — `torch.hann_window(n)`
/// and `scipy.signal.get_window("hann", n, fftbins=True)`.
pub fn hann_periodic(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n as f64).cos())
        .collect()
}

/// Reflect-pads `x` by `pad` samples on each side without repeating the edge sample
/// (`numpy.pad(mode="reflect")`).
///
/// # Errors
/// [`FeatureError::TooShort`] when `x.len() <= pad` (reflection needs `pad + 1` samples).
pub fn reflect_pad(x: &[f32], pad: usize) -> Result<Vec<f64>, FeatureError> {
    if x.len() <= pad {
        return Err(FeatureError::TooShort {
            samples: x.len(),
            min_samples: pad + 1,
        });
    }
    let n = x.len();
    let mut out = Vec::with_capacity(n + 2 * pad);
    out.extend((1..=pad).rev().map(|i| x[i] as f64));
    out.extend(x.iter().map(|&s| s as f64));
    out.extend((n - 1 - pad..n - 1).rev().map(|i| x[i] as f64));
    Ok(out)
}

/// Power spectrogram `|STFT|²`, shape `[n_fft / 2 + 1, n_frames]` with
/// `n_frames = 1 + x.len() / hop`: frames of `n_fft` samples every `hop` samples over `x`
/// reflect-padded by `n_fft / 2` on both sides, each multiplied by the periodic Hann window.
///
/// # Errors
/// [`FeatureError::TooShort`] when `x` has `n_fft / 2` samples or fewer.
pub fn power_spectrogram(x: &[f32], n_fft: usize, hop: usize) -> Result<Array2<f64>, FeatureError> {
    let padded = reflect_pad(x, n_fft / 2)?;
    let n_frames = 1 + (padded.len() - n_fft) / hop;
    let n_freqs = n_fft / 2 + 1;
    let window = hann_periodic(n_fft);
    let fft = RealFftPlanner::<f64>::new().plan_fft_forward(n_fft);
    let mut frame = fft.make_input_vec();
    let mut spectrum = fft.make_output_vec();
    let mut scratch = fft.make_scratch_vec();
    // Filled frame by frame (contiguous rows), returned as the transposed view's owner:
    // `[n_freqs, n_frames]` in column-major order, at no copy.
    let mut power = Array2::<f64>::zeros((n_frames, n_freqs));
    for t in 0..n_frames {
        let start = t * hop;
        for ((f, &s), &w) in frame
            .iter_mut()
            .zip(&padded[start..start + n_fft])
            .zip(&window)
        {
            *f = s * w;
        }
        fft.process_with_scratch(&mut frame, &mut spectrum, &mut scratch)
            .expect("buffers come from the same plan");
        for (p, c) in power.row_mut(t).iter_mut().zip(&spectrum) {
            *p = c.norm_sqr();
        }
    }
    Ok(power.reversed_axes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflect_pad_matches_numpy() {
        // numpy.pad([1, 2, 3, 4], 2, mode="reflect") == [3, 2, 1, 2, 3, 4, 3, 2]
        let p = reflect_pad(&[1.0, 2.0, 3.0, 4.0], 2).unwrap();
        assert_eq!(p, vec![3.0, 2.0, 1.0, 2.0, 3.0, 4.0, 3.0, 2.0]);
        assert!(reflect_pad(&[1.0, 2.0], 2).is_err());
    }

    #[test]
    fn sine_energy_lands_in_its_bin() {
        // 1 kHz at 16 kHz with n_fft 400: bin 1000 / (16000 / 400) = 25.
        let x: Vec<f32> = (0..16_000)
            .map(|i| (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / 16_000.0).sin())
            .collect();
        let p = power_spectrogram(&x, 400, 160).unwrap();
        assert_eq!(p.dim(), (201, 101));
        let col = p.column(50);
        let peak = (0..201).max_by(|&a, &b| col[a].total_cmp(&col[b])).unwrap();
        assert_eq!(peak, 25);
        // Parseval with the Hann window: peak |X|² = (A · sum(w) / 2)² = (200 / 2)².
        assert!((col[25] - 10_000.0).abs() < 1.0, "{}", col[25]);
    }
}
