//! Helpers shared by the end-to-end tests: run the real `ownvoice` binary with isolated state.
#![allow(dead_code)]

pub mod service;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Stock voices the quick voice fits of the tests screen (`voice train --stock`): a few of each
/// kind, so a fit starts in seconds rather than the minute that screening all 54 takes.
pub const QUICK_STOCK: &str = "af_heart,af_bella,am_michael,bf_emma,bm_george,jf_alpha";

/// The repository root. From the `CARGO_MANIFEST_DIR` that `cargo test` sets when it runs the
/// test, not the one compiled in: cargo does not rebuild a test when only the checkout's path
/// changed, so a binary reused from a checkout elsewhere that shares the target folder (as
/// `tools/setup.sh`'s cache does) would look for the data there.
pub fn root() -> PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    manifest.join("../..").canonicalize().unwrap()
}

/// A bundled dataset folder, e.g. `datasets("jfk_whisper_sample")`.
pub fn dataset(rel: &str) -> PathBuf {
    root().join("datasets").join(rel)
}

/// A test environment: its own `OWNVOICE_HOME`, the shared model cache.
pub struct Env {
    pub home: tempfile::TempDir,
    pub passphrase: String,
}

impl Env {
    pub fn new() -> Env {
        Env {
            home: tempfile::tempdir().unwrap(),
            passphrase: "correct horse battery staple".into(),
        }
    }

    /// An `ownvoice` command with this environment.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_ownvoice"));
        c.env("OWNVOICE_HOME", self.home.path())
            .env("OWNVOICE_PASSPHRASE", &self.passphrase)
            .env_remove("RUST_LOG")
            .current_dir(root());
        c
    }

    /// Runs `ownvoice ARGS`, returning the output (no assertion).
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().expect("ownvoice runs")
    }

    /// Runs `ownvoice ARGS` and asserts success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "ownvoice {args:?} failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Enrolls `person` from the takes folder `dir`; returns stdout.
    pub fn enroll(&self, person: &str, dir: &Path) -> String {
        self.ok(&[
            "enroll",
            "--person",
            person,
            "--from-dir",
            dir.to_str().unwrap(),
        ])
    }

    /// Fits `person`'s voice for `generations` small generations (4 voices each, 2 workers,
    /// seed `seed`); returns `voice train --json`'s report.
    pub fn train_voice(&self, person: &str, generations: &str, seed: &str) -> serde_json::Value {
        self.train_voice_with(person, generations, seed, &["--stock", QUICK_STOCK])
    }

    /// `voice train` on a tiny budget with extra arguments `extra` (no `--stock`: every stock
    /// voice is screened first, about a minute of CPU).
    pub fn train_voice_with(
        &self,
        person: &str,
        generations: &str,
        seed: &str,
        extra: &[&str],
    ) -> serde_json::Value {
        let mut args = vec![
            "voice",
            "train",
            "--person",
            person,
            "--generations",
            generations,
            "--population",
            "4",
            "--workers",
            "2",
            "--seed",
            seed,
            "--json",
        ];
        args.extend_from_slice(extra);
        let out = self.ok(&args);
        serde_json::from_str(&out).unwrap()
    }

    /// Path of a person's profile.
    pub fn profile(&self, person: &str) -> PathBuf {
        self.home
            .path()
            .join("people")
            .join(format!("{person}.age"))
    }
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts that a run failed cleanly: non-zero exit, no panic, an `error:` line naming `needle`.
pub fn assert_clean_failure(o: &Output, needle: &str) {
    let err = stderr(o);
    assert!(
        !o.status.success(),
        "expected failure, got success; stderr: {err}"
    );
    assert!(!err.contains("panicked"), "panic: {err}");
    assert!(
        err.lines()
            .any(|l| l.starts_with("error:") && l.contains(needle)),
        "no one-line error naming {needle:?} in: {err}"
    );
}

/// Writes a WAV file with the given spec and f32 samples in [-1, 1].
pub fn write_wav(path: &Path, samples: &[f32], rate: u32, channels: u16, bits: u16, float: bool) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: if float {
            hound::SampleFormat::Float
        } else {
            hound::SampleFormat::Int
        },
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for &s in samples {
        for _ in 0..channels {
            if float {
                w.write_sample(s).unwrap();
            } else {
                let max = ((1i64 << (bits - 1)) - 1) as f32;
                w.write_sample((s.clamp(-1.0, 1.0) * max).round() as i32)
                    .unwrap();
            }
        }
    }
    w.finalize().unwrap();
}

/// Reads a 16-bit WAV as f32 samples (mono) and its rate.
pub fn read_wav(path: &Path) -> (Vec<f32>, u32) {
    let mut r = hound::WavReader::open(path).unwrap();
    let rate = r.spec().sample_rate;
    (
        r.samples::<i16>()
            .map(|s| s.unwrap() as f32 / 32768.0)
            .collect(),
        rate,
    )
}

/// A folder with the first `n` real Cathy enrollment takes and their transcripts.tsv.
pub fn cathy_takes(n: usize) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let src = dataset("cathy_arctic/enroll");
    let tsv = std::fs::read_to_string(src.join("transcripts.tsv")).unwrap();
    let lines: Vec<&str> = tsv.lines().take(n + 1).collect();
    std::fs::create_dir_all(d.path().join("wav/cathy")).unwrap();
    for l in &lines[1..] {
        let rel = l.split('\t').next().unwrap();
        std::fs::copy(src.join(rel), d.path().join(rel)).unwrap();
    }
    std::fs::write(d.path().join("transcripts.tsv"), lines.join("\n") + "\n").unwrap();
    d
}
