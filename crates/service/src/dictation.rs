//! Streaming dictation: 16 kHz audio in, partial and final transcripts out.
//!
//! Silero VAD ([`ownvoice_vad::VadStream`]) finds where each utterance starts and ends. While an
//! utterance goes on, a partial transcript of it so far is made every `partial_every_s` seconds
//! (skipped when the job queue is busy); when VAD has heard `end_silence_ms` of silence, the
//! utterance gets its final transcript. Both use a reduced Whisper audio context sized to the
//! utterance ([`ownvoice_asr::DecodeOptions::audio_ctx_for`]), as whisper.cpp's `stream` example
//! does, instead of encoding a full 30 s window. Non-speech never reaches Whisper, and known
//! non-speech phrases are filtered ([`crate::hallucination`]).
//!
//! Latency is measured from the moment the last speech sample arrived (the VAD segment's end,
//! without padding) to the moment the final text is ready; it includes the end-of-speech silence
//! VAD must hear.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use ownvoice_vad::{VadConfig, VadEvent, VadStream};
use serde::Serialize;

use crate::jobs::JobPermit;
use crate::{AsrRequest, Engine, ServiceError};

const RATE: f64 = 16_000.0;

/// Dictation settings.
#[derive(Debug, Clone)]
pub struct DictationConfig {
    /// Silence that ends an utterance, ms (default 300).
    pub end_silence_ms: u32,
    /// Audio kept before the detected speech start, ms (default 300).
    pub preroll_ms: u32,
    /// Seconds of new speech between partial transcripts (default 1.0; 0 disables partials).
    pub partial_every_s: f64,
    /// Longest utterance before it is cut and finalised, seconds (default 28, inside Whisper's
    /// 30 s window).
    pub max_utterance_s: f64,
    /// Use a reduced Whisper audio context (default true).
    pub reduced_context: bool,
}

impl Default for DictationConfig {
    fn default() -> Self {
        DictationConfig {
            end_silence_ms: 300,
            preroll_ms: 300,
            partial_every_s: 1.0,
            max_utterance_s: 28.0,
            reduced_context: true,
        }
    }
}

/// What dictation reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum DictationEvent {
    /// The utterance so far (may change).
    Partial {
        /// Text so far.
        text: String,
        /// Utterance start, seconds from the start of the stream.
        start: f64,
    },
    /// The utterance's final text.
    Final {
        /// The text (empty utterances are not reported).
        text: String,
        /// Start, seconds from the start of the stream.
        start: f64,
        /// End of speech, seconds.
        end: f64,
        /// Milliseconds from the arrival of the last speech sample to this result.
        latency_ms: f64,
        /// The model used.
        model: String,
    },
}

/// A held job slot (none when running outside the service).
struct Slot(#[allow(dead_code)] Option<JobPermit>);

/// One dictation stream.
pub struct Dictation {
    engine: Arc<Engine>,
    request: AsrRequest,
    config: DictationConfig,
    vad: Option<VadStream>,
    /// Audio from sample `offset` on.
    audio: Vec<f32>,
    offset: usize,
    /// Start of the current utterance (with preroll), absolute sample.
    utterance: Option<usize>,
    last_partial: usize,
    /// (absolute sample, arrival time) of received chunks, for latency.
    arrivals: VecDeque<(usize, Instant)>,
}

impl Dictation {
    /// Starts a stream. `request` picks the model, person and language.
    ///
    /// # Errors
    /// [`ServiceError::Internal`] when the VAD model cannot be loaded.
    pub fn new(
        engine: Arc<Engine>,
        mut request: AsrRequest,
        config: DictationConfig,
    ) -> Result<Dictation, ServiceError> {
        request.reduced_context = config.reduced_context;
        let vad = engine.take_vad()?;
        let vad_config = VadConfig {
            min_silence_ms: config.end_silence_ms,
            ..VadConfig::default()
        };
        Ok(Dictation {
            engine,
            request,
            config,
            vad: Some(VadStream::new(vad, vad_config)),
            audio: Vec::new(),
            offset: 0,
            utterance: None,
            last_partial: 0,
            arrivals: VecDeque::new(),
        })
    }

    fn seen(&self) -> usize {
        self.offset + self.audio.len()
    }

    /// A job slot: `Ok(None)` when an optional job should be skipped because the queue is busy.
    /// Outside a tokio runtime (the `dictate` command) there is no queue: always `Some`.
    fn permit(&self, optional: bool) -> Result<Option<Slot>, ServiceError> {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return Ok(Some(Slot(None)));
        };
        if optional {
            return Ok(self.engine.jobs().try_acquire().map(|p| Slot(Some(p))));
        }
        handle
            .block_on(self.engine.jobs().acquire())
            .map(|p| Some(Slot(Some(p))))
    }

    fn slice(&self, from: usize, to: usize) -> &[f32] {
        let a = from.saturating_sub(self.offset).min(self.audio.len());
        let b = to.saturating_sub(self.offset).clamp(a, self.audio.len());
        &self.audio[a..b]
    }

    fn arrival_of(&self, sample: usize) -> Instant {
        self.arrivals
            .iter()
            .find(|(end, _)| *end >= sample)
            .or(self.arrivals.back())
            .map_or_else(Instant::now, |&(_, t)| t)
    }

    /// Feeds 16 kHz mono samples; returns what they completed.
    ///
    /// # Errors
    /// VAD and transcription errors.
    pub fn push(&mut self, chunk: &[f32]) -> Result<Vec<DictationEvent>, ServiceError> {
        self.audio.extend_from_slice(chunk);
        let now = self.seen();
        self.arrivals.push_back((now, Instant::now()));
        let vad_events = self
            .vad
            .as_mut()
            .expect("vad present until drop")
            .push(chunk)
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        let mut out = Vec::new();
        for ev in vad_events {
            match ev {
                VadEvent::SpeechStart(at) => {
                    let pre = (self.config.preroll_ms as f64 / 1000.0 * RATE) as usize;
                    self.utterance = Some(at.saturating_sub(pre));
                    self.last_partial = at;
                }
                VadEvent::SpeechEnd(seg) => {
                    if let Some(start) = self.utterance.take() {
                        // seg.end includes the right padding; latency counts from the speech.
                        let pad =
                            (VadConfig::default().speech_pad_ms as f64 / 1000.0 * RATE) as usize;
                        let spoken_end = seg.end.saturating_sub(pad).min(now);
                        out.extend(self.finalise(start, seg.end.min(now), spoken_end)?);
                    }
                }
            }
        }
        if let Some(start) = self.utterance {
            if now - start > (self.config.max_utterance_s * RATE) as usize {
                self.utterance = Some(now);
                self.last_partial = now;
                out.extend(self.finalise(start, now, now)?);
            } else if self.config.partial_every_s > 0.0
                && now - self.last_partial >= (self.config.partial_every_s * RATE) as usize
                && self.speaking()
            {
                if let Some(p) = self.partial(start)? {
                    out.push(p);
                }
            }
        }
        self.trim();
        Ok(out)
    }

    /// True while the last VAD window was speech: partials are made only then, so that none is
    /// still running when the speaker pauses and the final transcript is wanted.
    fn speaking(&self) -> bool {
        self.vad.as_ref().is_some_and(|v| {
            v.in_speech() && v.last_probability() >= VadConfig::default().threshold
        })
    }

    /// Ends the stream: the final transcript of an utterance still open.
    ///
    /// # Errors
    /// Transcription errors.
    pub fn finish(&mut self) -> Result<Vec<DictationEvent>, ServiceError> {
        let now = self.seen();
        if let Some(vad) = self.vad.as_mut() {
            vad.finish();
        }
        match self.utterance.take() {
            Some(start) => Ok(self.finalise(start, now, now)?.into_iter().collect()),
            None => Ok(Vec::new()),
        }
    }

    fn partial(&mut self, start: usize) -> Result<Option<DictationEvent>, ServiceError> {
        let now = self.seen();
        let Some(_permit) = self.permit(true)? else {
            return Ok(None);
        };
        self.last_partial = now;
        let r = self
            .engine
            .transcribe_blocking(self.slice(start, now), &self.request)?;
        Ok((!r.text.is_empty()).then(|| DictationEvent::Partial {
            text: r.text,
            start: start as f64 / RATE,
        }))
    }

    fn finalise(
        &mut self,
        start: usize,
        end: usize,
        spoken_end: usize,
    ) -> Result<Option<DictationEvent>, ServiceError> {
        let arrived = self.arrival_of(spoken_end);
        let _permit = self.permit(false)?;
        let r = self
            .engine
            .transcribe_blocking(self.slice(start, end), &self.request)?;
        let latency_ms = arrived.elapsed().as_secs_f64() * 1000.0;
        Ok((!r.text.is_empty()).then(|| DictationEvent::Final {
            text: r.text,
            start: start as f64 / RATE,
            end: spoken_end as f64 / RATE,
            latency_ms,
            model: r.model,
        }))
    }

    /// Drops audio no utterance can need any more.
    fn trim(&mut self) {
        let keep_from = match self.utterance {
            Some(s) => s,
            None => self
                .seen()
                .saturating_sub((self.config.preroll_ms as f64 / 1000.0 * RATE) as usize + 16_000),
        };
        if keep_from > self.offset + 16_000 {
            let n = keep_from - self.offset;
            self.audio.drain(..n);
            self.offset = keep_from;
        }
        while self.arrivals.len() > 1 && self.arrivals[1].0 < keep_from {
            self.arrivals.pop_front();
        }
    }
}

impl Drop for Dictation {
    fn drop(&mut self) {
        if let Some(v) = self.vad.take() {
            self.engine.give_vad(v.into_inner());
        }
    }
}
