//! Scoring speaker verification and identification.
//!
//! - **EER** (equal error rate): the error rate at the threshold where the false-acceptance rate
//!   (different-speaker pairs scored at or above it) equals the false-rejection rate
//!   (same-speaker pairs below it).
//! - **minDCF**: the minimum over thresholds of the normalised detection cost
//!   `(C_miss·P_miss·P_target + C_fa·P_fa·(1 − P_target)) / min(C_miss·P_target, C_fa·(1 − P_target))`
//!   with `C_miss = C_fa = 1` and `P_target = 0.01` (NIST SRE 2008–2012 evaluation plans;
//!   VoxCeleb reports it the same way).
//! - **Identification accuracy**: each speaker enrolled by the mean d-vector of k utterances,
//!   every other utterance assigned to the nearest speaker by cosine.

use crate::Embedding;

/// `P_target` of [`min_dcf`].
pub const P_TARGET: f64 = 0.01;

/// One threshold's error rates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Operating {
    /// Score threshold: accept when `score >= threshold`.
    pub threshold: f32,
    /// False-acceptance rate, fraction of different-speaker pairs accepted.
    pub far: f64,
    /// False-rejection rate, fraction of same-speaker pairs rejected.
    pub frr: f64,
}

/// Error rates at every distinct threshold, from the lowest score up (`far` falls, `frr` rises).
fn sweep(same: &[f32], different: &[f32]) -> Vec<Operating> {
    let mut all: Vec<(f32, bool)> = same
        .iter()
        .map(|&s| (s, true))
        .chain(different.iter().map(|&s| (s, false)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (ns, nd) = (same.len() as f64, different.len() as f64);
    let mut out = Vec::with_capacity(all.len() + 1);
    let (mut rejected_same, mut rejected_diff) = (0usize, 0usize);
    let mut i = 0;
    while i <= all.len() {
        let threshold = if i < all.len() {
            all[i].0
        } else {
            f32::INFINITY
        };
        out.push(Operating {
            threshold,
            far: (nd - rejected_diff as f64) / nd,
            frr: rejected_same as f64 / ns,
        });
        // Move past every score equal to this threshold.
        let mut j = i;
        while j < all.len() && all[j].0 == threshold {
            if all[j].1 {
                rejected_same += 1;
            } else {
                rejected_diff += 1;
            }
            j += 1;
        }
        i = if j == i { all.len() + 1 } else { j };
    }
    out
}

/// The equal error rate and its operating point: where `|FAR − FRR|` is smallest, the EER being
/// their mean there.
///
/// # Panics
/// When either list is empty.
pub fn eer(same: &[f32], different: &[f32]) -> (f64, Operating) {
    assert!(
        !same.is_empty() && !different.is_empty(),
        "EER needs both kinds of pairs"
    );
    let best = sweep(same, different)
        .into_iter()
        .min_by(|a, b| (a.far - a.frr).abs().total_cmp(&(b.far - b.frr).abs()))
        .expect("at least one threshold");
    ((best.far + best.frr) / 2.0, best)
}

/// The minimum normalised detection cost at [`P_TARGET`] (see the module documentation).
///
/// # Panics
/// When either list is empty.
pub fn min_dcf(same: &[f32], different: &[f32]) -> f64 {
    assert!(
        !same.is_empty() && !different.is_empty(),
        "minDCF needs both kinds of pairs"
    );
    let norm = P_TARGET.min(1.0 - P_TARGET);
    sweep(same, different)
        .into_iter()
        .map(|o| (o.frr * P_TARGET + o.far * (1.0 - P_TARGET)) / norm)
        .fold(f64::INFINITY, f64::min)
}

/// Identification accuracy with `k` enrollment utterances per speaker.
///
/// `speakers[s]` holds speaker `s`'s utterance embeddings in a fixed order; the first `k` enroll
/// the speaker, the rest are tested against all speakers' centroids. Speakers with `k` or fewer
/// utterances enroll but contribute no test. Returns `(correct, tested)`.
pub fn identification(speakers: &[Vec<Embedding>], k: usize) -> (usize, usize) {
    let centroids: Vec<Embedding> = speakers
        .iter()
        .map(|u| Embedding::mean(&u[..k.min(u.len())]))
        .collect();
    let (mut correct, mut tested) = (0, 0);
    for (s, utts) in speakers.iter().enumerate() {
        for e in utts.iter().skip(k) {
            let best = centroids
                .iter()
                .enumerate()
                .max_by(|a, b| e.cosine(a.1).total_cmp(&e.cosine(b.1)))
                .map(|(i, _)| i);
            tested += 1;
            correct += usize::from(best == Some(s));
        }
    }
    (correct, tested)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separable_scores_have_zero_eer_and_min_dcf() {
        let (e, op) = eer(&[0.9, 0.8, 0.85], &[0.1, 0.2, 0.3]);
        assert_eq!(e, 0.0);
        assert!(op.threshold > 0.3 && op.threshold <= 0.8);
        assert_eq!(min_dcf(&[0.9, 0.8], &[0.1, 0.2]), 0.0);
    }

    #[test]
    fn overlapping_scores() {
        // same: 0.2 0.6 0.7 0.9 ; different: 0.1 0.3 0.5 0.8 -> at t=0.6: FRR 1/4, FAR 1/4.
        let (e, op) = eer(&[0.2, 0.6, 0.7, 0.9], &[0.1, 0.3, 0.5, 0.8]);
        assert!((e - 0.25).abs() < 1e-9, "{e} {op:?}");
        // Identical score lists: the best threshold errs on half or more.
        let (e, _) = eer(&[0.5, 0.5], &[0.5, 0.5]);
        assert!(e >= 0.5);
        let d = min_dcf(&[0.2, 0.6, 0.7, 0.9], &[0.1, 0.3, 0.5, 0.8]);
        assert!(d > 0.0 && d <= 1.0 + 1e-9, "{d}");
    }

    #[test]
    fn identification_counts() {
        let e = |x: f32, y: f32| Embedding(vec![x, y]);
        let speakers = vec![
            vec![e(1.0, 0.0), e(0.9, 0.1), e(0.95, 0.05)],
            vec![e(0.0, 1.0), e(0.1, 0.9), e(0.8, 0.2)],
        ];
        assert_eq!(identification(&speakers, 1), (3, 4));
    }
}
