//! The hallucination filter: Whisper, given non-speech, often writes "Thank you." or "you".
//!
//! Two defences. First, audio in which Silero VAD finds no speech is never sent to Whisper (the
//! caller checks [`crate::engine::Engine`]'s VAD gate). Second, a segment is dropped when its
//! text is one of Whisper's known non-speech phrases *and* Whisper itself thought the window
//! likely held no speech (`no_speech_prob` ≥ [`NO_SPEECH_PROB`]), or it is pure music or
//! bracketed sound tags. The phrase list follows what whisper users report (openai/whisper
//! discussions #679 and #1606); the 0.6 threshold is Whisper's own `no_speech_threshold`.

use ownvoice_asr::{Segment, Transcript};

/// `no_speech_prob` at or above which a known phrase counts as a hallucination (Whisper's
/// `no_speech_threshold` default in `transcribe.py`).
pub const NO_SPEECH_PROB: f32 = 0.6;

/// Phrases Whisper writes for silence, noise or music, normalised (lower case, no punctuation).
const PHRASES: &[&str] = &[
    "you",
    "thank you",
    "thanks",
    "thank you very much",
    "thank you so much",
    "thanks for watching",
    "thank you for watching",
    "thanks for watching and see you next time",
    "please subscribe",
    "bye",
    "bye bye",
    "okay",
    "so",
    "oh",
    "uh",
    "um",
    "hmm",
];

fn normalise(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric() || c.is_whitespace())
        .collect::<String>()
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// True when `seg` is a non-speech artefact: a sound tag (`[Music]`, `(applause)`, `♪`), empty
/// text, or a known phrase with a high no-speech probability.
pub fn is_hallucination(seg: &Segment) -> bool {
    let t = seg.text.trim();
    let tag = (t.starts_with('[') && t.ends_with(']')) || (t.starts_with('(') && t.ends_with(')'));
    let n = normalise(t);
    if tag
        || n.is_empty()
        || t.chars()
            .all(|c| c == '♪' || c.is_whitespace() || c.is_ascii_punctuation())
    {
        return true;
    }
    seg.no_speech_prob >= NO_SPEECH_PROB && PHRASES.contains(&n.as_str())
}

/// Removes hallucinated segments and rebuilds the text.
pub fn filter(mut t: Transcript) -> Transcript {
    t.segments.retain(|s| !is_hallucination(s));
    t.text = t
        .segments
        .iter()
        .map(|s| s.text.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(text: &str, p: f32) -> Segment {
        Segment {
            start: 0.0,
            end: 1.0,
            text: text.into(),
            no_speech_prob: p,
        }
    }

    #[test]
    fn drops_phrases_only_when_whisper_doubts_speech() {
        assert!(is_hallucination(&seg("Thank you.", 0.8)));
        assert!(is_hallucination(&seg(" you", 0.7)));
        assert!(!is_hallucination(&seg("Thank you.", 0.1)));
        assert!(!is_hallucination(&seg("Thank you for the tea.", 0.9)));
        assert!(is_hallucination(&seg("[Music]", 0.0)));
        assert!(is_hallucination(&seg("♪ ♪", 0.0)));
        assert!(is_hallucination(&seg(" ... ", 0.0)));
    }

    #[test]
    fn filter_rebuilds_text() {
        let t = Transcript {
            text: String::new(),
            segments: vec![seg("Hello there.", 0.1), seg("Thank you.", 0.9)],
            language: "en".into(),
        };
        assert_eq!(filter(t).text, "Hello there.");
    }
}
