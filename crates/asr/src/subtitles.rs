//! SubRip (SRT) and WebVTT rendering of transcript segments.

use crate::Segment;

/// `HH:MM:SS{sep}mmm`.
fn timestamp(t: f64, sep: char) -> String {
    let ms = (t.max(0.0) * 1000.0).round() as u64;
    format!(
        "{:02}:{:02}:{:02}{sep}{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// SubRip: numbered cues, `00:00:01,000 --> 00:00:02,500`.
pub fn srt(segments: &[Segment]) -> String {
    let mut out = String::new();
    for (i, s) in segments.iter().enumerate() {
        out += &format!(
            "{}\n{} --> {}\n{}\n\n",
            i + 1,
            timestamp(s.start, ','),
            timestamp(s.end, ','),
            s.text
        );
    }
    out
}

/// WebVTT: a `WEBVTT` header, then cues `00:00:01.000 --> 00:00:02.500`.
pub fn vtt(segments: &[Segment]) -> String {
    let mut out = String::from("WEBVTT\n\n");
    for s in segments {
        out += &format!(
            "{} --> {}\n{}\n\n",
            timestamp(s.start, '.'),
            timestamp(s.end, '.'),
            s.text
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let s = [Segment {
            start: 3661.5,
            end: 3662.25,
            text: "hi".into(),
            no_speech_prob: 0.0,
        }];
        assert_eq!(srt(&s), "1\n01:01:01,500 --> 01:01:02,250\nhi\n\n");
        assert!(vtt(&s).starts_with("WEBVTT\n\n01:01:01.500 --> 01:01:02.250\nhi"));
    }
}
