//! `ownvoice adapt` end to end on real takes: the WER gate installs a model only when the
//! held-back (or, for a small enrollment, cross-validated) WER improves (a diverging learning
//! rate makes it refuse), an interrupted run resumes, and `transcribe
//! --person` (and `eval asr --person`) use the installed model or say they fall back to the
//! base one.

mod common;

use common::Env;
use serde_json::Value;

fn adapt(env: &Env, extra: &[&str]) -> Value {
    let mut args = vec!["adapt", "--person", "cathy", "--json"];
    args.extend_from_slice(extra);
    serde_json::from_str(&env.ok(&args)).unwrap()
}

#[test]
fn the_wer_gate_refuses_a_model_that_got_worse() {
    let env = Env::new();
    let takes = common::cathy_takes(8);
    env.enroll("cathy", takes.path());
    let clip = common::dataset("cathy_arctic/heldout/wav/cathy/arctic_a0031.wav");
    let out = env.run(&["transcribe", "--person", "cathy", clip.to_str().unwrap()]);
    assert!(out.status.success());
    assert!(common::stderr(&out).contains("no adapted tiny.en model"));

    // A learning rate that wrecks the model, kept to the end: the gate must refuse it.
    let r = adapt(
        &env,
        &["--epochs", "2", "--lr", "0.5", "--no-early-stopping"],
    );
    let (before, after) = (
        r["heldout_wer_before"].as_f64().unwrap(),
        r["heldout_wer_after"].as_f64().unwrap(),
    );
    assert!(after > before, "{r}");
    assert_eq!(r["installed"], false, "{r}");
    // By default the last 2 encoder blocks are adapted too (where an accent lives).
    assert_eq!(r["encoder_layers"], 2, "{r}");
    // 8 takes hold too few words for a held-back split: the gate cross-validates over 3
    // folds, so every take is judged, each by a model that never trained on it.
    assert_eq!(r["cv_folds"], 3, "{r}");
    assert_eq!(r["heldout_takes"], 8, "{r}");
    assert!(r["model_blob"].is_null());
    let show: Value =
        serde_json::from_str(&env.ok(&["people", "show", "cathy", "--json"])).unwrap();
    assert_eq!(show["adaptation"]["installed"], false);
    assert_eq!(show["blobs"], 8, "no model blob was stored");

    // A normal run: installed exactly when the judged WER improved consistently over the
    // takes (a paired t of at least the minimum; `gate_t` null: infinite).
    let r = adapt(&env, &["--epochs", "1"]);
    let consistent = r["gate_t"]
        .as_f64()
        .is_none_or(|t| t >= r["gate_min_t"].as_f64().unwrap());
    let better = consistent
        && r["heldout_wer_after"].as_f64().unwrap() < r["heldout_wer_before"].as_f64().unwrap();
    assert_eq!(r["installed"] == true, better, "{r}");
    let out = env.run(&["transcribe", "--person", "cathy", clip.to_str().unwrap()]);
    assert!(out.status.success());
    assert_eq!(
        common::stderr(&out).contains("no adapted tiny.en model"),
        !better,
        "{}",
        common::stderr(&out)
    );
    // `eval asr --person` scores new takes with the same model `transcribe --person` uses.
    let data = common::dataset("cathy_arctic/heldout");
    let eval: Value = serde_json::from_str(&env.ok(&[
        "eval",
        "asr",
        "--data",
        data.to_str().unwrap(),
        "--limit",
        "2",
        "--person",
        "cathy",
        "--json",
    ]))
    .unwrap();
    let expected = if better {
        "tiny.en adapted to cathy"
    } else {
        "tiny.en"
    };
    assert_eq!(eval["model"], expected, "{eval}");
    assert!(eval["wer"].as_f64().unwrap() < 0.5, "{eval}");
}

#[test]
fn an_adaptation_killed_mid_way_resumes_from_its_checkpoint() {
    use std::io::{BufRead, BufReader, Read};
    let env = Env::new();
    let takes = common::cathy_takes(8);
    env.enroll("cathy", takes.path());
    let args = [
        "adapt",
        "--person",
        "cathy",
        "--epochs",
        "3",
        "--no-early-stopping",
        "--json",
    ];
    let mut child = env
        .cmd()
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        // The progress bar writes carriage returns; read up to new lines.
        if err.read_until(b'\n', &mut line).unwrap() == 0 {
            panic!("adapt ended before its first checkpoint: {seen}");
        }
        let text = String::from_utf8_lossy(&line).into_owned();
        seen.push_str(&text);
        // Killed in the second cross-validation fold, the first one judged.
        if text.contains("fold 2/3: checkpoint saved after epoch 1") {
            break;
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let mut rest = String::new();
    let _ = err.read_to_string(&mut rest);
    assert!(seen.contains("fold 1/3: WER on its"), "{seen}");

    let out = env.run(&args);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["resumed_after_epoch"], 1, "{r}");
    assert!(r["steps"].as_u64().unwrap() > 0);
    // The judged fold is not trained again; the interrupted one goes on after its epoch 1.
    let log = common::stderr(&out);
    assert!(!log.contains("fold 1/3: checkpoint saved"), "{log}");
    assert!(
        log.contains("fold 2/3: resuming the interrupted run after epoch 1"),
        "{log}"
    );
    assert!(
        !log.contains("fold 2/3: checkpoint saved after epoch 1\n"),
        "{log}"
    );
    // The finished run leaves no checkpoint behind: the takes and at most the model.
    let show: Value =
        serde_json::from_str(&env.ok(&["people", "show", "cathy", "--json"])).unwrap();
    let installed = usize::from(show["adaptation"]["installed"] == true);
    assert_eq!(show["blobs"].as_u64().unwrap() as usize, 8 + installed);
}

#[test]
fn encoder_adapters_over_packed_windows_and_rotated_folds() {
    let env = Env::new();
    let takes = common::cathy_takes(8);
    env.enroll("cathy", takes.path());
    // 4 folds of 2 takes: fold 0 holds back takes 0 and 4.
    let out = env.run(&[
        "adapt",
        "--person",
        "cathy",
        "--heldout",
        "0.25",
        "--heldout-fold",
        "4",
    ]);
    assert!(!out.status.success());
    assert!(
        common::stderr(&out).contains("makes 4 folds"),
        "{}",
        common::stderr(&out)
    );
    let r = adapt(
        &env,
        &[
            "--heldout",
            "0.25",
            "--heldout-fold",
            "0",
            "--encoder-layers",
            "1",
            "--pack",
            "--epochs",
            "1",
        ],
    );
    assert_eq!(r["encoder_layers"], 1, "{r}");
    assert_eq!(
        (r["train_takes"].as_u64(), r["heldout_takes"].as_u64()),
        (Some(6), Some(2))
    );
    // The 6 training takes (about 3 s each) share one window: one step per epoch.
    assert_eq!(r["steps"], 1, "{r}");
    let before = r["heldout_wer_before"].as_f64().unwrap();
    assert!(before < 0.2, "tiny.en on Cathy: {r}");
}
