//! The person profile: its manifest schema (JSON inside the vault container) and its blobs.
//!
//! Blob names: `takes/<id>.pcm` holds an accepted take's audio as 16 kHz mono 16-bit little-endian
//! PCM (the training data for adaptation and voice fitting).

use ownvoice_vault::Container;
use serde::{Deserialize, Serialize};

use crate::quality::TakeQuality;
use crate::speaker_gate::{gate, GATE_THRESHOLD};
use ownvoice_speaker::Embedding;

/// Manifest schema version (inside the container format's own version).
pub const SCHEMA: u32 = 1;
/// Sample rate of stored take audio, Hz.
pub const TAKE_SAMPLE_RATE: u32 = 16_000;

/// One take of a person: where it came from, what was read, how it measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TakeRecord {
    /// Stable id within the profile (`0001`, `0002`, ...).
    pub id: String,
    /// Source file name as given at enrollment (no directories).
    pub source: String,
    /// The text read aloud.
    pub text: String,
    /// Quality figures and verdict.
    pub quality: TakeQuality,
    /// The blob holding the audio (accepted takes only).
    pub audio_blob: Option<String>,
    /// The prompt this take read, for takes recorded interactively from a prompt set.
    #[serde(default)]
    pub prompt_id: Option<String>,
    /// The take's d-vector (GE2E, 256 values), for accepted takes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dvector: Option<Vec<f32>>,
    /// Cosine of the d-vector against the mean of the person's other takes.
    #[serde(default)]
    pub speaker_score: Option<f32>,
    /// Kept by the person although the same-speaker gate flagged it.
    #[serde(default)]
    pub speaker_confirmed: bool,
}

/// A challenge phrase spoken at the start of an interactive session, and whether the ASR heard
/// it: evidence that a live person who agreed to enroll was speaking (not a replayed recording).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChallengeRecord {
    /// The phrase shown.
    pub phrase: String,
    /// What Whisper heard.
    pub asr_text: String,
    /// WER of `asr_text` against `phrase`, as a fraction.
    pub wer: f64,
    /// True when the WER is within the enrollment threshold.
    pub matched: bool,
    /// Unix time, seconds.
    pub at: u64,
}

/// The manifest of a person's profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonProfile {
    pub schema: u32,
    /// The person's name (also the profile file name).
    pub person: String,
    /// Unix time of creation and last update, seconds.
    pub created_at: u64,
    pub updated_at: u64,
    /// ownvoice version that last wrote the profile.
    pub written_by: String,
    /// Whisper model used for the ASR round trip.
    pub asr_model: String,
    /// Every take offered, accepted or not.
    pub takes: Vec<TakeRecord>,
    /// Challenge phrases of the interactive sessions, oldest first.
    #[serde(default)]
    pub challenges: Vec<ChallengeRecord>,
    /// Prompt ids skipped in interactive sessions (not offered again).
    #[serde(default)]
    pub skipped_prompts: Vec<String>,
    /// The person's voice print (mean d-vector of their accepted takes).
    #[serde(default)]
    pub speaker: Option<crate::SpeakerPrint>,
    /// The last speaker adaptation of their Whisper model (`ownvoice adapt`).
    #[serde(default)]
    pub adaptation: Option<AdaptationRecord>,
    /// Their fitted TTS voice (`ownvoice voice train`).
    #[serde(default)]
    pub voice: Option<VoiceRecord>,
}

/// What `ownvoice voice train` fitted: a Kokoro style pack (the blob `style_blob`, f32
/// `[510, 256]` little-endian) and how it scored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VoiceRecord {
    /// TTS model the style is for (`kokoro-v1.0-int8`).
    pub model: String,
    /// Blob holding the style pack (`None` while only a checkpoint exists).
    pub style_blob: Option<String>,
    /// Blob holding the resumable search checkpoint (JSON), while a fit is unfinished.
    pub checkpoint_blob: Option<String>,
    /// Unix time of the last update, seconds.
    pub at: u64,
    /// Optimiser (`sep-CMA-ES (Ros & Hansen 2008)`), seed, generations, candidates evaluated,
    /// seconds of search.
    pub optimizer: String,
    pub seed: u64,
    pub generations: u64,
    pub evaluations: usize,
    pub seconds: f64,
    /// Cosine of the fitted voice to the voice print of the training takes, and its WER on the
    /// fit sentences.
    pub similarity: f32,
    pub fit_wer: f64,
    /// The best stock pack and its cosine to the same print.
    pub best_stock: String,
    pub best_stock_similarity: f32,
    /// Ids of the takes held back from fitting (for the report).
    pub heldout_takes: Vec<String>,
    /// The stock packs the search mixed, best first (empty in records written before bases).
    #[serde(default)]
    pub basis: Vec<String>,
    /// The voice's speaking rate: the Kokoro `speed` it speaks at when asked for normal speed,
    /// chosen after the search (`ownvoice_voice::rate`); a request for speed `s` gives Kokoro
    /// `speed · s`. 1.0 in records written before the rate was chosen.
    #[serde(default = "normal_speed")]
    pub speed: f32,
}

/// Kokoro's normal speed, for records written before [`VoiceRecord::speed`].
fn normal_speed() -> f32 {
    1.0
}

/// What `ownvoice adapt` did: the held-back WER before and after, and whether the adapted model
/// was installed (only when it was better). The model itself is the blob `model_blob`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdaptationRecord {
    /// Base Whisper model (`tiny.en`, `base`).
    pub base_model: String,
    /// Unix time, seconds.
    pub at: u64,
    /// Takes the installed (or refused) model trained on.
    pub train_takes: usize,
    /// Takes the WER gate judged on: the held-back split, or with `cv_folds` every take.
    pub heldout_takes: usize,
    /// Folds of the cross-validated gate (0: one held-back split). With folds, each take is
    /// transcribed by a model trained on the other folds, and the WERs below are pooled over
    /// all takes.
    #[serde(default)]
    pub cv_folds: usize,
    /// WER (fraction) of the base and the adapted model on the held-back takes.
    pub heldout_wer_before: f64,
    pub heldout_wer_after: f64,
    /// Paired t statistic of the per-take reduction in word errors on the judged takes (mean
    /// over standard error; see the cli's `adapt_gate`). `None` when it is infinite (every take
    /// gained the same) or the record predates it.
    #[serde(default)]
    pub gate_t: Option<f64>,
    /// The minimum t the gate asked for (0 in records from before it asked any: fewer errors
    /// in all was enough).
    #[serde(default)]
    pub gate_min_t: f64,
    /// True when the adapted model is in the profile and used by `transcribe --person`.
    pub installed: bool,
    /// The blob holding the adapted ggml model, when installed.
    pub model_blob: Option<String>,
    pub rank: usize,
    pub alpha: f64,
    pub lr: f64,
    /// Encoder blocks adapted (the last ones; 0: decoder only).
    #[serde(default)]
    pub encoder_layers: usize,
    pub epochs: usize,
    pub steps: usize,
    pub train_seconds: f64,
}

/// Errors interpreting a decrypted container as a person profile.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("profile manifest is not valid: {0}")]
    Manifest(String),
    #[error("take {0}: audio blob {1} is missing or malformed")]
    Audio(String, String),
}

impl PersonProfile {
    /// A new, empty profile.
    pub fn new(person: &str, asr_model: &str, now: u64) -> PersonProfile {
        PersonProfile {
            schema: SCHEMA,
            person: person.into(),
            created_at: now,
            updated_at: now,
            written_by: format!("ownvoice {}", env!("CARGO_PKG_VERSION")),
            asr_model: asr_model.into(),
            takes: Vec::new(),
            challenges: Vec::new(),
            skipped_prompts: Vec::new(),
            speaker: None,
            adaptation: None,
            voice: None,
        }
    }

    /// Runs the same-speaker gate ([`crate::speaker_gate`]) over the accepted takes that have a
    /// d-vector: scores every one, rejects those flagged as another speaker (their audio is
    /// removed from `c`: nobody else's voice is kept) unless confirmed, and stores the voice print.
    /// Returns the ids of the takes rejected now.
    pub fn apply_speaker_gate(&mut self, c: &mut Container) -> Vec<String> {
        let idx: Vec<usize> = (0..self.takes.len())
            .filter(|&i| self.takes[i].quality.accepted && self.takes[i].dvector.is_some())
            .collect();
        let embeddings: Vec<Embedding> = idx
            .iter()
            .map(|&i| Embedding(self.takes[i].dvector.clone().expect("filtered")))
            .collect();
        let confirmed: Vec<bool> = idx
            .iter()
            .map(|&i| self.takes[i].speaker_confirmed)
            .collect();
        let r = gate(&embeddings, &confirmed, GATE_THRESHOLD);
        for (k, &i) in idx.iter().enumerate() {
            self.takes[i].speaker_score = Some(r.scores[k]);
        }
        let mut rejected = Vec::new();
        for &k in &r.flagged {
            let t = &mut self.takes[idx[k]];
            t.quality.accepted = false;
            t.quality.reasons.push(format!(
                "a different speaker? (voice score {:.2} against the other takes, below {GATE_THRESHOLD:.2}); enroll it again with --confirm-speaker {} if it is you",
                r.scores[k], t.source
            ));
            if let Some(blob) = t.audio_blob.take() {
                c.remove_blob(&blob);
            }
            t.dvector = None;
            rejected.push(t.id.clone());
        }
        self.speaker = r.print;
        rejected
    }

    /// Accepted takes.
    pub fn accepted(&self) -> impl Iterator<Item = &TakeRecord> {
        self.takes.iter().filter(|t| t.quality.accepted)
    }

    /// Seconds of accepted audio.
    pub fn accepted_seconds(&self) -> f64 {
        // `+ 0.0`: an empty f64 sum is -0.0, which prints as "-0.0".
        self.accepted().map(|t| t.quality.duration_s).sum::<f64>() + 0.0
    }

    /// The next free take id.
    pub fn next_id(&self) -> String {
        format!("{:04}", self.takes.len() + 1)
    }

    /// Reads the manifest of a decrypted container.
    ///
    /// # Errors
    /// [`ProfileError::Manifest`].
    pub fn from_container(c: &Container) -> Result<PersonProfile, ProfileError> {
        let p: PersonProfile = serde_json::from_slice(&c.manifest)
            .map_err(|e| ProfileError::Manifest(e.to_string()))?;
        if p.schema > SCHEMA {
            return Err(ProfileError::Manifest(format!(
                "schema {} is newer than {SCHEMA}",
                p.schema
            )));
        }
        Ok(p)
    }

    /// Writes this manifest into `c` (blobs are untouched).
    pub fn store_manifest(&self, c: &mut Container) {
        c.manifest = serde_json::to_vec(self).expect("profile manifest serialises");
    }

    /// Checks that every accepted take's audio is present and well-formed.
    ///
    /// # Errors
    /// [`ProfileError::Audio`] for the first take at fault.
    pub fn check_blobs(&self, c: &Container) -> Result<(), ProfileError> {
        for t in self.accepted() {
            let name = t.audio_blob.clone().unwrap_or_default();
            match c.blob(&name) {
                Some(b) if b.len() % 2 == 0 && !b.is_empty() => {}
                _ => return Err(ProfileError::Audio(t.id.clone(), name)),
            }
        }
        Ok(())
    }
}

/// Blob name of a take's audio.
pub fn take_blob_name(id: &str) -> String {
    format!("takes/{id}.pcm")
}

/// Encodes 16 kHz samples as 16-bit little-endian PCM.
pub fn encode_pcm16(samples: &[f32]) -> Vec<u8> {
    samples
        .iter()
        .flat_map(|&s| ownvoice_audio::write::f32_to_i16(s).to_le_bytes())
        .collect()
}

/// Decodes 16-bit little-endian PCM to samples in `[-1, 1)`.
pub fn decode_pcm16(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]) as f32 / 32768.0)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcm_round_trip() {
        let x = [0.0, 0.5, -0.5, 0.999];
        let y = decode_pcm16(&encode_pcm16(&x));
        for (a, b) in x.iter().zip(&y) {
            assert!((a - b).abs() < 1e-4);
        }
    }
}
