//! Piper VITS voices (rhasspy/piper) on the ONNX Runtime layer.
//!
//! A voice is `NAME.onnx` plus `NAME.onnx.json` (sample rate, espeak-ng voice, inference scales,
//! `phoneme_id_map`). Model signature: `input` i64 `[1, T]` phoneme ids, `input_lengths` i64 `[1]`,
//! `scales` f32 `[3]` = `[noise_scale, length_scale, noise_w]`; output `output` f32 `[1, 1, 1, N]`
//! samples at the voice's rate. Ids follow piper-phonemize: `^`, pad, then each phoneme followed by
//! pad `_`, then `$`.

use std::collections::HashMap;
use std::path::Path;

use ort::session::Session;
use ort::value::Tensor;
use serde::Deserialize;

use crate::{phonemize, TtsError};

#[derive(Debug, Deserialize)]
struct VoiceConfig {
    audio: AudioConfig,
    espeak: EspeakConfig,
    inference: InferenceConfig,
    phoneme_id_map: HashMap<String, Vec<i64>>,
}

#[derive(Debug, Deserialize)]
struct AudioConfig {
    sample_rate: u32,
}

#[derive(Debug, Deserialize)]
struct EspeakConfig {
    voice: String,
}

#[derive(Debug, Deserialize)]
struct InferenceConfig {
    noise_scale: f32,
    length_scale: f32,
    noise_w: f32,
}

/// Synthesis controls; `None` takes the voice's own default from its `.onnx.json`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SynthOptions {
    /// Phoneme duration multiplier: > 1 speaks slower.
    pub length_scale: Option<f32>,
    /// Generator noise (variation in timbre and intonation).
    pub noise_scale: Option<f32>,
    /// Duration-predictor noise (variation in rhythm).
    pub noise_w: Option<f32>,
}

/// A loaded Piper voice.
pub struct PiperVoice {
    session: Session,
    sample_rate: u32,
    espeak_voice: String,
    defaults: InferenceConfig,
    ids: HashMap<char, Vec<i64>>,
}

impl PiperVoice {
    /// Loads `model` and its `model.json` config (`NAME.onnx.json`).
    ///
    /// # Errors
    /// [`TtsError::Config`] for a missing or malformed config, [`TtsError::Onnx`] for the model.
    pub fn load(model: &Path, config: &Path, threads: usize) -> Result<Self, TtsError> {
        let cfg_err = |detail: String| TtsError::Config {
            path: config.display().to_string(),
            detail,
        };
        let text = std::fs::read_to_string(config).map_err(|e| cfg_err(e.to_string()))?;
        let cfg: VoiceConfig = serde_json::from_str(&text).map_err(|e| cfg_err(e.to_string()))?;
        let mut ids = HashMap::new();
        for (k, v) in cfg.phoneme_id_map {
            let mut chars = k.chars();
            if let (Some(c), None) = (chars.next(), chars.next()) {
                ids.insert(c, v);
            }
        }
        for needed in ['^', '$', '_'] {
            if !ids.contains_key(&needed) {
                return Err(cfg_err(format!("phoneme_id_map lacks {needed:?}")));
            }
        }
        Ok(PiperVoice {
            session: ownvoice_onnx::session_from_file(model, threads)?,
            sample_rate: cfg.audio.sample_rate,
            espeak_voice: cfg.espeak.voice,
            defaults: cfg.inference,
            ids,
        })
    }

    /// Output sample rate in Hz.
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// Phoneme ids of one sentence's phoneme string; characters the voice lacks are skipped.
    pub fn phoneme_ids(&self, phonemes: &str) -> Vec<i64> {
        let pad = &self.ids[&'_'];
        let mut out = self.ids[&'^'].clone();
        out.extend_from_slice(pad);
        for c in phonemes.chars() {
            if let Some(id) = self.ids.get(&c) {
                out.extend_from_slice(id);
                out.extend_from_slice(pad);
            }
        }
        out.extend_from_slice(&self.ids[&'$']);
        out
    }

    /// Phonemises `text` into sentences (see [`phonemize::ipa`]).
    ///
    /// # Errors
    /// [`TtsError::Espeak`].
    pub fn sentences(&self, text: &str) -> Result<Vec<String>, TtsError> {
        phonemize::ipa(text, &self.espeak_voice)
    }

    /// Synthesises one sentence's phoneme string to samples at [`Self::sample_rate`].
    ///
    /// # Errors
    /// [`TtsError::Onnx`].
    pub fn synthesize_phonemes(
        &mut self,
        phonemes: &str,
        opts: &SynthOptions,
    ) -> Result<Vec<f32>, TtsError> {
        let ids = self.phoneme_ids(phonemes);
        let n = ids.len();
        let scales = vec![
            opts.noise_scale.unwrap_or(self.defaults.noise_scale),
            opts.length_scale.unwrap_or(self.defaults.length_scale),
            opts.noise_w.unwrap_or(self.defaults.noise_w),
        ];
        let run = |s: &mut Session| -> Result<Vec<f32>, ort::Error> {
            let outputs = s.run(ort::inputs![
                "input" => Tensor::from_array(([1usize, n], ids.clone()))?,
                "input_lengths" => Tensor::from_array(([1usize], vec![n as i64]))?,
                "scales" => Tensor::from_array(([3usize], scales.clone()))?,
            ])?;
            let (_, audio) = outputs["output"].try_extract_tensor::<f32>()?;
            Ok(audio.iter().map(|x| x.clamp(-1.0, 1.0)).collect())
        };
        run(&mut self.session).map_err(|e| TtsError::Onnx(e.into()))
    }

    /// Synthesises `text` sentence by sentence, calling `sink` with each sentence's samples as soon
    /// as it is ready (for streaming and progress).
    ///
    /// # Errors
    /// [`TtsError::EmptyText`] when there is nothing to say; espeak-ng and inference errors.
    pub fn synthesize_streaming(
        &mut self,
        text: &str,
        opts: &SynthOptions,
        mut sink: impl FnMut(usize, usize, &[f32]),
    ) -> Result<(), TtsError> {
        let sentences = self.sentences(text)?;
        if sentences.is_empty() {
            return Err(TtsError::EmptyText);
        }
        let total = sentences.len();
        for (i, s) in sentences.iter().enumerate() {
            let audio = self.synthesize_phonemes(s, opts)?;
            sink(i, total, &audio);
        }
        Ok(())
    }

    /// Synthesises `text` to one signal at [`Self::sample_rate`].
    ///
    /// # Errors
    /// As [`Self::synthesize_streaming`].
    pub fn synthesize(&mut self, text: &str, opts: &SynthOptions) -> Result<Vec<f32>, TtsError> {
        let mut all = Vec::new();
        self.synthesize_streaming(text, opts, |_, _, a| all.extend_from_slice(a))?;
        Ok(all)
    }
}
