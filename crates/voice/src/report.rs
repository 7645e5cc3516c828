//! How a voice compares with the person's real speech: speaker similarity (to the voice print
//! and to held-back takes), intelligibility (Whisper WER on 20 Harvard sentences, greedy and
//! with 5 beams), pitch (YIN F0 mean and range against the person's takes), and speed
//! (real-time factor, time to first audio).

use std::time::Instant;

use ownvoice_asr::{DecodeOptions, WhisperModel};
use ownvoice_features::f0::{summary, yin, YinConfig};
use ownvoice_speaker::{Embedding, SpeakerEncoder};
use ownvoice_tts::kokoro::{Kokoro, StylePack, SAMPLE_RATE};
use serde::{Deserialize, Serialize};

use crate::VoiceError;

/// The first 20 Harvard sentences (IEEE Recommended Practice for Speech Quality Measurements,
/// 1969, lists 1 and 2; public domain).
pub const HARVARD: [&str; 20] = [
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
    "It's easy to tell the depth of a well.",
    "These days a chicken leg is a rare dish.",
    "Rice is often served in round bowls.",
    "The juice of lemons makes fine punch.",
    "The box was thrown beside the parked truck.",
    "The hogs were fed chopped corn and garbage.",
    "Four hours of steady work faced us.",
    "A large size in stockings is hard to sell.",
    "The boy was there when the sun rose.",
    "A rod is used to catch pink salmon.",
    "The source of the huge river is the clear spring.",
    "Kick the ball straight and follow through.",
    "Help the woman get back to her feet.",
    "A pot of tea helps to pass the evening.",
    "Smoky fires lack flame and heat.",
    "The soft cushion broke the man's fall.",
    "The salt breeze came across from the sea.",
    "The girl at the booth sold fifty bonds.",
];

/// Beam width of the report's second WER ([`VoiceReport::wer_beam`]): the default of OpenAI's
/// `whisper` command (`--beam_size 5`, `whisper/transcribe.py`) and of whisper.cpp's
/// `whisper-cli`, so the figure is what a user of those tools would measure. Greedy decoding
/// ([`VoiceReport::wer`]) is ownvoice's default, for speed.
pub const REPORT_BEAM: usize = 5;

/// F0 of voiced frames, Hz.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct F0Summary {
    /// Mean F0.
    pub mean_hz: f32,
    /// 5th percentile.
    pub p5_hz: f32,
    /// 95th percentile.
    pub p95_hz: f32,
    /// Share of frames voiced.
    pub voiced: f32,
}

/// F0 summary of 16 kHz speech (YIN, 10 ms hop).
pub fn f0_of(signals: &[Vec<f32>]) -> Option<F0Summary> {
    let frames: Vec<Option<f32>> = signals
        .iter()
        .flat_map(|s| yin(s, &YinConfig::default()))
        .collect();
    summary(&frames).map(|(mean_hz, p5_hz, p95_hz, voiced)| F0Summary {
        mean_hz,
        p5_hz,
        p95_hz,
        voiced,
    })
}

/// The report on one voice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VoiceReport {
    /// Cosine of the voice (all sentences) to the voice print.
    pub similarity_print: f32,
    /// Mean cosine of the voice to each held-back take (`None` without held-back takes).
    pub similarity_heldout: Option<f32>,
    /// Cosine of the voice to the centroid of the held-back takes (the L2-normalised mean of
    /// their d-vectors: a speaker-level embedding, as GE2E's centroids, Wan et al. 2018). Each
    /// take alone is a noisy draw around the speaker, so this is higher than
    /// `similarity_heldout` (about `similarity_heldout` / the centroid's mean norm).
    #[serde(default)]
    pub similarity_heldout_centroid: Option<f32>,
    /// The Kokoro `speed` the voice spoke at.
    #[serde(default = "crate::normal_speed")]
    pub speed: f32,
    /// Whisper WER (fraction) on the sentences, decoded greedily (as dictation and the fit's
    /// search decode).
    pub wer: f64,
    /// Whisper WER (fraction) on the same audio decoded with [`REPORT_BEAM`] beams (`None` in
    /// reports written before it was measured).
    #[serde(default)]
    pub wer_beam: Option<f64>,
    /// Sentences spoken.
    pub sentences: usize,
    /// F0 of the voice and of the person's takes.
    pub f0_voice: Option<F0Summary>,
    pub f0_person: Option<F0Summary>,
    /// Synthesis time / audio duration.
    pub rtf: f64,
    /// Seconds until the first sentence's audio was ready.
    pub first_audio_s: f64,
    /// Seconds of audio synthesised.
    pub audio_s: f64,
}

/// Speaks `sentences` with `pack` at Kokoro `speed` (1.0 normal): 16 kHz audio per sentence,
/// synthesis seconds, seconds to the first sentence.
///
/// # Errors
/// Synthesis errors.
pub fn speak(
    kokoro: &mut Kokoro,
    pack: &StylePack,
    speed: f32,
    sentences: &[&str],
) -> Result<(Vec<Vec<f32>>, f64, f64), VoiceError> {
    let started = Instant::now();
    let mut first = None;
    let mut out = Vec::new();
    for s in sentences {
        let mut audio = Vec::new();
        for ph in kokoro.sentences(s)? {
            audio.extend(kokoro.synthesize_pack(&ph, pack, speed)?);
        }
        first.get_or_insert(started.elapsed().as_secs_f64());
        out.push(ownvoice_audio::resample::resample(
            &audio,
            SAMPLE_RATE,
            16_000,
        )?);
    }
    Ok((out, started.elapsed().as_secs_f64(), first.unwrap_or(0.0)))
}

/// Mean cosine of `voice` to each of `takes`.
pub fn mean_cosine(voice: &Embedding, takes: &[Embedding]) -> Option<f32> {
    (!takes.is_empty())
        .then(|| takes.iter().map(|t| voice.cosine(t)).sum::<f32>() / takes.len() as f32)
}

/// Reports on `pack` speaking at Kokoro `speed` (the voice's rate, 1.0 for a stock voice)
/// against the person: `print` (their voice print), `heldout` (d-vectors of takes not used for
/// fitting) and `person_audio` (their takes, 16 kHz, for F0).
///
/// # Errors
/// Inference errors.
#[allow(clippy::too_many_arguments)]
pub fn report(
    kokoro: &mut Kokoro,
    pack: &StylePack,
    speed: f32,
    encoder: &mut SpeakerEncoder,
    whisper: &WhisperModel,
    print: &Embedding,
    heldout: &[Embedding],
    person_audio: &[Vec<f32>],
    threads: usize,
) -> Result<VoiceReport, VoiceError> {
    let (speech, seconds, first_audio_s) = speak(kokoro, pack, speed, &HARVARD)?;
    let audio_s = speech.iter().map(|s| s.len()).sum::<usize>() as f64 / 16_000.0;
    let voice = encoder.embed_utterance(&speech.concat())?;
    let opts = DecodeOptions {
        threads,
        ..DecodeOptions::default()
    };
    let beam_opts = DecodeOptions {
        beam_size: Some(REPORT_BEAM),
        ..opts.clone()
    };
    let (mut heard, mut heard_beam) = (Vec::new(), Vec::new());
    for s in &speech {
        heard.push(whisper.transcribe(s, &opts)?.text);
        heard_beam.push(whisper.transcribe(s, &beam_opts)?.text);
    }
    let reference = HARVARD.join(" ");
    Ok(VoiceReport {
        similarity_print: voice.cosine(print),
        similarity_heldout: mean_cosine(&voice, heldout),
        similarity_heldout_centroid: (!heldout.is_empty())
            .then(|| voice.cosine(&Embedding::mean(heldout))),
        speed,
        wer: ownvoice_asr::wer::wer(&reference, &heard.join(" ")),
        wer_beam: Some(ownvoice_asr::wer::wer(&reference, &heard_beam.join(" "))),
        sentences: HARVARD.len(),
        f0_voice: f0_of(&speech),
        f0_person: f0_of(person_audio),
        rtf: seconds / audio_s.max(1e-9),
        first_audio_s,
        audio_s,
    })
}
