//! Fundamental frequency (F0) by YIN (de Cheveigné & Kawahara, "YIN, a fundamental frequency
//! estimator for speech and music", JASA 111(4), 2002): the cumulative mean normalised
//! difference function, the first dip under an absolute threshold, parabolic interpolation.
//!
//! Used to compare a fitted voice's pitch with the person's real takes (`ownvoice voice report`).

/// YIN settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct YinConfig {
    /// Sample rate of the input, Hz.
    pub sample_rate: u32,
    /// Lowest F0 searched, Hz (default 60).
    pub fmin: f32,
    /// Highest F0 searched, Hz (default 400).
    pub fmax: f32,
    /// Frame length, samples (default 1024 at 16 kHz: 64 ms, two periods of 31 Hz).
    pub frame: usize,
    /// Hop between frames, samples (default 160: 10 ms at 16 kHz).
    pub hop: usize,
    /// Absolute threshold on the normalised difference (the paper's 0.1; 0.15 is librosa's).
    pub threshold: f32,
}

impl Default for YinConfig {
    fn default() -> Self {
        YinConfig {
            sample_rate: 16_000,
            fmin: 60.0,
            fmax: 400.0,
            frame: 1024,
            hop: 160,
            threshold: 0.15,
        }
    }
}

/// F0 per frame in Hz; `None` for unvoiced frames (no dip under the threshold, or a silent
/// frame).
pub fn yin(samples: &[f32], cfg: &YinConfig) -> Vec<Option<f32>> {
    let sr = cfg.sample_rate as f32;
    let tau_min = (sr / cfg.fmax).floor().max(2.0) as usize;
    let tau_max = ((sr / cfg.fmin).ceil() as usize).min(cfg.frame / 2);
    let w = cfg.frame - tau_max;
    let mut out = Vec::new();
    let mut d = vec![0f32; tau_max + 1];
    let mut start = 0;
    while start + cfg.frame <= samples.len() {
        let x = &samples[start..start + cfg.frame];
        let energy: f32 = x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32;
        if energy < 1e-6 {
            out.push(None);
            start += cfg.hop;
            continue;
        }
        // Difference function (eq. 6) and its cumulative mean normalisation (eq. 8).
        for (tau, dt) in d.iter_mut().enumerate().skip(1) {
            *dt = (0..w).map(|j| (x[j] - x[j + tau]).powi(2)).sum();
        }
        let mut running = 0f32;
        let mut cmnd = vec![1f32; tau_max + 1];
        for tau in 1..=tau_max {
            running += d[tau];
            cmnd[tau] = if running > 0.0 {
                d[tau] * tau as f32 / running
            } else {
                1.0
            };
        }
        // Step 4: the first tau under the threshold, then down to its local minimum.
        let mut found = None;
        let mut tau = tau_min;
        while tau < tau_max {
            if cmnd[tau] < cfg.threshold {
                while tau + 1 < tau_max && cmnd[tau + 1] < cmnd[tau] {
                    tau += 1;
                }
                found = Some(tau);
                break;
            }
            tau += 1;
        }
        out.push(found.map(|t| {
            // Step 5: parabolic interpolation around the minimum.
            let (a, b, c) = (cmnd[t - 1], cmnd[t], cmnd[(t + 1).min(tau_max)]);
            let denom = a - 2.0 * b + c;
            let shift = if denom.abs() > 1e-12 {
                0.5 * (a - c) / denom
            } else {
                0.0
            };
            sr / (t as f32 + shift.clamp(-1.0, 1.0))
        }));
        start += cfg.hop;
    }
    out
}

/// Summary of the voiced frames: `(mean Hz, 5th percentile Hz, 95th percentile Hz, voiced
/// share)`; `None` when no frame is voiced.
pub fn summary(f0: &[Option<f32>]) -> Option<(f32, f32, f32, f32)> {
    let mut v: Vec<f32> = f0.iter().flatten().copied().collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f32::total_cmp);
    let pct = |p: f32| v[((v.len() - 1) as f32 * p).round() as usize];
    let mean = v.iter().sum::<f32>() / v.len() as f32;
    Some((mean, pct(0.05), pct(0.95), v.len() as f32 / f0.len() as f32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_pitch_of_a_harmonic_tone() {
        for f in [90.0f32, 150.0, 220.0, 310.0] {
            let x: Vec<f32> = (0..16_000)
                .map(|i| {
                    let t = i as f32 / 16_000.0;
                    let w = 2.0 * std::f32::consts::PI * f * t;
                    0.5 * w.sin() + 0.3 * (2.0 * w).sin() + 0.1 * (3.0 * w).sin()
                })
                .collect();
            let (mean, lo, hi, voiced) = summary(&yin(&x, &YinConfig::default())).unwrap();
            assert!((mean - f).abs() < f * 0.01, "{f} Hz estimated as {mean}");
            assert!(hi - lo < f * 0.02);
            assert!(voiced > 0.95);
        }
    }

    #[test]
    fn silence_and_noise_are_unvoiced() {
        assert!(summary(&yin(&[0.0; 8000], &YinConfig::default())).is_none());
        let mut s = 12345u32;
        let noise: Vec<f32> = (0..16_000)
            .map(|_| {
                s = s.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                (s >> 8) as f32 / (1u32 << 24) as f32 - 0.5
            })
            .collect();
        let f0 = yin(&noise, &YinConfig::default());
        let voiced = f0.iter().flatten().count() as f32 / f0.len() as f32;
        assert!(voiced < 0.2, "noise voiced in {voiced} of frames");
    }
}
