//! Packing short takes into Whisper's 30 s window for training: the encoder always runs over
//! the whole window (`n_audio_ctx` = 1500 frames), so a 3 s take padded to 30 s wastes nine
//! tenths of the work. Several consecutive takes, each followed by a short silence, share one
//! window and their transcripts are joined, as in Whisper's own training data (multi-sentence
//! 30 s segments, Radford et al. 2022, §2.1).

use crate::features::WINDOW_SAMPLES;

/// Silence put after each take in a packed window: 0.3 s at 16 kHz, in samples.
pub const GAP_SAMPLES: usize = 4_800;

/// Packs `takes` (16 kHz samples, transcript) in their order into windows of at most 30 s:
/// a take starts a new window when it would not fit in the current one (with the gap after
/// it). A take longer than 30 s gets a window of its own (cut to 30 s by the front end).
/// Returns `(samples, joined transcript, takes in the window)`.
pub fn pack(takes: &[(Vec<f32>, String)]) -> Vec<(Vec<f32>, String, usize)> {
    let mut out: Vec<(Vec<f32>, String, usize)> = Vec::new();
    for (audio, text) in takes {
        let fits = out
            .last()
            .is_some_and(|(a, _, _)| a.len() + audio.len() + GAP_SAMPLES <= WINDOW_SAMPLES);
        if !fits {
            out.push((Vec::with_capacity(WINDOW_SAMPLES), String::new(), 0));
        }
        let (a, t, n) = out.last_mut().expect("a window");
        a.extend_from_slice(audio);
        a.resize(a.len() + GAP_SAMPLES, 0.0);
        if !t.is_empty() {
            t.push(' ');
        }
        t.push_str(text.trim());
        *n += 1;
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
        let shape: Vec<(usize, &str)> = w.iter().map(|(_, t, n)| (*n, t.as_str())).collect();
        assert_eq!(
            shape,
            [(2, "one. two."), (1, "three."), (1, "long."), (1, "four.")]
        );
        assert_eq!(w[0].0.len(), 22 * 16_000 + 2 * GAP_SAMPLES);
        assert!(w[0].0[10 * 16_000..10 * 16_000 + GAP_SAMPLES]
            .iter()
            .all(|&x| x == 0.0));
    }
}
