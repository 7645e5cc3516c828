//! `ownvoice adapt --person NAME`: fine-tune Whisper on the person's enrolled takes, on this
//! device, and install the result in their profile only if it transcribes their held-back takes
//! better.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use candle_core::{DType, Device};
use candle_nn::{VarBuilder, VarMap};
use clap::Args;
use ownvoice_adapt::checkpoint::Checkpoint;
use ownvoice_adapt::lora::{attach, LoraConfig};
use ownvoice_adapt::pack::Window;
use ownvoice_adapt::targets::window_tokens;
use ownvoice_adapt::train::{train, Example, Progress, TrainConfig};
use ownvoice_adapt::{features::log_mel_window, Config, SpecialTokens, TextTokenizer, Whisper};
use ownvoice_asr::wer::WordErrors;
use ownvoice_asr::{DecodeOptions, WhisperModel};
use ownvoice_enroll::profile::decode_pcm16;
use ownvoice_enroll::{AdaptationRecord, PersonProfile};
use serde::Serialize;

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
    /// Passes over the training takes.
    #[arg(long, default_value_t = 3)]
    epochs: usize,
    /// LoRA rank.
    #[arg(long, default_value_t = 8)]
    rank: usize,
    /// LoRA alpha (the update is scaled by alpha / rank).
    #[arg(long, default_value_t = 16.0)]
    alpha: f64,
    /// Peak learning rate (AdamW).
    #[arg(long, default_value_t = 5e-4)]
    lr: f64,
    /// Takes per optimisation step.
    #[arg(long, default_value_t = 4)]
    batch: usize,
    /// Adapt the MLPs too (default: attention projections only).
    #[arg(long)]
    mlp: bool,
    /// Also adapt the last N encoder blocks (where an accent's acoustics live). The frozen
    /// blocks before them are computed once per take; each step then runs the N blocks forward
    /// and backward, so training costs more (0: decoder only, the encoder output is cached).
    #[arg(long, default_value_t = 0, value_name = "N")]
    encoder_layers: usize,
    /// Leave the decoder as it is: adapt only the encoder blocks of --encoder-layers (the
    /// acoustics, not the language the decoder has learnt).
    #[arg(long, requires = "encoder_layers")]
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
    /// Steps of linear learning-rate warm-up.
    #[arg(long, default_value_t = 10)]
    warmup: usize,
    /// Share of the takes held back to measure WER (at least one take): every k-th take,
    /// k = round(1 / share).
    #[arg(long, default_value_t = 0.15)]
    heldout: f64,
    /// Which of the k held-back folds to hold back (0..k; default the last, k − 1): the takes
    /// whose index is FOLD modulo k. Rotating it tests every take once.
    #[arg(long, value_name = "FOLD")]
    heldout_fold: Option<usize>,
    /// LoRA dropout while training (above 0, runs are no longer repeatable).
    #[arg(long, default_value_t = 0.0)]
    dropout: f32,
    /// Random seed (take order, adapter initialisation).
    #[arg(long, default_value_t = 1234)]
    seed: u64,
    /// Keep the last epoch's adapters instead of the best held-back epoch's (the WER gate
    /// still decides whether the model is installed).
    #[arg(long)]
    no_early_stopping: bool,
    /// Print a JSON report.
    #[arg(long)]
    json: bool,
}

/// Takes with their audio: (16 kHz samples, text).
type Take = (Vec<f32>, String);

fn wer_of(asr: &WhisperModel, takes: &[Take]) -> Result<f64> {
    let mut total = WordErrors::default();
    for (audio, text) in takes {
        let tr = asr.transcribe(audio, &DecodeOptions::default())?;
        total = total + WordErrors::score(text, &tr.text);
    }
    Ok(total.wer())
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

/// Shows training progress, stops at the time budget, and saves a checkpoint into the profile
/// (encrypted, atomically) after every epoch.
struct Saver<'a> {
    bar: &'a indicatif::ProgressBar,
    started: Instant,
    budget: Option<f64>,
    fingerprint: u64,
    blob: &'a str,
    container: &'a mut ownvoice_vault::Container,
    path: &'a std::path::Path,
    access: &'a ownvoice_vault::Access,
    profile: &'a PersonProfile,
}

impl Progress for Saver<'_> {
    fn step(&mut self, s: ownvoice_adapt::train::Step) -> bool {
        self.bar.set_position(s.step as u64);
        self.bar
            .set_message(format!("epoch {} loss {:.3}", s.epoch, s.loss));
        let within = !self
            .budget
            .is_some_and(|b| self.started.elapsed().as_secs_f64() > b);
        if !within {
            self.bar.set_message("time budget reached".to_string());
        }
        within
    }

    fn epoch_done(&mut self, c: &Checkpoint) -> candle_core::Result<()> {
        let mut c = c.clone();
        c.fingerprint = self.fingerprint;
        self.container.put_blob(self.blob, c.to_bytes()?);
        self.profile.store_manifest(self.container);
        ownvoice_vault::save(self.path, self.container, self.access)
            .map_err(|e| candle_core::Error::Msg(e.to_string()))?;
        self.bar
            .suspend(|| eprintln!("checkpoint saved after epoch {}", c.epoch));
        Ok(())
    }
}

/// The blob holding a person's adapted model for `base`.
pub fn model_blob(base: &str) -> String {
    format!("models/whisper-{base}.ggml")
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
    // Every k-th take is held back (about the asked share), the rest train.
    let folds = context::heldout_folds(a.heldout);
    if let Some(f) = a.heldout_fold.filter(|&f| f >= folds) {
        bail!(
            "--heldout-fold {f}: --heldout {} makes {folds} folds (0..{folds})",
            a.heldout
        );
    }
    let (train_takes, heldout) = context::split_heldout_fold(takes, a.heldout, a.heldout_fold);

    let models = context::models();
    let ggml_path = models.whisper_ggml(&a.model)?;
    let tokenizer = TextTokenizer::from_file(&models.file(&a.model, "tokenizer.json")?)
        .map_err(|e| anyhow!(e))?;
    let base_bytes = std::fs::read(&ggml_path).with_context(|| ggml_path.display().to_string())?;
    let base_ggml = ownvoice_asr::ggml::WhisperGgml::parse(&base_bytes)
        .with_context(|| ggml_path.display().to_string())?;
    let base_asr = WhisperModel::from_bytes(&base_bytes)?;
    eprintln!(
        "{}: {} takes train, {} held back; base model {}",
        a.person,
        train_takes.len(),
        heldout.len(),
        a.model
    );
    let wer_before = wer_of(&base_asr, &heldout)?;
    drop(base_asr);

    // The frozen base model with adapters; the encoder output of every take computed once.
    let dev = Device::Cpu;
    let config = Config::from(&base_ggml.hparams);
    let frozen = ownvoice_adapt::model::tensors_from_ggml(&base_ggml, &dev)?;
    let mut model = Whisper::load(&VarBuilder::from_tensors(frozen, DType::F32, &dev), config)?;
    let n_enc = config.n_audio_layer;
    if a.no_decoder && a.encoder_layers == 0 {
        bail!("--no-decoder needs --encoder-layers N (N ≥ 1): nothing would be adapted");
    }
    if a.encoder_layers > n_enc {
        bail!(
            "--encoder-layers {}: {} has {n_enc} encoder blocks",
            a.encoder_layers,
            a.model
        );
    }
    // Encoder blocks before `enc_from` stay frozen; their output is cached per take.
    let enc_from = n_enc - a.encoder_layers;
    let lora = LoraConfig {
        rank: a.rank,
        alpha: a.alpha,
        mlp: a.mlp,
        dropout: a.dropout,
        encoder_layers: (enc_from..n_enc).collect(),
        decoder: !a.no_decoder,
    };
    let vars = VarMap::new();
    attach(&mut model, &lora, &vars, a.seed)?;
    let special = SpecialTokens::for_vocab(config.n_vocab);
    let timestamps = !a.no_timestamps;
    let prompt_len = special.prompt_for(timestamps).len();
    // Transcripts as Whisper writes them (sentence case), one window per take or packed.
    let windows_of = |takes: &[Take], pack: bool| -> Vec<Window> {
        let styled: Vec<Take> = takes
            .iter()
            .map(|(audio, text)| (audio.clone(), ownvoice_adapt::whisper_style(text)))
            .collect();
        if pack {
            ownvoice_adapt::pack::pack(&styled)
        } else {
            styled
                .into_iter()
                .map(|(audio, text)| Window::single(audio, &text))
                .collect()
        }
    };
    let mut train_audio = train_takes.clone();
    for &f in &a.speed_perturb {
        if !(f.is_finite() && (0.5..=2.0).contains(&f)) {
            bail!("--speed-perturb {f}: a factor must lie between 0.5 and 2");
        }
        for (audio, text) in &train_takes {
            train_audio.push((ownvoice_adapt::augment::speed(audio, f)?, text.clone()));
        }
    }
    let train_windows = windows_of(&train_audio, a.pack);
    drop(train_audio);
    let held_windows = windows_of(&heldout, false);
    let bar = context::progress(train_windows.len() + held_windows.len(), "encoding", a.json);
    let encode = |windows: &[Window]| -> Result<Vec<Example>> {
        windows
            .iter()
            .map(|w| {
                let mel = log_mel_window(&w.samples, config.n_mels, &dev)?;
                let (encoded, encoder_from) = if enc_from == n_enc {
                    (model.encode(&mel)?, None)
                } else {
                    (model.encode_upto(&mel, enc_from)?, Some(enc_from))
                };
                let tokens =
                    window_tokens(&tokenizer, &special, w, timestamps).map_err(|e| anyhow!(e))?;
                bar.inc(1);
                Ok(Example {
                    encoded,
                    tokens,
                    encoder_from,
                })
            })
            .collect()
    };
    let train_ex = encode(&train_windows)?;
    let held_ex = encode(&held_windows)?;
    drop((train_windows, held_windows));
    bar.finish_and_clear();

    let cfg = TrainConfig {
        lr: a.lr,
        epochs: a.epochs,
        batch: a.batch,
        seed: a.seed,
        dropout: lora.dropout,
        keep_last: a.no_early_stopping,
        warmup: a.warmup,
        ..TrainConfig::default()
    };
    // A checkpoint of an interrupted run with the same settings and takes is resumed.
    let fingerprint = ownvoice_adapt::checkpoint::fingerprint(&format!(
        "{} r{} a{} lr{} b{} s{} mlp{} d{} last{} enc{} dec{} pack{} w{} fold{:?} ts{} sp{:?} train{} held{}",
        a.model,
        a.rank,
        a.alpha,
        a.lr,
        a.batch,
        a.seed,
        a.mlp,
        a.dropout,
        a.no_early_stopping,
        a.encoder_layers,
        !a.no_decoder,
        a.pack,
        a.warmup,
        a.heldout_fold,
        timestamps,
        a.speed_perturb,
        train_ex.len(),
        held_ex.len()
    ));
    let ckpt_blob = checkpoint_blob(&a.model);
    let resume = match container.blob(&ckpt_blob) {
        Some(b) => Checkpoint::from_bytes(b, &dev)
            .ok()
            .filter(|c| c.fingerprint == fingerprint && c.epoch < a.epochs),
        None => None,
    };
    if let Some(c) = &resume {
        eprintln!(
            "resuming the interrupted adaptation after epoch {}",
            c.epoch
        );
    }
    let total = train_ex.len().div_ceil(cfg.batch.max(1)) * cfg.epochs;
    let bar = context::progress(total, "training step", a.json);
    let started = Instant::now();
    let report = {
        let mut progress = Saver {
            bar: &bar,
            started,
            budget: a.minutes.map(|m| m * 60.0),
            fingerprint,
            blob: &ckpt_blob,
            container: &mut container,
            path: &path,
            access: &access,
            profile: &profile,
        };
        train(
            &mut model,
            &vars,
            &train_ex,
            &held_ex,
            prompt_len,
            &cfg,
            resume.as_ref(),
            &mut progress,
        )
    };
    bar.finish_and_clear();
    let report = report.map_err(|e| anyhow!("training failed: {e}"))?;
    let train_seconds = started.elapsed().as_secs_f64();
    container.remove_blob(&ckpt_blob);

    let adapted = ownvoice_adapt::export::with_weights(&base_ggml, &model.merged_weights()?)?;
    let adapted_bytes = adapted.to_bytes();
    let wer_after = wer_of(&WhisperModel::from_bytes(&adapted_bytes)?, &heldout)?;
    let installed = wer_after < wer_before;
    let blob = model_blob(&a.model);
    if installed {
        container.put_blob(&blob, adapted_bytes);
    }
    let record = AdaptationRecord {
        base_model: a.model.clone(),
        at: context::now(),
        train_takes: train_takes.len(),
        heldout_takes: heldout.len(),
        heldout_wer_before: wer_before,
        heldout_wer_after: wer_after,
        installed,
        model_blob: installed.then_some(blob),
        rank: a.rank,
        alpha: a.alpha,
        lr: a.lr,
        encoder_layers: a.encoder_layers,
        epochs: report.best_epoch,
        steps: report.steps,
        train_seconds,
    };
    profile.adaptation = Some(record.clone());
    profile.updated_at = context::now();
    profile.store_manifest(&mut container);
    ownvoice_vault::save(&path, &container, &access)?;
    if a.json {
        let r = Report {
            person: &a.person,
            resumed_after_epoch: resume.as_ref().map(|c| c.epoch),
            record: &record,
        };
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        println!(
            "held-back WER {:.2} % -> {:.2} % ({} steps, {:.0} s); {}",
            wer_before * 100.0,
            wer_after * 100.0,
            report.steps,
            train_seconds,
            if installed {
                "the adapted model is installed in the profile"
            } else {
                "not better: the adapted model was discarded (transcribe --person keeps the base model)"
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
