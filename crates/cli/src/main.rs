//! `ownvoice`: private speech recognition and synthesis that stay on your own devices.
//!
//! The command-line front end over the ownvoice crates. Each sub-command lives in its own module;
//! [`context`] resolves where state lives (`OWNVOICE_HOME`, the model cache) and the passphrase.

mod adapt_gate;
mod adapt_plan;
mod adapt_run;
mod cmd_adapt;
mod cmd_device;
mod cmd_dictate;
mod cmd_enroll;
mod cmd_enroll_live;
mod cmd_eval;
mod cmd_eval_verify;
mod cmd_features;
mod cmd_models;
mod cmd_people;
mod cmd_record;
mod cmd_serve;
mod cmd_share;
mod cmd_speak;
mod cmd_speaker;
mod cmd_transcribe;
mod cmd_voice;
mod cmd_voice_rate;
mod cmd_voice_report;
mod context;
mod keys;
mod prompts;
mod recorder;
mod term;
mod voices;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// ownvoice: your voice, your models, your devices.
///
/// Transcribe speech with Whisper, speak text with a Piper voice, and keep each person's
/// recordings in an encrypted profile. Everything runs offline after `ownvoice models fetch`.
///
/// State lives in $OWNVOICE_HOME (default: ~/.local/share/ownvoice); models in
/// ${XDG_CACHE_HOME:-~/.cache}/ownvoice/models (or $OWNVOICE_MODELS_DIR).
#[derive(Parser)]
#[command(name = "ownvoice", version, about, long_about, max_term_width = 100)]
struct Cli {
    /// More log output (repeat for more); or set RUST_LOG.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Fetch, list and import models (the only step that uses the network).
    #[command(subcommand)]
    Models(cmd_models::ModelsCommand),
    /// List audio input and output devices and their supported configurations.
    Devices(cmd_record::DevicesArgs),
    /// Record from a microphone (live level meter) to a 16 kHz mono WAV.
    Record(cmd_record::RecordArgs),
    /// Transcribe audio files (WAV, FLAC, MP3, Ogg Vorbis) to text with Whisper.
    Transcribe(cmd_transcribe::TranscribeArgs),
    /// Speak text aloud with a Piper voice, to a WAV file or the speakers.
    Speak(cmd_speak::SpeakArgs),
    /// Enroll a person into their encrypted profile: interactively, or from a folder.
    Enroll(cmd_enroll::EnrollArgs),
    /// List, inspect, share, back up and delete people's encrypted profiles.
    #[command(subcommand)]
    People(cmd_people::PeopleCommand),
    /// This device's identity: the key that opens profiles shared with this device.
    #[command(subcommand)]
    Device(cmd_device::DeviceCommand),
    /// Fine-tune Whisper on a person's enrolled takes (LoRA, on this device); installed in their
    /// encrypted profile only if it lowers the WER on takes it never trained on (held-back
    /// takes, or for a small enrollment cross-validation folds).
    Adapt(cmd_adapt::AdaptArgs),
    /// Speaker embeddings: print the 256-d d-vector (GE2E) of each file.
    Embed(cmd_speaker::EmbedArgs),
    /// Check that an utterance is an enrolled person's voice (cosine score against their voice
    /// print, accepted at a calibrated threshold; exit 0 accepted, 1 rejected).
    Verify(cmd_speaker::VerifyArgs),
    /// Rank the enrolled people (those this device can open) by how close their voice is.
    Identify(cmd_speaker::IdentifyArgs),
    /// Serve speech-to-text and text-to-speech: Wyoming (Home Assistant) on 10300/10200 and an
    /// OpenAI-style HTTP API with streaming dictation on 8080, loopback only by default.
    Serve(cmd_serve::ServeArgs),
    /// Dictate from the microphone: each utterance printed (or typed with --type) as you pause.
    Dictate(cmd_dictate::DictateArgs),
    /// A TTS voice fitted to a person's own speech: `voice train`, `voice report`.
    #[command(subcommand)]
    Voice(cmd_voice::VoiceCommand),
    /// Write model input features (Whisper log-mel, speaker-encoder mel) as .npy.
    #[command(subcommand)]
    Features(cmd_features::FeaturesCommand),
    /// Measure accuracy on a dataset folder (WER of Whisper against its transcripts).
    #[command(subcommand)]
    Eval(cmd_eval::EvalCommand),
}

fn main() -> ExitCode {
    // Like other Unix tools, end quietly when the reader of our output goes away
    // (`ownvoice people show NAME | head`) instead of panicking on a broken pipe.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let default_level = match cli.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level)),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
        Command::Models(c) => cmd_models::run(c),
        Command::Devices(a) => cmd_record::devices(a),
        Command::Record(a) => cmd_record::run(a),
        Command::Features(c) => cmd_features::run(c),
        Command::Transcribe(a) => cmd_transcribe::run(a),
        Command::Speak(a) => cmd_speak::run(a),
        Command::Enroll(a) => cmd_enroll::run(a),
        Command::People(c) => cmd_people::run(c),
        Command::Device(c) => cmd_device::run(c),
        Command::Eval(c) => cmd_eval::run(c),
        Command::Adapt(a) => cmd_adapt::run(a),
        Command::Embed(a) => cmd_speaker::embed(a),
        Command::Verify(a) => cmd_speaker::verify(a),
        Command::Identify(a) => cmd_speaker::identify(a),
        Command::Serve(a) => cmd_serve::run(a),
        Command::Dictate(a) => cmd_dictate::run(a),
        Command::Voice(c) => cmd_voice::run(c),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, leaving out a cause whose text the line already holds
/// (many errors here name their cause in their own message).
fn one_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !line.contains(&text) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
    }
    line
}
