//! `ownvoice adapt --person NAME`: fine-tune Whisper on the person's enrolled takes, on this
//! device, and install the result in their profile only if it transcribes takes it never
//! trained on better: held-back takes, or for a small enrollment every take through
//! cross-validation (see [`crate::adapt_plan`]).

use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};
use candle_core::{DType, Device};
use candle_nn::{VarBuilder, VarMap};
use clap::Args;
use ownvoice_adapt::lora::{attach, LoraConfig};
use ownvoice_adapt::train::{adapter_values, Example, TrainConfig};
use ownvoice_adapt::{Config, SpecialTokens, TextTokenizer, Whisper};
use ownvoice_asr::wer::{normalize, WordErrors};
use ownvoice_asr::WhisperModel;
use ownvoice_enroll::profile::decode_pcm16;
use ownvoice_enroll::{AdaptationRecord, PersonProfile};
use serde::{Deserialize, Serialize};

use crate::adapt_gate::{judge, outcome, DEFAULT_MIN_T};
use crate::adapt_plan::{Asked, Plan, DEFAULT_ENCODER_LAYERS};
use crate::adapt_run::{errors_of, pooled, window_of, Encoder, RunResult, Runner, Take};
use crate::{context, keys};

#[derive(Args)]
pub struct AdaptArgs {
    /// The enrolled person whose takes train the model.
    #[arg(long)]
    person: String,
    /// Base Whisper model (a fetched CTranslate2 model: tiny.en or base).
    #[arg(long, default_value = "tiny.en")]
    model: String,
    /// Training time budget in minutes: training stops at the end of the step that passes it.
    #[arg(long)]
    minutes: Option<f64>,
    /// Passes over the training takes (default: 3 with a held-back split; with
    /// cross-validation about 150 / takes, from 3 to 10: 10 for 15 takes).
    #[arg(long)]
    epochs: Option<usize>,
    /// LoRA rank.
    #[arg(long, default_value_t = 8)]
    rank: usize,
    /// LoRA alpha (the update is scaled by alpha / rank).
    #[arg(long, default_value_t = 16.0)]
    alpha: f64,
    /// Peak learning rate, AdamW (default: 5e-4 with a held-back split, 1e-3 with
    /// cross-validation).
    #[arg(long)]
    lr: Option<f64>,
    /// Takes per optimisation step (default: 4 with a held-back split, 2 with cross-validation).
    #[arg(long)]
    batch: Option<usize>,
    /// Adapt the MLPs too (default: attention projections only).
    #[arg(long)]
    mlp: bool,
    /// Also adapt the last N encoder blocks, where an accent's acoustics live. The frozen
    /// blocks before them are computed once per take; each step then runs the N blocks
    /// forward and backward over the 30 s window: with N = 2 about 0.8 s per take and epoch on
    /// 2 cores, six times the cost of 0 (decoder only, over the cached encoder output). See
    /// `adapt_plan::DEFAULT_ENCODER_LAYERS` for what it buys.
    #[arg(long, default_value_t = DEFAULT_ENCODER_LAYERS, value_name = "N")]
    encoder_layers: usize,
    /// Leave the decoder as it is: adapt only the encoder blocks of --encoder-layers (the
    /// acoustics, not the language the decoder has learnt).
    #[arg(long)]
    no_decoder: bool,
    /// Pack consecutive training takes into shared 30 s windows (0.3 s of silence after each,
    /// transcripts joined): the encoder runs once per window instead of once per take, which
    /// matters with --encoder-layers. Held-back takes are still scored one by one.
    #[arg(long)]
    pack: bool,
    /// Train on transcripts without timestamp tokens (`<|notimestamps|>`). By default the
    /// targets carry Whisper's timestamps around each take, the format whisper.cpp decodes
    /// in (transcribe, serve and dictate all use it), so the adapted path is the one that runs.
    #[arg(long)]
    no_timestamps: bool,
    /// Also train on copies of each training take sped up by these factors (speed
    /// perturbation, Ko et al. 2015: tempo and pitch together), e.g. `0.9,1.1`; each factor
    /// adds one copy of every take to an epoch.
    #[arg(long, value_delimiter = ',', value_name = "FACTOR,...")]
    speed_perturb: Vec<f64>,
    /// Steps of linear learning-rate warm-up (default: 10 with a held-back split, 5 with
    /// cross-validation).
    #[arg(long)]
    warmup: Option<usize>,
    /// How the WER gate judges: K ≥ 2 cross-validates over K folds (every take is transcribed
    /// by a model trained on the other folds; if they beat the base model, one more model
    /// trains on all takes and is installed); 0 holds back one share of the takes (--heldout).
    /// Default: 3 folds when the held-back share would hold fewer than 100 words (a small
    /// enrollment, where 2 held-back takes are too few to judge by), else the held-back share.
    #[arg(long, value_name = "K", conflicts_with = "heldout_fold")]
    cv_folds: Option<usize>,
    /// Share of the takes held back to measure WER (at least one take): every k-th take,
    /// k = round(1 / share).
    #[arg(long, default_value_t = 0.15)]
    heldout: f64,
    /// Which of the k held-back folds to hold back (0..k; default the last, k − 1): the takes
    /// whose index is FOLD modulo k. Rotating it tests every take once. Implies the held-back
    /// split (no cross-validation).
    #[arg(long, value_name = "FOLD")]
    heldout_fold: Option<usize>,
    /// How consistent the gain must be: the paired t statistic of the per-take reduction in
    /// word errors on the judged takes (mean over its standard error) must reach T, besides
    /// fewer errors in all. 0 (the default) installs on any pooled improvement; above 1
    /// refuses a gain that rests on one lucky take. See `adapt_gate.rs`.
    #[arg(long, value_name = "T", default_value_t = DEFAULT_MIN_T)]
    gate_t: f64,
    /// LoRA dropout while training (above 0, runs are no longer repeatable).
    #[arg(long, default_value_t = 0.0)]
    dropout: f32,
    /// Random seed (take order, adapter initialisation).
    #[arg(long, default_value_t = 1234)]
    seed: u64,
    /// Keep the last epoch's adapters instead of the best held-back epoch's (the WER gate
    /// still decides whether the model is installed). Cross-validated runs always train their
    /// fixed number of epochs.
    #[arg(long)]
    no_early_stopping: bool,
    /// Print a JSON report.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Report<'a> {
    person: &'a str,
    /// The epoch an interrupted run was resumed after.
    resumed_after_epoch: Option<usize>,
    #[serde(flatten)]
    record: &'a AdaptationRecord,
}

/// The blob holding the checkpoint of an adaptation of `base` in progress.
pub fn checkpoint_blob(base: &str) -> String {
    format!("models/whisper-{base}.checkpoint")
}

/// The blob holding a person's adapted model for `base`.
pub fn model_blob(base: &str) -> String {
    format!("models/whisper-{base}.ggml")
}

/// The blob holding the cross-validation folds already judged, so an interrupted adaptation
/// does not train them again.
pub fn cv_blob(base: &str) -> String {
    format!("models/whisper-{base}.cv")
}

/// Folds of a cross-validated adaptation already judged, in fold order: per take of the fold
/// (in take order), the adapted model's word errors and reference words. (The base model's
/// are recomputed on every start.)
#[derive(Serialize, Deserialize, Default)]
struct CvProgress {
    fingerprint: u64,
    folds: Vec<Vec<[usize; 2]>>,
}

pub fn run(a: AdaptArgs) -> Result<ExitCode> {
    let path = crate::cmd_people::existing_profile(&a.person)?;
    let (mut container, access) = keys::open_profile(&path, &a.person)?;
    let mut profile =
        PersonProfile::from_container(&container).with_context(|| path.display().to_string())?;
    let takes: Vec<Take> = profile
        .accepted()
        .filter_map(|t| {
            let pcm = container.blob(t.audio_blob.as_deref()?)?;
            Some((decode_pcm16(pcm), t.text.clone()))
        })
        .collect();
    if takes.len() < 4 {
        bail!(
            "{} has {} accepted takes; adaptation needs at least 4 (enroll more)",
            a.person,
            takes.len()
        );
    }
    let folds = context::heldout_folds(a.heldout);
    if let Some(f) = a.heldout_fold.filter(|&f| f >= folds) {
        bail!(
            "--heldout-fold {f}: --heldout {} makes {folds} folds (0..{folds})",
            a.heldout
        );
    }
    for &f in &a.speed_perturb {
        if !(f.is_finite() && (0.5..=2.0).contains(&f)) {
            bail!("--speed-perturb {f}: a factor must lie between 0.5 and 2");
        }
    }
    if a.no_decoder && a.encoder_layers == 0 {
        bail!("--no-decoder needs --encoder-layers N (N ≥ 1): nothing would be adapted");
    }
    // Every k-th take is held back (about the asked share), the rest train; with few words
    // there, the plan cross-validates instead.
    let split = context::split_heldout_fold((0..takes.len()).collect(), a.heldout, a.heldout_fold);
    let split_words = split.1.iter().map(|&i| normalize(&takes[i].1).len()).sum();
    let asked = Asked {
        cv_folds: a.cv_folds,
        epochs: a.epochs,
        batch: a.batch,
        lr: a.lr,
        warmup: a.warmup,
        keep_last: a.no_early_stopping,
        split_fold: a.heldout_fold.is_some(),
    };
    let plan = Plan::choose(asked, takes.len(), split_words);
    let cv = plan.cv_folds > 0;
    let judging = plan.judging_runs(takes.len(), split);

    let models = context::models();
    let ggml_path = models.whisper_ggml(&a.model)?;
    let tokenizer = TextTokenizer::from_file(&models.file(&a.model, "tokenizer.json")?)
        .map_err(|e| anyhow!(e))?;
    let base_bytes = std::fs::read(&ggml_path).with_context(|| ggml_path.display().to_string())?;
    let base_ggml = ownvoice_asr::ggml::WhisperGgml::parse(&base_bytes)
        .with_context(|| ggml_path.display().to_string())?;
    if cv {
        eprintln!(
            "{}: {} takes, base model {}; {} folds: each fold is transcribed by a model trained \
             on the others ({} epochs each); if they beat the base model, a model trained on \
             all takes is installed",
            a.person,
            takes.len(),
            a.model,
            plan.cv_folds,
            plan.epochs
        );
    } else {
        eprintln!(
            "{}: {} takes train, {} held back; base model {}",
            a.person,
            judging[0].0.len(),
            judging[0].1.len(),
            a.model
        );
    }
    // The base model's errors on every take the gate judges.
    let judged: Vec<usize> = judging.iter().flat_map(|r| r.1.iter().copied()).collect();
    let mut base_errors = vec![WordErrors::default(); takes.len()];
    {
        let base_asr = WhisperModel::from_bytes(&base_bytes)?;
        let bar = context::progress(judged.len(), "base model transcribing", a.json);
        for &i in &judged {
            base_errors[i] = errors_of(&base_asr, &takes[i])?;
            bar.inc(1);
        }
        bar.finish_and_clear();
    }

    // The frozen base model with adapters; what the frozen encoder computes, once per take.
    let dev = Device::Cpu;
    let config = Config::from(&base_ggml.hparams);
    let frozen = ownvoice_adapt::model::tensors_from_ggml(&base_ggml, &dev)?;
    let mut model = Whisper::load(&VarBuilder::from_tensors(frozen, DType::F32, &dev), config)?;
    let n_enc = config.n_audio_layer;
    if a.encoder_layers > n_enc {
        bail!(
            "--encoder-layers {}: {} has {n_enc} encoder blocks",
            a.encoder_layers,
            a.model
        );
    }
    let lora = LoraConfig {
        rank: a.rank,
        alpha: a.alpha,
        mlp: a.mlp,
        dropout: a.dropout,
        encoder_layers: (n_enc - a.encoder_layers..n_enc).collect(),
        decoder: !a.no_decoder,
    };
    let vars = VarMap::new();
    attach(&mut model, &lora, &vars, a.seed)?;
    let initial = adapter_values(&vars)?;
    let special = SpecialTokens::for_vocab(config.n_vocab);
    let timestamps = !a.no_timestamps;
    let prompt_len = special.prompt_for(timestamps).len();
    let encoder = Encoder {
        tokenizer: &tokenizer,
        special,
        timestamps,
        n_mels: config.n_mels,
        enc_from: n_enc - a.encoder_layers,
    };
    // Speed-perturbed copies of every take, per factor.
    let perturbed: Vec<Vec<Take>> = a
        .speed_perturb
        .iter()
        .map(|&f| {
            takes
                .iter()
                .map(|(audio, text)| Ok((ownvoice_adapt::augment::speed(audio, f)?, text.clone())))
                .collect::<Result<_>>()
        })
        .collect::<Result<_>>()?;
    let n_copies = 1 + perturbed.len();
    let bar = context::progress(
        takes.len() * if a.pack { 1 } else { n_copies },
        "encoding",
        a.json,
    );
    let mut single = Vec::with_capacity(takes.len());
    for t in &takes {
        single.push(encoder.encode(&model, &window_of(t))?);
        bar.inc(1);
    }
    // Unpacked, the copies are encoded once too: [factor][take].
    let mut copies: Vec<Vec<Example>> = Vec::new();
    if !a.pack {
        for p in &perturbed {
            let mut v = Vec::with_capacity(p.len());
            for t in p {
                v.push(encoder.encode(&model, &window_of(t))?);
                bar.inc(1);
            }
            copies.push(v);
        }
    }
    bar.finish_and_clear();
    // The examples of a run training on the takes `idx`: each take, then its copies per
    // factor; packed, consecutive ones share 30 s windows (encoded for this run).
    let train_examples = |model: &Whisper, idx: &[usize]| -> Result<Vec<Example>> {
        if a.pack {
            let styled: Vec<Take> = std::iter::once(&takes)
                .chain(&perturbed)
                .flat_map(|set| idx.iter().map(move |&i| &set[i]))
                .map(|(audio, text)| (audio.clone(), ownvoice_adapt::whisper_style(text)))
                .collect();
            ownvoice_adapt::pack::pack(&styled)
                .iter()
                .map(|w| encoder.encode(model, w))
                .collect()
        } else {
            Ok(std::iter::once(&single)
                .chain(&copies)
                .flat_map(|set| idx.iter().map(move |&i| set[i].clone()))
                .collect())
        }
    };

    let cfg = TrainConfig {
        lr: plan.lr,
        epochs: plan.epochs,
        batch: plan.batch,
        seed: a.seed,
        dropout: lora.dropout,
        keep_last: plan.keep_last,
        warmup: plan.warmup,
        ..TrainConfig::default()
    };
    // A checkpoint of an interrupted run with the same settings and takes is resumed.
    let fingerprint = ownvoice_adapt::checkpoint::fingerprint(&format!(
        "{} r{} a{} {:?} mlp{} d{} enc{} dec{} pack{} fold{:?} ts{} sp{:?} takes{} judged{:?}",
        a.model,
        a.rank,
        a.alpha,
        plan,
        a.mlp,
        a.dropout,
        a.encoder_layers,
        !a.no_decoder,
        a.pack,
        a.heldout_fold,
        timestamps,
        a.speed_perturb,
        takes.len(),
        judged,
    ));
    let cv_name = cv_blob(&a.model);
    let mut cv_done: CvProgress = container
        .blob(&cv_name)
        .and_then(|b| serde_json::from_slice::<CvProgress>(b).ok())
        .filter(|p| p.fingerprint == fingerprint)
        .unwrap_or(CvProgress {
            fingerprint,
            folds: Vec::new(),
        });
    let runs_total = judging.len() + usize::from(cv);
    let steps_of = |n_train: usize| (n_train * n_copies).div_ceil(cfg.batch.max(1)) * cfg.epochs;
    let planned: Vec<usize> = judging
        .iter()
        .map(|r| steps_of(r.0.len()))
        .chain(cv.then(|| steps_of(takes.len())))
        .collect();
    let bar = context::progress(planned.iter().sum(), "training step", a.json);
    let budget = a.minutes.map(|m| m * 60.0 / runs_total as f64);
    let mut runner = Runner {
        vars: &vars,
        initial,
        base: &base_ggml,
        prompt_len,
        cfg: cfg.clone(),
        fingerprint,
        blob: checkpoint_blob(&a.model),
        container: &mut container,
        path: &path,
        access: &access,
        profile: &profile,
        bar: &bar,
    };
    // The adapted model's errors on every judged take (from the model that never trained on it).
    let mut adapted_errors = vec![WordErrors::default(); takes.len()];
    let mut last: Option<RunResult> = None;
    let (mut seconds, mut resumed_after) = (0.0, None);
    for (r, (train_idx, held_idx)) in judging.iter().enumerate() {
        let label = if cv {
            format!("fold {}/{}", r + 1, judging.len())
        } else {
            "training".to_string()
        };
        bar.set_position(planned[..r].iter().sum::<usize>() as u64);
        let base = pooled(held_idx.iter().map(|&i| base_errors[i]));
        if let Some(done) = cv_done.folds.get(r).filter(|d| d.len() == held_idx.len()) {
            for (&i, &[errors, reference_words]) in held_idx.iter().zip(done) {
                adapted_errors[i] = WordErrors {
                    errors,
                    reference_words,
                };
            }
            continue;
        }
        let train_ex = train_examples(&model, train_idx)?;
        let held_ex: Vec<Example> = held_idx.iter().map(|&i| single[i].clone()).collect();
        let res = runner.run(&mut model, r, &label, &train_ex, &held_ex, budget)?;
        let asr = WhisperModel::from_bytes(&res.bytes)?;
        for &i in held_idx {
            adapted_errors[i] = errors_of(&asr, &takes[i])?;
        }
        let adapted = pooled(held_idx.iter().map(|&i| adapted_errors[i]));
        bar.suspend(|| {
            eprintln!(
                "{label}: WER on its {} takes {:.1} % -> {:.1} % ({:.0} s)",
                held_idx.len(),
                base.wer() * 100.0,
                adapted.wer() * 100.0,
                res.seconds
            )
        });
        seconds += res.seconds;
        resumed_after = resumed_after.or(res.resumed_after);
        if cv {
            cv_done.folds.push(
                held_idx
                    .iter()
                    .map(|&i| [adapted_errors[i].errors, adapted_errors[i].reference_words])
                    .collect(),
            );
            runner
                .container
                .put_blob(&cv_name, serde_json::to_vec(&cv_done)?);
            runner.profile.store_manifest(runner.container);
            ownvoice_vault::save(&path, runner.container, &access)?;
        }
        last = Some(res);
    }
    let pairs: Vec<_> = judged
        .iter()
        .map(|&i| (base_errors[i], adapted_errors[i]))
        .collect();
    let verdict = judge(&pairs, a.gate_t);
    let (before, after, installed) = (verdict.before, verdict.after, verdict.install);
    // Cross-validated and better: the model to install trains on every take.
    if cv && installed {
        bar.set_position(planned[..judging.len()].iter().sum::<usize>() as u64);
        let all: Vec<usize> = (0..takes.len()).collect();
        let train_ex = train_examples(&model, &all)?;
        let res = runner.run(
            &mut model,
            judging.len(),
            "all takes",
            &train_ex,
            &[],
            budget,
        )?;
        seconds += res.seconds;
        resumed_after = resumed_after.or(res.resumed_after);
        last = Some(res);
    }
    bar.finish_and_clear();
    drop(runner);
    container.remove_blob(&cv_name);
    let blob = model_blob(&a.model);
    let (steps, epochs) = last
        .as_ref()
        .map_or((0, 0), |r| (r.report.steps, r.report.best_epoch));
    if installed {
        let bytes = last.map(|r| r.bytes).ok_or_else(|| {
            anyhow!("the adaptation was judged from an earlier, interrupted run; run it again")
        })?;
        container.put_blob(&blob, bytes);
    }
    let record = AdaptationRecord {
        base_model: a.model.clone(),
        at: context::now(),
        train_takes: if cv { takes.len() } else { judging[0].0.len() },
        heldout_takes: judged.len(),
        cv_folds: plan.cv_folds,
        heldout_wer_before: before.wer(),
        heldout_wer_after: after.wer(),
        gate_t: verdict.t.is_finite().then_some(verdict.t),
        gate_min_t: a.gate_t,
        installed,
        model_blob: installed.then_some(blob),
        rank: a.rank,
        alpha: a.alpha,
        lr: plan.lr,
        encoder_layers: a.encoder_layers,
        epochs,
        steps,
        train_seconds: seconds,
    };
    profile.adaptation = Some(record.clone());
    context::save_profile(&path, &mut container, &mut profile, &access)?;
    if a.json {
        let r = Report {
            person: &a.person,
            resumed_after_epoch: resumed_after,
            record: &record,
        };
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        let judged_by = if cv {
            format!(
                "cross-validated WER ({} folds, all {} takes, each transcribed by a model that \
                 never trained on it)",
                plan.cv_folds,
                takes.len()
            )
        } else {
            "held-back WER".to_string()
        };
        println!(
            "{judged_by} {:.2} % -> {:.2} % ({:.0} s of training); {}",
            before.wer() * 100.0,
            after.wer() * 100.0,
            seconds,
            if installed {
                format!("{}: the adapted model is in the profile", outcome(&record))
            } else {
                format!(
                    "{}: the adapted model was discarded (transcribe --person keeps the base model)",
                    outcome(&record)
                )
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The person's installed adapted model, loaded from memory (it never touches the disk
/// unencrypted); `None` when they have none for this base model.
pub fn load_person_model(person: &str, base: &str) -> Result<Option<WhisperModel>> {
    let path = crate::cmd_people::existing_profile(person)?;
    let (c, _) = keys::open_profile(&path, person)?;
    let p = PersonProfile::from_container(&c).with_context(|| path.display().to_string())?;
    let Some(blob) = p
        .adaptation
        .filter(|r| r.installed && r.base_model == base)
        .and_then(|r| r.model_blob)
    else {
        return Ok(None);
    };
    let bytes = c.blob(&blob).ok_or_else(|| {
        anyhow!(
            "{}: the adapted model blob {blob} is missing",
            path.display()
        )
    })?;
    Ok(Some(WhisperModel::from_bytes(bytes)?))
}

/// The model to transcribe with: `person`'s adapted `model` when they have one (loaded from
/// memory), else the base `model` (with a note on stderr when a person was named); and the
/// label reports give it ("tiny.en adapted to NAME" or "tiny.en").
pub fn model_for(model: &str, person: Option<&str>) -> Result<(WhisperModel, String)> {
    let personal = match person {
        Some(p) => load_person_model(p, model)?,
        None => None,
    };
    Ok(match (personal, person) {
        (Some(m), Some(p)) => (m, format!("{model} adapted to {p}")),
        (None, Some(p)) => {
            eprintln!(
                "note: {p} has no adapted {model} model (run `ownvoice adapt --person {p}`); using the base model"
            );
            (context::load_whisper(model)?, model.to_string())
        }
        _ => (context::load_whisper(model)?, model.to_string()),
    })
}
