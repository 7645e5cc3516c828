//! The encoder input: Whisper's log-mel of a 30 s window (`whisper/audio.py`: the audio is
//! padded with 30 s of zeros before the spectrogram, whose first 3000 frames are kept).

use candle_core::{Device, Result, Tensor};

/// Samples in Whisper's 30 s window at 16 kHz.
pub const WINDOW_SAMPLES: usize = 480_000;
/// Mel frames in the window.
pub const WINDOW_FRAMES: usize = 3000;

/// Log-mel `[1, n_mels, 3000]` of up to 30 s of 16 kHz audio (longer audio is cut).
///
/// # Errors
/// candle errors; feature errors are mapped into them.
pub fn log_mel_window(samples: &[f32], n_mels: usize, device: &Device) -> Result<Tensor> {
    let n = samples.len().min(WINDOW_SAMPLES);
    let mut padded = samples[..n].to_vec();
    padded.resize(n + WINDOW_SAMPLES, 0.0);
    let mel = ownvoice_features::whisper_log_mel(&padded, n_mels)
        .map_err(|e| candle_core::Error::Msg(e.to_string()))?;
    let frames = mel.ncols().min(WINDOW_FRAMES);
    let mut out = vec![0f32; n_mels * WINDOW_FRAMES];
    for (m, row) in mel.rows().into_iter().enumerate() {
        for (f, &v) in row.iter().take(frames).enumerate() {
            out[m * WINDOW_FRAMES + f] = v;
        }
    }
    Tensor::from_vec(out, (1, n_mels, WINDOW_FRAMES), device)
}
