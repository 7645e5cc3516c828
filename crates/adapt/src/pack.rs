//! Packing short takes into Whisper's 30 s window for training: the encoder always runs over
//! the whole window (`n_audio_ctx` = 1500 frames), so a 3 s take padded to 30 s wastes nine
//! tenths of the work. Several consecutive takes, each followed by a short silence, share one
//! window and their transcripts are joined, as in Whisper's own training data (multi-sentence
//! 30 s segments, Radford et al. 2022, §2.1).

use crate::features::WINDOW_SAMPLES;

/// Silence put after each take in a packed window: 0.3 s at 16 kHz, in samples.
pub const GAP_SAMPLES: usize = 4_800;

/// One utterance inside a window: where it starts and ends (seconds from the window's start)
/// and its transcript.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub start_s: f32,
    pub end_s: f32,
    pub text: String,
}

/// A training window: up to 30 s of 16 kHz samples and the utterances in it, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    pub samples: Vec<f32>,
    pub segments: Vec<Segment>,
}

impl Window {
    /// One take alone in its window (cut to 30 s by the front end if longer).
    pub fn single(samples: Vec<f32>, text: &str) -> Window {
        let end_s = seconds(samples.len().min(WINDOW_SAMPLES));
        Window {
            samples,
            segments: vec![Segment {
                start_s: 0.0,
                end_s,
                text: text.trim().to_string(),
            }],
        }
    }

    /// The transcripts of the window's utterances joined by spaces.
    pub fn text(&self) -> String {
        let texts: Vec<&str> = self.segments.iter().map(|s| s.text.as_str()).collect();
        texts.join(" ")
    }
}

/// Seconds from a window's start at sample index `n` (16 kHz).
fn seconds(n: usize) -> f32 {
    n as f32 / ownvoice_audio::SPEECH_SAMPLE_RATE as f32
}

/// Packs `takes` (16 kHz samples, transcript) in their order into windows of at most 30 s:
/// a take starts a new window when it would not fit in the current one (with the gap after
/// it). A take longer than 30 s gets a window of its own (cut to 30 s by the front end).
pub fn pack(takes: &[(Vec<f32>, String)]) -> Vec<Window> {
    let mut out: Vec<Window> = Vec::new();
    for (audio, text) in takes {
        let fits = out
            .last()
            .is_some_and(|w| w.samples.len() + audio.len() + GAP_SAMPLES <= WINDOW_SAMPLES);
        if !fits {
            out.push(Window {
                samples: Vec::with_capacity(WINDOW_SAMPLES),
                segments: Vec::new(),
            });
        }
        let w = out.last_mut().expect("a window");
        let start = w.samples.len();
        w.samples.extend_from_slice(audio);
        let end = w.samples.len().min(WINDOW_SAMPLES);
        w.samples.resize(w.samples.len() + GAP_SAMPLES, 0.0);
        w.segments.push(Segment {
            start_s: seconds(start),
            end_s: seconds(end),
            text: text.trim().to_string(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consecutive_takes_share_windows_of_at_most_30_s() {
        let take = |s: f32, t: &str| (vec![0.1; (s * 16_000.0) as usize], t.to_string());
        let takes = vec![
            take(10.0, "one."),
            take(12.0, "two."),
            take(9.0, "three."),
            take(31.0, "long."),
            take(2.0, "four."),
        ];
        let w = pack(&takes);
        let shape: Vec<(usize, String)> = w.iter().map(|w| (w.segments.len(), w.text())).collect();
        let expected = [(2, "one. two."), (1, "three."), (1, "long."), (1, "four.")];
        assert_eq!(shape, expected.map(|(n, t)| (n, t.to_string())));
        assert_eq!(w[0].samples.len(), 22 * 16_000 + 2 * GAP_SAMPLES);
        // The second take starts after the first and its gap.
        assert_eq!(w[0].segments[1].start_s, 10.3);
        assert_eq!(w[0].segments[1].end_s, 22.3);
        // A take over 30 s ends at the window's end.
        assert_eq!(w[2].segments[0].end_s, 30.0);
        assert!(w[0].samples[10 * 16_000..10 * 16_000 + GAP_SAMPLES]
            .iter()
            .all(|&x| x == 0.0));
    }
}
