//! `ownvoice enroll --person NAME --from-dir DIR`: the non-interactive enrollment.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;
use ownvoice_asr::DecodeOptions;
use ownvoice_enroll::profile::{encode_pcm16, take_blob_name};
use ownvoice_enroll::quality::{assess, TakeQuality, Thresholds};
use ownvoice_enroll::{read_dataset, PersonProfile, TakeRecord};
use ownvoice_vault::{Access, Container};
use serde::Serialize;

use crate::{context, keys};

/// Enroll a person: interactively from the microphone, or from a folder of recordings.
///
/// Interactive (no --from-dir): prompts chosen for phoneme coverage are shown one at a time;
/// each take is recorded with a live level meter, trimmed to its speech and checked (clipping,
/// level, SNR, speech ratio, ASR round trip); a failing take is explained and recorded again.
/// Keys: space record · s skip · r re-record the last take · p pause · q save and quit. The
/// encrypted profile is saved after every take, so running the command again resumes. Each
/// session opens with two random challenge phrases (consent evidence kept in the profile).
///
/// From a folder (--from-dir DIR): DIR holds WAV files and a transcripts.tsv (header `path<TAB>speaker<TAB>text`, paths relative
/// to DIR). Each take is measured (duration, peak and clipping, RMS dBFS, speech ratio by Silero
/// VAD, and the WER of a Whisper transcript against its text); takes that fail are listed with the
/// reason and left out. Accepted takes, audio included, go into the person's encrypted profile at
/// $OWNVOICE_HOME/people/NAME.age. A new profile opens with this device's identity (after
/// `ownvoice device init`) and/or a passphrase ($OWNVOICE_PASSPHRASE or a prompt); share it with
/// other devices with `ownvoice people share`. Enrolling an existing person adds the new takes to
/// their profile.
#[derive(Args)]
pub struct EnrollArgs {
    /// The person's name (letters, digits, '-', '_', '.').
    #[arg(long)]
    person: String,
    /// Folder with audio files and transcripts.tsv (non-interactive enrollment).
    #[arg(long)]
    from_dir: Option<PathBuf>,
    /// Interactive: minutes of accepted speech to collect before the session ends.
    #[arg(long, default_value_t = 10.0, conflicts_with = "from_dir")]
    minutes: f64,
    /// Interactive: prompt set (TSV with id and text columns, or a transcripts.tsv); default:
    /// the built-in CMU ARCTIC prompts ordered for phoneme coverage.
    #[arg(long, conflicts_with = "from_dir")]
    prompts: Option<PathBuf>,
    /// Interactive: input device name (see `ownvoice devices`).
    #[arg(long, conflicts_with = "from_dir")]
    device: Option<String>,
    /// Interactive: silence that ends a take, seconds.
    #[arg(long, default_value_t = 1.0)]
    silence: f64,
    /// Only takes of this speaker id (needed when the folder holds several speakers).
    #[arg(long)]
    speaker: Option<String>,
    /// Use at most N takes (in file order).
    #[arg(long)]
    limit: Option<usize>,
    /// Whisper model for the ASR round trip.
    #[arg(long, default_value = "tiny.en")]
    model: String,
    /// Reject takes whose ASR round-trip WER exceeds this fraction.
    #[arg(long, default_value_t = Thresholds::default().max_wer)]
    max_wer: f64,
    /// Print a JSON report instead of text.
    #[arg(long)]
    json: bool,
    /// Keep this take (a path as listed in transcripts.tsv) although the same-speaker gate
    /// flags it as "a different speaker?" (repeatable; --from-dir).
    #[arg(long, value_name = "FILE")]
    confirm_speaker: Vec<String>,
}

#[derive(Serialize)]
struct VoicePrintSummary {
    takes: usize,
    score_mean: f32,
    score_std: f32,
}

#[derive(Serialize)]
struct Report<'a> {
    person: &'a str,
    profile: String,
    accepted: usize,
    rejected: usize,
    skipped_duplicates: usize,
    /// Sources of the takes the same-speaker gate rejected in this run.
    speaker_flagged: Vec<String>,
    /// The voice print after this run.
    voice_print: Option<VoicePrintSummary>,
    accepted_seconds: f64,
    total_accepted_seconds: f64,
    takes: Vec<&'a TakeRecord>,
}

pub fn run(a: EnrollArgs) -> Result<ExitCode> {
    let Some(from_dir) = a.from_dir.clone() else {
        return crate::cmd_enroll_live::run(crate::cmd_enroll_live::LiveArgs {
            person: a.person,
            minutes: a.minutes,
            prompts: a.prompts,
            device: a.device,
            model: a.model,
            max_wer: a.max_wer,
            silence_s: a.silence,
        });
    };
    let path = context::profile_path(&a.person)?;
    let mut takes = read_dataset(&from_dir)?;
    let speakers: std::collections::BTreeSet<_> = takes.iter().map(|t| t.speaker.clone()).collect();
    match &a.speaker {
        Some(s) => {
            takes.retain(|t| &t.speaker == s);
            if takes.is_empty() {
                bail!("{}: no takes of speaker {s:?} (speakers: {})", from_dir.display(), join(&speakers));
            }
        }
        None if speakers.len() > 1 => bail!(
            "{}: the folder holds {} speakers ({}); choose one with --speaker (a profile is one person's voice)",
            from_dir.display(),
            speakers.len(),
            join(&speakers)
        ),
        None => {}
    }
    if let Some(n) = a.limit {
        takes.truncate(n);
    }
    if takes.is_empty() {
        bail!("{}: transcripts.tsv lists no takes", from_dir.display());
    }

    let (access, mut profile, mut container) = open_or_create(&path, &a.person, &a.model)?;

    let mut vad = context::load_vad()?;
    let asr = context::load_whisper(&a.model)?;
    let mut speaker = crate::cmd_speaker::load_encoder()?;
    let decode = DecodeOptions::default();
    let thresholds = Thresholds {
        max_wer: a.max_wer,
        ..Thresholds::default()
    };
    let bar = context::progress(takes.len(), "enrolling", a.json);
    let first_new = profile.takes.len();
    let mut duplicates = 0;
    for take in &takes {
        bar.set_message(take.relative.clone());
        let confirming = a.confirm_speaker.contains(&take.relative);
        if profile.takes.iter().any(|t| {
            t.source == take.relative
                && t.text == take.text
                && !(confirming
                    && t.quality
                        .reasons
                        .iter()
                        .any(|r| r.starts_with("a different speaker?")))
        }) {
            duplicates += 1;
            bar.inc(1);
            continue;
        }
        let id = profile.next_id();
        let (quality, audio16) = match measure(take, &mut vad, &asr, &decode, &thresholds) {
            Ok(q) => q,
            Err(e) => (unreadable(crate::one_line(&e)), Vec::new()),
        };
        let audio_blob = quality.accepted.then(|| take_blob_name(&id));
        if let Some(name) = &audio_blob {
            container.put_blob(name, encode_pcm16(&audio16));
        }
        let dvector = match &audio_blob {
            Some(_) => Some(speaker.embed_utterance(&audio16)?.0),
            None => None,
        };
        profile.takes.push(TakeRecord {
            id,
            source: take.relative.clone(),
            text: take.text.clone(),
            quality,
            audio_blob,
            prompt_id: None,
            dvector,
            speaker_score: None,
            speaker_confirmed: a.confirm_speaker.contains(&take.relative),
        });
        bar.inc(1);
    }
    bar.finish_and_clear();
    crate::cmd_speaker::fill_missing_dvectors(&mut profile, &container, &mut speaker)?;
    let flagged = profile.apply_speaker_gate(&mut container);
    context::save_profile(&path, &mut container, &mut profile, &access)?;

    let new: Vec<&TakeRecord> = profile.takes[first_new..].iter().collect();
    let accepted = new.iter().filter(|t| t.quality.accepted).count();
    let report = Report {
        person: &a.person,
        profile: path.display().to_string(),
        accepted,
        rejected: new.len() - accepted,
        skipped_duplicates: duplicates,
        speaker_flagged: profile
            .takes
            .iter()
            .filter(|t| flagged.contains(&t.id))
            .map(|t| t.source.clone())
            .collect(),
        voice_print: profile.speaker.as_ref().map(|s| VoicePrintSummary {
            takes: s.takes,
            score_mean: s.score_mean,
            score_std: s.score_std,
        }),
        accepted_seconds: new
            .iter()
            .filter(|t| t.quality.accepted)
            .map(|t| t.quality.duration_s)
            .sum::<f64>()
            + 0.0, // an empty sum is -0.0
        total_accepted_seconds: profile.accepted_seconds(),
        takes: new,
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for t in report.takes.iter().filter(|t| !t.quality.accepted) {
            println!("rejected {}: {}", t.source, t.quality.reasons.join("; "));
        }
        for src in &report.speaker_flagged {
            if !report.takes.iter().any(|t| &t.source == src) {
                println!("rejected {src} (enrolled earlier): a different speaker?");
            }
        }
        if let Some(v) = &report.voice_print {
            println!(
                "voice print: {} takes, score {:.2} ± {:.2} against it",
                v.takes, v.score_mean, v.score_std
            );
        }
        println!(
            "{}: {} takes accepted ({:.1} s of speech), {} rejected{}; profile now holds {:.1} min of speech",
            a.person,
            report.accepted,
            report.accepted_seconds,
            report.rejected,
            if duplicates > 0 { format!(", {duplicates} already enrolled") } else { String::new() },
            report.total_accepted_seconds / 60.0
        );
        println!("encrypted profile: {}", report.profile);
    }
    Ok(ExitCode::SUCCESS)
}

/// The person's profile at `path`, decrypted (see [`keys::open_profile`]), or a new empty one
/// (see [`keys::new_access`]); with who may open it, to save it for.
///
/// # Errors
/// Wrong passphrase, not shared with this device, a tampered or foreign file, an unreadable
/// manifest.
pub(crate) fn open_or_create(
    path: &std::path::Path,
    person: &str,
    model: &str,
) -> Result<(Access, PersonProfile, Container)> {
    if path.exists() {
        let (c, access) = keys::open_profile(path, person)?;
        let p = PersonProfile::from_container(&c).with_context(|| path.display().to_string())?;
        Ok((access, p, c))
    } else {
        let access = keys::new_access(person)?;
        let p = PersonProfile::new(person, model, context::now());
        Ok((access, p, Container::default()))
    }
}

fn measure(
    take: &ownvoice_enroll::DatasetTake,
    vad: &mut ownvoice_vad::SileroVad,
    asr: &ownvoice_asr::WhisperModel,
    decode: &DecodeOptions,
    t: &Thresholds,
) -> Result<(TakeQuality, Vec<f32>)> {
    let audio = ownvoice_audio::read_audio(&take.path)?;
    let audio16 = ownvoice_audio::decode::to_16k(audio.clone())?;
    let q =
        assess(&audio, &audio16, &take.text, vad, asr, decode, t).map_err(anyhow::Error::msg)?;
    Ok((q, audio16))
}

fn unreadable(reason: String) -> TakeQuality {
    TakeQuality {
        duration_s: 0.0,
        source_sample_rate: 0,
        peak_dbfs: None,
        rms_dbfs: None,
        clipped_fraction: 0.0,
        speech_ratio: 0.0,
        asr_text: String::new(),
        wer: 1.0,
        accepted: false,
        reasons: vec![format!("unreadable: {reason}")],
        snr_db: None,
        levels: None,
    }
}

fn join(s: &std::collections::BTreeSet<String>) -> String {
    s.iter().cloned().collect::<Vec<_>>().join(", ")
}
