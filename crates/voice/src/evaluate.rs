//! Scoring candidate voices: speak the fit sentences, embed them, transcribe them.
//!
//! Scoring runs in two phases. [`Evaluator::measure`] synthesises a candidate's sentences and
//! computes everything but the WER (speaker-encoder cosine, penalty, F0); that gives a lower
//! bound of its cost, since the WER terms are never negative. [`Evaluator::finish`] adds
//! Whisper's WER. A generation of the search needs exact costs only for the candidates that
//! can enter its best μ (sep-CMA-ES's update reads the order of those μ and nothing else), so
//! [`evaluate_ranked`] transcribes candidates in order of their lower bounds and stops once no
//! remaining bound can beat the μ-th cost found. The μ best and their order are the same as
//! with every candidate transcribed; the Whisper calls saved are those of candidates that sound
//! too unlike the person to matter.

use std::sync::Arc;

use ownvoice_asr::{DecodeOptions, WhisperModel};
use ownvoice_speaker::{Embedding, SpeakerEncoder};
use ownvoice_tts::kokoro::{Kokoro, StylePack, SAMPLE_RATE};
use serde::{Deserialize, Serialize};

use crate::fit::{FitConfig, ModelPaths, FIT_SENTENCES};
use crate::VoiceError;

/// One candidate's scores.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// Cosine to the voice print.
    pub similarity: f32,
    /// WER (fraction) of Whisper on the fit sentences.
    pub wer: f64,
    /// Distance from the stock span (mean square offset, in spreads).
    pub penalty: f64,
    /// Mean F0 (Hz) of the candidate speaking the fit sentences (YIN; `None`: not measured).
    #[serde(default)]
    pub f0_hz: Option<f32>,
    /// The Kokoro `speed` the candidate spoke at (1.0 in checkpoints written before it was
    /// recorded, when every candidate spoke at 1.0).
    #[serde(default = "crate::normal_speed")]
    pub speed: f32,
    /// The objective (lower is better).
    pub cost: f64,
}

/// A candidate voice: a style pack, its naturalness penalty ([`crate::space::Space::penalty`])
/// and the Kokoro `speed` it speaks at.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The style pack, `[PACK_ROWS, STYLE_DIM]`.
    pub pack: StylePack,
    /// Distance from the stock span (mean square offset, in spreads).
    pub penalty: f64,
    /// Kokoro `speed` (1.0: Kokoro's normal rate; 0.9 speaks about 11 % longer).
    pub speed: f32,
}

/// A candidate measured without Whisper: its speech and every term of the cost but the WER.
#[derive(Debug, Clone)]
pub struct Measured {
    /// 16 kHz speech, one buffer per fit sentence spoken.
    speech: Vec<Vec<f32>>,
    /// Cosine to the voice print.
    similarity: f32,
    /// Distance from the stock span.
    penalty: f64,
    /// The Kokoro `speed` it spoke at.
    speed: f32,
    /// Mean F0 (Hz), when the F0 term is on.
    f0_hz: Option<f32>,
    /// The cost without the WER terms: a lower bound of the full cost.
    pub lower_bound: f64,
}

/// The WER terms of the cost: `wer_weight · WER + wer_over_weight · max(0, WER − wer_limit)`
/// (never negative, so a cost without them is a lower bound).
pub fn wer_cost(wer: f64, cfg: &FitConfig) -> f64 {
    cfg.wer_weight * wer + cfg.wer_over_weight * (wer - cfg.wer_limit).max(0.0)
}

/// Scores candidates: a Kokoro session, a speaker encoder, Whisper.
pub struct Evaluator {
    kokoro: Kokoro,
    encoder: SpeakerEncoder,
    whisper: Arc<WhisperModel>,
    /// Phoneme chunks of each of [`FIT_SENTENCES`].
    phonemes: Vec<Vec<String>>,
}

impl Evaluator {
    /// Loads the models (ONNX Runtime must be initialised), one inference thread each.
    ///
    /// # Errors
    /// Model loading errors.
    pub fn new(paths: &ModelPaths, whisper: Arc<WhisperModel>) -> Result<Evaluator, VoiceError> {
        let kokoro = Kokoro::load(&paths.kokoro, &paths.vocab, 1)?;
        let phonemes = FIT_SENTENCES
            .iter()
            .map(|s| kokoro.sentences(s))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Evaluator {
            kokoro,
            encoder: SpeakerEncoder::load(&paths.encoder, 1)?,
            whisper,
            phonemes,
        })
    }

    /// Speaks sentences `which` (indices into [`FIT_SENTENCES`]) with `pack` at Kokoro `speed`:
    /// 16 kHz audio per sentence.
    fn speak(
        &mut self,
        pack: &StylePack,
        which: &[usize],
        speed: f32,
    ) -> Result<Vec<Vec<f32>>, VoiceError> {
        let mut out = Vec::new();
        for &i in which {
            let mut audio = Vec::new();
            for ph in &self.phonemes[i] {
                audio.extend(self.kokoro.synthesize_pack(ph, pack, speed)?);
            }
            out.push(ownvoice_audio::resample::resample(
                &audio,
                SAMPLE_RATE,
                16_000,
            )?);
        }
        Ok(out)
    }

    /// Phase one: candidate `c` speaks sentences `which` (indices into [`FIT_SENTENCES`]) at its
    /// speed; measures its cosine to `print` and, when the F0 term is on, its mean F0.
    ///
    /// # Errors
    /// Inference errors.
    pub fn measure(
        &mut self,
        c: &Candidate,
        print: &Embedding,
        cfg: &FitConfig,
        which: &[usize],
    ) -> Result<Measured, VoiceError> {
        let speech = self.speak(&c.pack, which, c.speed)?;
        let similarity = self
            .encoder
            .embed_utterance(&speech.concat())?
            .cosine(print);
        let mut lower_bound = -(similarity as f64) + cfg.penalty_weight * c.penalty;
        let mut f0_hz = None;
        if let Some(target) = cfg.f0_target_hz.filter(|_| cfg.f0_weight > 0.0) {
            f0_hz = crate::report::f0_of(&speech).map(|f| f.mean_hz);
            // A voice without voiced frames is as far off as an octave.
            let octaves = f0_hz.map_or(1.0, |f| (f as f64 / target as f64).log2().abs());
            lower_bound += cfg.f0_weight * octaves;
        }
        Ok(Measured {
            speech,
            similarity,
            penalty: c.penalty,
            speed: c.speed,
            f0_hz,
            lower_bound,
        })
    }

    /// Phase two: Whisper transcribes the measured speech; the WER completes the cost.
    ///
    /// # Errors
    /// Whisper errors.
    pub fn finish(
        &self,
        m: &Measured,
        cfg: &FitConfig,
        which: &[usize],
    ) -> Result<Score, VoiceError> {
        let opts = DecodeOptions {
            threads: 1,
            audio_ctx: Some(ownvoice_asr::transcribe::MIN_AUDIO_CTX),
            ..DecodeOptions::default()
        };
        let mut heard = Vec::new();
        for s in &m.speech {
            heard.push(self.whisper.transcribe(s, &opts)?.text);
        }
        let said: Vec<&str> = which.iter().map(|&i| FIT_SENTENCES[i]).collect();
        let wer = ownvoice_asr::wer::wer(&said.join(" "), &heard.join(" "));
        Ok(Score {
            similarity: m.similarity,
            wer,
            penalty: m.penalty,
            f0_hz: m.f0_hz,
            speed: m.speed,
            cost: m.lower_bound + wer_cost(wer, cfg),
        })
    }

    /// Both phases: scores candidate `c` against `print`, speaking sentences `which`.
    ///
    /// # Errors
    /// Inference errors.
    pub fn score(
        &mut self,
        c: &Candidate,
        print: &Embedding,
        cfg: &FitConfig,
        which: &[usize],
    ) -> Result<Score, VoiceError> {
        let m = self.measure(c, print, cfg, which)?;
        self.finish(&m, cfg, which)
    }
}

/// Runs `job(evaluator, item)` for every item, the items dealt round-robin to the evaluators'
/// threads; results in the items' order.
pub(crate) fn spread<T: Sync, R: Send>(
    evaluators: &mut [Evaluator],
    items: &[T],
    job: impl Fn(&mut Evaluator, &T) -> Result<R, VoiceError> + Sync,
) -> Result<Vec<R>, VoiceError> {
    let w = evaluators.len().max(1);
    let mut results: Vec<Option<Result<R, VoiceError>>> = (0..items.len()).map(|_| None).collect();
    std::thread::scope(|s| {
        let job = &job;
        let handles: Vec<_> = evaluators
            .iter_mut()
            .enumerate()
            .map(|(wi, ev)| {
                s.spawn(move || {
                    (wi..items.len())
                        .step_by(w)
                        .map(|i| (i, job(ev, &items[i])))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            for (i, r) in h.join().expect("evaluator thread") {
                results[i] = Some(r);
            }
        }
    });
    results
        .into_iter()
        .map(|r| r.expect("every item evaluated"))
        .collect()
}

/// Scores every one of `candidates`, spread over the evaluators.
///
/// # Errors
/// Inference errors.
pub fn evaluate_all(
    evaluators: &mut [Evaluator],
    candidates: &[Candidate],
    print: &Embedding,
    cfg: &FitConfig,
    which: &[usize],
) -> Result<Vec<Score>, VoiceError> {
    spread(evaluators, candidates, |ev, c| {
        ev.score(c, print, cfg, which)
    })
}

/// A generation's costs, exact where they decide the `mu` best.
#[derive(Debug, Clone)]
pub struct Ranked {
    /// One cost per candidate: exact for the transcribed ones, the lower bound (greater than
    /// every one of the `mu` best costs) for the others.
    pub costs: Vec<f64>,
    /// Full scores of the transcribed candidates (`None`: not transcribed).
    pub scores: Vec<Option<Score>>,
}

/// Which candidates to transcribe next: of those not yet transcribed (`done[i]` false), in
/// order of `bounds`, up to `batch` whose bound does not exceed the `mu`-th lowest known cost
/// (any bound, while fewer than `mu` costs are known).
pub fn next_to_transcribe(
    bounds: &[f64],
    known: &[Option<f64>],
    mu: usize,
    batch: usize,
) -> Vec<usize> {
    let mut costs: Vec<f64> = known.iter().flatten().copied().collect();
    costs.sort_by(f64::total_cmp);
    let threshold = if mu == 0 {
        f64::NEG_INFINITY
    } else {
        costs.get(mu - 1).copied().unwrap_or(f64::INFINITY)
    };
    let mut open: Vec<usize> = (0..bounds.len())
        .filter(|&i| known[i].is_none() && bounds[i] <= threshold)
        .collect();
    open.sort_by(|&a, &b| bounds[a].total_cmp(&bounds[b]));
    open.truncate(batch.max(1));
    open
}

/// Scores a generation's `candidates` so that the `mu` lowest costs and their order are exact
/// (module doc): every candidate is measured, then Whisper transcribes them in order of their
/// lower bounds, as many at once as there are evaluators, until no remaining bound is at most
/// the `mu`-th cost known.
///
/// # Errors
/// Inference errors.
pub fn evaluate_ranked(
    evaluators: &mut [Evaluator],
    candidates: &[Candidate],
    print: &Embedding,
    cfg: &FitConfig,
    which: &[usize],
    mu: usize,
) -> Result<Ranked, VoiceError> {
    let measured = spread(evaluators, candidates, |ev, c| {
        ev.measure(c, print, cfg, which)
    })?;
    let bounds: Vec<f64> = measured.iter().map(|m| m.lower_bound).collect();
    let mut scores: Vec<Option<Score>> = vec![None; candidates.len()];
    loop {
        let known: Vec<Option<f64>> = scores.iter().map(|s| s.map(|s| s.cost)).collect();
        let next = next_to_transcribe(&bounds, &known, mu, evaluators.len());
        if next.is_empty() {
            break;
        }
        let got = spread(evaluators, &next, |ev, &i| {
            ev.finish(&measured[i], cfg, which)
        })?;
        for (i, s) in next.into_iter().zip(got) {
            scores[i] = Some(s);
        }
    }
    let costs = scores
        .iter()
        .zip(&bounds)
        .map(|(s, b)| s.map_or(*b, |s| s.cost))
        .collect();
    Ok(Ranked { costs, scores })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the lazy loop over known full costs (`full[i] ≥ bounds[i]`): returns the costs it
    /// reports and how many it "transcribed".
    fn lazy(bounds: &[f64], full: &[f64], mu: usize, batch: usize) -> (Vec<f64>, usize) {
        let mut known = vec![None; bounds.len()];
        let mut calls = 0;
        loop {
            let next = next_to_transcribe(bounds, &known, mu, batch);
            if next.is_empty() {
                break;
            }
            for i in next {
                known[i] = Some(full[i]);
                calls += 1;
            }
        }
        let costs = known
            .iter()
            .zip(bounds)
            .map(|(k, b)| k.unwrap_or(*b))
            .collect();
        (costs, calls)
    }

    fn order(costs: &[f64]) -> Vec<usize> {
        let mut o: Vec<usize> = (0..costs.len()).collect();
        o.sort_by(|&a, &b| costs[a].total_cmp(&costs[b]));
        o
    }

    #[test]
    fn the_mu_best_and_their_order_match_transcribing_everything() {
        use proptest::prelude::*;
        let case = (4usize..30).prop_flat_map(|n| {
            (
                prop::collection::vec(-1.0f64..0.0, n),
                prop::collection::vec(prop_oneof![Just(0.0), 0.0f64..0.5], n),
                1..=n / 2,
                1usize..4,
            )
        });
        proptest!(|((bounds, extra, mu, batch) in case)| {
            let full: Vec<f64> = bounds.iter().zip(&extra).map(|(b, e)| b + e).collect();
            let (costs, calls) = lazy(&bounds, &full, mu, batch);
            let exact = order(&full);
            let got = order(&costs);
            prop_assert_eq!(&got[..mu], &exact[..mu]);
            for &i in &got[..mu] {
                prop_assert_eq!(costs[i], full[i]);
            }
            prop_assert!(calls >= mu);
        });
    }

    #[test]
    fn candidates_that_cannot_reach_the_best_mu_are_not_transcribed() {
        // Four candidates near the print with no WER, four far off: with mu = 4 the far ones
        // are never transcribed.
        let bounds = [-0.9, -0.88, -0.87, -0.86, -0.5, -0.45, -0.4, -0.3];
        let full = [-0.9, -0.88, -0.87, -0.86, -0.5, -0.45, -0.4, -0.3];
        let (_, calls) = lazy(&bounds, &full, 4, 2);
        assert_eq!(calls, 4);
        // A WER term on the third pushes it below the fifth, which must then be transcribed.
        let full = [-0.9, -0.88, -0.2, -0.86, -0.5, -0.45, -0.4, -0.3];
        let (costs, calls) = lazy(&bounds, &full, 4, 1);
        assert_eq!(calls, 5);
        assert_eq!(&order(&costs)[..4], &[0, 1, 3, 4]);
    }

    #[test]
    fn the_wer_terms_are_never_negative_and_the_hinge_starts_at_the_limit() {
        let cfg = FitConfig {
            wer_weight: 0.5,
            wer_limit: 0.05,
            wer_over_weight: 2.0,
            ..FitConfig::default()
        };
        assert_eq!(wer_cost(0.0, &cfg), 0.0);
        assert!((wer_cost(0.05, &cfg) - 0.025).abs() < 1e-12);
        assert!((wer_cost(0.15, &cfg) - (0.075 + 0.2)).abs() < 1e-12);
    }
}
