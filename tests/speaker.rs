//! Speaker embeddings end to end: parity with the original Resemblyzer, verify and identify on
//! real clips of different speakers, and the same-speaker gate of enrollment.

mod common;

use common::{dataset, Env};
use serde_json::Value;

/// The 5 reference clips of tests/fixtures/speaker/embeddings.json, as bundled paths.
fn reference() -> Vec<(std::path::PathBuf, Vec<f64>)> {
    let text =
        std::fs::read_to_string(common::root().join("tests/fixtures/speaker/embeddings.json"))
            .unwrap();
    let items: Vec<Value> = serde_json::from_str(&text).unwrap();
    items
        .iter()
        .map(|i| {
            let path = dataset(i["path"].as_str().unwrap());
            let e = i["embedding"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect();
            (path, e)
        })
        .collect()
}

fn cosine(a: &[f64], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let n = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
    dot / (n(a) * n(b))
}

#[test]
fn embeddings_match_the_original_resemblyzer() {
    let env = Env::new();
    let refs = reference();
    let mut args = vec!["embed".to_string(), "--json".into()];
    args.extend(refs.iter().map(|(p, _)| p.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out: Vec<Value> = serde_json::from_str(&env.ok(&args)).unwrap();
    assert_eq!(out.len(), refs.len());
    let mine: Vec<Vec<f64>> = out
        .iter()
        .map(|o| {
            o["embedding"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect()
        })
        .collect();
    for ((path, want), got) in refs.iter().zip(&mine) {
        assert_eq!(got.len(), 256);
        let c = cosine(want, got);
        assert!(
            c >= 0.999,
            "{}: cosine {c} with Resemblyzer",
            path.display()
        );
    }
    // Different people are told apart: every cross pair scores well below a same-voice score.
    for i in 0..mine.len() {
        for j in i + 1..mine.len() {
            assert!(cosine(&mine[i], &mine[j]) < 0.75, "clips {i} and {j}");
        }
    }
}

fn enroll(env: &Env, person: &str, dir: &std::path::Path, extra: &[&str]) -> Value {
    let mut args = vec![
        "enroll",
        "--person",
        person,
        "--from-dir",
        dir.to_str().unwrap(),
        "--json",
    ];
    args.extend_from_slice(extra);
    serde_json::from_str(&env.ok(&args)).unwrap()
}

/// A folder of the first `n` takes of a bundled dataset folder.
fn takes_of(folder: &str, n: usize) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let src = dataset(folder);
    let tsv = std::fs::read_to_string(src.join("transcripts.tsv")).unwrap();
    let lines: Vec<&str> = tsv.lines().take(n + 1).collect();
    for l in &lines[1..] {
        let rel = l.split('\t').next().unwrap();
        std::fs::create_dir_all(d.path().join(rel).parent().unwrap()).unwrap();
        std::fs::copy(src.join(rel), d.path().join(rel)).unwrap();
    }
    std::fs::write(d.path().join("transcripts.tsv"), lines.join("\n") + "\n").unwrap();
    d
}

#[test]
fn verify_and_identify_real_speakers() {
    let env = Env::new();
    let r = enroll(&env, "cathy", common::cathy_takes(6).path(), &[]);
    assert!(r["voice_print"]["takes"].as_u64().unwrap() >= 5, "{r}");
    let r = enroll(&env, "linda", takes_of("ljspeech_samples", 6).path(), &[]);
    assert!(r["voice_print"]["takes"].as_u64().unwrap() >= 5, "{r}");

    let cathy_clip = dataset("cathy_arctic/heldout/wav/cathy/arctic_a0035.wav");
    let lj_clip = dataset("ljspeech_samples/wav/ljspeech/LJ001-0009.wav");
    let aew_clip = dataset("cmu_arctic_pyroomacoustics/wav/arctic_aew/arctic_a0002.wav");
    let verify = |person: &str, clip: &std::path::Path| {
        let out = env.run(&[
            "verify",
            "--person",
            person,
            clip.to_str().unwrap(),
            "--json",
        ]);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(out.status.success(), v["accepted"] == true, "{v}");
        v
    };
    let same = verify("cathy", &cathy_clip);
    assert_eq!(same["accepted"], true, "{same}");
    let other = verify("cathy", &lj_clip);
    assert_eq!(other["accepted"], false, "{other}");
    assert!(same["score"].as_f64().unwrap() > other["score"].as_f64().unwrap() + 0.1);
    assert_eq!(verify("linda", &lj_clip)["accepted"], true);
    assert_eq!(verify("linda", &aew_clip)["accepted"], false);

    let ranked = |clip: &std::path::Path| -> Vec<Value> {
        serde_json::from_str(&env.ok(&["identify", clip.to_str().unwrap(), "--json"])).unwrap()
    };
    assert_eq!(ranked(&cathy_clip)[0]["person"], "cathy");
    assert_eq!(ranked(&lj_clip)[0]["person"], "linda");
    let stranger = ranked(&aew_clip);
    assert!(
        stranger.iter().all(|c| c["above_threshold"] == false),
        "a stranger matches nobody: {stranger:?}"
    );
}

#[test]
fn the_same_speaker_gate_rejects_another_voice_mixed_in() {
    let env = Env::new();
    // 6 Cathy takes plus 3 takes of aew (a man), all labelled as Cathy's.
    let dir = common::cathy_takes(6);
    let src = dataset("cmu_arctic_pyroomacoustics");
    let tsv = std::fs::read_to_string(src.join("transcripts.tsv")).unwrap();
    let mut lines: Vec<String> = std::fs::read_to_string(dir.path().join("transcripts.tsv"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    std::fs::create_dir_all(dir.path().join("wav/other")).unwrap();
    let mut intruders = Vec::new();
    for l in tsv.lines().skip(1).filter(|l| l.contains("arctic_aew")) {
        let cols: Vec<&str> = l.split('\t').collect();
        let name = std::path::Path::new(cols[0])
            .file_name()
            .unwrap()
            .to_str()
            .unwrap();
        let rel = format!("wav/other/{name}");
        std::fs::copy(src.join(cols[0]), dir.path().join(&rel)).unwrap();
        lines.push(format!("{rel}\tcathy\t{}", cols[2]));
        intruders.push(rel);
    }
    std::fs::write(dir.path().join("transcripts.tsv"), lines.join("\n") + "\n").unwrap();

    let r = enroll(&env, "cathy", dir.path(), &[]);
    let mut flagged: Vec<String> = r["speaker_flagged"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    flagged.sort();
    assert_eq!(flagged, intruders, "{r}");
    assert_eq!(r["accepted"], 6, "{r}");
    assert_eq!(r["voice_print"]["takes"], 6);
    for t in r["takes"].as_array().unwrap() {
        let is_intruder = intruders.iter().any(|i| t["source"] == i.as_str());
        assert_eq!(t["quality"]["accepted"] == false, is_intruder, "{t}");
        if is_intruder {
            assert!(t["quality"]["reasons"]
                .to_string()
                .contains("a different speaker?"));
            assert!(
                t["audio_blob"].is_null(),
                "another voice's audio is not kept"
            );
        }
    }
    // Confirmed by the person, a flagged take is kept.
    let r = enroll(
        &env,
        "cathy",
        dir.path(),
        &["--confirm-speaker", &intruders[0]],
    );
    assert_eq!(r["accepted"], 1, "{r}");
    assert_eq!(r["voice_print"]["takes"], 7, "{r}");
}
