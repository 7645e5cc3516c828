//! `ownvoice record` and `ownvoice devices`: capture from a microphone with a live level meter.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Result;
use clap::Args;
use ownvoice_audio::levels::Levels;
use serde::Serialize;

use crate::context;
use crate::recorder::{self, StopRule, Stopped};

#[derive(Args)]
#[command(after_help = "\
Examples:
  ownvoice record -o take.wav --seconds 5
  ownvoice record -o take.wav --until-silence       # stops after 1 s of silence following speech
  ownvoice record -o take.wav --device \"USB Microphone\"

The recording is saved as 16 kHz mono 16-bit WAV (the rate every ownvoice model uses), whatever
the device's own rate and sample format. Ctrl-C stops and keeps what was recorded.
Test seam: OWNVOICE_INPUT_WAV=FILE|DIR plays audio files in at real-time pace instead of a device.")]
pub struct RecordArgs {
    /// Output WAV file (16 kHz mono 16-bit; written atomically).
    #[arg(short, long)]
    output: PathBuf,
    /// Input device name (see `ownvoice devices`); default: the system's default input.
    #[arg(long)]
    device: Option<String>,
    /// Record this many seconds.
    #[arg(long, conflicts_with = "until_silence")]
    seconds: Option<f64>,
    /// Stop after speech followed by silence (Silero VAD).
    #[arg(long)]
    until_silence: bool,
    /// With --until-silence: how much silence ends the recording, seconds.
    #[arg(long, default_value_t = 1.0)]
    silence: f64,
    /// Longest recording, seconds (with --until-silence or neither option).
    #[arg(long, default_value_t = 120.0)]
    max_seconds: f64,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Summary {
    path: String,
    source: String,
    source_sample_rate: u32,
    duration_s: f64,
    peak_dbfs: Option<f32>,
    rms_dbfs: Option<f32>,
    clipped_fraction: f32,
    stopped: &'static str,
}

pub fn run(a: RecordArgs) -> Result<ExitCode> {
    let mut src = recorder::open_input(a.device.as_deref())?;
    let vad = if a.until_silence {
        Some(context::load_vad()?)
    } else {
        None
    };
    let rule = StopRule {
        max_seconds: a.seconds.unwrap_or(a.max_seconds),
        until_silence_s: a.until_silence.then_some(a.silence),
    };
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    // Ctrl-C ends the recording and keeps it; a second Ctrl-C while saving is ignored.
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
    let meter = std::io::IsTerminal::is_terminal(&std::io::stderr());
    if !a.json {
        eprintln!("recording from {} (Ctrl-C to stop)", src.name());
    }
    let rec = recorder::record(src.as_mut(), rule, vad, meter, &mut || {
        stop.load(Ordering::SeqCst)
    })?;
    if rec.samples.is_empty() {
        anyhow::bail!("nothing was recorded from {}", rec.source);
    }
    let levels = Levels::measure(&rec.samples);
    let audio = ownvoice_audio::Audio {
        samples: rec.samples,
        sample_rate: rec.sample_rate,
        source_channels: 1,
    };
    let samples = ownvoice_audio::decode::to_16k(audio)?;
    ownvoice_audio::write::write_wav_atomic(&a.output, &samples, 16_000)?;
    let finite = |x: f32| x.is_finite().then_some(x);
    let s = Summary {
        path: a.output.display().to_string(),
        source: rec.source,
        source_sample_rate: rec.sample_rate,
        duration_s: samples.len() as f64 / 16_000.0,
        peak_dbfs: finite(levels.peak_dbfs),
        rms_dbfs: finite(levels.rms_dbfs),
        clipped_fraction: levels.clipped_fraction,
        stopped: match rec.stopped {
            Stopped::Time => "time",
            Stopped::Silence => "silence",
            Stopped::EndOfInput => "end of input",
            Stopped::Interrupted => "interrupted",
        },
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
    } else {
        println!(
            "{}: {:.1} s (stopped: {}), RMS {} dBFS, peak {} dBFS{}",
            s.path,
            s.duration_s,
            s.stopped,
            s.rms_dbfs.map_or("-inf".into(), |v| format!("{v:.1}")),
            s.peak_dbfs.map_or("-inf".into(), |v| format!("{v:.1}")),
            if s.clipped_fraction > 0.001 {
                format!(
                    " — {:.2} % clipped: lower the input gain",
                    s.clipped_fraction * 100.0
                )
            } else {
                String::new()
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct DevicesArgs {
    /// Print JSON: {"inputs": [...], "outputs": [...]}, each {name, is_default, configs}.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct DeviceJson {
    name: String,
    is_default: bool,
    configs: Vec<String>,
}

pub fn devices(a: DevicesArgs) -> Result<ExitCode> {
    let (inputs, outputs) = ownvoice_audio::capture::list_devices()?;
    let conv = |v: Vec<ownvoice_audio::capture::DeviceInfo>| -> Vec<DeviceJson> {
        v.into_iter()
            .map(|d| DeviceJson {
                name: d.name,
                is_default: d.is_default,
                configs: d.configs,
            })
            .collect()
    };
    let (inputs, outputs) = (conv(inputs), conv(outputs));
    if a.json {
        println!(
            "{}",
            serde_json::json!({ "inputs": inputs, "outputs": outputs })
        );
    } else {
        for (title, list) in [("inputs", &inputs), ("outputs", &outputs)] {
            println!("{title}:");
            if list.is_empty() {
                println!("  (none)");
            }
            for d in list.iter() {
                println!(
                    "  {}{}",
                    d.name,
                    if d.is_default { "  [default]" } else { "" }
                );
                for c in &d.configs {
                    println!("      {c}");
                }
            }
        }
    }
    if inputs.is_empty() {
        eprintln!("no audio input device found: `ownvoice record` and interactive enrollment need one (or use `ownvoice enroll --from-dir`)");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
