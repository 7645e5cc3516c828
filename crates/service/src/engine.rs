//! The engine: the models the service holds in memory and the two jobs it runs on them,
//! transcription and synthesis, through the bounded [`Jobs`] queue.
//!
//! Models are loaded once at start: the stock Whisper models, the stock voices, and, for every
//! person whose profile was unlocked for the service, that person's adapted Whisper model and
//! voice print (decrypted into memory only; the engine never writes them anywhere).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use ownvoice_asr::{DecodeOptions, Segment, WhisperModel};
use ownvoice_speaker::{Embedding, SpeakerEncoder};
use ownvoice_vad::{SileroVad, VadConfig};
use tokio::sync::mpsc;

use crate::jobs::Jobs;
use crate::{hallucination, ServiceError};
use ownvoice_tts::Synthesizer;

/// Cosine between an utterance's d-vector and a voice print at or above which a request is
/// routed to that person (the speaker-verification threshold of `ownvoice verify`).
pub const IDENTIFY_THRESHOLD: f32 = 0.75;

/// Model names OpenAI clients send that mean "the default Whisper model".
const OPENAI_ASR_ALIASES: &[&str] = &["whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe"];
/// Voice names OpenAI clients send; they all mean "the default voice".
const OPENAI_VOICES: &[&str] = &[
    "alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer", "verse",
];

/// A person unlocked for the service.
pub struct Person {
    /// The person's name (their profile name).
    pub name: String,
    /// Adapted Whisper models, by base model name (`tiny.en`, `base`).
    pub asr: BTreeMap<String, Arc<WhisperModel>>,
    /// Voice print (mean d-vector of the enrolled takes) for speaker identification.
    pub print: Option<Embedding>,
}

/// A voice the service can speak with.
pub struct Voice {
    /// Name clients ask for (`joe`, or a person's name for their fitted voice).
    pub name: String,
    /// One line for `describe` / `GET /v1/models`.
    pub description: String,
    /// Languages (BCP 47, e.g. `en_US`).
    pub languages: Vec<String>,
    /// The person this voice belongs to, for a fitted voice.
    pub person: Option<String>,
    synth: Mutex<Box<dyn Synthesizer>>,
    sample_rate: u32,
}

impl Voice {
    /// Wraps a synthesiser.
    pub fn new(
        name: &str,
        description: &str,
        languages: &[&str],
        person: Option<&str>,
        synth: Box<dyn Synthesizer>,
    ) -> Voice {
        Voice {
            name: name.to_string(),
            description: description.to_string(),
            languages: languages.iter().map(|s| s.to_string()).collect(),
            person: person.map(str::to_string),
            sample_rate: synth.sample_rate(),
            synth: Mutex::new(synth),
        }
    }

    /// Output sample rate, Hz.
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }
}

/// Engine settings.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Whisper model used when a request names none (the first of the loaded ones by default).
    pub default_model: String,
    /// CPU threads per inference job.
    pub threads: usize,
    /// Longest audio accepted for one transcription, seconds.
    pub max_audio_s: f64,
    /// Longest text accepted for one synthesis, characters.
    pub max_text_chars: usize,
    /// Inference jobs that run at once.
    pub jobs: usize,
    /// Requests that may wait for a job slot before new ones are refused as busy.
    pub queue: usize,
    /// Route requests that name no person by speaker identification.
    pub identify: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            default_model: "tiny.en".into(),
            threads: std::thread::available_parallelism()
                .map_or(2, |n| n.get())
                .min(8),
            max_audio_s: 600.0,
            max_text_chars: 20_000,
            jobs: 1,
            queue: 64,
            identify: true,
        }
    }
}

/// What a transcription request asks for.
#[derive(Debug, Clone, Default)]
pub struct AsrRequest {
    /// Whisper model name, an OpenAI alias (`whisper-1`), or a person's name.
    pub model: Option<String>,
    /// The person whose adapted model to use.
    pub person: Option<String>,
    /// Spoken language (`en`, `auto`, ...).
    pub language: Option<String>,
    /// Decoder prompt (names, spellings).
    pub prompt: Option<String>,
    /// Encode only as much audio context as the utterance needs (faster for short audio).
    pub reduced_context: bool,
}

/// A transcription result.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AsrResult {
    /// The text (hallucinated non-speech segments removed).
    pub text: String,
    /// Time-stamped segments.
    pub segments: Vec<Segment>,
    /// Language decoded.
    pub language: String,
    /// Audio length, seconds.
    pub duration_s: f64,
    /// The model used: `tiny.en`, or `tiny.en adapted to NAME`.
    pub model: String,
    /// The person whose model was used, if any.
    pub person: Option<String>,
    /// Cosine to the person's voice print when they were chosen by speaker identification.
    pub identified_score: Option<f32>,
}

/// Audio being synthesised: the sample rate and a channel of sentence-sized chunks.
pub struct SynthStream {
    /// Sample rate of the chunks, Hz.
    pub sample_rate: u32,
    /// The voice speaking.
    pub voice: String,
    /// Chunks of samples in order; an `Err` ends the stream.
    pub chunks: mpsc::Receiver<Result<Vec<f32>, ServiceError>>,
}

/// The models and the job queue.
pub struct Engine {
    config: EngineConfig,
    asr: BTreeMap<String, Arc<WhisperModel>>,
    people: BTreeMap<String, Person>,
    voices: Vec<Arc<Voice>>,
    vad: Mutex<Vec<SileroVad>>,
    vad_model: Option<std::path::PathBuf>,
    encoder: Option<Mutex<SpeakerEncoder>>,
    jobs: Jobs,
}

impl Engine {
    /// An engine over loaded models. `asr` must not be empty; `vad_model` is Silero VAD's file
    /// (non-speech gate and dictation); `encoder` enables speaker identification.
    ///
    /// # Errors
    /// [`ServiceError::NotFound`] when `config.default_model` is not among `asr`.
    pub fn new(
        config: EngineConfig,
        asr: BTreeMap<String, Arc<WhisperModel>>,
        people: Vec<Person>,
        voices: Vec<Voice>,
        vad_model: Option<std::path::PathBuf>,
        encoder: Option<SpeakerEncoder>,
    ) -> Result<Engine, ServiceError> {
        if !asr.contains_key(&config.default_model) {
            return Err(ServiceError::NotFound(format!(
                "default model {:?} is not loaded",
                config.default_model
            )));
        }
        Ok(Engine {
            jobs: Jobs::new(config.jobs, config.queue),
            config,
            asr,
            people: people.into_iter().map(|p| (p.name.clone(), p)).collect(),
            voices: voices.into_iter().map(Arc::new).collect(),
            vad: Mutex::new(Vec::new()),
            vad_model,
            encoder: encoder.map(Mutex::new),
        })
    }

    /// Runs every Whisper model once on a second of silence, full and reduced context, so that
    /// the first request does not pay for whisper.cpp's first-run set-up.
    ///
    /// # Errors
    /// Inference errors.
    pub fn warm_up(&self) -> Result<(), ServiceError> {
        let silence = vec![0.0f32; 16_000];
        let models = self
            .asr
            .values()
            .chain(self.people.values().flat_map(|p| p.asr.values()));
        for m in models {
            for audio_ctx in [None, Some(ownvoice_asr::transcribe::MIN_AUDIO_CTX)] {
                let opts = DecodeOptions {
                    threads: self.config.threads,
                    audio_ctx,
                    ..DecodeOptions::default()
                };
                m.transcribe(&silence, &opts)?;
            }
        }
        Ok(())
    }

    /// The settings.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Names of the stock Whisper models.
    pub fn asr_models(&self) -> impl Iterator<Item = (&str, &WhisperModel)> {
        self.asr.iter().map(|(k, v)| (k.as_str(), v.as_ref()))
    }

    /// The people unlocked for the service.
    pub fn people(&self) -> impl Iterator<Item = &Person> {
        self.people.values()
    }

    /// The voices.
    pub fn voices(&self) -> &[Arc<Voice>] {
        &self.voices
    }

    /// The job queue (for health reports).
    pub fn jobs(&self) -> &Jobs {
        &self.jobs
    }

    /// A Silero VAD from the pool (loaded on first use).
    ///
    /// # Errors
    /// [`ServiceError::Internal`] when the service has no VAD model or it fails to load.
    pub fn take_vad(&self) -> Result<SileroVad, ServiceError> {
        if let Some(v) = self.vad.lock().expect("vad pool").pop() {
            return Ok(v);
        }
        let path = self
            .vad_model
            .as_ref()
            .ok_or_else(|| ServiceError::Internal("no VAD model loaded".into()))?;
        SileroVad::load(path).map_err(|e| ServiceError::Internal(e.to_string()))
    }

    /// Returns a VAD to the pool.
    pub fn give_vad(&self, mut vad: SileroVad) {
        vad.reset();
        self.vad.lock().expect("vad pool").push(vad);
    }

    /// Resolves the Whisper model of a request: `(model, label, person)`.
    fn resolve_asr(
        &self,
        req: &AsrRequest,
        person: Option<&str>,
    ) -> Result<(Arc<WhisperModel>, String, Option<String>), ServiceError> {
        let mut base = self.config.default_model.clone();
        let mut person = person.map(str::to_string);
        match req.model.as_deref().map(str::trim) {
            None | Some("") => {}
            Some(m) if OPENAI_ASR_ALIASES.contains(&m) => {}
            Some(m) if self.asr.contains_key(m) => base = m.to_string(),
            Some(m) if self.people.contains_key(m) => person = Some(m.to_string()),
            Some(m) => {
                return Err(ServiceError::NotFound(format!(
                    "no model {m:?}; this service has {}",
                    self.model_names().join(", ")
                )))
            }
        }
        let base_model = self.asr[&base].clone();
        let Some(name) = person else {
            return Ok((base_model, base, None));
        };
        let p = self.people.get(&name).ok_or_else(|| {
            ServiceError::NotFound(format!(
                "{name:?} is not unlocked for this service (start it with --person {name})"
            ))
        })?;
        Ok(match p.asr.get(&base) {
            Some(m) => (m.clone(), format!("{base} adapted to {name}"), Some(name)),
            None => (base_model, base, Some(name)),
        })
    }

    /// Model ids for `GET /v1/models` and errors: stock models, then people.
    pub fn model_names(&self) -> Vec<String> {
        self.asr.keys().chain(self.people.keys()).cloned().collect()
    }

    /// Finds a voice by name; `None`, an empty name or an OpenAI stock voice name means the
    /// default (first) voice.
    ///
    /// # Errors
    /// [`ServiceError::NotFound`].
    pub fn voice(&self, name: Option<&str>) -> Result<Arc<Voice>, ServiceError> {
        let first = || {
            self.voices
                .first()
                .cloned()
                .ok_or_else(|| ServiceError::NotFound("this service has no voices".into()))
        };
        match name.map(str::trim) {
            None | Some("") => first(),
            Some(n) if OPENAI_VOICES.contains(&n) => first(),
            Some(n) => self
                .voices
                .iter()
                .find(|v| v.name == n)
                .cloned()
                .ok_or_else(|| {
                    let names: Vec<&str> = self.voices.iter().map(|v| v.name.as_str()).collect();
                    ServiceError::NotFound(format!(
                        "no voice {n:?}; this service has {}",
                        names.join(", ")
                    ))
                }),
        }
    }

    /// Transcribes 16 kHz mono `samples`.
    ///
    /// Audio in which VAD finds no speech gives an empty text without running Whisper; known
    /// non-speech phrases are filtered ([`hallucination`]). A request that names no person is
    /// routed by speaker identification when enabled.
    ///
    /// # Errors
    /// [`ServiceError::TooLarge`] over `max_audio_s`; `NotFound` for an unknown model or person;
    /// `Busy` when the queue is full; `Internal` for inference errors.
    pub async fn transcribe(
        self: &Arc<Self>,
        samples: Vec<f32>,
        req: AsrRequest,
    ) -> Result<AsrResult, ServiceError> {
        let duration_s = samples.len() as f64 / 16_000.0;
        if duration_s > self.config.max_audio_s {
            return Err(ServiceError::TooLarge(format!(
                "{duration_s:.1} s of audio is over the limit of {} s",
                self.config.max_audio_s
            )));
        }
        if let Some(p) = req.person.as_deref() {
            if !self.people.contains_key(p) {
                return Err(ServiceError::NotFound(format!(
                    "{p:?} is not unlocked for this service (start it with --person {p})"
                )));
            }
        }
        // Fail fast on a bad model name, before queueing.
        self.resolve_asr(&req, req.person.as_deref())?;
        let permit = self.jobs.acquire().await?;
        let engine = self.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            engine.transcribe_blocking(&samples, &req)
        })
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))?
    }

    /// True when VAD finds speech in `samples` (always true without a VAD model).
    pub fn has_speech(&self, samples: &[f32]) -> Result<bool, ServiceError> {
        if self.vad_model.is_none() {
            return Ok(true);
        }
        let mut vad = self.take_vad()?;
        let found = vad
            .segments(samples, VadConfig::default())
            .map_err(|e| ServiceError::Internal(e.to_string()));
        self.give_vad(vad);
        Ok(!found?.is_empty())
    }

    fn identify(&self, samples: &[f32]) -> Option<(String, f32)> {
        let encoder = self.encoder.as_ref()?;
        if !self.config.identify || self.people.values().all(|p| p.print.is_none()) {
            return None;
        }
        let e = encoder.lock().ok()?.embed_utterance(samples).ok()?;
        self.people
            .values()
            .filter_map(|p| {
                p.print
                    .as_ref()
                    .map(|print| (p.name.clone(), e.cosine(print)))
            })
            .filter(|(_, s)| *s >= IDENTIFY_THRESHOLD)
            .max_by(|a, b| a.1.total_cmp(&b.1))
    }

    /// The blocking part of [`Engine::transcribe`], also used by dictation sessions (which run
    /// on their own thread and hold a job permit themselves).
    ///
    /// # Errors
    /// As [`Engine::transcribe`].
    pub fn transcribe_blocking(
        &self,
        samples: &[f32],
        req: &AsrRequest,
    ) -> Result<AsrResult, ServiceError> {
        let duration_s = samples.len() as f64 / 16_000.0;
        let (person, identified_score) = match req.person.clone() {
            Some(p) => (Some(p), None),
            None if req
                .model
                .as_deref()
                .is_some_and(|m| self.people.contains_key(m)) =>
            {
                (None, None)
            }
            None => match self.identify(samples) {
                Some((p, s)) => (Some(p), Some(s)),
                None => (None, None),
            },
        };
        let (model, label, person) = self.resolve_asr(req, person.as_deref())?;
        if samples.is_empty() || !self.has_speech(samples)? {
            return Ok(AsrResult {
                text: String::new(),
                segments: Vec::new(),
                language: req.language.clone().unwrap_or_else(|| "en".into()),
                duration_s,
                model: label,
                person,
                identified_score,
            });
        }
        let opts = DecodeOptions {
            threads: self.config.threads,
            language: req.language.clone().filter(|l| !l.is_empty()),
            initial_prompt: req.prompt.clone(),
            audio_ctx: req
                .reduced_context
                .then(|| DecodeOptions::audio_ctx_for(samples.len(), 1.0)),
            ..DecodeOptions::default()
        };
        let t = hallucination::filter(model.transcribe(samples, &opts)?);
        Ok(AsrResult {
            text: t.text,
            segments: t.segments,
            language: t.language,
            duration_s,
            model: label,
            person,
            identified_score,
        })
    }

    /// Starts synthesising `text` with `voice` at `speed`; chunks (one per sentence) arrive on
    /// the returned channel as they are ready.
    ///
    /// # Errors
    /// `BadRequest` for empty or over-long text or a speed outside 0.25–4; `NotFound` for an
    /// unknown voice; `Busy` when the queue is full.
    pub async fn synthesize(
        self: &Arc<Self>,
        text: String,
        voice: Option<&str>,
        speed: f32,
    ) -> Result<SynthStream, ServiceError> {
        if text.trim().is_empty() {
            return Err(ServiceError::BadRequest("the text is empty".into()));
        }
        if text.chars().count() > self.config.max_text_chars {
            return Err(ServiceError::TooLarge(format!(
                "the text is over the limit of {} characters",
                self.config.max_text_chars
            )));
        }
        if let Some(why) = ownvoice_tts::speed_out_of_range(speed) {
            return Err(ServiceError::BadRequest(format!("speed {why}")));
        }
        let voice = self.voice(voice)?;
        let permit = self.jobs.acquire().await?;
        let (tx, rx) = mpsc::channel(4);
        let v = voice.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let mut synth = match v.synth.lock() {
                Ok(s) => s,
                Err(_) => {
                    let _ = tx.blocking_send(Err(ServiceError::Internal("voice poisoned".into())));
                    return;
                }
            };
            let units = match synth.sentences(&text) {
                Ok(u) if u.is_empty() => {
                    let _ = tx.blocking_send(Err(ownvoice_tts::TtsError::EmptyText.into()));
                    return;
                }
                Ok(u) => u,
                Err(e) => {
                    let _ = tx.blocking_send(Err(e.into()));
                    return;
                }
            };
            for u in units {
                let r = synth.synthesize_unit(&u, speed).map_err(ServiceError::from);
                let stop = r.is_err();
                // A closed channel means the client went away: stop synthesising.
                if tx.blocking_send(r).is_err() || stop {
                    return;
                }
            }
        });
        Ok(SynthStream {
            sample_rate: voice.sample_rate(),
            voice: voice.name.clone(),
            chunks: rx,
        })
    }
}
