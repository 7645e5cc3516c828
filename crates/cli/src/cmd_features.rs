//! `ownvoice features`: write the model input features of an audio file as `.npy`, for
//! inspection and for checking against the reference implementations.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use ndarray::Array2;
use ndarray_npy::WriteNpyExt;

#[derive(Subcommand)]
pub enum FeaturesCommand {
    /// Whisper's log-mel spectrogram, float32 `[n_mels, n_frames]`, 100 frames per second.
    ///
    /// As OpenAI Whisper's `log_mel_spectrogram` (padding 0): n_fft 400, hop 160, periodic Hann,
    /// reflect padding, Slaney mel filters, log10 clamped to max − 8, then (x + 4) / 4.
    LogMel(LogMelArgs),
    /// The speaker encoder's mel power spectrogram, float32 `[40, n_frames]` (Resemblyzer's
    /// hparams: 25 ms windows, 10 ms hop, 40 bands, no log).
    SpeakerMel(SpeakerMelArgs),
}

#[derive(Args)]
pub struct LogMelArgs {
    /// Audio file (WAV, FLAC, MP3, Ogg Vorbis; converted to 16 kHz mono).
    file: PathBuf,
    /// Output `.npy` file (written atomically).
    #[arg(short, long)]
    output: PathBuf,
    /// Mel bands: 80 (Whisper tiny … large-v2) or 128 (large-v3).
    #[arg(long, default_value_t = 80, value_parser = parse_n_mels)]
    n_mels: usize,
}

#[derive(Args)]
pub struct SpeakerMelArgs {
    /// Audio file (WAV, FLAC, MP3, Ogg Vorbis; converted to 16 kHz mono).
    file: PathBuf,
    /// Output `.npy` file (written atomically).
    #[arg(short, long)]
    output: PathBuf,
}

pub fn run(c: FeaturesCommand) -> Result<ExitCode> {
    let (file, output, feats) = match c {
        FeaturesCommand::LogMel(a) => {
            let x = ownvoice_audio::load_16k_mono(&a.file)?;
            let m = ownvoice_features::whisper_log_mel(&x, a.n_mels)
                .with_context(|| a.file.display().to_string())?;
            (a.file, a.output, m)
        }
        FeaturesCommand::SpeakerMel(a) => {
            let x = ownvoice_audio::load_16k_mono(&a.file)?;
            let m =
                ownvoice_features::speaker_mel(&x).with_context(|| a.file.display().to_string())?;
            (a.file, a.output, m)
        }
    };
    write_npy(&output, &feats)?;
    eprintln!(
        "{}: [{}, {}] float32 -> {}",
        file.display(),
        feats.nrows(),
        feats.ncols(),
        output.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes `a` as a NumPy `.npy` file (little-endian float32, C order), atomically.
fn write_npy(path: &Path, a: &Array2<f32>) -> Result<()> {
    let mut bytes = Vec::new();
    a.write_npy(&mut bytes)
        .with_context(|| format!("{}: encoding .npy", path.display()))?;
    ownvoice_audio::write::write_atomic(path, &bytes)
        .with_context(|| format!("{}: cannot write", path.display()))
}

fn parse_n_mels(s: &str) -> Result<usize, String> {
    match s {
        "80" => Ok(80),
        "128" => Ok(128),
        _ => Err(format!("{s}: Whisper log-mel has 80 or 128 mel bands")),
    }
}
