//! `ownvoice eval asr --data DIR`: WER of Whisper on a dataset folder; `eval verify` lives in
//! [`crate::cmd_eval_verify`].

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;
use clap::Subcommand;
use indicatif::ProgressBar;
use ownvoice_asr::wer::WordErrors;
use ownvoice_asr::DecodeOptions;
use serde::Serialize;

use crate::context;

#[derive(Subcommand)]
pub enum EvalCommand {
    /// Transcribe every take of a dataset folder and report WER against its transcripts.
    ///
    /// WER = (substitutions + deletions + insertions) / reference words, after lower-casing and
    /// removing punctuation, summed over all takes. RTF = processing time / audio duration.
    Asr {
        /// Folder with WAV files and transcripts.tsv.
        #[arg(long)]
        data: PathBuf,
        /// Whisper model: tiny.en, base, an imported name, or a ggml path.
        #[arg(long, default_value = "tiny.en")]
        model: String,
        /// Use this person's adapted model for --model (`ownvoice adapt`), decrypted into
        /// memory only; the base model, with a note, when they have none. Measures adaptation
        /// on takes it never saw, e.g. a folder of new recordings.
        #[arg(long)]
        person: Option<String>,
        /// Only takes of this speaker.
        #[arg(long)]
        speaker: Option<String>,
        /// At most N takes.
        #[arg(long)]
        limit: Option<usize>,
        /// Skip the first N takes (e.g. those used for enrollment).
        #[arg(long, default_value_t = 0)]
        skip: usize,
        /// CPU threads.
        #[arg(long)]
        threads: Option<usize>,
        /// Print JSON (keys: model, takes, words, errors, wer, audio_s, rtf, items).
        #[arg(long)]
        json: bool,
        /// Whisper encoder audio context: `full` (30 s), `auto` (sized to each take, as
        /// streaming dictation does) or a number of 20 ms frames (whisper.cpp's audio_ctx).
        #[arg(long, default_value = "full")]
        audio_ctx: String,
        /// Beam search width, as `transcribe --beam` (default: greedy decoding). whisper.cpp's
        /// and OpenAI's command-line tools decode with 5 beams.
        #[arg(long)]
        beam: Option<usize>,
    },
    /// Speaker verification and identification on dataset folders (GE2E d-vectors).
    ///
    /// Every utterance is embedded; every pair is scored by cosine: EER and minDCF
    /// (P_target 0.01) over all same-speaker / different-speaker pairs, and identification
    /// accuracy with 1 and 5 enrollment utterances per speaker (the first k in file order; the
    /// rest are tested against every speaker's mean d-vector). Several --data folders make one
    /// pool (speakers are told apart by folder and speaker id).
    Verify(crate::cmd_eval_verify::VerifyArgs),
}

#[derive(Serialize)]
struct Item {
    path: String,
    reference: String,
    hypothesis: String,
    wer: f64,
}

#[derive(Serialize)]
struct Report {
    model: String,
    takes: usize,
    words: usize,
    errors: usize,
    wer: f64,
    audio_s: f64,
    rtf: f64,
    items: Vec<Item>,
}

pub fn run(cmd: EvalCommand) -> Result<ExitCode> {
    let (data, model, person, speaker, limit, skip, threads, json, audio_ctx, beam) = match cmd {
        EvalCommand::Verify(a) => return crate::cmd_eval_verify::run(a),
        EvalCommand::Asr {
            data,
            model,
            person,
            speaker,
            limit,
            skip,
            threads,
            json,
            audio_ctx,
            beam,
        } => (
            data, model, person, speaker, limit, skip, threads, json, audio_ctx, beam,
        ),
    };
    let fixed_ctx = match audio_ctx.as_str() {
        "full" | "auto" => None,
        n => Some(n.parse::<usize>().map_err(|_| {
            anyhow::anyhow!("--audio-ctx {n:?}: use full, auto or a number of frames")
        })?),
    };
    let mut takes = ownvoice_enroll::read_dataset(&data)?;
    if let Some(s) = &speaker {
        takes.retain(|t| &t.speaker == s);
    }
    let takes: Vec<_> = takes
        .into_iter()
        .skip(skip)
        .take(limit.unwrap_or(usize::MAX))
        .collect();
    let (asr, model) = crate::cmd_adapt::model_for(&model, person.as_deref())?;
    let opts = DecodeOptions {
        threads: threads.unwrap_or_else(context::default_threads),
        beam_size: beam,
        ..DecodeOptions::default()
    };
    let bar = if json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(takes.len() as u64)
    };
    let (mut items, mut total, mut audio_s, mut busy) =
        (Vec::new(), WordErrors::default(), 0.0, 0.0);
    for t in &takes {
        let samples = ownvoice_audio::load_16k_mono(&t.path)?;
        let mut opts = opts.clone();
        opts.audio_ctx = match audio_ctx.as_str() {
            "auto" => Some(DecodeOptions::audio_ctx_for(samples.len(), 1.0)),
            _ => fixed_ctx,
        };
        let start = Instant::now();
        let tr = asr.transcribe(&samples, &opts)?;
        busy += start.elapsed().as_secs_f64();
        audio_s += samples.len() as f64 / 16_000.0;
        let e = WordErrors::score(&t.text, &tr.text);
        total = total + e;
        items.push(Item {
            path: t.relative.clone(),
            reference: t.text.clone(),
            hypothesis: tr.text,
            wer: e.wer(),
        });
        bar.inc(1);
    }
    bar.finish_and_clear();
    let report = Report {
        model,
        takes: items.len(),
        words: total.reference_words,
        errors: total.errors,
        wer: total.wer(),
        audio_s,
        rtf: if audio_s > 0.0 { busy / audio_s } else { 0.0 },
        items,
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for i in report.items.iter().filter(|i| i.wer > 0.0) {
            println!(
                "{:>5.1}%  {}\n        ref: {}\n        hyp: {}",
                i.wer * 100.0,
                i.path,
                i.reference,
                i.hypothesis
            );
        }
        println!(
            "WER {:.2} % ({} errors / {} words) over {} takes ({:.1} s of audio), model {}, RTF {:.3}",
            report.wer * 100.0,
            report.errors,
            report.words,
            report.takes,
            report.audio_s,
            report.model,
            report.rtf
        );
    }
    Ok(ExitCode::SUCCESS)
}
