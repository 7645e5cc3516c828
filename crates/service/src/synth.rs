//! The voices the service speaks with, behind one trait so stock Piper voices and a person's
//! fitted voice are served the same way.

use ownvoice_tts::{PiperVoice, SynthOptions, TtsError};

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
            length_scale: Some(1.0 / speed.clamp(0.25, 4.0)),
            ..SynthOptions::default()
        };
        self.synthesize_phonemes(unit, &opts)
    }
}
