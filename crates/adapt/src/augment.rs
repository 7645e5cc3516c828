//! Speed perturbation (Ko, Peddinti, Povey & Khudanpur 2015, "Audio augmentation for speech
//! recognition", Interspeech; Kaldi's `perturb_data_dir_speed.sh`): a take played faster or
//! slower, tempo and pitch changing together, as if its 16 kHz samples had been recorded at
//! `16 000 × factor` Hz. A person enrolls a few minutes; copies at 0.9 and 1.1 give the
//! adaptation more varied audio of the same voice and words, so it learns the voice more than
//! the exact recordings.

use ownvoice_audio::resample::resample;
use ownvoice_audio::{AudioError, SPEECH_SAMPLE_RATE as SAMPLE_RATE};

/// `samples` (16 kHz) sped up by `factor` (> 1 faster and higher, < 1 slower and lower): the
/// output has about `len / factor` samples. Factor 1 returns the input unchanged.
///
/// # Errors
/// [`AudioError::Resample`] for a factor that is not positive and finite.
pub fn speed(samples: &[f32], factor: f64) -> Result<Vec<f32>, AudioError> {
    if factor == 1.0 {
        return Ok(samples.to_vec());
    }
    let as_if = (f64::from(SAMPLE_RATE) * factor).round();
    if !(as_if >= 1.0 && as_if < f64::from(u32::MAX)) {
        return Err(AudioError::Resample {
            from_hz: 0,
            to_hz: SAMPLE_RATE,
            detail: format!("speed factor {factor} is not a positive finite number"),
        });
    }
    resample(samples, as_if as u32, SAMPLE_RATE)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 200 Hz tone sped up by 1.1 lasts 1/1.1 as long and sounds at 220 Hz.
    #[test]
    fn faster_is_shorter_and_higher() {
        let tone: Vec<f32> = (0..16_000)
            .map(|i| (2.0 * std::f32::consts::PI * 200.0 * i as f32 / 16_000.0).sin())
            .collect();
        let fast = speed(&tone, 1.1).unwrap();
        assert!(
            (fast.len() as f64 - 16_000.0 / 1.1).abs() <= 2.0,
            "{}",
            fast.len()
        );
        // Rising zero crossings in the middle second's worth: 220 per second.
        let mid = &fast[1_000..fast.len() - 1_000];
        let crossings = mid.windows(2).filter(|w| w[0] < 0.0 && w[1] >= 0.0).count();
        let expected = 220.0 * mid.len() as f64 / 16_000.0;
        assert!(
            (crossings as f64 - expected).abs() <= 2.0,
            "{crossings} vs {expected}"
        );
        assert_eq!(speed(&tone, 1.0).unwrap(), tone);
        assert!(speed(&tone, 0.0).is_err());
        assert!(speed(&tone, f64::NAN).is_err());
    }
}
