//! `ownvoice enroll --person NAME` without `--from-dir`: the interactive recorder. Prompts are
//! shown one at a time; each take is recorded with the live meter, trimmed to its speech (Silero
//! VAD) and run through the quality gate; a failing take is explained and recorded again. The
//! profile, encrypted, is saved after every take, so a session resumes where the last one stopped.
//! Every session opens with two random challenge phrases whose ASR match goes into the profile.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use ownvoice_asr::{wer, DecodeOptions, WhisperModel};
use ownvoice_audio::Audio;
use ownvoice_enroll::profile::{encode_pcm16, take_blob_name};
use ownvoice_enroll::quality::{assess, Thresholds};
use ownvoice_enroll::{ChallengeRecord, PersonProfile, TakeRecord};
use ownvoice_vad::{SileroVad, VadConfig};
use ownvoice_vault::{Access, Container};

use crate::context;
use crate::prompts::{self, Prompt};
use crate::recorder::{self, StopRule, Stopped};
use crate::term::{Key, Term};

/// Settings of an interactive session (from `ownvoice enroll`'s flags).
pub struct LiveArgs {
    pub person: String,
    pub minutes: f64,
    pub prompts: Option<PathBuf>,
    pub device: Option<String>,
    pub model: String,
    pub max_wer: f64,
    pub silence_s: f64,
}

const KEYS: &str =
    "[space] record   [s] skip   [r] re-record last take   [p] pause   [q] save and quit";

struct Session {
    path: PathBuf,
    access: Access,
    profile: PersonProfile,
    container: Container,
    vad: Option<SileroVad>,
    asr: WhisperModel,
    speaker: ownvoice_speaker::SpeakerEncoder,
    decode: DecodeOptions,
    thresholds: Thresholds,
    device: Option<String>,
    silence_s: f64,
}

enum Outcome {
    Take(Box<TakeRecord>, Vec<f32>),
    Quit,
}

pub fn run(a: LiveArgs) -> Result<ExitCode> {
    let prompt_set = match &a.prompts {
        Some(p) => prompts::load(p)?,
        None => prompts::builtin(),
    };
    let path = context::profile_path(&a.person)?;
    let exists = path.exists();
    let (access, profile, container) =
        crate::cmd_enroll::open_or_create(&path, &a.person, &a.model)?;
    let mut s = Session {
        path,
        access,
        profile,
        container,
        vad: Some(context::load_vad()?),
        asr: context::load_whisper(&a.model)?,
        speaker: crate::cmd_speaker::load_encoder()?,
        decode: DecodeOptions::default(),
        thresholds: Thresholds {
            max_wer: a.max_wer,
            ..Thresholds::default()
        },
        device: a.device.clone(),
        silence_s: a.silence_s,
    };
    crate::cmd_speaker::fill_missing_dvectors(&mut s.profile, &s.container, &mut s.speaker)?;
    let term = Term::open()?;
    let target_s = a.minutes * 60.0;
    term.say(&format!(
        "Enrolling {} — {}: {} takes, {} of {} of speech.",
        a.person,
        if exists { "resuming" } else { "new profile" },
        s.profile.accepted().count(),
        mmss(s.profile.accepted_seconds()),
        mmss(target_s)
    ));
    term.say(&format!("Keys: {KEYS}\n"));

    // Consent evidence: two fresh random phrases, spoken live.
    for i in 1..=2 {
        let phrase = prompts::challenge_phrase();
        term.say(&format!(
            "Challenge {i}/2 — say these words: \"{phrase}\"   [space] record  [q] quit"
        ));
        if !wait_for_record(&term)? {
            return finish(&term, &s, target_s);
        }
        let Some(rec) = s.record(&term)? else {
            return finish(&term, &s, target_s);
        };
        let heard = s.asr.transcribe(&rec.samples_16k, &s.decode)?.text;
        let w = wer::wer(&phrase, &heard);
        let matched = w <= s.thresholds.max_wer;
        term.say(&format!(
            "  {} heard: \"{}\" (WER {:.0} %)",
            if matched { "✓" } else { "✗" },
            heard.trim(),
            w * 100.0
        ));
        s.profile.challenges.push(ChallengeRecord {
            phrase,
            asr_text: heard,
            wer: w,
            matched,
            at: context::now(),
        });
        s.save()?;
    }

    let done: std::collections::HashSet<String> = s
        .profile
        .accepted()
        .filter_map(|t| t.prompt_id.clone())
        .chain(s.profile.skipped_prompts.iter().cloned())
        .collect();
    let mut queue: std::collections::VecDeque<Prompt> = prompt_set
        .into_iter()
        .filter(|p| !done.contains(&p.id))
        .collect();
    while s.profile.accepted_seconds() < target_s {
        let Some(prompt) = queue.front().cloned() else {
            term.say("No prompts left in the set.");
            break;
        };
        term.say(&format!(
            "\nTake {} · {} of {} · prompt {}\n  “{}”\n  {KEYS}",
            s.profile.accepted().count() + 1,
            mmss(s.profile.accepted_seconds()),
            mmss(target_s),
            prompt.id,
            prompt.text
        ));
        match term.key()? {
            Key::Record => match s.take(&term, &prompt)? {
                Outcome::Quit => break,
                Outcome::Take(mut record, samples) => {
                    if let Some(blob) = &record.audio_blob {
                        s.container.put_blob(blob, encode_pcm16(&samples));
                        record.dvector = Some(s.speaker.embed_utterance(&samples)?.0);
                    }
                    let id = record.id.clone();
                    s.profile.takes.push(*record);
                    // The same-speaker gate over all accepted takes, this one included.
                    s.profile.apply_speaker_gate(&mut s.container);
                    let t = s.profile.takes.last().expect("just pushed");
                    debug_assert_eq!(t.id, id);
                    let q = &t.quality;
                    if q.accepted {
                        term.say(&format!(
                            "  ✓ accepted: {:.1} s, WER {:.0} %, SNR {}, voice {}",
                            q.duration_s,
                            q.wer * 100.0,
                            q.snr_db.map_or("n/a".into(), |v| format!("{v:.0} dB")),
                            t.speaker_score.map_or("n/a".into(), |v| format!("{v:.2}"))
                        ));
                        queue.pop_front();
                    } else {
                        term.say(&format!(
                            "  ✗ rejected: {} — record it again ([s] to skip)",
                            q.reasons.join("; ")
                        ));
                    }
                    s.save()?;
                }
            },
            Key::Skip => {
                term.say(&format!("  skipped {}", prompt.id));
                s.profile.skipped_prompts.push(prompt.id.clone());
                queue.pop_front();
                s.save()?;
            }
            Key::Redo => match s.discard_last_accepted() {
                Some(last) => {
                    term.say(&format!("  discarded take of {}: read it again", last.id));
                    queue.push_front(last);
                    s.save()?;
                }
                None => term.say("  no accepted take to re-record yet"),
            },
            Key::Pause => {
                term.say("  paused — press any key to go on");
                term.key()?;
            }
            Key::Quit => break,
            Key::Other => {}
        }
    }
    finish(&term, &s, target_s)
}

/// Seconds as `m:ss`.
fn mmss(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

fn wait_for_record(term: &Term) -> Result<bool> {
    loop {
        match term.key()? {
            Key::Record => return Ok(true),
            Key::Quit => return Ok(false),
            _ => {}
        }
    }
}

fn finish(term: &Term, s: &Session, target_s: f64) -> Result<ExitCode> {
    let secs = s.profile.accepted_seconds();
    term.say(&format!(
        "\nSaved {}: {} takes, {} of speech{}.",
        s.path.display(),
        s.profile.accepted().count(),
        mmss(secs),
        if secs >= target_s {
            " — target reached".to_string()
        } else {
            " — run the same command again to resume".to_string()
        }
    ));
    Ok(ExitCode::SUCCESS)
}

/// A recorded take: native-rate audio and the same at 16 kHz.
struct Rec {
    audio: Audio,
    samples_16k: Vec<f32>,
}

impl Session {
    /// Records one take (meter on, stops at silence, end of input, or a key); `None` on quit.
    fn record(&mut self, term: &Term) -> Result<Option<Rec>> {
        let mut src = recorder::open_input(self.device.as_deref())?;
        let vad = self.vad.take();
        let mut quit = false;
        let rec = recorder::record(
            src.as_mut(),
            StopRule {
                max_seconds: self.thresholds.max_duration_s,
                until_silence_s: Some(self.silence_s),
            },
            vad,
            true,
            &mut || match term.poll_key() {
                Some(Key::Quit) => {
                    quit = true;
                    true
                }
                Some(Key::Record) => true,
                _ => false,
            },
        );
        let mut rec = rec?;
        self.vad = match rec.vad.take() {
            Some(v) => Some(v),
            None => Some(context::load_vad()?),
        };
        if quit || (rec.stopped == Stopped::Interrupted && rec.samples.is_empty()) {
            return Ok(None);
        }
        let audio = Audio {
            samples: rec.samples,
            sample_rate: rec.sample_rate,
            source_channels: 1,
        };
        let samples_16k = ownvoice_audio::decode::to_16k(audio.clone())?;
        Ok(Some(Rec { audio, samples_16k }))
    }

    /// Records, trims to speech and assesses one take of `prompt`.
    fn take(&mut self, term: &Term, prompt: &Prompt) -> Result<Outcome> {
        let Some(rec) = self.record(term)? else {
            return Ok(Outcome::Quit);
        };
        let (audio, samples_16k) = self.trim(rec)?;
        let vad = self.vad.as_mut().expect("VAD loaded");
        let quality = assess(
            &audio,
            &samples_16k,
            &prompt.text,
            vad,
            &self.asr,
            &self.decode,
            &self.thresholds,
        )
        .map_err(anyhow::Error::msg)?;
        let id = self.profile.next_id();
        let record = TakeRecord {
            audio_blob: quality.accepted.then(|| take_blob_name(&id)),
            id,
            source: format!("live:{}", prompt.id),
            text: prompt.text.clone(),
            quality,
            prompt_id: Some(prompt.id.clone()),
            dvector: None,
            speaker_score: None,
            speaker_confirmed: false,
        };
        Ok(Outcome::Take(Box::new(record), samples_16k))
    }

    /// Cuts leading and trailing non-speech (VAD segments, 30 ms padding kept).
    fn trim(&mut self, rec: Rec) -> Result<(Audio, Vec<f32>)> {
        let vad = self.vad.as_mut().expect("VAD loaded");
        let Some(span) = vad.speech_span(&rec.samples_16k, VadConfig::default())? else {
            return Ok((rec.audio, rec.samples_16k));
        };
        let ratio = rec.audio.sample_rate as f64 / 16_000.0;
        let (a, b) = (
            (span.start as f64 * ratio) as usize,
            ((span.end as f64 * ratio) as usize).min(rec.audio.samples.len()),
        );
        let audio = Audio {
            samples: rec.audio.samples[a..b].to_vec(),
            ..rec.audio
        };
        Ok((audio, rec.samples_16k[span.start..span.end].to_vec()))
    }

    /// Marks the last accepted take as discarded (its audio removed); returns its prompt.
    fn discard_last_accepted(&mut self) -> Option<Prompt> {
        let t = self
            .profile
            .takes
            .iter_mut()
            .rev()
            .find(|t| t.quality.accepted)?;
        t.quality.accepted = false;
        t.quality
            .reasons
            .push("discarded by the person (re-recorded)".into());
        if let Some(blob) = t.audio_blob.take() {
            self.container.remove_blob(&blob);
        }
        Some(Prompt {
            id: t.prompt_id.clone().unwrap_or_default(),
            text: t.text.clone(),
        })
    }

    /// Saves the profile, encrypted and atomically.
    fn save(&mut self) -> Result<()> {
        context::save_profile(
            &self.path,
            &mut self.container,
            &mut self.profile,
            &self.access,
        )?;
        Ok(())
    }
}
