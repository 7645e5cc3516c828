//! `ownvoice dictate`: microphone → text, utterance by utterance, on this device.

use std::io::Write;
use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Result};
use clap::Args;
use ownvoice_audio::capture::Chunk;
use ownvoice_audio::resample::StreamResampler;
use ownvoice_service::dictation::{Dictation, DictationConfig, DictationEvent};
use ownvoice_service::{AsrRequest, EngineConfig};

use crate::context;

/// Dictate: speak, and each utterance is printed (or typed) when you pause.
///
/// Partial results are shown on stderr while you speak; each final utterance goes to stdout
/// (one line each) and, with --type, is typed into the focused window by the first of wtype
/// (Wayland), xdotool (X11) or ydotool that is installed. Stop with Ctrl-C.
///
/// Silero VAD detects the end of each utterance (--end-silence-ms); Whisper then transcribes
/// just that utterance with an audio context sized to it. With --person the person's adapted
/// model is used (their profile is opened with the device key or passphrase).
///
/// Examples:
///   ownvoice dictate
///   ownvoice dictate --person alice --type
///   OWNVOICE_INPUT_WAV=talk.wav ownvoice dictate --json   (a file instead of a microphone)
#[derive(Args)]
#[command(verbatim_doc_comment)]
pub struct DictateArgs {
    /// Whisper model.
    #[arg(long, default_value = "tiny.en")]
    model: String,
    /// Use this person's adapted model.
    #[arg(long)]
    person: Option<String>,
    /// Type each final utterance into the focused window (wtype, xdotool or ydotool).
    #[arg(long = "type")]
    type_text: bool,
    /// Input device (see `ownvoice devices`); default: the system's default input.
    #[arg(long)]
    device: Option<String>,
    /// Silence that ends an utterance, ms.
    #[arg(long, default_value_t = 300)]
    end_silence_ms: u32,
    /// Seconds between partial results (0: none).
    #[arg(long, default_value_t = 1.0)]
    partial_every: f64,
    /// Encode a full 30 s window for every utterance instead of a reduced audio context.
    #[arg(long)]
    full_context: bool,
    /// Print each event as a JSON line instead ({type: partial|final, text, start, end,
    /// latency_ms, model}).
    #[arg(long)]
    json: bool,
    /// CPU threads (default: available cores, at most 8).
    #[arg(long)]
    threads: Option<usize>,
}

/// The first typing tool found on PATH, with the arguments that type `text`.
fn typer() -> Option<(&'static str, Vec<&'static str>)> {
    let found = |tool: &str| {
        std::env::var_os("PATH")
            .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
    };
    [
        ("wtype", vec!["--"]),
        ("xdotool", vec!["type", "--delay", "0", "--"]),
        ("ydotool", vec!["type", "--"]),
    ]
    .into_iter()
    .find(|(t, _)| found(t))
}

pub fn run(a: DictateArgs) -> Result<ExitCode> {
    let typing = if a.type_text {
        match typer() {
            Some(t) => {
                eprintln!("typing into the focused window with {}", t.0);
                Some(t)
            }
            None => {
                bail!("--type needs wtype (Wayland), xdotool (X11) or ydotool; none is installed")
            }
        }
    } else {
        None
    };
    let people: Vec<String> = a.person.iter().cloned().collect();
    let config = EngineConfig {
        default_model: a.model.clone(),
        threads: a.threads.unwrap_or_else(context::default_threads),
        identify: false,
        ..EngineConfig::default()
    };
    let engine = Arc::new(crate::cmd_serve::build_engine(
        std::slice::from_ref(&a.model),
        &[],
        &people,
        config,
    )?);
    engine.warm_up()?;
    let request = AsrRequest {
        person: a.person.clone(),
        ..AsrRequest::default()
    };
    let dconfig = DictationConfig {
        end_silence_ms: a.end_silence_ms,
        partial_every_s: a.partial_every,
        reduced_context: !a.full_context,
        ..DictationConfig::default()
    };
    let mut d = Dictation::new(engine, request, dconfig)?;
    let mut input = crate::recorder::open_input(a.device.as_deref())?;
    let mut resampler = StreamResampler::new(input.sample_rate(), 16_000)?;
    eprintln!("listening on {} (Ctrl-C to stop)", input.name());
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst))?;
    }
    let show = |events: Vec<DictationEvent>| -> Result<()> {
        for e in events {
            if a.json {
                println!("{}", serde_json::to_string(&e)?);
                std::io::stdout().flush()?;
                continue;
            }
            match e {
                DictationEvent::Partial { text, .. } => {
                    eprint!("\r\x1b[2K… {text}");
                }
                DictationEvent::Final { text, .. } => {
                    eprint!("\r\x1b[2K");
                    println!("{text}");
                    std::io::stdout().flush()?;
                    if let Some((tool, args)) = &typing {
                        let status = Command::new(tool)
                            .args(args)
                            .arg(format!("{text} "))
                            .status()?;
                        if !status.success() {
                            eprintln!("warning: {tool} failed ({status})");
                        }
                    }
                }
            }
        }
        Ok(())
    };
    while !stop.load(Ordering::SeqCst) {
        match input.next_chunk(Duration::from_millis(100))? {
            Chunk::Samples(s) => {
                let s16 = resampler.push(&s);
                show(d.push(&s16)?)?;
            }
            Chunk::End => break,
        }
    }
    show(d.finish()?)?;
    Ok(ExitCode::SUCCESS)
}
