//! How `ownvoice adapt` trains and judges, chosen from the size of the enrollment.
//!
//! - **Held-back split** (large enrollments, Cathy's 399 takes): about 15 % of the takes are held
//!   back; the run early-stops on their loss and the WER gate compares the base and the adapted
//!   model on them. 3 epochs, batch 4, lr 5e-4, 10 warm-up steps.
//! - **Cross-validation** (small enrollments, a speechocean762 speaker's 15 takes): a held-back
//!   split of 2 takes (about 14 words) is too few words to judge by, and early stopping on them
//!   ended most runs within a few epochs (stop 16: −3 % pooled WER on never-seen takes, against
//!   −11 % for a fixed 10 epochs). So the takes are split into [`CV_FOLDS`] folds; one model per
//!   fold trains on the others for a fixed number of epochs and transcribes its fold, so every
//!   take is judged once, by a model that never saw it. When the pooled WER of those models
//!   beats the base model's, one more model trains on all the takes with the same settings and
//!   is installed. Batch 2, lr 1e-3, 5 warm-up steps, epochs so that a run takes about 75 steps
//!   (3 to 10).
//!
//! Cross-validation is used when the held-back split would hold fewer than
//! [`CV_BELOW_WORDS`] reference words.

/// Folds of the cross-validated gate.
pub const CV_FOLDS: usize = 3;

/// Below this many reference words in the held-back split, the gate cross-validates instead.
pub const CV_BELOW_WORDS: usize = 100;

/// Encoder blocks adapted by default (`adapt --encoder-layers`): the last 2, besides the
/// decoder's attention.
///
/// An accent is acoustic: speechocean762's Mandarin-L1 speakers lose words to epenthetic vowels
/// ("more of us" heard as "moreover") and to vowel and final-consonant changes, which a decoder
/// adapter over a frozen encoder cannot hear differently. Stop 33 measured, with
/// `tools/adapt_speechocean_unseen.sh` (so762_0560, fold 0: 13 takes enrolled, 5 never seen):
/// decoder only, the cross-validated gate saw 48.4 → 49.5 % and kept the base model (unseen
/// takes 57.1 %); with 2 encoder blocks it saw 48.4 → 36.8 %, installed, and the unseen takes
/// went from 57.1 to 14.3 % WER (−75 %). Over all 20 speakers, fold 0 of
/// `tools/adapt_speechocean.sh` with `--encoder-layers 2` (15 takes train, the 5 tested choose
/// nothing, no gate, 10 epochs): pooled WER 22.8 → 18.2 %, mean relative change −6.8 % (median
/// −13.9 %; 11 better, 5 worse); the 7 speakers at 25 % WER or more gained 38 % on average
/// (−20 to −56 %), while light accents lost a word or two (so762_0135 5.9 → 11.8 %), which is
/// the gate's job: under the defaults (`tools/adapt_speechocean_unseen.sh`, fold 0, stop 34)
/// the cross-validated gate refused so762_0135, 0813, 1260 and 2059, whose unseen takes kept
/// the base WER. Decoder only, on the first 4 speakers: 0 %, +49 %, −33 %, −21 %, against
/// +20 %, +100 %, −56 %, −47 % with the 2 blocks. The cost: each take and epoch runs 2 blocks
/// forward and backward over the 30 s window, about 0.8 s on 2 cores against 0.14 s for the
/// decoder alone, so a cross-validated run on 15 takes trains about 6 minutes (so762_0560:
/// 430 take passes in 339 s, stop 34). Trimming the training window to the take and a few
/// seconds of padding (whisper.cpp's `audio_ctx`) was 3 to 7 times cheaper but weaker: the
/// same unseen takes came out at 25 to 28.6 % instead of 14.3 % (stop 34), so training runs
/// the whole window, as inference does.
pub const DEFAULT_ENCODER_LAYERS: usize = 2;

/// Takes per step (batch 2) × steps per run the small-enrollment schedule aims at.
const CV_TAKE_PASSES: f64 = 150.0;

/// What the person asked for; `None` leaves the choice to [`Plan::choose`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Asked {
    pub cv_folds: Option<usize>,
    pub epochs: Option<usize>,
    pub batch: Option<usize>,
    pub lr: Option<f64>,
    pub warmup: Option<usize>,
    /// `--no-early-stopping`.
    pub keep_last: bool,
    /// `--heldout-fold` was given: the split is asked for.
    pub split_fold: bool,
}

/// The schedule and the gate of one adaptation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plan {
    /// Folds of the cross-validated gate; 0: one held-back split.
    pub cv_folds: usize,
    pub epochs: usize,
    pub batch: usize,
    pub lr: f64,
    pub warmup: usize,
    /// Keep the last epoch (fixed epochs) instead of the best held-back one.
    pub keep_last: bool,
}

impl Plan {
    /// The plan for `n_takes` takes whose held-back split holds `split_words` reference words.
    pub fn choose(asked: Asked, n_takes: usize, split_words: usize) -> Plan {
        let cv_folds = match asked.cv_folds {
            Some(k) if k >= 2 => k.min(n_takes),
            Some(_) => 0,
            None if asked.split_fold || split_words >= CV_BELOW_WORDS => 0,
            None => CV_FOLDS.min(n_takes),
        };
        if cv_folds == 0 {
            Plan {
                cv_folds,
                epochs: asked.epochs.unwrap_or(3),
                batch: asked.batch.unwrap_or(4),
                lr: asked.lr.unwrap_or(5e-4),
                warmup: asked.warmup.unwrap_or(10),
                keep_last: asked.keep_last,
            }
        } else {
            let epochs = (CV_TAKE_PASSES / n_takes.max(1) as f64).round() as usize;
            Plan {
                cv_folds,
                epochs: asked.epochs.unwrap_or(epochs.clamp(3, 10)),
                batch: asked.batch.unwrap_or(2),
                lr: asked.lr.unwrap_or(1e-3),
                warmup: asked.warmup.unwrap_or(5),
                keep_last: true,
            }
        }
    }

    /// The training runs that judge the adapted model, as (train, judged) take indices: the
    /// cross-validation folds (take i is judged in fold i mod k), or the one `split`.
    pub fn judging_runs(
        &self,
        n_takes: usize,
        split: (Vec<usize>, Vec<usize>),
    ) -> Vec<(Vec<usize>, Vec<usize>)> {
        if self.cv_folds == 0 {
            return vec![split];
        }
        (0..self.cv_folds)
            .map(|f| (0..n_takes).partition(|i| i % self.cv_folds != f))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_enrollments_cross_validate_with_fixed_epochs() {
        let p = Plan::choose(Asked::default(), 15, 14);
        assert_eq!((p.cv_folds, p.epochs, p.batch), (3, 10, 2));
        assert!(p.keep_last);
        // Every take is judged exactly once, never by a model that trained on it.
        let runs = p.judging_runs(15, (vec![], vec![]));
        let mut judged: Vec<usize> = runs.iter().flat_map(|r| r.1.clone()).collect();
        judged.sort_unstable();
        assert_eq!(judged, (0..15).collect::<Vec<_>>());
        for (train, held) in &runs {
            assert_eq!(train.len() + held.len(), 15);
            assert!(held.iter().all(|h| !train.contains(h)));
        }
    }

    #[test]
    fn large_enrollments_keep_the_split_and_asked_values_win() {
        let p = Plan::choose(Asked::default(), 399, 540);
        assert_eq!((p.cv_folds, p.epochs, p.batch, p.warmup), (0, 3, 4, 10));
        assert!(!p.keep_last);
        let runs = p.judging_runs(399, (vec![0, 1], vec![2]));
        assert_eq!(runs, vec![(vec![0, 1], vec![2])]);
        // --heldout-fold asks for the split; --cv-folds asks for folds; --epochs is kept.
        let split = Asked {
            split_fold: true,
            ..Asked::default()
        };
        assert_eq!(Plan::choose(split, 15, 14).cv_folds, 0);
        let cv = Asked {
            cv_folds: Some(4),
            epochs: Some(2),
            ..Asked::default()
        };
        let p = Plan::choose(cv, 399, 540);
        assert_eq!((p.cv_folds, p.epochs), (4, 2));
        // Many short takes (isolated digits): fewer epochs, still at least 3.
        assert_eq!(Plan::choose(Asked::default(), 60, 9).epochs, 3);
    }
}
