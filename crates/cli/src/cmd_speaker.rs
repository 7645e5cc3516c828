//! `ownvoice embed | verify | identify`: whose voice is this? (Resemblyzer GE2E d-vectors.)

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;
use ownvoice_enroll::PersonProfile;
use ownvoice_speaker::{Embedding, SpeakerEncoder};
use serde::Serialize;

use crate::{context, keys};

/// Cosine score at or above which `verify` accepts an utterance against a voice print (the mean
/// d-vector of the person's takes). Calibrated on the bundled recordings: each of Cathy's 30
/// enrollment takes against the print of her other 29 scores 0.785–0.98 (mean 0.91), while the
/// 16 utterances of LJ Speech, aew and axb score 0.47–0.72 against her print. Pairwise EER
/// thresholds of single utterances are lower (0.69 on speechocean762 and the cross-source
/// pool, `ownvoice eval verify`), but a print averages many takes and scores everyone higher.
/// The same value gates enrollment ([`ownvoice_enroll::GATE_THRESHOLD`]).
pub const VERIFY_THRESHOLD: f32 = ownvoice_enroll::GATE_THRESHOLD;

#[derive(Args)]
pub struct EmbedArgs {
    /// Audio files (WAV, FLAC, MP3, Ogg Vorbis; any rate).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Print JSON: an array of {path, embedding}.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct VerifyArgs {
    /// The enrolled person to check against.
    #[arg(long)]
    person: String,
    /// The utterance to check.
    file: PathBuf,
    /// Accept at or above this cosine score (default: the calibrated threshold).
    #[arg(long, default_value_t = VERIFY_THRESHOLD)]
    threshold: f32,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct IdentifyArgs {
    /// The utterance to identify.
    file: PathBuf,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Loads the speaker encoder from the model cache.
pub fn load_encoder() -> Result<SpeakerEncoder> {
    context::init_onnx()?;
    let path = context::models().file("ge2e", ownvoice_models::fetch::SPEAKER_ENCODER_FILE)?;
    Ok(SpeakerEncoder::load(&path, context::default_threads())?)
}

/// The d-vector of an audio file.
pub fn embed_file(enc: &mut SpeakerEncoder, path: &Path) -> Result<Embedding> {
    let audio = ownvoice_audio::load_16k_mono(path)?;
    enc.embed_utterance(&audio)
        .with_context(|| path.display().to_string())
}

/// Gives a d-vector to every accepted take that lacks one (takes enrolled before speaker
/// embeddings existed), from the take's stored audio.
pub fn fill_missing_dvectors(
    profile: &mut PersonProfile,
    container: &ownvoice_vault::Container,
    enc: &mut SpeakerEncoder,
) -> Result<()> {
    for t in profile
        .takes
        .iter_mut()
        .filter(|t| t.quality.accepted && t.dvector.is_none())
    {
        if let Some(pcm) = t.audio_blob.as_deref().and_then(|b| container.blob(b)) {
            let audio = ownvoice_enroll::profile::decode_pcm16(pcm);
            t.dvector = Some(enc.embed_utterance(&audio)?.0);
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct EmbedItem {
    path: String,
    embedding: Vec<f32>,
}

pub fn embed(a: EmbedArgs) -> Result<ExitCode> {
    let mut enc = load_encoder()?;
    let mut items = Vec::new();
    for f in &a.files {
        let e = embed_file(&mut enc, f)?;
        items.push(EmbedItem {
            path: f.display().to_string(),
            embedding: e.0,
        });
    }
    if a.json {
        println!("{}", serde_json::to_string(&items)?);
    } else {
        for i in &items {
            let head: Vec<String> = i.embedding[..4].iter().map(|x| format!("{x:.4}")).collect();
            println!("{}  [{}, …] (256-d)", i.path, head.join(", "));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A person's stored d-vector (their profile opened with this device's key or the passphrase).
fn person_dvector(name: &str) -> Result<Embedding> {
    let path = crate::cmd_people::existing_profile(name)?;
    let (c, _) = keys::open_profile(&path, name)?;
    dvector_of(name, &path, &c)
}

/// The voice print stored in an opened profile.
fn dvector_of(name: &str, path: &Path, c: &ownvoice_vault::Container) -> Result<Embedding> {
    let p = PersonProfile::from_container(c).with_context(|| path.display().to_string())?;
    match p.speaker {
        Some(s) => Ok(Embedding(s.dvector)),
        None => bail!(
            "{name}'s profile has no voice print yet (enrolled before speaker embeddings): enroll again to add one"
        ),
    }
}

#[derive(Serialize)]
struct VerifyReport {
    person: String,
    path: String,
    score: f32,
    threshold: f32,
    accepted: bool,
}

pub fn verify(a: VerifyArgs) -> Result<ExitCode> {
    let dvector = person_dvector(&a.person)?;
    let mut enc = load_encoder()?;
    let e = embed_file(&mut enc, &a.file)?;
    let score = e.cosine(&dvector);
    let r = VerifyReport {
        person: a.person,
        path: a.file.display().to_string(),
        score,
        threshold: a.threshold,
        accepted: score >= a.threshold,
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        println!(
            "{}: {} {} (score {:.3}, threshold {:.2})",
            r.path,
            if r.accepted {
                "accepted as"
            } else {
                "rejected: not"
            },
            r.person,
            r.score,
            r.threshold
        );
    }
    // Exit 0 for accept, 1 for reject: scripts can branch on it.
    Ok(if r.accepted {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

#[derive(Serialize)]
struct Candidate {
    person: String,
    score: f32,
    above_threshold: bool,
}

pub fn identify(a: IdentifyArgs) -> Result<ExitCode> {
    let mut people = Vec::new();
    let dir = context::people_dir();
    if dir.is_dir() {
        for e in std::fs::read_dir(&dir).with_context(|| dir.display().to_string())? {
            let p = e?.path();
            if p.extension().is_some_and(|x| x == "age") {
                let name = p
                    .file_stem()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned();
                match keys::try_open_profile(&p, &name) {
                    Ok(Some((c, _))) => people.push((name.clone(), dvector_of(&name, &p, &c)?)),
                    Ok(None) => eprintln!("skipped {name}: no key for their profile here"),
                    Err(e) => eprintln!("skipped {name}: {}", crate::one_line(&e)),
                }
            }
        }
    }
    if people.is_empty() {
        bail!("nobody with a voice print can be opened here (enroll someone first)");
    }
    let mut enc = load_encoder()?;
    let e = embed_file(&mut enc, &a.file)?;
    let mut ranked: Vec<Candidate> = people
        .into_iter()
        .map(|(person, d)| {
            let score = e.cosine(&d);
            Candidate {
                person,
                score,
                above_threshold: score >= VERIFY_THRESHOLD,
            }
        })
        .collect();
    ranked.sort_by(|x, y| y.score.total_cmp(&x.score));
    if a.json {
        println!("{}", serde_json::to_string_pretty(&ranked)?);
    } else {
        for c in &ranked {
            println!(
                "{:<20} {:.3}{}",
                c.person,
                c.score,
                if c.above_threshold {
                    ""
                } else {
                    "  (below threshold)"
                }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
