//! Level statistics of a signal: peak and RMS in dBFS, clipping.

/// A sample whose magnitude reaches this is counted as clipped (full scale is 1.0; 16-bit full scale
/// is 32767/32768 = 0.99997).
pub const CLIP_LEVEL: f32 = 0.999;

/// Level figures of a mono signal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Levels {
    /// Peak magnitude in dBFS (0 dBFS = full scale; `-inf` for digital silence).
    pub peak_dbfs: f32,
    /// Root-mean-square level in dBFS.
    pub rms_dbfs: f32,
    /// Fraction of samples at or above [`CLIP_LEVEL`], in `[0, 1]`.
    pub clipped_fraction: f32,
}

/// Converts a linear amplitude to dBFS (`20 log10(x)`), with `-inf` for 0.
pub fn to_dbfs(x: f32) -> f32 {
    if x <= 0.0 {
        f32::NEG_INFINITY
    } else {
        20.0 * x.log10()
    }
}

impl Levels {
    /// Measures `samples` (any rate).
    pub fn measure(samples: &[f32]) -> Levels {
        if samples.is_empty() {
            return Levels {
                peak_dbfs: f32::NEG_INFINITY,
                rms_dbfs: f32::NEG_INFINITY,
                clipped_fraction: 0.0,
            };
        }
        let mut peak = 0.0f32;
        let mut sum_sq = 0.0f64;
        let mut clipped = 0usize;
        for &s in samples {
            let a = s.abs();
            peak = peak.max(a);
            sum_sq += (s as f64) * (s as f64);
            if a >= CLIP_LEVEL {
                clipped += 1;
            }
        }
        Levels {
            peak_dbfs: to_dbfs(peak),
            rms_dbfs: to_dbfs((sum_sq / samples.len() as f64).sqrt() as f32),
            clipped_fraction: clipped as f32 / samples.len() as f32,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_scale_square_wave() {
        let x: Vec<f32> = (0..1000)
            .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        let l = Levels::measure(&x);
        assert!(l.peak_dbfs.abs() < 1e-4);
        assert!(l.rms_dbfs.abs() < 1e-4);
        assert_eq!(l.clipped_fraction, 1.0);
    }

    #[test]
    fn half_scale_sine_rms_is_minus_9_dbfs() {
        let x: Vec<f32> = (0..16000).map(|i| 0.5 * (i as f32 * 0.1).sin()).collect();
        let l = Levels::measure(&x);
        // RMS of a sine of amplitude 0.5 is 0.5/sqrt(2): -9.03 dBFS.
        assert!((l.rms_dbfs + 9.03).abs() < 0.05, "{}", l.rms_dbfs);
        assert_eq!(l.clipped_fraction, 0.0);
    }
}
