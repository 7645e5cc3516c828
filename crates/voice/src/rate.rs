//! The fitted voice's speaking rate.
//!
//! The search runs at one Kokoro `speed` ([`FitConfig::speed`], normally 1.0), or searches the
//! rate too ([`FitConfig::search_rate`]). Afterwards the
//! winning style speaks all of [`FIT_SENTENCES`] at each of [`FitConfig::rates`] and is scored
//! by the search's own objective (speaker-encoder cosine to the voice print, the WER terms, the
//! penalty); the rate of lowest cost is kept with the voice, and `speak` uses it as the voice's
//! normal speed.
//!
//! Why: how fast a person speaks is part of how they sound. so762_0036's 60-minute voice of
//! stop 27 (searched at speed 1.0) scores 0.846, 0.850 and 0.853 on her held-back takes when it
//! speaks the report's sentences at speeds 1.0, 0.95 and 0.85, though its cosine to her voice
//! print hardly moves (0.961 to 0.962), and Whisper mishears 8, 8 and 13 of their 159 words.
//! The choice is made on the fit sentences, never on the report's ([`crate::report::HARVARD`]).
//! There it kept 1.0 for both speechocean762 voices of stop 27: a voice searched at one rate
//! was tuned for Whisper at that rate, and no other rate raised the cosine to the print by
//! more than 0.0012. So [`FitConfig::rates`] is empty by default, and `ownvoice voice rate`
//! sets a rate by hand or chooses among several later.

use std::sync::Arc;

use ownvoice_asr::WhisperModel;
use ownvoice_speaker::Embedding;
use ownvoice_tts::kokoro::StylePack;

use crate::evaluate::{spread, Candidate, Evaluator, Score};
use crate::fit::{FitConfig, ModelPaths, FIT_SENTENCES};
use crate::VoiceError;

/// The rates tried by default, as Kokoro `speed` factors: Kokoro's normal rate first, then
/// outwards in steps of 5 %, so that among equal costs the rate nearest normal wins.
pub const RATES: [f32; 5] = [1.0, 0.95, 1.05, 0.9, 1.1];

/// The rate chosen for a voice.
#[derive(Debug, Clone, PartialEq)]
pub struct RateChoice {
    /// The Kokoro `speed` of lowest cost.
    pub speed: f32,
    /// Its score on all of [`FIT_SENTENCES`].
    pub score: Score,
    /// Every rate tried and its score, in the order tried.
    pub tried: Vec<(f32, Score)>,
}

/// The rates to try: `known` (a rate already scored on all of [`FIT_SENTENCES`], such as the
/// one the search settled on) first, not scored again, then `cfg.rates`; when `cfg.rates` is
/// empty, `known` alone, or `cfg.speed` when nothing is known.
fn plan(cfg: &FitConfig, known: Option<f32>) -> Vec<f32> {
    let mut rates: Vec<f32> = known.into_iter().collect();
    let wanted = match (cfg.rates.is_empty(), known) {
        (true, Some(_)) => Vec::new(),
        (true, None) => vec![cfg.speed],
        (false, _) => cfg.rates.clone(),
    };
    for r in wanted {
        if !rates.contains(&r) {
            rates.push(r);
        }
    }
    rates
}

/// The first of `rates` (Kokoro speed factors) outside [`ownvoice_tts::SPEED_RANGE`], as
/// [`ownvoice_tts::speed_out_of_range`] words it ("R is outside 0.25–4"); `None` when all are
/// inside.
pub fn out_of_range(rates: &[f32]) -> Option<String> {
    rates
        .iter()
        .find_map(|&r| ownvoice_tts::speed_out_of_range(r))
}

/// Chooses the speaking rate of `pack` (its naturalness penalty `penalty`) for the voice print
/// `print`: every rate of `cfg.rates` (module doc) speaks all of [`FIT_SENTENCES`], spread over
/// the evaluators; `known` is a rate whose score on those sentences is already known (the
/// finals' `cfg.speed`). The lowest cost wins; among equal costs the rate tried first.
///
/// # Errors
/// Inference errors; [`VoiceError::Input`] for a rate outside Kokoro's 0.25–4.
pub fn choose(
    evaluators: &mut [Evaluator],
    pack: &StylePack,
    penalty: f64,
    print: &Embedding,
    cfg: &FitConfig,
    known: Option<(f32, Score)>,
) -> Result<RateChoice, VoiceError> {
    let rates = plan(cfg, known.map(|k| k.0));
    if let Some(why) = out_of_range(&rates) {
        return Err(VoiceError::Input(format!("speaking rate {why}")));
    }
    let fresh = &rates[known.is_some() as usize..];
    let all: Vec<usize> = (0..FIT_SENTENCES.len()).collect();
    let scores = spread(evaluators, fresh, |ev, &speed| {
        let c = Candidate {
            pack: pack.clone(),
            penalty,
            speed,
        };
        ev.score(&c, print, cfg, &all)
    })?;
    let tried: Vec<(f32, Score)> = known
        .into_iter()
        .chain(fresh.iter().copied().zip(scores))
        .collect();
    let (speed, score) = crate::fit::lowest_cost(tried.iter().map(|t| t.1.cost))
        .map(|i| tried[i])
        .ok_or_else(|| VoiceError::Input("no speaking rate to try".into()))?;
    Ok(RateChoice {
        speed,
        score,
        tried,
    })
}

/// Chooses the rate of a voice fitted before ([`choose`] with `cfg.workers` evaluators of
/// their own and no known rate). Its naturalness penalty is not known here and is taken as 0:
/// it is the same at every rate, so the choice does not change, only the costs reported.
///
/// # Errors
/// Model loading and inference errors, as [`choose`].
pub fn choose_for(
    paths: &ModelPaths,
    whisper: Arc<WhisperModel>,
    pack: &StylePack,
    print: &Embedding,
    cfg: &FitConfig,
) -> Result<RateChoice, VoiceError> {
    let mut evaluators = (0..cfg.workers.max(1))
        .map(|_| Evaluator::new(paths, whisper.clone()))
        .collect::<Result<Vec<_>, _>>()?;
    choose(&mut evaluators, pack, 0.0, print, cfg, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_names_the_first_rate_outside_kokoros_range() {
        assert_eq!(out_of_range(&[1.0, 0.25, 4.0]), None);
        assert_eq!(
            out_of_range(&[1.0, 5.0, 0.1]).as_deref(),
            Some("5 is outside 0.25–4")
        );
        assert!(out_of_range(&[f32::NAN]).is_some());
    }

    #[test]
    fn the_known_rate_comes_first_and_is_not_repeated() {
        let cfg = FitConfig {
            rates: RATES.to_vec(),
            ..FitConfig::default()
        };
        assert_eq!(plan(&cfg, Some(1.0)), RATES.to_vec());
        assert_eq!(plan(&cfg, Some(0.8)), [0.8, 1.0, 0.95, 1.05, 0.9, 1.1]);
        assert_eq!(plan(&cfg, None), RATES.to_vec());
    }

    #[test]
    fn no_rates_means_the_search_speed() {
        let cfg = FitConfig {
            rates: Vec::new(),
            speed: 0.9,
            ..FitConfig::default()
        };
        assert_eq!(plan(&cfg, None), [0.9]);
        assert_eq!(plan(&cfg, Some(0.9)), [0.9]);
        // A rate the search settled on is kept without trying the base speed again.
        assert_eq!(plan(&cfg, Some(0.93)), [0.93]);
    }
}
