//! One training run of `ownvoice adapt`: the adapters back at their initial values, training
//! with a progress bar, a time budget and a checkpoint saved into the person's encrypted
//! profile after every epoch, then the merged model exported as ggml bytes (in memory only).
//! Also what runs share: takes encoded into training examples, and word errors of a model.

use std::path::Path;
use std::time::Instant;

use anyhow::{anyhow, Result};
use candle_core::{Device, Tensor};
use candle_nn::VarMap;
use ownvoice_adapt::checkpoint::{fingerprint, Checkpoint};
use ownvoice_adapt::features::log_mel_window;
use ownvoice_adapt::pack::Window;
use ownvoice_adapt::targets::window_tokens;
use ownvoice_adapt::train::{
    set_adapters, train, Example, Progress, Step, TrainConfig, TrainReport,
};
use ownvoice_adapt::{SpecialTokens, TextTokenizer, Whisper};
use ownvoice_asr::ggml::WhisperGgml;
use ownvoice_asr::wer::WordErrors;
use ownvoice_asr::{DecodeOptions, WhisperModel};
use ownvoice_enroll::PersonProfile;
use ownvoice_vault::{Access, Container};

/// A take: 16 kHz samples and its transcript.
pub type Take = (Vec<f32>, String);

/// The word errors of `asr`'s transcript of `take` against its text.
///
/// # Errors
/// Decoding errors.
pub fn errors_of(asr: &WhisperModel, take: &Take) -> Result<WordErrors> {
    let tr = asr.transcribe(&take.0, &DecodeOptions::default())?;
    Ok(WordErrors::score(&take.1, &tr.text))
}

/// Word errors summed over takes (the pooled WER's counts).
pub fn pooled(errors: impl IntoIterator<Item = WordErrors>) -> WordErrors {
    errors
        .into_iter()
        .fold(WordErrors::default(), |acc, e| acc + e)
}

/// The encoder side of training examples: `windows` through the frozen encoder (all of it, or
/// the blocks before `enc_from`), with their tokens.
pub struct Encoder<'a> {
    pub tokenizer: &'a TextTokenizer,
    pub special: SpecialTokens,
    pub timestamps: bool,
    pub n_mels: usize,
    /// Encoder blocks before this one are frozen: their output is what an example holds.
    pub enc_from: usize,
}

impl Encoder<'_> {
    /// `w` through the frozen encoder, with its tokens.
    ///
    /// # Errors
    /// candle errors; a transcript the tokenizer rejects.
    pub fn encode(&self, model: &Whisper, w: &Window) -> Result<Example> {
        let mel = log_mel_window(&w.samples, self.n_mels, &Device::Cpu)?;
        let (encoded, encoder_from) = if self.enc_from == model.encoder_blocks.len() {
            (model.encode(&mel)?, None)
        } else {
            (model.encode_upto(&mel, self.enc_from)?, Some(self.enc_from))
        };
        let tokens = window_tokens(self.tokenizer, &self.special, w, self.timestamps)
            .map_err(|e| anyhow!(e))?;
        Ok(Example {
            encoded,
            tokens,
            encoder_from,
        })
    }
}

/// A take as one window, its transcript as Whisper writes it (sentence case).
pub fn window_of(take: &Take) -> Window {
    Window::single(take.0.clone(), &ownvoice_adapt::whisper_style(&take.1))
}

/// What every run of one adaptation shares.
pub struct Runner<'a> {
    pub vars: &'a VarMap,
    /// The adapters as attached (`B` = 0: no effect yet); every run starts from them.
    pub initial: Vec<(String, Tensor)>,
    pub base: &'a WhisperGgml,
    /// Tokens of Whisper's prompt, which carry no loss.
    pub prompt_len: usize,
    pub cfg: TrainConfig,
    /// Fingerprint of the settings and takes; a run's checkpoint adds the run's index.
    pub fingerprint: u64,
    /// The profile blob holding the checkpoint of the run in progress.
    pub blob: String,
    pub container: &'a mut Container,
    pub path: &'a Path,
    pub access: &'a Access,
    pub profile: &'a PersonProfile,
    pub bar: &'a indicatif::ProgressBar,
}

/// What one run gave.
pub struct RunResult {
    pub report: TrainReport,
    /// The merged model, a ggml file's bytes.
    pub bytes: Vec<u8>,
    /// The epoch an interrupted run was resumed after.
    pub resumed_after: Option<usize>,
    pub seconds: f64,
}

/// Shows progress, stops at the time budget, saves a checkpoint after every epoch.
struct Saver<'r, 'a> {
    runner: &'r mut Runner<'a>,
    label: &'r str,
    /// Bar position when the run started (the bar spans all runs).
    offset: u64,
    started: Instant,
    budget: Option<f64>,
    fingerprint: u64,
}

impl Progress for Saver<'_, '_> {
    fn step(&mut self, s: Step) -> bool {
        let bar = self.runner.bar;
        bar.set_position(self.offset + s.step as u64);
        bar.set_message(format!(
            "{} epoch {} loss {:.3}",
            self.label, s.epoch, s.loss
        ));
        let within = !self
            .budget
            .is_some_and(|b| self.started.elapsed().as_secs_f64() > b);
        if !within {
            bar.set_message(format!("{}: time budget reached", self.label));
        }
        within
    }

    fn epoch_done(&mut self, c: &Checkpoint) -> candle_core::Result<()> {
        let r = &mut *self.runner;
        let mut c = c.clone();
        c.fingerprint = self.fingerprint;
        r.container.put_blob(&r.blob, c.to_bytes()?);
        r.profile.store_manifest(r.container);
        ownvoice_vault::save(r.path, r.container, r.access)
            .map_err(|e| candle_core::Error::Msg(e.to_string()))?;
        let label = self.label;
        r.bar
            .suspend(|| eprintln!("{label}: checkpoint saved after epoch {}", c.epoch));
        Ok(())
    }
}

impl Runner<'_> {
    /// Trains run number `index` (`label` names it in messages) from the initial adapters on
    /// `train`, early-stopping on `held` unless the config keeps the last epoch, within
    /// `budget` seconds; a checkpoint of this run (same fingerprint and index) is resumed.
    ///
    /// # Errors
    /// Training fails (divergence, candle errors); saving a checkpoint fails; export fails.
    pub fn run(
        &mut self,
        model: &mut Whisper,
        index: usize,
        label: &str,
        train_ex: &[Example],
        held: &[Example],
        budget: Option<f64>,
    ) -> Result<RunResult> {
        set_adapters(self.vars, &self.initial)?;
        let fp = fingerprint(&format!("{:016x} run {index}", self.fingerprint));
        let resume = self
            .container
            .blob(&self.blob)
            .and_then(|b| Checkpoint::from_bytes(b, &Device::Cpu).ok())
            .filter(|c| c.fingerprint == fp && c.epoch < self.cfg.epochs);
        if let Some(c) = &resume {
            self.bar.suspend(|| {
                eprintln!(
                    "{label}: resuming the interrupted run after epoch {}",
                    c.epoch
                )
            });
        }
        let (vars, prompt_len, cfg) = (self.vars, self.prompt_len, self.cfg.clone());
        let started = Instant::now();
        let report = {
            let offset = self.bar.position();
            let mut progress = Saver {
                runner: self,
                label,
                offset,
                started,
                budget,
                fingerprint: fp,
            };
            train(
                model,
                vars,
                train_ex,
                held,
                prompt_len,
                &cfg,
                resume.as_ref(),
                &mut progress,
            )
        };
        let report = report.map_err(|e| anyhow!("training failed ({label}): {e}"))?;
        let seconds = started.elapsed().as_secs_f64();
        self.container.remove_blob(&self.blob);
        let merged = model.merged_weights()?;
        let bytes = ownvoice_adapt::export::with_weights(self.base, &merged)?.to_bytes();
        Ok(RunResult {
            report,
            bytes,
            resumed_after: resume.map(|c| c.epoch),
            seconds,
        })
    }
}
