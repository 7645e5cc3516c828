//! `ownvoice voice report`: a person's fitted voice against their real takes.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use ownvoice_enroll::profile::decode_pcm16;
use ownvoice_enroll::VoiceRecord;
use ownvoice_speaker::Embedding;
use ownvoice_tts::kokoro::{Kokoro, StylePack};
use ownvoice_voice::report::{VoiceReport, REPORT_BEAM};
use serde::Serialize;

use crate::cmd_voice::{open_fitted, Fitted};
use crate::context;
use crate::voices::{kokoro_files, stock_packs};

#[derive(Args)]
pub struct ReportArgs {
    /// The person.
    person: String,
    /// Also score stock style packs the same way (slower): those the fit's search mixed (the
    /// best of all stock packs on its first sentences), or every pack for a fit made before
    /// bases were recorded.
    #[arg(long)]
    compare_stock: bool,
    /// CPU threads.
    #[arg(long)]
    threads: Option<usize>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct FullReport {
    person: String,
    voice: VoiceReport,
    /// Mean cosine of the held-back real takes to the voice print: what the person's own
    /// speech scores on `voice.similarity_heldout`'s scale (a perfect copy's reference).
    real_heldout_to_print: Option<f32>,
    /// Cosine of the held-back takes' centroid to the voice print: the reference for
    /// `voice.similarity_heldout_centroid`.
    real_centroid_to_print: Option<f32>,
    record: VoiceRecord,
    stock: Vec<(String, VoiceReport)>,
}

pub fn report(a: ReportArgs) -> Result<ExitCode> {
    let Fitted {
        container,
        profile,
        record,
        pack,
        print,
        held,
        ..
    } = open_fitted(&a.person)?;
    let real = (!held.is_empty())
        .then(|| held.iter().map(|h| h.cosine(&print)).sum::<f32>() / held.len() as f32);
    let audio: Vec<Vec<f32>> = profile
        .accepted()
        .take(40)
        .filter_map(|t| container.blob(t.audio_blob.as_deref()?).map(decode_pcm16))
        .collect();
    let threads = a.threads.unwrap_or_else(context::default_threads);
    context::init_onnx()?;
    let (model, vocab, _) = kokoro_files()?;
    let mut kokoro = Kokoro::load(&model, &vocab, threads)?;
    let mut encoder = crate::cmd_speaker::load_encoder()?;
    let whisper = context::load_whisper("tiny.en")?;
    let mut one = |pack: &StylePack, speed: f32| {
        ownvoice_voice::report::report(
            &mut kokoro,
            pack,
            speed,
            &mut encoder,
            &whisper,
            &print,
            &held,
            &audio,
            threads,
        )
    };
    let voice = one(&pack, record.speed)?;
    let mut stock = Vec::new();
    if a.compare_stock {
        let basis = &record.basis;
        for (name, p) in stock_packs()? {
            if basis.is_empty() || basis.contains(&name) {
                stock.push((name, one(&p, 1.0)?));
            }
        }
    }
    if a.json {
        let r = FullReport {
            person: a.person.clone(),
            voice,
            real_heldout_to_print: real,
            real_centroid_to_print: (!held.is_empty())
                .then(|| Embedding::mean(&held).cosine(&print)),
            record,
            stock,
        };
        println!("{}", serde_json::to_string_pretty(&r)?);
        return Ok(ExitCode::SUCCESS);
    }
    let f0 = |f: &Option<ownvoice_voice::report::F0Summary>| {
        f.map_or("no voiced frames".to_string(), |f| {
            format!(
                "{:.0} Hz (5–95 %: {:.0}–{:.0} Hz)",
                f.mean_hz, f.p5_hz, f.p95_hz
            )
        })
    };
    println!(
        "{}'s fitted voice ({} generations, {:.0} s of search)",
        a.person, record.generations, record.seconds
    );
    println!(
        "  similarity to voice print   {:.3}",
        voice.similarity_print
    );
    if let Some(h) = voice.similarity_heldout {
        println!(
            "  similarity to held-back takes {:.3} ({} takes)",
            h,
            held.len()
        );
    }
    if let Some(c) = voice.similarity_heldout_centroid {
        println!("  similarity to their centroid  {c:.3} (the mean of their d-vectors)");
    }
    if let Some(r) = real {
        println!("  (the held-back real takes score {r:.3} against the voice print)");
    }
    println!(
        "  WER on {} Harvard sentences  {}",
        voice.sentences,
        wer(&voice)
    );
    println!("  F0 of the voice              {}", f0(&voice.f0_voice));
    println!(
        "  F0 of {:<22} {}",
        format!("{}'s takes", a.person),
        f0(&voice.f0_person)
    );
    println!(
        "  speaking rate                {:.2} (Kokoro speed)",
        voice.speed
    );
    println!(
        "  real-time factor {:.2}, first audio after {:.2} s",
        voice.rtf, voice.first_audio_s
    );
    for (name, r) in &stock {
        println!(
            "  stock {name:<14} similarity to held-back takes {:.3}, WER {}",
            r.similarity_heldout.unwrap_or(0.0),
            wer(r)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// "6.3 % (4.4 % with 5 beams)": greedy WER, then the beam search's where measured.
fn wer(r: &VoiceReport) -> String {
    let greedy = format!("{:.1} %", 100.0 * r.wer);
    match r.wer_beam {
        Some(b) => format!("{greedy} ({:.1} % with {REPORT_BEAM} beams)", 100.0 * b),
        None => greedy,
    }
}
