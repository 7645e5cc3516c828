//! Resemblyzer's `preprocess_wav` after loading (resemblyzer/audio.py, version 0.1.4): volume
//! normalisation up to −30 dBFS, then removal of long silences with the WebRTC VAD.
//!
//! Input is 16 kHz mono `f32` in [−1, 1] (ownvoice's decoder gives 16-bit PCM as `i16 / 32768`,
//! as `librosa.load` does).

use webrtc_vad::{SampleRate, Vad, VadMode};

/// Sample rate the encoder works at, Hz.
pub const SAMPLE_RATE: u32 = 16_000;
/// Target RMS level of volume normalisation, dBFS (`audio_norm_target_dBFS`).
pub const TARGET_DBFS: f64 = -30.0;
/// VAD window, samples (30 ms at 16 kHz, `vad_window_length`).
pub const VAD_WINDOW: usize = 480;
/// Width of the moving average over VAD decisions, windows (`vad_moving_average_width`).
const MOVING_AVERAGE: usize = 8;
/// Longest silence kept inside speech, windows (`vad_max_silence_length`): the mask is
/// dilated by this many windows' half on each side (`binary_dilation` with `ones(7)`).
const MAX_SILENCE: usize = 6;

/// Scales `wav` up so that its RMS is −30 dBFS; a louder signal is left as it is
/// (`normalize_volume(wav, -30, increase_only=True)`). A silent signal is left as it is.
pub fn normalize_volume(wav: &mut [f32]) {
    if wav.is_empty() {
        return;
    }
    let mean_sq = wav
        .iter()
        .map(|&x| {
            let s = x as f64 * 32767.0;
            s * s
        })
        .sum::<f64>()
        / wav.len() as f64;
    if mean_sq <= 0.0 {
        return;
    }
    let dbfs = 20.0 * (mean_sq.sqrt() / 32767.0).log10();
    let change = TARGET_DBFS - dbfs;
    if change < 0.0 {
        return;
    }
    let gain = 10f64.powf(change / 20.0) as f32;
    wav.iter_mut().for_each(|x| *x *= gain);
}

/// Keeps the speech of `wav` and at most [`MAX_SILENCE`] windows of silence around it
/// (`trim_long_silences`): the signal is cut to whole 30 ms windows, each window is judged by the
/// WebRTC VAD in its most aggressive mode (3) on 16-bit samples, the decisions are smoothed by an
/// 8-window moving average (a window is speech when more than half of the 8 around it are — numpy
/// rounds an exact half down), dilated by 3 windows each side, and the windows kept are returned.
///
/// The 16-bit conversion rounds half to even like `np.round`; samples beyond ±1 are clamped (numpy
/// would wrap them).
pub fn trim_long_silences(wav: &[f32]) -> Vec<f32> {
    let n_windows = wav.len() / VAD_WINDOW;
    if n_windows == 0 {
        return Vec::new();
    }
    let mut vad = Vad::new_with_rate_and_mode(SampleRate::Rate16kHz, VadMode::VeryAggressive);
    let mut pcm = [0i16; VAD_WINDOW];
    let flags: Vec<u8> = (0..n_windows)
        .map(|w| {
            for (d, &s) in pcm
                .iter_mut()
                .zip(&wav[w * VAD_WINDOW..(w + 1) * VAD_WINDOW])
            {
                *d = (s * 32767.0).round_ties_even().clamp(-32768.0, 32767.0) as i16;
            }
            u8::from(vad.is_voice_segment(&pcm).unwrap_or(false))
        })
        .collect();
    // ma[i] = sum(flags[i-3 ..= i+4]) / 8, zeros outside; speech when ma > 0.5.
    let before = (MOVING_AVERAGE - 1) / 2;
    let after = MOVING_AVERAGE / 2;
    let speech: Vec<bool> = (0..n_windows)
        .map(|i| {
            let lo = i.saturating_sub(before);
            let hi = (i + after).min(n_windows - 1);
            let sum: u32 = flags[lo..=hi].iter().map(|&f| f as u32).sum();
            2 * sum > MOVING_AVERAGE as u32
        })
        .collect();
    let reach = MAX_SILENCE / 2;
    let keep = |i: usize| {
        let lo = i.saturating_sub(reach);
        let hi = (i + reach).min(n_windows - 1);
        speech[lo..=hi].iter().any(|&s| s)
    };
    (0..n_windows)
        .filter(|&i| keep(i))
        .flat_map(|i| wav[i * VAD_WINDOW..(i + 1) * VAD_WINDOW].iter().copied())
        .collect()
}

/// [`normalize_volume`] then [`trim_long_silences`]: Resemblyzer's `preprocess_wav` for audio
/// already at 16 kHz.
pub fn preprocess(wav: &[f32]) -> Vec<f32> {
    let mut w = wav.to_vec();
    normalize_volume(&mut w);
    trim_long_silences(&w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_audio_is_raised_to_minus_30_dbfs_and_loud_audio_is_kept() {
        let mut quiet: Vec<f32> = (0..16000).map(|i| 0.001 * (i as f32 * 0.1).sin()).collect();
        normalize_volume(&mut quiet);
        let rms = (quiet.iter().map(|x| (x * x) as f64).sum::<f64>() / 16000.0).sqrt();
        assert!((20.0 * rms.log10() - TARGET_DBFS).abs() < 0.01);
        let loud: Vec<f32> = (0..16000).map(|i| 0.5 * (i as f32 * 0.1).sin()).collect();
        let mut same = loud.clone();
        normalize_volume(&mut same);
        assert_eq!(same, loud);
    }

    #[test]
    fn silence_is_trimmed_and_whole_windows_are_kept() {
        assert!(trim_long_silences(&vec![0.0; 16000]).is_empty());
        assert!(trim_long_silences(&[0.1; 100]).is_empty());
    }
}
