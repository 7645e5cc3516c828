//! Speech segments from per-window speech probabilities: the hysteresis state machine of Silero's
//! `get_speech_timestamps` (`silero_vad/utils_vad.py`), made incremental so it runs on a live
//! stream. It needs no model: feed it probabilities, one per [`crate::WINDOW_SAMPLES`] window.
//!
//! Speech starts when a window's probability reaches `threshold`; it ends after
//! `min_silence_ms` of windows below `neg_threshold` (hysteresis: probabilities between the two
//! continue the current state). Segments shorter than `min_speech_ms` are dropped; kept ones are
//! widened by `speech_pad_ms` on both sides (never past the neighbouring segment or the signal).

use crate::{SAMPLE_RATE, WINDOW_SAMPLES};

/// Segmenter settings. Defaults are the reference implementation's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VadConfig {
    /// Probability at or above which a window is speech (default 0.5).
    pub threshold: f32,
    /// Probability below which a window is silence (default `threshold - 0.15`).
    pub neg_threshold: f32,
    /// Shortest kept speech segment, in ms (default 250).
    pub min_speech_ms: u32,
    /// Silence that ends a segment, in ms (default 100).
    pub min_silence_ms: u32,
    /// Padding added to each side of a segment, in ms (default 30).
    pub speech_pad_ms: u32,
}

impl Default for VadConfig {
    fn default() -> Self {
        VadConfig {
            threshold: 0.5,
            neg_threshold: 0.35,
            min_speech_ms: 250,
            min_silence_ms: 100,
            speech_pad_ms: 30,
        }
    }
}

/// A speech segment in samples at 16 kHz: `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// First sample.
    pub start: usize,
    /// One past the last sample.
    pub end: usize,
}

impl Segment {
    /// Start in seconds.
    pub fn start_s(&self) -> f64 {
        self.start as f64 / SAMPLE_RATE as f64
    }
    /// End in seconds.
    pub fn end_s(&self) -> f64 {
        self.end as f64 / SAMPLE_RATE as f64
    }
}

/// What a window changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VadEvent {
    /// Speech began at this sample (before padding); it may still be dropped as too short.
    SpeechStart(usize),
    /// A speech segment ended (padded; the right padding may reach past the samples seen so far).
    SpeechEnd(Segment),
}

/// The incremental segmenter. Feed probabilities with [`Segmenter::push`], then call
/// [`Segmenter::finish`] with the signal's length.
#[derive(Debug, Clone)]
pub struct Segmenter {
    config: VadConfig,
    window: usize,
    triggered: bool,
    start: usize,
    temp_end: Option<usize>,
    last_end: usize,
}

fn ms_to_samples(ms: u32) -> usize {
    (SAMPLE_RATE as usize * ms as usize) / 1000
}

impl Segmenter {
    /// A segmenter with `config`, at the start of a stream.
    pub fn new(config: VadConfig) -> Self {
        Segmenter {
            config,
            window: 0,
            triggered: false,
            start: 0,
            temp_end: None,
            last_end: 0,
        }
    }

    /// Whether the stream is currently inside speech.
    pub fn in_speech(&self) -> bool {
        self.triggered
    }

    /// Takes the speech probability of the next window; returns an event when one happened.
    pub fn push(&mut self, prob: f32) -> Option<VadEvent> {
        let at = self.window * WINDOW_SAMPLES;
        self.window += 1;
        if prob >= self.config.threshold {
            self.temp_end = None;
            if !self.triggered {
                self.triggered = true;
                self.start = at;
                return Some(VadEvent::SpeechStart(at));
            }
            return None;
        }
        if prob < self.config.neg_threshold && self.triggered {
            let temp_end = *self.temp_end.get_or_insert(at);
            let now = at + WINDOW_SAMPLES;
            if now - temp_end < ms_to_samples(self.config.min_silence_ms) {
                return None;
            }
            self.triggered = false;
            self.temp_end = None;
            return self.close(temp_end, usize::MAX);
        }
        None
    }

    /// Ends the stream at `n_samples`; returns the last segment if speech was still going on.
    pub fn finish(&mut self, n_samples: usize) -> Option<Segment> {
        if !self.triggered {
            return None;
        }
        self.triggered = false;
        match self.close(n_samples, n_samples) {
            Some(VadEvent::SpeechEnd(s)) => Some(s),
            _ => None,
        }
    }

    fn close(&mut self, end: usize, limit: usize) -> Option<VadEvent> {
        if end.saturating_sub(self.start) < ms_to_samples(self.config.min_speech_ms) {
            return None;
        }
        let pad = ms_to_samples(self.config.speech_pad_ms);
        let seg = Segment {
            start: self.start.saturating_sub(pad).max(self.last_end),
            end: (end + pad).min(limit),
        };
        self.last_end = seg.end;
        Some(VadEvent::SpeechEnd(seg))
    }
}

/// All segments of a whole signal of `n_samples` samples, from its window probabilities.
pub fn segments(probs: &[f32], n_samples: usize, config: VadConfig) -> Vec<Segment> {
    let mut seg = Segmenter::new(config);
    let mut out: Vec<Segment> = probs
        .iter()
        .filter_map(|&p| match seg.push(p) {
            Some(VadEvent::SpeechEnd(s)) => Some(s),
            _ => None,
        })
        .collect();
    out.extend(seg.finish(n_samples));
    for s in &mut out {
        s.end = s.end.min(n_samples);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: usize = WINDOW_SAMPLES;

    fn probs(pattern: &str) -> Vec<f32> {
        pattern
            .chars()
            .map(|c| match c {
                'S' => 0.9,
                'm' => 0.4, // between the thresholds
                _ => 0.05,
            })
            .collect()
    }

    #[test]
    fn one_segment_with_padding() {
        // 10 silent windows, 20 speech windows, 10 silent.
        let p = probs(&format!(
            "{}{}{}",
            ".".repeat(10),
            "S".repeat(20),
            ".".repeat(10)
        ));
        let s = segments(&p, p.len() * W, VadConfig::default());
        let pad = 480;
        assert_eq!(
            s,
            vec![Segment {
                start: 10 * W - pad,
                end: 30 * W + pad
            }]
        );
    }

    #[test]
    fn short_blips_are_dropped_and_short_gaps_bridged() {
        let cfg = VadConfig::default();
        // 2 speech windows = 64 ms < 250 ms: dropped.
        let p = probs("....SS........");
        assert!(segments(&p, p.len() * W, cfg).is_empty());
        // A 2-window (64 ms) gap is shorter than 100 ms of silence: one segment.
        let p = probs("..SSSSSSSSSS..SSSSSSSSSS.......");
        assert_eq!(segments(&p, p.len() * W, cfg).len(), 1);
        // Mid-range probabilities continue speech (hysteresis).
        let p = probs("..SSSSSmmmmmmmmSSSSS.......");
        assert_eq!(segments(&p, p.len() * W, cfg).len(), 1);
        // A long gap splits.
        let p = probs("..SSSSSSSSSS.........SSSSSSSSSS.......");
        assert_eq!(segments(&p, p.len() * W, cfg).len(), 2);
    }

    #[test]
    fn speech_running_at_the_end_is_closed_by_finish() {
        let p = probs("....SSSSSSSSSSSS");
        let s = segments(&p, p.len() * W - 100, VadConfig::default());
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].end, p.len() * W - 100);
    }

    #[test]
    fn events_stream() {
        let mut seg = Segmenter::new(VadConfig::default());
        let mut events = Vec::new();
        for p in probs("..SSSSSSSSSS......") {
            events.extend(seg.push(p));
        }
        assert_eq!(events[0], VadEvent::SpeechStart(2 * W));
        assert!(matches!(events[1], VadEvent::SpeechEnd(_)));
        assert!(!seg.in_speech());
    }
}
