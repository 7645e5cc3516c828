//! The WER gate of `ownvoice adapt`: is the adapted model better than the base model on takes
//! it never trained on, by more than chance?
//!
//! A pooled WER that went down is not enough on a small enrollment. Stop 18 ran issue 6's
//! unseen-take protocol (speechocean762, 20 speakers × 4 folds of 15 enrolled takes): the gate
//! "pooled cross-validated WER improved" installed 37 models of 80, and 6 speakers ended up
//! worse on their unseen takes (up to +28.6 % relative), because 15 takes of about 7 words give
//! too few errors to tell a real gain from noise.
//!
//! So the gate can also ask the gain to be consistent over the judged takes. Per take i, the
//! reduction in word errors is dᵢ = errors_base(i) − errors_adapted(i); the gate computes the
//! one-sided paired t statistic t = mean(d) / (sd(d) / √n) (Student 1908; sd with n − 1) and
//! installs only when the pooled errors went down **and** t ≥ the asked minimum
//! (`adapt --gate-t`). A minimum of 0 is the plain "pooled WER improved" gate.
//!
//! The default stays 0 ([`DEFAULT_MIN_T`]) until the data says otherwise. Stop 19 replayed
//! fold 0 of the protocol (`tools/adapt_speechocean_unseen.sh` with `--gate-t 0`, then
//! `tools/adapt_summary.py --unseen DIR 1`): t ≥ 1 would have refused 4 of the 8 models
//! installed, among them the two largest gains on the unseen takes, so762_1372 (t 0.40;
//! 14.3 → 5.7 % WER) and so762_0960 (t 0.36; 74.3 → 42.9 %), and no speaker on that fold got
//! worse to make up for it (mean change −9.0 % at t ≥ 0, −2.8 % at t ≥ 1). And the one
//! fold behind stop 18's worst speaker (so762_2059, fold 2) passed with t 1.29, then took the
//! unseen takes from 7.1 to 21.4 % WER. The cross-validated gain of 3 models trained on 10
//! takes each predicts the 15-take model's gain only loosely. Note that a gain on exactly one
//! take, all others unchanged, gives t = 1 whatever its size.

use ownvoice_asr::wer::WordErrors;
use ownvoice_enroll::AdaptationRecord;

use crate::adapt_run::pooled;

/// Default minimum paired t statistic: 0, any pooled gain (see the module doc for why; 1, the
/// mean gain one standard error above zero, would refuse a gain resting on one take).
pub const DEFAULT_MIN_T: f64 = 0.0;

/// What the gate found, over the takes it judged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verdict {
    /// Base model's errors and reference words, pooled over the judged takes.
    pub before: WordErrors,
    /// Adapted model's (each take transcribed by a model that never trained on it).
    pub after: WordErrors,
    /// Paired t statistic of the per-take error reduction: +∞ when every take gained the same
    /// positive amount, 0 when nothing changed or there is no take.
    pub t: f64,
    /// Install: fewer pooled errors and `t` at least the minimum asked.
    pub install: bool,
}

/// Judges `pairs`, one `(base, adapted)` per judged take, against a minimum t of `min_t`.
pub fn judge(pairs: &[(WordErrors, WordErrors)], min_t: f64) -> Verdict {
    let before = pooled(pairs.iter().map(|p| p.0));
    let after = pooled(pairs.iter().map(|p| p.1));
    let t = paired_t(pairs);
    Verdict {
        before,
        after,
        t,
        install: after.errors < before.errors && t >= min_t,
    }
}

/// The gate's decision in words, with its t statistic: "installed (paired t 2.30)", "not
/// installed: no better", or why fewer errors in all were not enough.
pub fn outcome(r: &AdaptationRecord) -> String {
    let t = r.gate_t.map_or("∞".to_string(), |t| format!("{t:.2}"));
    if r.installed {
        format!("installed (paired t {t})")
    } else if r.heldout_wer_after < r.heldout_wer_before {
        format!(
            "not installed: fewer errors, but not consistently over the takes (paired t {t} < {:.2})",
            r.gate_min_t
        )
    } else {
        "not installed: no better".to_string()
    }
}

/// The paired t statistic of dᵢ = base errors − adapted errors.
fn paired_t(pairs: &[(WordErrors, WordErrors)]) -> f64 {
    let d: Vec<f64> = pairs
        .iter()
        .map(|(b, a)| b.errors as f64 - a.errors as f64)
        .collect();
    let n = d.len() as f64;
    if d.is_empty() {
        return 0.0;
    }
    let mean = d.iter().sum::<f64>() / n;
    let var = if d.len() > 1 {
        d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    if var == 0.0 {
        return if mean > 0.0 { f64::INFINITY } else { 0.0 };
    }
    mean / (var / n).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn take(base: usize, adapted: usize) -> (WordErrors, WordErrors) {
        let e = |errors| WordErrors {
            errors,
            reference_words: 7,
        };
        (e(base), e(adapted))
    }

    #[test]
    fn a_gain_resting_on_one_take_is_refused_a_consistent_one_installed() {
        // 2 errors fewer in total, all of it from one take of 15, another take got worse.
        let mut lucky = vec![take(1, 1); 13];
        lucky.push(take(4, 1));
        lucky.push(take(0, 1));
        let v = judge(&lucky, 1.0);
        assert!(v.after.errors < v.before.errors, "{v:?}");
        assert!(v.t < 1.0 && !v.install, "{v:?}");
        assert!(judge(&lucky, 0.0).install, "min 0 is the plain pooled gate");

        // 4 errors fewer, spread over 4 takes, and nothing worse.
        let mut steady = vec![take(1, 1); 10];
        steady.extend(vec![
            take(2, 1),
            take(1, 0),
            take(3, 2),
            take(1, 0),
            take(0, 0),
        ]);
        let v = judge(&steady, 1.0);
        assert_eq!((v.before.errors, v.after.errors), (17, 13), "{v:?}");
        assert!(v.t > 1.0 && v.install, "{v:?}");
    }

    #[test]
    fn worse_or_unchanged_is_never_installed() {
        let worse = vec![take(1, 2), take(2, 3), take(0, 0)];
        let v = judge(&worse, 0.0);
        assert!(v.t < 0.0 && !v.install, "{v:?}");
        let same = vec![take(2, 2), take(1, 1)];
        let v = judge(&same, 0.0);
        assert_eq!(v.t, 0.0);
        assert!(!v.install, "no gain, even at min 0: {v:?}");
        assert!(!judge(&[], 0.0).install);
    }

    #[test]
    fn identical_gains_on_every_take_have_infinite_t() {
        let v = judge(&[take(2, 1), take(3, 2)], 100.0);
        assert!(v.t.is_infinite() && v.install, "{v:?}");
    }

    #[test]
    fn t_matches_a_hand_computation() {
        // d = [1, 0, 2, -1]: mean 0.5, sd √(5/3), t = 0.5 / (√(5/3) / 2) = 0.7746.
        let v = judge(&[take(2, 1), take(1, 1), take(3, 1), take(0, 1)], 0.0);
        assert!((v.t - 0.774_596_7).abs() < 1e-6, "{v:?}");
    }
}
