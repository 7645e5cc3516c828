//! The same-speaker gate of enrollment: one person's takes, and their voice print.
//!
//! Every accepted take gets a d-vector (GE2E, `ownvoice_speaker`). Each take is scored by the
//! cosine between its d-vector and the mean d-vector of the *other* takes (leave-one-out, so a
//! take does not vouch for itself). While the lowest score is below the gate threshold, that take
//! is flagged "a different speaker?" and left out of the others' means; what remains is one
//! voice. The print stored in the profile is the normalised mean d-vector of the remaining takes,
//! with the spread of their scores.

use ownvoice_speaker::Embedding;
use serde::{Deserialize, Serialize};

/// Leave-one-out cosine below which a take is flagged as another speaker. On the bundled
/// recordings, each of Cathy's 30 takes scores 0.785–0.98 against the mean of her other takes
/// (0.796 and up with 6 takes), and the 16 utterances of three other speakers (LJ Speech, CMU
/// ARCTIC aew and axb) score 0.47–0.72 against her mean.
pub const GATE_THRESHOLD: f32 = 0.75;
/// Fewest takes for the gate to judge: with fewer, "the others" are not a voice yet.
pub const MIN_TAKES: usize = 3;

/// A person's voice print, stored in the profile manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpeakerPrint {
    /// Encoder that made it (`ge2e`: Resemblyzer 0.1.4).
    pub model: String,
    /// The d-vector: normalised mean of the takes' d-vectors, 256 values.
    pub dvector: Vec<f32>,
    /// Takes it is the mean of.
    pub takes: usize,
    /// Mean and standard deviation of those takes' cosine scores against the print.
    pub score_mean: f32,
    pub score_std: f32,
}

/// The gate's verdict on a set of takes.
#[derive(Debug, Clone, PartialEq)]
pub struct GateResult {
    /// Leave-one-out score of every take, in input order (against the final set of others).
    pub scores: Vec<f32>,
    /// Indices of the takes flagged as another speaker.
    pub flagged: Vec<usize>,
    /// The print of the unflagged takes (`None` when there are none).
    pub print: Option<SpeakerPrint>,
}

/// Runs the gate over `takes` (d-vectors); `confirmed[i]` keeps take `i` whatever its score.
pub fn gate(takes: &[Embedding], confirmed: &[bool], threshold: f32) -> GateResult {
    let n = takes.len();
    let mut active: Vec<bool> = vec![true; n];
    // Score of take i against the normalised mean of the other active takes: the sum of the
    // active takes minus take i's own share.
    let loo_scores = |active: &[bool]| -> Vec<Option<f32>> {
        let dim = takes.first().map_or(0, |e| e.0.len());
        let mut sum = vec![0.0f32; dim];
        for (e, _) in takes.iter().zip(active).filter(|(_, &a)| a) {
            sum.iter_mut().zip(&e.0).for_each(|(s, x)| *s += x);
        }
        let count = active.iter().filter(|&&a| a).count();
        (0..n)
            .map(|i| {
                let others = count - usize::from(active[i]);
                (others > 0).then(|| {
                    let mut rest = sum.clone();
                    if active[i] {
                        rest.iter_mut().zip(&takes[i].0).for_each(|(s, x)| *s -= x);
                    }
                    takes[i].cosine(&Embedding(rest))
                })
            })
            .collect()
    };
    while active.iter().filter(|&&a| a).count() >= MIN_TAKES {
        let scores = loo_scores(&active);
        let worst = (0..n)
            .filter(|&i| active[i] && !confirmed.get(i).copied().unwrap_or(false))
            .filter_map(|i| scores[i].map(|s| (i, s)))
            .min_by(|a, b| a.1.total_cmp(&b.1));
        match worst {
            Some((i, s)) if s < threshold => active[i] = false,
            _ => break,
        }
    }
    let scores: Vec<f32> = loo_scores(&active)
        .into_iter()
        .map(|s| s.unwrap_or(1.0))
        .collect();
    let kept: Vec<Embedding> = (0..n)
        .filter(|&i| active[i])
        .map(|i| takes[i].clone())
        .collect();
    let print = (!kept.is_empty()).then(|| {
        let d = Embedding::mean(&kept);
        let s: Vec<f32> = kept.iter().map(|e| e.cosine(&d)).collect();
        let mean = s.iter().sum::<f32>() / s.len() as f32;
        let var = s.iter().map(|x| (x - mean) * (x - mean)).sum::<f32>() / s.len() as f32;
        SpeakerPrint {
            model: "ge2e".into(),
            dvector: d.0,
            takes: kept.len(),
            score_mean: mean,
            score_std: var.sqrt(),
        }
    });
    GateResult {
        scores,
        flagged: (0..n).filter(|&i| !active[i]).collect(),
        print,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: &[f32]) -> Embedding {
        Embedding::mean(&[Embedding(v.to_vec())])
    }

    #[test]
    fn the_odd_voice_out_is_flagged_unless_confirmed() {
        let a = |x: f32| unit(&[1.0, x, 0.0]);
        let b = |x: f32| unit(&[0.0, x, 1.0]);
        let takes = vec![a(0.1), a(0.2), b(0.1), a(0.0), a(0.15), b(0.2)];
        let r = gate(&takes, &[], 0.72);
        assert_eq!(r.flagged, [2, 5]);
        let p = r.print.unwrap();
        assert_eq!(p.takes, 4);
        assert!(p.score_mean > 0.95);
        let confirmed = [false, false, true, false, false, false];
        assert_eq!(gate(&takes, &confirmed, 0.72).flagged, [5]);
        // Too few takes to judge.
        assert!(gate(&takes[..2], &[], 0.72).flagged.is_empty());
    }
}
