//! `ownvoice voice rate`: choose a fitted voice's speaking rate again, without searching.

use std::process::ExitCode;

use anyhow::{anyhow, Result};
use clap::Args;
use ownvoice_voice::fit::{FitConfig, Score};
use serde::Serialize;

use crate::cmd_voice::{fit_models, open_fitted, Fitted, ObjectiveArgs};
use crate::context;

#[derive(Args)]
pub struct RateArgs {
    /// The person.
    #[arg(long)]
    person: String,
    #[command(flatten)]
    objective: ObjectiveArgs,
    /// Speaking rates to try, as Kokoro speed factors (comma-separated; the first of equal cost
    /// wins). One rate sets it outright: `--rates 0.9` makes the voice 10 % slower.
    #[arg(long, value_delimiter = ',', default_values_t = ownvoice_voice::rate::RATES)]
    rates: Vec<f32>,
    /// Rates scored at once (each worker loads its own Kokoro session, ~300 MB).
    #[arg(long)]
    workers: Option<usize>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// One speaking rate tried: its Kokoro speed and the voice's scores there, on all 24 fit
/// sentences.
#[derive(Debug, Serialize)]
pub struct RateRow {
    /// Kokoro speed factor.
    pub speed: f32,
    /// Cosine to the voice print.
    pub similarity: f32,
    /// Whisper's WER (fraction).
    pub wer: f64,
    /// The objective (lower is better).
    pub cost: f64,
}

/// The rows of `tried` (rate, score), in the order tried.
pub fn rows(tried: &[(f32, Score)]) -> Vec<RateRow> {
    tried
        .iter()
        .map(|(speed, s)| RateRow {
            speed: *speed,
            similarity: s.similarity,
            wer: s.wer,
            cost: s.cost,
        })
        .collect()
}

#[derive(Serialize)]
struct RateReport<'a> {
    person: &'a str,
    /// The rate before and the rate chosen.
    previous: f32,
    speed: f32,
    rates: Vec<RateRow>,
}

pub fn rate(a: RateArgs) -> Result<ExitCode> {
    let Fitted {
        path,
        mut container,
        access,
        mut profile,
        mut record,
        pack,
        print,
        ..
    } = open_fitted(&a.person)?;
    let cfg = a.objective.apply(
        FitConfig {
            workers: a.workers.unwrap_or(FitConfig::default().workers),
            ..FitConfig::default()
        },
        &a.rates,
    )?;
    let (paths, whisper) = fit_models()?;
    let spinner = indicatif::ProgressBar::new_spinner().with_message(format!(
        "{}'s voice speaks the 24 fit sentences at {} rates (about half a minute each)",
        a.person,
        cfg.rates.len()
    ));
    if a.json {
        spinner.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    } else {
        spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    }
    let choice = ownvoice_voice::rate::choose_for(&paths, whisper, &pack, &print, &cfg)
        .map_err(|e| anyhow!("choosing the speaking rate failed: {e}"))?;
    spinner.finish_and_clear();
    let previous = record.speed;
    record.speed = choice.speed;
    record.similarity = choice.score.similarity;
    record.fit_wer = choice.score.wer;
    record.at = context::now();
    profile.voice = Some(record);
    context::save_profile(&path, &mut container, &mut profile, &access)?;
    if a.json {
        let rep = RateReport {
            person: &a.person,
            previous,
            speed: choice.speed,
            rates: rows(&choice.tried),
        };
        println!("{}", serde_json::to_string_pretty(&rep)?);
        return Ok(ExitCode::SUCCESS);
    }
    for r in rows(&choice.tried) {
        println!(
            "  rate {:.2}: similarity {:.3}, WER {:.1} %, cost {:.4}",
            r.speed,
            r.similarity,
            100.0 * r.wer,
            r.cost
        );
    }
    println!(
        "{}'s voice now speaks at rate {:.2} (was {:.2}). Try: ownvoice speak --voice {} \"Hello\" --play",
        a.person, choice.speed, previous, a.person
    );
    Ok(ExitCode::SUCCESS)
}
