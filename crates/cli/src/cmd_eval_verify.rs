//! `ownvoice eval verify --data DIR…`: EER, minDCF and identification accuracy of the GE2E
//! speaker encoder on dataset folders.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Result};
use clap::Args;
use ownvoice_speaker::{score, Embedding};
use serde::Serialize;

#[derive(Args)]
pub struct VerifyArgs {
    /// Dataset folder(s) with WAV files and transcripts.tsv (`path<TAB>speaker<TAB>text`).
    #[arg(long, required = true)]
    data: Vec<PathBuf>,
    /// Print JSON (keys: eer, min_dcf, threshold, pairs, identification, utterances, speakers,
    /// audio_s, realtime_factor).
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Pairs {
    same: usize,
    different: usize,
}

#[derive(Serialize)]
struct Identification {
    enrollment_utterances: usize,
    correct: usize,
    tested: usize,
    accuracy: f64,
}

#[derive(Serialize)]
struct Report {
    data: Vec<String>,
    utterances: usize,
    /// Utterances left out (no speech left after silence trimming).
    skipped: usize,
    speakers: usize,
    eer: f64,
    min_dcf: f64,
    p_target: f64,
    /// Cosine threshold at the EER.
    threshold: f32,
    pairs: Pairs,
    identification: Vec<Identification>,
    audio_s: f64,
    /// Seconds of audio embedded per second of processing.
    realtime_factor: f64,
}

pub fn run(a: VerifyArgs) -> Result<ExitCode> {
    let mut takes = Vec::new();
    for dir in &a.data {
        for t in ownvoice_enroll::read_dataset(dir)? {
            let speaker = format!("{}/{}", dir.display(), t.speaker);
            takes.push((speaker, t.path));
        }
    }
    let mut speakers: Vec<String> = takes.iter().map(|(s, _)| s.clone()).collect();
    speakers.sort();
    speakers.dedup();
    if takes.len() < 2 || speakers.len() < 2 {
        bail!("verification needs at least two speakers and two utterances");
    }
    let mut enc = crate::cmd_speaker::load_encoder()?;
    let bar = crate::context::progress(takes.len(), "embedding", a.json);
    let (mut audio_s, mut busy) = (0.0, 0.0);
    let mut embedded: Vec<(usize, Embedding)> = Vec::new();
    let mut skipped = 0usize;
    for (speaker, path) in &takes {
        let audio = ownvoice_audio::load_16k_mono(path)?;
        audio_s += audio.len() as f64 / 16_000.0;
        let t0 = Instant::now();
        let e = enc.embed_utterance(&audio);
        busy += t0.elapsed().as_secs_f64();
        match e {
            Ok(e) => embedded.push((speakers.binary_search(speaker).expect("listed"), e)),
            Err(err) => {
                skipped += 1;
                bar.suspend(|| eprintln!("skipped {}: {err}", path.display()));
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let (mut same, mut different) = (Vec::new(), Vec::new());
    for i in 0..embedded.len() {
        for j in i + 1..embedded.len() {
            let s = embedded[i].1.cosine(&embedded[j].1);
            if embedded[i].0 == embedded[j].0 {
                same.push(s);
            } else {
                different.push(s);
            }
        }
    }
    if same.is_empty() {
        bail!("no speaker has two utterances: no same-speaker pair to score");
    }
    let (eer, op) = score::eer(&same, &different);
    let by_speaker: Vec<Vec<Embedding>> = (0..speakers.len())
        .map(|s| {
            embedded
                .iter()
                .filter(|(k, _)| *k == s)
                .map(|(_, e)| e.clone())
                .collect()
        })
        .filter(|v: &Vec<Embedding>| !v.is_empty())
        .collect();
    let identification = [1, 5]
        .into_iter()
        .map(|k| {
            let (correct, tested) = score::identification(&by_speaker, k);
            Identification {
                enrollment_utterances: k,
                correct,
                tested,
                accuracy: if tested == 0 {
                    0.0
                } else {
                    correct as f64 / tested as f64
                },
            }
        })
        .collect();
    let r = Report {
        data: a.data.iter().map(|d| d.display().to_string()).collect(),
        utterances: embedded.len(),
        skipped,
        speakers: by_speaker.len(),
        eer,
        min_dcf: score::min_dcf(&same, &different),
        p_target: score::P_TARGET,
        threshold: op.threshold,
        pairs: Pairs {
            same: same.len(),
            different: different.len(),
        },
        identification,
        audio_s,
        realtime_factor: audio_s / busy.max(1e-9),
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        println!(
            "{} utterances of {} speakers: EER {:.2} % (threshold {:.3}), minDCF {:.3} (P_target {}), {} same / {} different pairs",
            r.utterances,
            r.speakers,
            r.eer * 100.0,
            r.threshold,
            r.min_dcf,
            r.p_target,
            r.pairs.same,
            r.pairs.different
        );
        for i in &r.identification {
            println!(
                "identification with {} enrollment utterance(s): {:.1} % ({}/{})",
                i.enrollment_utterances,
                i.accuracy * 100.0,
                i.correct,
                i.tested
            );
        }
        println!("embedding speed: {:.0}x real time", r.realtime_factor);
    }
    Ok(ExitCode::SUCCESS)
}
