//! Enrollment into an encrypted profile, and the vault's promises: wrong passphrase and tampering
//! are clear errors, nothing is overwritten, and no take is stored in the clear.

mod common;

use common::{assert_clean_failure, dataset, Env};
use serde_json::Value;

/// A folder with 6 real Cathy takes plus one clipped and one near-silent take made from real ones.
fn enrollment_dir() -> tempfile::TempDir {
    let d = common::cathy_takes(6);
    let src = dataset("cathy_arctic/enroll");
    let tsv = std::fs::read_to_string(src.join("transcripts.tsv")).unwrap();
    let mut lines: Vec<String> = tsv.lines().take(7).map(str::to_string).collect();
    // Clipped: a real take amplified 8x (hard clipping); too quiet: the same take at -50 dB.
    let (x, rate) = common::read_wav(&src.join("wav/cathy/arctic_a0007.wav"));
    let text7 = tsv
        .lines()
        .find(|l| l.contains("arctic_a0007"))
        .unwrap()
        .split('\t')
        .nth(2)
        .unwrap();
    let loud: Vec<f32> = x.iter().map(|s| (s * 8.0).clamp(-1.0, 1.0)).collect();
    common::write_wav(
        &d.path().join("wav/cathy/clipped.wav"),
        &loud,
        rate,
        1,
        16,
        false,
    );
    let quiet: Vec<f32> = x.iter().map(|s| s * 0.003).collect();
    common::write_wav(
        &d.path().join("wav/cathy/quiet.wav"),
        &quiet,
        rate,
        1,
        16,
        false,
    );
    lines.push(format!("wav/cathy/clipped.wav\tcathy\t{text7}"));
    lines.push(format!("wav/cathy/quiet.wav\tcathy\t{text7}"));
    std::fs::write(d.path().join("transcripts.tsv"), lines.join("\n") + "\n").unwrap();
    d
}

#[test]
fn enroll_show_tamper_and_wrong_passphrase() {
    let env = Env::new();
    let dir = enrollment_dir();
    let enroll = [
        "enroll",
        "--person",
        "cathy",
        "--from-dir",
        dir.path().to_str().unwrap(),
    ];
    let enroll_json = [&enroll[..], &["--json"]].concat();
    let out = env.ok(&enroll_json);
    let r: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["accepted"], 6, "{out}");
    assert_eq!(r["rejected"], 2, "{out}");
    let takes = r["takes"].as_array().unwrap();
    let reasons = |src: &str| -> String {
        let t = takes
            .iter()
            .find(|t| t["source"].as_str().unwrap().contains(src))
            .unwrap();
        t["quality"]["reasons"].to_string()
    };
    assert!(
        reasons("clipped.wav").contains("clipped"),
        "{}",
        reasons("clipped.wav")
    );
    assert!(
        reasons("quiet.wav").contains("too quiet"),
        "{}",
        reasons("quiet.wav")
    );
    for t in takes.iter().filter(|t| t["quality"]["accepted"] == true) {
        assert!(t["quality"]["wer"].as_f64().unwrap() <= 0.5);
        assert!(t["quality"]["speech_ratio"].as_f64().unwrap() > 0.3);
    }

    // The profile holds the audio, encrypted: no WAV header, no raw PCM of a take.
    let path = env.profile("cathy");
    let sealed = std::fs::read(&path).unwrap();
    assert!(sealed.starts_with(b"OWNVOICE-SEALED\n"));
    assert!(!sealed.windows(4).any(|w| w == b"RIFF"));
    let (x, _) = common::read_wav(&dir.path().join("wav/cathy/arctic_a0001.wav"));
    let pcm: Vec<u8> = x[8000..8016]
        .iter()
        .flat_map(|s| ((s * 32768.0) as i16).to_le_bytes())
        .collect();
    assert!(
        !sealed.windows(pcm.len()).any(|w| w == pcm.as_slice()),
        "raw take samples found"
    );
    // Nothing else of the person was written under OWNVOICE_HOME.
    let files: Vec<_> = walk(env.home.path());
    assert_eq!(files, vec![path.clone()], "unexpected files: {files:?}");

    // people list needs no passphrase; people show decrypts and verifies everything.
    let list: Value = serde_json::from_str(&env.ok(&["people", "list", "--json"])).unwrap();
    assert_eq!(list[0]["name"], "cathy");
    let show: Value =
        serde_json::from_str(&env.ok(&["people", "show", "cathy", "--json"])).unwrap();
    assert_eq!(show["person"], "cathy");
    assert_eq!(show["accepted"], 6);
    assert_eq!(show["verified"], true);
    assert_eq!(show["blobs"], 6);

    // Wrong passphrase: a clear error, the file untouched.
    let mut wrong = env.cmd();
    wrong.env("OWNVOICE_PASSPHRASE", "not the passphrase");
    let out = wrong.args(["people", "show", "cathy"]).output().unwrap();
    assert_clean_failure(&out, "wrong passphrase");
    let mut wrong = env.cmd();
    wrong.env("OWNVOICE_PASSPHRASE", "not the passphrase");
    let out = wrong.args(enroll).output().unwrap();
    assert_clean_failure(&out, "wrong passphrase");
    assert_eq!(std::fs::read(&path).unwrap(), sealed);

    // One flipped byte (in the payload, and in the header) is detected and nothing is overwritten.
    for at in [sealed.len() - 20, sealed.len() / 2, 60] {
        let mut bad = sealed.clone();
        bad[at] ^= 0x40;
        std::fs::write(&path, &bad).unwrap();
        let out = env.run(&["people", "show", "cathy"]);
        assert!(!out.status.success(), "flip at {at} not detected");
        let err = common::stderr(&out);
        assert!(
            err.contains("tampered")
                || err.contains("wrong passphrase")
                || err.contains("not an ownvoice profile"),
            "flip at {at}: {err}"
        );
        let out = env.run(&enroll);
        assert!(
            !out.status.success(),
            "enroll over a tampered profile must fail"
        );
        assert_eq!(
            std::fs::read(&path).unwrap(),
            bad,
            "tampered profile was overwritten"
        );
    }
    std::fs::write(&path, &sealed).unwrap();

    // Enrolling again adds nothing twice.
    let again: Value = serde_json::from_str(&env.ok(&enroll_json)).unwrap();
    assert_eq!(again["skipped_duplicates"], 8);
    assert_eq!(again["accepted"], 0);

    // Delete.
    env.ok(&["people", "delete", "cathy", "--yes"]);
    assert!(!path.exists());
}

#[test]
fn not_a_profile_and_bad_names() {
    let env = Env::new();
    std::fs::create_dir_all(env.home.path().join("people")).unwrap();
    std::fs::copy(
        dataset("jfk_whisper_sample/wav/jfk/jfk.wav"),
        env.profile("jfk"),
    )
    .unwrap();
    assert_clean_failure(
        &env.run(&["people", "show", "jfk"]),
        "not an ownvoice profile",
    );
    assert_clean_failure(
        &env.run(&["people", "show", "../etc"]),
        "not a valid person name",
    );
    assert_clean_failure(&env.run(&["people", "show", "nobody"]), "no profile");
}

#[test]
fn multi_speaker_folder_needs_a_speaker() {
    let env = Env::new();
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("transcripts.tsv"),
        "path\tspeaker\ttext\na.wav\tann\thi\nb.wav\tbob\tho\n",
    )
    .unwrap();
    assert_clean_failure(
        &env.run(&[
            "enroll",
            "--person",
            "x",
            "--from-dir",
            d.path().to_str().unwrap(),
        ]),
        "--speaker",
    );
    assert!(!env.profile("x").exists());
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
