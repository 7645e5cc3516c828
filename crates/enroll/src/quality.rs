//! The per-take quality gate.

use ownvoice_asr::{wer, DecodeOptions, WhisperModel};
use ownvoice_audio::{Audio, Levels};
use ownvoice_vad::SileroVad;
use serde::{Deserialize, Serialize};

use crate::trace::{self, LevelTrace};

/// Limits a take must meet to be kept.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// Shortest take, seconds.
    pub min_duration_s: f64,
    /// Longest take, seconds (Whisper's window is 30 s).
    pub max_duration_s: f64,
    /// Quietest acceptable RMS level, dBFS.
    pub min_rms_dbfs: f32,
    /// Largest fraction of samples at full scale.
    pub max_clipped_fraction: f32,
    /// Smallest fraction of 32 ms windows that Silero VAD calls speech.
    pub min_speech_ratio: f32,
    /// Largest WER of the ASR transcript against the text read.
    pub max_wer: f64,
    /// Smallest signal-to-noise estimate (speech windows over non-speech windows), dB.
    #[serde(default = "default_min_snr_db")]
    pub min_snr_db: f32,
}

fn default_min_snr_db() -> f32 {
    10.0
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            min_duration_s: 0.5,
            max_duration_s: 30.0,
            min_rms_dbfs: -40.0,
            max_clipped_fraction: 0.001,
            min_speech_ratio: 0.3,
            max_wer: 0.5,
            min_snr_db: default_min_snr_db(),
        }
    }
}

/// The measured quality of one take and the verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TakeQuality {
    /// Duration, seconds.
    pub duration_s: f64,
    /// Sample rate of the original recording, Hz.
    pub source_sample_rate: u32,
    /// Peak level, dBFS (`null` in JSON for digital silence).
    pub peak_dbfs: Option<f32>,
    /// RMS level, dBFS.
    pub rms_dbfs: Option<f32>,
    /// Fraction of samples at full scale.
    pub clipped_fraction: f32,
    /// Fraction of 32 ms windows with speech probability ≥ 0.5.
    pub speech_ratio: f32,
    /// What Whisper heard.
    pub asr_text: String,
    /// WER of `asr_text` against the text read, as a fraction.
    pub wer: f64,
    /// True when every threshold is met.
    pub accepted: bool,
    /// Why the take was rejected, in plain words (empty when accepted).
    pub reasons: Vec<String>,
    /// Signal-to-noise estimate, dB (`null` when the take has no non-speech part to measure).
    #[serde(default)]
    pub snr_db: Option<f32>,
    /// Peak and RMS level per 20 ms block, for the enrollment report.
    #[serde(default)]
    pub levels: Option<LevelTrace>,
}

fn finite(x: f32) -> Option<f32> {
    x.is_finite().then_some(x)
}

/// Measures one take. `audio` is the recording as decoded (its own rate, for honest clipping
/// figures); `samples_16k` the same take at 16 kHz for VAD and ASR; `text` what was read.
///
/// # Errors
/// A message when VAD or ASR inference fails.
pub fn assess(
    audio: &Audio,
    samples_16k: &[f32],
    text: &str,
    vad: &mut SileroVad,
    asr: &WhisperModel,
    decode: &DecodeOptions,
    t: &Thresholds,
) -> Result<TakeQuality, String> {
    let levels = Levels::measure(&audio.samples);
    let duration_s = audio.duration_s();
    let probs = vad.probabilities(samples_16k).map_err(|e| e.to_string())?;
    let threshold = ownvoice_vad::DEFAULT_THRESHOLD;
    let speech_ratio = if probs.is_empty() {
        0.0
    } else {
        probs.iter().filter(|&&p| p >= threshold).count() as f32 / probs.len() as f32
    };
    let snr_db = trace::snr_db(samples_16k, &probs, threshold);
    let mut reasons = Vec::new();
    if duration_s < t.min_duration_s {
        reasons.push(format!(
            "too short ({duration_s:.2} s < {} s)",
            t.min_duration_s
        ));
    }
    if duration_s > t.max_duration_s {
        reasons.push(format!(
            "too long ({duration_s:.1} s > {} s)",
            t.max_duration_s
        ));
    }
    if levels.rms_dbfs < t.min_rms_dbfs {
        reasons.push(format!(
            "too quiet (RMS {:.1} dBFS < {} dBFS)",
            levels.rms_dbfs, t.min_rms_dbfs
        ));
    }
    if levels.clipped_fraction > t.max_clipped_fraction {
        reasons.push(format!(
            "clipped ({:.2} % of samples at full scale; record with lower input gain)",
            levels.clipped_fraction * 100.0
        ));
    }
    if let Some(snr) = snr_db.filter(|&s| s < t.min_snr_db) {
        reasons.push(format!(
            "too noisy (speech is {snr:.0} dB above the background, need {} dB)",
            t.min_snr_db
        ));
    }
    if speech_ratio < t.min_speech_ratio {
        reasons.push(format!(
            "mostly silence (speech in {:.0} % of the take)",
            speech_ratio * 100.0
        ));
    }
    // Only run the (slowest) ASR round trip on a take that could still pass.
    let (asr_text, take_wer) = if duration_s <= t.max_duration_s && duration_s >= t.min_duration_s {
        let tr = asr
            .transcribe(samples_16k, decode)
            .map_err(|e| e.to_string())?;
        let w = wer::wer(text, &tr.text);
        (tr.text, w)
    } else {
        (String::new(), 1.0)
    };
    if take_wer > t.max_wer && duration_s >= t.min_duration_s && duration_s <= t.max_duration_s {
        let missing = wer::missing_words(text, &asr_text);
        if missing.is_empty() {
            reasons.push(format!(
                "does not match the text (WER {:.0} %)",
                take_wer * 100.0
            ));
        } else {
            reasons.push(format!(
                "words missing: {} (WER {:.0} %)",
                missing.join(" "),
                take_wer * 100.0
            ));
        }
    }
    Ok(TakeQuality {
        duration_s,
        source_sample_rate: audio.sample_rate,
        peak_dbfs: finite(levels.peak_dbfs),
        rms_dbfs: finite(levels.rms_dbfs),
        clipped_fraction: levels.clipped_fraction,
        speech_ratio,
        asr_text,
        wer: take_wer,
        accepted: reasons.is_empty(),
        reasons,
        snr_db,
        levels: Some(LevelTrace::measure(&audio.samples, audio.sample_rate)),
    })
}
