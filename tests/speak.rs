//! Speech synthesis, checked by ear of the real recogniser: speak 20 sentences with the Piper joe
//! voice, transcribe them with tiny.en, and bound the WER.

mod common;

use common::Env;
use ownvoice_asr::wer::WordErrors;
use serde_json::Value;

const SENTENCES: [&str; 20] = [
    "The quick brown fox jumps over the lazy dog.",
    "Please turn off the lights in the kitchen.",
    "What is the weather going to be like tomorrow?",
    "My voice belongs to me, and it stays on my own computer.",
    "Set a timer for ten minutes.",
    "The library opens at nine in the morning.",
    "She sells seashells by the seashore.",
    "Remind me to call my sister this evening.",
    "How many kilometres is it to the station?",
    "The children played in the garden until sunset.",
    "Add milk, bread and eggs to the shopping list.",
    "I would like a cup of tea, please.",
    "The meeting has been moved to Thursday afternoon.",
    "Open the window, it is too warm in here.",
    "Music helps me concentrate when I work.",
    "The train to the city leaves every half hour.",
    "Could you read me the news headlines?",
    "Our neighbours have a small black cat.",
    "Good night, and sleep well.",
    "Thank you for listening to this test.",
];

#[test]
fn twenty_spoken_sentences_are_transcribed_back() {
    let env = Env::new();
    let tmp = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for (i, s) in SENTENCES.iter().enumerate() {
        let p = tmp.path().join(format!("s{i:02}.wav"));
        env.ok(&["speak", s, "-o", p.to_str().unwrap()]);
        let (x, rate) = common::read_wav(&p);
        assert_eq!(rate, 22_050);
        assert!(x.len() > 22_050 / 2, "sentence {i} is too short");
        paths.push(p.to_str().unwrap().to_string());
    }
    let mut args = vec!["transcribe", "--format", "json"];
    args.extend(paths.iter().map(String::as_str));
    let v: Value = serde_json::from_str(&env.ok(&args)).unwrap();
    let total: WordErrors = v
        .as_array()
        .unwrap()
        .iter()
        .zip(SENTENCES)
        .map(|(o, s)| {
            let e = WordErrors::score(s, o["text"].as_str().unwrap());
            eprintln!("{:>5.1}% {s} -> {}", e.wer() * 100.0, o["text"]);
            e
        })
        .sum();
    eprintln!("round-trip WER {:.2} %", total.wer() * 100.0);
    assert!(total.wer() <= 0.10, "round-trip WER {}", total.wer());
}

#[test]
fn speak_reads_stdin_and_rejects_empty_text() {
    use std::io::Write;
    let env = Env::new();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("stdin.wav");
    let mut child = env
        .cmd()
        .args(["speak", "-", "-o", out.to_str().unwrap()])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"Hello from standard input.")
        .unwrap();
    assert!(child.wait_with_output().unwrap().status.success());
    assert!(common::read_wav(&out).0.len() > 10_000);
    common::assert_clean_failure(
        &env.run(&["speak", "   ", "-o", out.to_str().unwrap()]),
        "nothing to say",
    );
}
