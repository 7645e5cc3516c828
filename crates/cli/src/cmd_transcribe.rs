//! `ownvoice transcribe FILE...`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, ValueEnum};
use ownvoice_asr::{DecodeOptions, WhisperModel};
use serde::Serialize;

use crate::context;

#[derive(Copy, Clone, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Plain text.
    Txt,
    /// One JSON array: {path, text, segments[{start, end, text}], duration_s, model} per file.
    Json,
    /// SubRip subtitles.
    Srt,
    /// WebVTT subtitles.
    Vtt,
}

/// Transcribe WAV files (any rate, channels, 8/16/24/32-bit int or float) with Whisper.
///
/// Audio is converted to 16 kHz mono. A file that cannot be read is reported on stderr and the
/// others are still transcribed; the exit status is non-zero if any failed.
#[derive(Args)]
pub struct TranscribeArgs {
    /// WAV files to transcribe.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Whisper model: tiny.en, base, an imported name, or a ggml file path.
    #[arg(long, default_value = "tiny.en")]
    model: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "txt")]
    format: Format,
    /// Beam search width (default: greedy decoding).
    #[arg(long)]
    beam: Option<usize>,
    /// CPU threads (default: available cores, at most 8).
    #[arg(long)]
    threads: Option<usize>,
    /// Spoken language (en, de, ...; auto to detect). Default: en for .en models, else auto.
    #[arg(long)]
    language: Option<String>,
    /// Use this person's adapted model (`ownvoice adapt`) for --model, decrypted into memory
    /// only; falls back to the base model, with a note, when they have none.
    #[arg(long)]
    person: Option<String>,
}

#[derive(Serialize)]
struct FileResult {
    path: String,
    text: String,
    segments: Vec<ownvoice_asr::Segment>,
    duration_s: f64,
    model: String,
}

pub fn run(a: TranscribeArgs) -> Result<ExitCode> {
    let (model, label) = crate::cmd_adapt::model_for(&a.model, a.person.as_deref())?;
    let opts = DecodeOptions {
        beam_size: a.beam,
        threads: a.threads.unwrap_or_else(context::default_threads),
        language: a.language.clone(),
        ..DecodeOptions::default()
    };
    let mut results = Vec::new();
    let mut failed = 0;
    for f in &a.files {
        match transcribe_one(&model, f, &opts, &label) {
            Ok(r) => {
                match a.format {
                    Format::Json => {}
                    Format::Txt if a.files.len() > 1 => println!("==> {} <==\n{}", r.path, r.text),
                    Format::Txt => println!("{}", r.text),
                    Format::Srt => print!("{}", ownvoice_asr::subtitles::srt(&r.segments)),
                    Format::Vtt => print!("{}", ownvoice_asr::subtitles::vtt(&r.segments)),
                }
                results.push(r);
            }
            Err(e) => {
                failed += 1;
                eprintln!("error: {}", crate::one_line(&e));
            }
        }
    }
    if a.format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&results)?);
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn transcribe_one(
    model: &WhisperModel,
    f: &Path,
    opts: &DecodeOptions,
    name: &str,
) -> Result<FileResult> {
    let samples = ownvoice_audio::load_16k_mono(f)?;
    let t = model
        .transcribe(&samples, opts)
        .map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?;
    Ok(FileResult {
        path: f.display().to_string(),
        text: t.text,
        segments: t.segments,
        duration_s: samples.len() as f64 / 16_000.0,
        model: name.to_string(),
    })
}
