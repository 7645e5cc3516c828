//! `ownvoice voice`: a TTS voice fitted to a person's own speech. `voice train` is here, with
//! what `voice report` ([`crate::cmd_voice_report`]) and `voice rate` ([`crate::cmd_voice_rate`])
//! share: the objective's flags and the opened fitted voice.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Subcommand};
use ownvoice_enroll::profile::decode_pcm16;
use ownvoice_enroll::{PersonProfile, VoiceRecord};
use ownvoice_speaker::Embedding;
use ownvoice_tts::kokoro::StylePack;
use ownvoice_voice::fit::{fit, Checkpoint, FitConfig, FitProgress, ModelPaths};
use ownvoice_voice::space::Offset;
use ownvoice_voice::VoiceError;
use serde::Serialize;

use crate::voices::{kokoro_files, stock_packs, CHECKPOINT_BLOB, KOKORO_MODEL, STYLE_BLOB};
use crate::{context, keys};

#[derive(Subcommand)]
pub enum VoiceCommand {
    /// Fit a Kokoro voice to a person's enrolled takes (on this device, stored encrypted in
    /// their profile).
    ///
    /// The search (sep-CMA-ES, Ros & Hansen 2008) mixes Kokoro's stock style packs and moves
    /// away from them by a penalised offset, maximising the speaker-encoder cosine between the
    /// synthesised voice and the person's voice print, minus Whisper's WER on the synthesised
    /// sentences. Each generation speaks two sentences of a pool of 24 (an everyday request and
    /// a Harvard sentence), in turn; at the end the best candidates speak all 24 and the best of
    /// them is kept, so the similarity shown is on all 24. About 15 % of the takes are held
    /// back to judge the result. The search stops at --minutes; it is checkpointed in the
    /// profile about once a minute, so running the same command again after an interruption
    /// resumes it. With --rates, the winner then speaks the 24 sentences at each speaking rate
    /// and keeps the one the same objective prefers. `ownvoice speak --voice NAME` then speaks
    /// in the fitted voice.
    Train(TrainArgs),
    /// Choose a fitted voice's speaking rate again, without searching: the voice speaks the 24
    /// fit sentences at each of --rates, scored as in `voice train` (similarity to the voice
    /// print minus the WER terms), and keeps the best rate. For voices fitted before rates were
    /// chosen, or to try other rates or WER weights.
    Rate(crate::cmd_voice_rate::RateArgs),
    /// Report on a person's fitted voice against their real takes: similarity to the voice
    /// print and to held-back takes, Whisper WER on 20 Harvard sentences, F0 mean and range (YIN)
    /// of the voice and of the person, real-time factor and time to first audio.
    Report(crate::cmd_voice_report::ReportArgs),
}

/// `--offset`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum OffsetArg {
    Full,
    Timbre,
}

#[derive(Args)]
pub struct TrainArgs {
    /// The person.
    #[arg(long)]
    person: String,
    /// Time budget, minutes (the search stops after the generation that passes it; the final
    /// comparison of up to 4 finalists on all 24 fit sentences then adds about a minute).
    #[arg(long, default_value_t = 30.0)]
    minutes: f64,
    /// Stop after this many generations (for quick runs and tests).
    #[arg(long)]
    generations: Option<u64>,
    /// Candidates per generation (default: CMA-ES's 4 + 3 ln n = 20).
    #[arg(long)]
    population: Option<usize>,
    /// Candidates evaluated at once (each worker loads its own Kokoro session, ~300 MB).
    #[arg(long)]
    workers: Option<usize>,
    /// Random seed: the same seed, takes and budget in generations give the same voice.
    #[arg(long, default_value_t = 1234)]
    seed: u64,
    /// Share of the takes held back from fitting (at least one).
    #[arg(long, default_value_t = 0.15)]
    heldout: f64,
    /// Weight of the pitch term: cost per octave between the voice's mean F0 and the person's
    /// (YIN over their training takes). Default 0: pitch is left to the speaker encoder (a
    /// weight of 0.5 matched Cathy's F0 but lowered her held-back similarity and raised WER).
    #[arg(long, default_value_t = FitConfig::default().f0_weight)]
    f0_weight: f64,
    #[command(flatten)]
    objective: ObjectiveArgs,
    /// Speaking rates the fitted voice tries after the search, as Kokoro speed factors
    /// (comma-separated, e.g. `1,0.95,1.05,0.9,1.1`; the first of equal cost wins); it keeps
    /// the rate of lowest cost, the rate it was searched at included. Default none: the voice
    /// keeps the rate it was searched at (1, Kokoro's normal rate, unless --search-rate). On
    /// two 60-minute voices the choice among those five kept 1, and it costs about 20 s per
    /// rate. `voice rate` chooses again later.
    #[arg(long, value_delimiter = ',')]
    rates: Vec<f32>,
    /// Search the speaking rate along with the style: one more coordinate of the search, a
    /// Kokoro speed between 0.8 and 1.25 (starting at 1), so the style is tuned for Whisper at
    /// the rate the search settles on. The voice keeps that rate (and --rates, if given, are
    /// tried against it afterwards). A checkpoint resumes only with the same choice. Off by
    /// default: in a 60-minute fit of one speaker it drove the rate to 0.8 and cut Whisper's
    /// errors, but the voice resembled his held-back takes less (0.807 against 0.853).
    #[arg(long)]
    search_rate: bool,
    /// Initial step size of the search, in spreads of the stock styles (the standard deviation
    /// of each style dimension over the stock packs).
    #[arg(long, default_value_t = FitConfig::default().sigma0)]
    sigma: f64,
    /// Style dimensions the offset from the stock mix moves: `full` (all 256) or `timbre`
    /// (the decoder's first 128; the prosody half then comes from the stock mix alone).
    #[arg(long, value_enum, default_value_t = OffsetArg::Full)]
    offset: OffsetArg,
    /// How many stock voices the search mixes: every stock pack first speaks two sentences,
    /// and the best this many become the basis the search moves between (the others still set
    /// how far from natural styles the offset may go).
    #[arg(long, default_value_t = FitConfig::default().basis)]
    basis: usize,
    /// Which stock voices to screen: comma-separated names or name prefixes (`am_` for the US
    /// English male voices, `a,b` for all the English ones); default all 54 (about 1 s of
    /// CPU each).
    #[arg(long, value_delimiter = ',')]
    stock: Vec<String>,
    /// Seconds between checkpoints saved into the profile (0: after every generation).
    #[arg(long, default_value_t = 60.0)]
    checkpoint_every: f64,
    /// Start afresh even if an unfinished fit's checkpoint exists.
    #[arg(long)]
    restart: bool,
    /// Print a JSON report.
    #[arg(long)]
    json: bool,
}

/// The WER terms of the objective (`voice train`, `voice rate`).
#[derive(Args)]
pub struct ObjectiveArgs {
    /// WER (fraction) above which each further point of WER on a generation's sentences costs
    /// `--wer-over-weight` as well as the usual 0.5 (the hinge). The fit sentences are easier
    /// than the report's: a voice at 2.4 % on them made 5 % on the report's, so the hinge
    /// starts at 1 %; with it (and step 0.6) so762_0482 reached 0.860 to his held-back takes
    /// and 3.1 % WER in 60 minutes, so762_0036 0.8497 and 0.864 (two seeds), 3.1 % both.
    #[arg(long, default_value_t = FitConfig::default().wer_limit)]
    pub wer_limit: f64,
    /// Weight of the WER hinge: with 2 from 1 %, a voice that Whisper misheard on 2 words of 18
    /// pays 0.2 of similarity for it on top of the linear 0.06, so the search keeps
    /// intelligible voices (0: off).
    #[arg(long, default_value_t = FitConfig::default().wer_over_weight)]
    pub wer_over_weight: f64,
}

impl ObjectiveArgs {
    /// `cfg` with these settings and the speaking rates `rates` (`--rates`).
    ///
    /// # Errors
    /// A rate outside Kokoro's 0.25–4.
    pub fn apply(&self, cfg: FitConfig, rates: &[f32]) -> Result<FitConfig> {
        if let Some(why) = ownvoice_voice::rate::out_of_range(rates) {
            bail!("--rates: {why}");
        }
        Ok(FitConfig {
            wer_limit: self.wer_limit,
            wer_over_weight: self.wer_over_weight.max(0.0),
            rates: rates.to_vec(),
            ..cfg
        })
    }
}

pub fn run(c: VoiceCommand) -> Result<ExitCode> {
    match c {
        VoiceCommand::Train(a) => train(a),
        VoiceCommand::Report(a) => crate::cmd_voice_report::report(a),
        VoiceCommand::Rate(a) => crate::cmd_voice_rate::rate(a),
    }
}

/// Saves checkpoints into the profile and draws the progress bar.
struct Saver<'a> {
    bar: indicatif::ProgressBar,
    container: &'a mut ownvoice_vault::Container,
    access: &'a ownvoice_vault::Access,
    path: &'a std::path::Path,
    profile: &'a mut PersonProfile,
    record: VoiceRecord,
    last_save: Instant,
    every: f64,
    quiet: bool,
    error: Option<anyhow::Error>,
}

impl Saver<'_> {
    fn save(&mut self, ck: &Checkpoint) -> Result<()> {
        self.container
            .put_blob(CHECKPOINT_BLOB, serde_json::to_vec(ck)?);
        self.record.checkpoint_blob = Some(CHECKPOINT_BLOB.into());
        self.record.at = context::now();
        self.record.generations = ck.state.generation;
        self.record.evaluations = ck.evaluations;
        self.record.seconds = ck.seconds;
        self.profile.voice = Some(self.record.clone());
        self.profile.store_manifest(self.container);
        ownvoice_vault::save(self.path, self.container, self.access)?;
        Ok(())
    }
}

impl FitProgress for Saver<'_> {
    fn generation(&mut self, ck: &Checkpoint) -> bool {
        let best = ck.best_score.map_or(0.0, |s| s.similarity);
        let stock = ck
            .stock
            .iter()
            .map(|(_, s)| s.similarity)
            .fold(f32::MIN, f32::max);
        self.bar
            .set_position(ck.seconds.min(self.bar.length().unwrap_or(0) as f64) as u64);
        self.bar.set_message(format!(
            "gen {} · {} voices · best similarity {best:.3} (stock {stock:.3}) · WER {:.0} % · rate {:.2}",
            ck.state.generation,
            ck.evaluations,
            100.0 * ck.best_score.map_or(0.0, |s| s.wer),
            ck.best_score.map_or(1.0, |s| s.speed)
        ));
        if self.last_save.elapsed().as_secs_f64() >= self.every {
            if let Err(e) = self.save(ck) {
                self.error = Some(e);
                return false;
            }
            self.last_save = Instant::now();
            if !self.quiet {
                self.bar.suspend(|| {
                    eprintln!("checkpoint saved after generation {}", ck.state.generation)
                });
            }
        }
        true
    }
}

/// The packs of `all` that `wanted` names (a name, or a prefix of names); all when empty.
fn screened(all: Vec<(String, StylePack)>, wanted: &[String]) -> Result<Vec<(String, StylePack)>> {
    if wanted.is_empty() {
        return Ok(all);
    }
    let names: Vec<String> = all.iter().map(|(n, _)| n.clone()).collect();
    let kept: Vec<_> = all
        .into_iter()
        .filter(|(n, _)| wanted.iter().any(|w| n.starts_with(w.as_str())))
        .collect();
    if kept.is_empty() {
        bail!(
            "--stock {} matches no stock voice; there are: {}",
            wanted.join(","),
            names.join(", ")
        );
    }
    Ok(kept)
}

#[derive(Serialize)]
struct TrainReport<'a> {
    person: &'a str,
    resumed: bool,
    record: &'a VoiceRecord,
    /// Of `record.evaluations`, how many Whisper transcribed (the rest could not enter a
    /// generation's best half).
    transcribed: usize,
    /// The speaking rates the fitted voice tried ([`crate::cmd_voice_rate::rows`]).
    rates: Vec<crate::cmd_voice_rate::RateRow>,
    stock: Vec<(String, f32)>,
}

fn train(a: TrainArgs) -> Result<ExitCode> {
    let path = crate::cmd_people::existing_profile(&a.person)?;
    let (mut container, access) = keys::open_profile(&path, &a.person)?;
    let mut profile =
        PersonProfile::from_container(&container).with_context(|| path.display().to_string())?;
    let mut encoder = crate::cmd_speaker::load_encoder()?;
    crate::cmd_speaker::fill_missing_dvectors(&mut profile, &container, &mut encoder)?;
    drop(encoder);
    let takes: Vec<(String, Embedding)> = profile
        .accepted()
        .filter_map(|t| Some((t.id.clone(), Embedding(t.dvector.clone()?))))
        .collect();
    if takes.len() < 3 {
        bail!(
            "{} has {} accepted takes with speech; fitting a voice needs at least 3 (enroll more)",
            a.person,
            takes.len()
        );
    }
    let (train, held) = context::split_heldout(takes, a.heldout);
    let print = Embedding::mean(&train.iter().map(|(_, e)| e.clone()).collect::<Vec<_>>());

    let (paths, whisper) = fit_models()?;
    let offset = match a.offset {
        OffsetArg::Full => Offset::Full,
        OffsetArg::Timbre => Offset::Timbre,
    };
    let stock = screened(stock_packs()?, &a.stock)?;
    let resume = match (&profile.voice, a.restart) {
        (Some(v), false) if v.checkpoint_blob.is_some() && v.seed == a.seed => container
            .blob(CHECKPOINT_BLOB)
            .and_then(|b| serde_json::from_slice::<Checkpoint>(b).ok()),
        _ => None,
    };
    let resumed = resume.is_some();
    if let Some(c) = &resume {
        eprintln!(
            "resuming {}'s voice fit after generation {} ({:.0} s so far)",
            a.person, c.state.generation, c.seconds
        );
    }
    // The person's mean pitch, from (up to 40 of) their training takes.
    let train_audio: Vec<Vec<f32>> = profile
        .accepted()
        .filter(|t| train.iter().any(|(id, _)| id == &t.id))
        .take(40)
        .filter_map(|t| container.blob(t.audio_blob.as_deref()?).map(decode_pcm16))
        .collect();
    let f0_target_hz = ownvoice_voice::report::f0_of(&train_audio).map(|f| f.mean_hz);
    let cfg = a.objective.apply(
        FitConfig {
            minutes: a.minutes,
            f0_target_hz,
            f0_weight: a.f0_weight,
            max_generations: a.generations,
            seed: a.seed,
            lambda: a.population,
            sigma0: a.sigma,
            workers: a.workers.unwrap_or(FitConfig::default().workers),
            basis: a.basis.max(1),
            offset,
            search_rate: a.search_rate,
            ..FitConfig::default()
        },
        &a.rates,
    )?;
    eprintln!(
        "{}: fitting on {} takes ({} held back), {} stock voices (basis {}), {} workers, budget {} min, pitch target {}",
        a.person,
        train.len(),
        held.len(),
        stock.len(),
        cfg.basis,
        cfg.workers,
        a.minutes,
        f0_target_hz.map_or("none (no voiced frames)".into(), |f| format!("{f:.0} Hz"))
    );
    let record = VoiceRecord {
        model: KOKORO_MODEL.into(),
        style_blob: profile.voice.as_ref().and_then(|v| v.style_blob.clone()),
        checkpoint_blob: None,
        at: context::now(),
        optimizer: "sep-CMA-ES (Ros & Hansen 2008)".into(),
        seed: a.seed,
        generations: 0,
        evaluations: 0,
        seconds: 0.0,
        similarity: 0.0,
        fit_wer: 0.0,
        best_stock: String::new(),
        best_stock_similarity: 0.0,
        heldout_takes: held.iter().map(|(id, _)| id.clone()).collect(),
        basis: Vec::new(),
        speed: 1.0,
    };
    let bar = context::progress((a.minutes * 60.0) as usize, "fitting (s)", a.json);
    let mut saver = Saver {
        bar,
        container: &mut container,
        access: &access,
        path: &path,
        profile: &mut profile,
        record,
        last_save: Instant::now(),
        every: a.checkpoint_every.max(0.0),
        quiet: a.json,
        error: None,
    };
    let result = fit(&paths, whisper, &stock, &print, &cfg, resume, &mut saver);
    saver.bar.finish_and_clear();
    if let Some(e) = saver.error.take() {
        return Err(e.context("saving the checkpoint"));
    }
    let mut record = saver.record.clone();
    let r = result.map_err(|e| match e {
        VoiceError::CheckpointSpace { .. } => anyhow!(
            "{}'s saved voice fit: {e} (another --offset or --search-rate?): run again with the \
             same --offset and --search-rate to resume it, or with --restart to start over",
            a.person
        ),
        e => anyhow!("voice fitting failed: {e}"),
    })?;
    // The stock voice the search started from, scored on all the fit sentences as the fitted
    // voice was.
    let (best_stock, best_stock_score) = r.stock.clone();
    container.put_blob(STYLE_BLOB, r.pack.to_bytes());
    container.remove_blob(CHECKPOINT_BLOB);
    record.style_blob = Some(STYLE_BLOB.into());
    record.checkpoint_blob = None;
    record.at = context::now();
    record.generations = r.checkpoint.state.generation;
    record.evaluations = r.checkpoint.evaluations;
    record.seconds = r.checkpoint.seconds;
    record.similarity = r.score.similarity;
    record.fit_wer = r.score.wer;
    record.best_stock = best_stock;
    record.best_stock_similarity = best_stock_score.similarity;
    record.basis = r.basis.clone();
    record.speed = r.speed;
    profile.voice = Some(record.clone());
    context::save_profile(&path, &mut container, &mut profile, &access)?;
    if a.json {
        let rep = TrainReport {
            person: &a.person,
            resumed,
            record: &record,
            transcribed: r.checkpoint.transcribed,
            rates: crate::cmd_voice_rate::rows(&r.rates),
            stock: r
                .checkpoint
                .stock
                .iter()
                .map(|(n, s)| (n.clone(), s.similarity))
                .collect(),
        };
        println!("{}", serde_json::to_string_pretty(&rep)?);
    } else {
        println!(
            "{}'s voice: similarity {:.3} to their voice print (best stock voice {} {:.3}), WER {:.0} % on the fit sentences, speaking rate {:.2}; {} generations, {} voices tried in {:.0} s. Try: ownvoice speak --voice {} \"Hello\" --play",
            a.person,
            record.similarity,
            record.best_stock,
            record.best_stock_similarity,
            100.0 * record.fit_wer,
            record.speed,
            record.generations,
            record.evaluations,
            record.seconds,
            a.person
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// What scoring a voice loads: the files each evaluator opens (Kokoro, GE2E) and Whisper tiny.en,
/// shared (initialises ONNX Runtime).
///
/// # Errors
/// A model that is not fetched, or fails to load.
pub fn fit_models() -> Result<(ModelPaths, Arc<ownvoice_asr::WhisperModel>)> {
    context::init_onnx()?;
    let (kokoro, vocab, _) = kokoro_files()?;
    let paths = ModelPaths {
        kokoro,
        vocab,
        encoder: context::models().file("ge2e", ownvoice_models::fetch::SPEAKER_ENCODER_FILE)?,
    };
    Ok((paths, Arc::new(context::load_whisper("tiny.en")?)))
}

/// A person's fitted voice, read from their profile.
pub struct Fitted {
    /// The profile's file, its opened container and the access that saves it again.
    pub path: std::path::PathBuf,
    pub container: ownvoice_vault::Container,
    pub access: ownvoice_vault::Access,
    pub profile: PersonProfile,
    /// What `voice train` recorded.
    pub record: VoiceRecord,
    /// The fitted style pack.
    pub pack: StylePack,
    /// Their voice print: the mean d-vector of the takes the fit used (not held back).
    pub print: Embedding,
    /// d-vectors of the takes the fit held back.
    pub held: Vec<Embedding>,
}

/// Opens `person`'s profile and their fitted voice.
///
/// # Errors
/// No such person, a wrong passphrase, no fitted voice (saying how to make one), a missing or
/// malformed style blob, no fitted-on take with a d-vector.
pub fn open_fitted(person: &str) -> Result<Fitted> {
    let path = crate::cmd_people::existing_profile(person)?;
    let (container, access) = keys::open_profile(&path, person)?;
    let profile =
        PersonProfile::from_container(&container).with_context(|| path.display().to_string())?;
    let Some(record) = profile.voice.clone().filter(|v| v.style_blob.is_some()) else {
        bail!("{person} has no fitted voice: run `ownvoice voice train --person {person}`");
    };
    let pack = StylePack::from_bytes(
        container
            .blob(STYLE_BLOB)
            .ok_or_else(|| anyhow!("{}: the style blob is missing", path.display()))?,
    )?;
    let dvectors = |held_back: bool| -> Vec<Embedding> {
        profile
            .accepted()
            .filter(|t| record.heldout_takes.contains(&t.id) == held_back)
            .filter_map(|t| t.dvector.clone().map(Embedding))
            .collect()
    };
    let (train, held) = (dvectors(false), dvectors(true));
    if train.is_empty() {
        bail!(
            "{}: no take the voice was fitted on has a d-vector (run `ownvoice voice train --person {person}` again)",
            path.display()
        );
    }
    Ok(Fitted {
        print: Embedding::mean(&train),
        path,
        container,
        access,
        profile,
        record,
        pack,
        held,
    })
}
