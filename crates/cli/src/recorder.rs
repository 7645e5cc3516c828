//! The recorder shared by `ownvoice record` and interactive enrollment: opens the input source,
//! runs the capture loop with a live level meter, stops on time, silence (Silero VAD), end of
//! input or a caller's signal (Ctrl-C, a key), and returns what was recorded.
//!
//! Test seam: `OWNVOICE_INPUT_WAV=PATH` replaces the microphone with audio files played in at
//! real-time pace. PATH is a file (every recording reads it) or a folder (each recording reads
//! the next file in name order that no earlier recording of this process has read — so a test can
//! drop the next take's audio into the folder before it starts the take).

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use ownvoice_audio::capture::{Chunk, CpalInput, InputSource, WavInput};
use ownvoice_audio::levels::{to_dbfs, CLIP_LEVEL};
use ownvoice_audio::resample::StreamResampler;
use ownvoice_vad::{SileroVad, VadConfig, VadEvent, VadStream};

/// The environment variable of the test seam.
pub const INPUT_WAV_ENV: &str = "OWNVOICE_INPUT_WAV";

static CONSUMED: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);

/// Opens the input: the test seam's next file when `OWNVOICE_INPUT_WAV` is set, else the cpal
/// device `device` (default device when `None`).
///
/// # Errors
/// No input device (clear message), an unreadable seam file, or a seam folder with no unread file.
pub fn open_input(device: Option<&str>) -> Result<Box<dyn InputSource>> {
    if let Some(path) = std::env::var_os(INPUT_WAV_ENV) {
        let path = PathBuf::from(path);
        let file = if path.is_dir() {
            next_seam_file(&path)?
        } else {
            path
        };
        return Ok(Box::new(WavInput::open(&file)?));
    }
    Ok(Box::new(CpalInput::open(device)?))
}

fn next_seam_file(dir: &Path) -> Result<PathBuf> {
    let mut consumed = CONSUMED.lock().expect("seam state");
    let consumed = consumed.get_or_insert_with(HashSet::new);
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("{}: cannot list", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && !consumed.contains(p))
        .collect();
    files.sort();
    let Some(next) = files.into_iter().next() else {
        bail!(
            "{}: no unread audio file left ({INPUT_WAV_ENV} test seam)",
            dir.display()
        );
    };
    consumed.insert(next.clone());
    Ok(next)
}

/// When a recording stops.
#[derive(Debug, Clone, Copy)]
pub struct StopRule {
    /// Longest recording, seconds.
    pub max_seconds: f64,
    /// Stop after this much silence following speech, seconds (needs VAD).
    pub until_silence_s: Option<f64>,
}

/// Why a recording stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// `max_seconds` reached.
    Time,
    /// Silence after speech.
    Silence,
    /// The input ended (a file source).
    EndOfInput,
    /// The caller asked (Ctrl-C, a key).
    Interrupted,
}

/// A finished recording.
pub struct Recording {
    /// Mono samples at `sample_rate`.
    pub samples: Vec<f32>,
    /// The source's rate, Hz.
    pub sample_rate: u32,
    /// Why it stopped.
    pub stopped: Stopped,
    /// The source's name.
    pub source: String,
    /// The VAD model, handed back for the next recording.
    pub vad: Option<SileroVad>,
}

/// Records from `src` until `rule` or `interrupt()` says stop, drawing a level meter on stderr
/// when `meter` is true. `vad` is required for `until_silence_s`.
///
/// # Errors
/// Device failures and VAD inference errors.
pub fn record(
    src: &mut dyn InputSource,
    rule: StopRule,
    vad: Option<SileroVad>,
    meter: bool,
    interrupt: &mut dyn FnMut() -> bool,
) -> Result<Recording> {
    let rate = src.sample_rate();
    let mut stream = match (rule.until_silence_s, vad) {
        (Some(s), Some(vad)) => Some((
            VadStream::new(
                vad,
                VadConfig {
                    min_silence_ms: (s * 1000.0) as u32,
                    ..VadConfig::default()
                },
            ),
            StreamResampler::new(rate, ownvoice_audio::SPEECH_SAMPLE_RATE)?,
        )),
        (Some(_), None) => bail!("stopping at silence needs the VAD model"),
        _ => None,
    };
    let max_samples = (rule.max_seconds * rate as f64) as usize;
    let mut samples = Vec::new();
    let mut clipped_recently = Instant::now() - Duration::from_secs(10);
    let mut last_draw = Instant::now() - Duration::from_secs(1);
    let mut heard_speech = false;
    let stopped = loop {
        if interrupt() {
            break Stopped::Interrupted;
        }
        let chunk = match src.next_chunk(Duration::from_millis(50))? {
            Chunk::End => break Stopped::EndOfInput,
            Chunk::Samples(c) => c,
        };
        if chunk.is_empty() {
            continue;
        }
        samples.extend_from_slice(&chunk);
        if chunk.iter().any(|s| s.abs() >= CLIP_LEVEL) {
            clipped_recently = Instant::now();
        }
        let mut silence_end = false;
        if let Some((vs, rs)) = stream.as_mut() {
            for ev in vs.push(&rs.push(&chunk))? {
                match ev {
                    VadEvent::SpeechStart(_) => heard_speech = true,
                    VadEvent::SpeechEnd(_) => silence_end = true,
                }
            }
        }
        if meter && last_draw.elapsed() >= Duration::from_millis(50) {
            last_draw = Instant::now();
            let rms = (chunk.iter().map(|s| s * s).sum::<f32>() / chunk.len() as f32).sqrt();
            let peak = chunk.iter().fold(0.0f32, |m, s| m.max(s.abs()));
            let line = meter_line(
                to_dbfs(rms),
                to_dbfs(peak),
                clipped_recently.elapsed() < Duration::from_secs(1),
                samples.len() as f64 / rate as f64,
                stream.as_ref().map(|(vs, _)| vs.in_speech()),
            );
            let mut err = std::io::stderr();
            let _ = write!(err, "\r\x1b[2K{line}");
            let _ = err.flush();
        }
        if silence_end && heard_speech {
            break Stopped::Silence;
        }
        if samples.len() >= max_samples {
            samples.truncate(max_samples);
            break Stopped::Time;
        }
    };
    if meter {
        eprint!("\r\x1b[2K");
    }
    Ok(Recording {
        samples,
        sample_rate: rate,
        stopped,
        source: src.name(),
        vad: stream.map(|(vs, _)| vs.into_inner()),
    })
}

/// Width of the meter bar, characters.
const BAR: usize = 30;
/// Bottom of the meter scale, dBFS.
const FLOOR_DB: f32 = -60.0;

/// One line of the live meter: an RMS bar from −60 to 0 dBFS with the peak marked, the figures,
/// elapsed time, the VAD state and a clipping warning.
pub fn meter_line(
    rms_db: f32,
    peak_db: f32,
    clipping: bool,
    elapsed_s: f64,
    speech: Option<bool>,
) -> String {
    let cells = |db: f32| (((db.max(FLOOR_DB) - FLOOR_DB) / -FLOOR_DB) * BAR as f32) as usize;
    let (fill, peak) = (cells(rms_db).min(BAR), cells(peak_db).min(BAR - 1));
    let bar: String = (0..BAR)
        .map(|i| {
            if i < fill {
                '█'
            } else if i == peak {
                '|'
            } else {
                '·'
            }
        })
        .collect();
    let fmt_db = |d: f32| {
        if d.is_finite() {
            format!("{d:6.1}")
        } else {
            "  -inf".to_string()
        }
    };
    let mut line = format!(
        "● {elapsed_s:5.1} s [{bar}] {} dBFS (peak {})",
        fmt_db(rms_db),
        fmt_db(peak_db)
    );
    match speech {
        Some(true) => line.push_str("  speech"),
        Some(false) => line.push_str("  ......"),
        None => {}
    }
    if clipping {
        line.push_str("  ⚠ CLIPPING: lower the input gain");
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meter_scales_and_warns() {
        let quiet = meter_line(-60.0, -50.0, false, 1.0, None);
        assert!(!quiet.contains('█'));
        let loud = meter_line(-3.0, -0.1, true, 2.5, Some(true));
        assert!(loud.matches('█').count() >= 27, "{loud}");
        assert!(loud.contains("CLIPPING") && loud.contains("speech"));
        assert!(
            meter_line(f32::NEG_INFINITY, f32::NEG_INFINITY, false, 0.0, None).contains("-inf")
        );
    }
}
