//! One test per container/encoding: fixtures made from one real clip by
//! `tools/make_decode_fixtures.sh` (sox/ffmpeg) decode through the one entry point
//! (`ownvoice_audio::load_16k_mono`) to the source signal, and `ownvoice transcribe` reads them.

mod common;

use std::path::PathBuf;

use common::{root, Env};

fn dir() -> PathBuf {
    root().join("tests/fixtures/decode")
}

/// Normalised cross-correlation of `a` against the start of `b`, maximised over lags ±`max_lag`.
fn best_correlation(a: &[f32], b: &[f32], max_lag: usize) -> (f32, isize) {
    let mut best = (f32::MIN, 0isize);
    for lag in -(max_lag as isize)..=max_lag as isize {
        let (mut ab, mut aa, mut bb) = (0.0f64, 0.0f64, 0.0f64);
        for (i, &x) in a.iter().enumerate() {
            let j = i as isize + lag;
            if j < 0 || j as usize >= b.len() {
                continue;
            }
            let y = b[j as usize];
            ab += x as f64 * y as f64;
            aa += x as f64 * x as f64;
            bb += y as f64 * y as f64;
        }
        let c = (ab / (aa.sqrt() * bb.sqrt()).max(1e-12)) as f32;
        if c > best.0 {
            best = (c, lag);
        }
    }
    best
}

/// Decodes `file`, checks its length against the source excerpt it was made from and its
/// waveform against the source (correlation ≥ `min_corr` at a lag of at most 2 ms).
fn check(file: &str, excerpt_s: Option<f64>, min_corr: f32) {
    let source = ownvoice_audio::load_16k_mono(&dir().join("source_16k_mono.wav")).unwrap();
    let ours =
        ownvoice_audio::load_16k_mono(&dir().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    let expected = excerpt_s.map_or(source.len(), |s| (s * 16_000.0).round() as usize);
    let slack = 160; // 10 ms: resampler rounding and MP3 frame edges
    assert!(
        ours.len().abs_diff(expected) <= slack,
        "{file}: {} samples at 16 kHz, expected {expected}",
        ours.len()
    );
    let (corr, lag) = best_correlation(&ours[..ours.len().min(expected)], &source, 32);
    eprintln!(
        "{file}: {} samples, correlation {corr:.4} at lag {lag}",
        ours.len()
    );
    assert!(corr >= min_corr, "{file}: correlation {corr} < {min_corr}");
}

#[test]
fn wav_u8() {
    check("pcm_u8_8k_mono.wav", None, 0.95);
}

#[test]
fn wav_s16_stereo() {
    check("pcm_s16_44k_stereo.wav", Some(0.44), 0.999);
}

#[test]
fn wav_s24_extensible() {
    check("pcm_s24_48k_mono.wav", Some(0.44), 0.999);
}

#[test]
fn wav_s32_extensible() {
    check("pcm_s32_22k_mono.wav", Some(0.44), 0.999);
}

#[test]
fn wav_float32_stereo() {
    check("float32_48k_stereo.wav", Some(0.44), 0.999);
}

#[test]
fn wav_float64() {
    check("float64_16k_mono.wav", Some(0.44), 0.999);
}

#[test]
fn flac_s16_stereo() {
    check("flac_s16_44k_stereo.flac", None, 0.999);
}

#[test]
fn flac_s24() {
    check("flac_s24_48k_mono.flac", None, 0.999);
}

#[test]
fn mp3_cbr_stereo() {
    check("mp3_44k_stereo.mp3", None, 0.95);
}

#[test]
fn mp3_vbr_mono() {
    check("mp3_22k_mono.mp3", None, 0.95);
}

#[test]
fn vorbis_stereo() {
    check("vorbis_44k_stereo.ogg", None, 0.95);
}

#[test]
fn vorbis_mono() {
    check("vorbis_16k_mono.ogg", None, 0.95);
}

#[test]
fn transcribe_reads_every_compressed_format() {
    let env = Env::new();
    let files: Vec<String> = [
        "flac_s16_44k_stereo.flac",
        "mp3_44k_stereo.mp3",
        "mp3_22k_mono.mp3",
        "vorbis_44k_stereo.ogg",
    ]
    .iter()
    .map(|f| dir().join(f).display().to_string())
    .collect();
    let mut args = vec!["transcribe", "--format", "json"];
    args.extend(files.iter().map(String::as_str));
    let out: serde_json::Value = serde_json::from_str(&env.ok(&args)).unwrap();
    let reference = "Not at this particular case, Tom, apologized Whittemore.";
    for item in out.as_array().unwrap() {
        let hyp = item["text"].as_str().unwrap();
        let w = ownvoice_asr::wer::wer(reference, hyp);
        assert!(w <= 0.2, "{}: {hyp:?} WER {w}", item["path"]);
    }
}
