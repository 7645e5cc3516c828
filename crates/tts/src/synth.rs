//! One trait for every voice (a Piper voice, a Kokoro style pack, a person's fitted Kokoro
//! voice), so `speak`, the service and voice fitting treat them alike.

use std::ops::RangeInclusive;
use std::sync::{Arc, Mutex};

use crate::kokoro::{Kokoro, StylePack};
use crate::{PiperVoice, SynthOptions, TtsError};

/// The speed factors synthesis takes: a quarter to four times the normal rate. It is the
/// range of the `speed` parameter of OpenAI's `/v1/audio/speech`, which the service serves;
/// `speak --speed`, the service and a fitted voice's rates are checked against it, and the
/// voices clamp to it.
pub const SPEED_RANGE: RangeInclusive<f32> = 0.25..=4.0;

/// What is wrong with `speed` when it lies outside [`SPEED_RANGE`] (e.g. "5 is outside
/// 0.25–4"); `None` when it lies within. NaN lies outside.
pub fn speed_out_of_range(speed: f32) -> Option<String> {
    (!SPEED_RANGE.contains(&speed)).then(|| {
        format!(
            "{speed} is outside {}–{}",
            SPEED_RANGE.start(),
            SPEED_RANGE.end()
        )
    })
}

/// `speed` within [`SPEED_RANGE`].
fn clamp_speed(speed: f32) -> f32 {
    speed.clamp(*SPEED_RANGE.start(), *SPEED_RANGE.end())
}

/// A text-to-speech voice that synthesises sentence by sentence.
pub trait Synthesizer: Send {
    /// Output sample rate in Hz.
    fn sample_rate(&self) -> u32;
    /// Splits `text` into the units [`Synthesizer::synthesize_unit`] takes (sentences; for
    /// espeak-ng based voices, their phoneme strings).
    ///
    /// # Errors
    /// [`TtsError::Espeak`].
    fn sentences(&mut self, text: &str) -> Result<Vec<String>, TtsError>;
    /// Synthesises one unit at `speed` (1.0 normal, 2.0 twice as fast) to samples at
    /// [`Synthesizer::sample_rate`].
    ///
    /// # Errors
    /// Inference errors.
    fn synthesize_unit(&mut self, unit: &str, speed: f32) -> Result<Vec<f32>, TtsError>;
}

impl Synthesizer for PiperVoice {
    fn sample_rate(&self) -> u32 {
        PiperVoice::sample_rate(self)
    }

    fn sentences(&mut self, text: &str) -> Result<Vec<String>, TtsError> {
        PiperVoice::sentences(self, text)
    }

    fn synthesize_unit(&mut self, unit: &str, speed: f32) -> Result<Vec<f32>, TtsError> {
        let opts = SynthOptions {
            // Piper's length scale is a duration multiplier: speed 2 halves it.
            length_scale: Some(1.0 / clamp_speed(speed)),
            ..SynthOptions::default()
        };
        self.synthesize_phonemes(unit, &opts)
    }
}

/// A Kokoro voice: the shared model and a style pack.
pub struct KokoroVoice {
    /// The model, shared between voices (one ONNX session, ~300 MB).
    pub model: Arc<Mutex<Kokoro>>,
    /// The voice's style pack.
    pub pack: StylePack,
    /// The voice's own speaking rate, a Kokoro `speed` factor (1.0 for the stock packs; a
    /// fitted voice's rate is chosen with it): a request for speed `s` gives Kokoro `rate · s`.
    pub rate: f32,
}

impl Synthesizer for KokoroVoice {
    fn sample_rate(&self) -> u32 {
        crate::kokoro::SAMPLE_RATE
    }

    fn sentences(&mut self, text: &str) -> Result<Vec<String>, TtsError> {
        self.model
            .lock()
            .map_err(|_| TtsError::Espeak("Kokoro model lock poisoned".into()))?
            .sentences(text)
    }

    fn synthesize_unit(&mut self, unit: &str, speed: f32) -> Result<Vec<f32>, TtsError> {
        self.model
            .lock()
            .map_err(|_| TtsError::Espeak("Kokoro model lock poisoned".into()))?
            .synthesize_pack(unit, &self.pack, clamp_speed(self.rate * speed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speeds_outside_the_range_are_named_with_its_ends() {
        assert_eq!(speed_out_of_range(0.25), None);
        assert_eq!(speed_out_of_range(4.0), None);
        assert_eq!(
            speed_out_of_range(5.0).as_deref(),
            Some("5 is outside 0.25–4")
        );
        assert_eq!(
            speed_out_of_range(0.1).as_deref(),
            Some("0.1 is outside 0.25–4")
        );
        assert!(speed_out_of_range(f32::NAN).is_some());
    }
}
