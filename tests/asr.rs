//! Transcription with the real tiny.en model on real speech.

mod common;

use common::{dataset, Env};
use ownvoice_asr::wer::WordErrors;
use serde_json::Value;

fn eval(env: &Env, dir: &str, extra: &[&str]) -> (usize, usize) {
    let data = dataset(dir);
    let mut args = vec!["eval", "asr", "--data", data.to_str().unwrap(), "--json"];
    args.extend_from_slice(extra);
    let out = env.ok(&args);
    let v: Value = serde_json::from_str(&out).unwrap();
    (
        v["errors"].as_u64().unwrap() as usize,
        v["words"].as_u64().unwrap() as usize,
    )
}

#[test]
fn tiny_en_wer_on_bundled_real_speech_is_under_10_percent() {
    let env = Env::new();
    let (mut greedy, mut beam, mut words) = (0, 0, 0);
    for dir in [
        "ljspeech_samples",
        "jfk_whisper_sample",
        "cathy_arctic/enroll",
        "cathy_arctic/heldout",
    ] {
        let (e, w) = eval(&env, dir, &[]);
        let (b, _) = eval(&env, dir, &["--beam", "5"]);
        eprintln!("{dir}: {e}/{w} greedy, {b}/{w} with 5 beams");
        greedy += e;
        beam += b;
        words += w;
    }
    assert!(words > 500, "too few reference words: {words}");
    let wer = greedy as f64 / words as f64;
    eprintln!("WER {:.2} % over {words} words", wer * 100.0);
    assert!(wer <= 0.10, "WER {wer:.3} > 0.10");
    // Beam search keeps the likeliest of 5 hypotheses: on clear speech it is no worse than
    // greedy decoding beyond a word or two of noise.
    assert!(
        beam <= greedy + 2,
        "{beam} errors with 5 beams, {greedy} greedily"
    );
}

#[test]
fn json_output_has_the_documented_keys() {
    let env = Env::new();
    let jfk = dataset("jfk_whisper_sample/wav/jfk/jfk.wav");
    let out = env.ok(&["transcribe", "--format", "json", jfk.to_str().unwrap()]);
    let v: Value = serde_json::from_str(&out).unwrap();
    let arr = v.as_array().expect("a JSON array");
    assert_eq!(arr.len(), 1);
    let o = &arr[0];
    assert_eq!(o["path"], jfk.to_str().unwrap());
    assert_eq!(o["model"], "tiny.en");
    assert!((o["duration_s"].as_f64().unwrap() - 11.0).abs() < 0.1);
    let segs = o["segments"].as_array().unwrap();
    assert!(!segs.is_empty());
    for s in segs {
        assert!(s["end"].as_f64().unwrap() >= s["start"].as_f64().unwrap());
        assert!(s["text"].is_string());
    }
    let text = o["text"].as_str().unwrap();
    let reference = "And so, my fellow Americans, ask not what your country can do for you, ask what you can do for your country.";
    assert_eq!(WordErrors::score(reference, text).errors, 0, "{text}");
}

#[test]
fn subtitles_are_well_formed() {
    let env = Env::new();
    let jfk = dataset("jfk_whisper_sample/wav/jfk/jfk.wav");
    let srt = env.ok(&["transcribe", "--format", "srt", jfk.to_str().unwrap()]);
    assert!(srt.starts_with("1\n00:00:00,000 --> "), "{srt}");
    let vtt = env.ok(&["transcribe", "--format", "vtt", jfk.to_str().unwrap()]);
    assert!(vtt.starts_with("WEBVTT\n\n00:00:00.000 --> "), "{vtt}");
}

/// Any WAV encoding and rate is converted to 16 kHz mono before recognition.
#[test]
fn other_rates_channels_and_encodings_transcribe_the_same() {
    let env = Env::new();
    let tmp = tempfile::tempdir().unwrap();
    let src = dataset("cathy_arctic/heldout/wav/cathy/arctic_a0031.wav");
    let reference = std::fs::read_to_string(dataset("cathy_arctic/heldout/transcripts.tsv"))
        .unwrap()
        .lines()
        .find(|l| l.contains("arctic_a0031"))
        .unwrap()
        .split('\t')
        .nth(2)
        .unwrap()
        .to_string();
    let (x, rate) = common::read_wav(&src);
    assert_eq!(rate, 16_000);
    // 44.1 kHz stereo 24-bit and 8 kHz-free float: made with the project's own resampler.
    let x44 = ownvoice_audio::resample::resample(&x, 16_000, 44_100).unwrap();
    let x22 = ownvoice_audio::resample::resample(&x, 16_000, 22_050).unwrap();
    let variants = [
        ("s24_44k.wav", x44.clone(), 44_100, 2, 24, false),
        ("f32_44k.wav", x44, 44_100, 1, 32, true),
        ("u8_22k.wav", x22.clone(), 22_050, 1, 8, false),
        ("s32_22k.wav", x22, 22_050, 2, 32, false),
    ];
    let mut paths = Vec::new();
    for (name, s, r, ch, bits, float) in variants {
        let p = tmp.path().join(name);
        common::write_wav(&p, &s, r, ch, bits, float);
        paths.push(p.to_str().unwrap().to_string());
    }
    let mut args = vec!["transcribe", "--format", "json"];
    args.extend(paths.iter().map(String::as_str));
    let v: Value = serde_json::from_str(&env.ok(&args)).unwrap();
    for o in v.as_array().unwrap() {
        let w = WordErrors::score(&reference, o["text"].as_str().unwrap()).wer();
        assert!(w <= 0.2, "{}: WER {w} ({})", o["path"], o["text"]);
        assert!((o["duration_s"].as_f64().unwrap() - x.len() as f64 / 16_000.0).abs() < 0.01);
    }
}
