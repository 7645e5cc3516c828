//! Interactive enrollment end to end in a real terminal (tmux send-keys / capture-pane), with the
//! microphone replaced by the `OWNVOICE_INPUT_WAV` test seam (a folder: each take plays the next
//! file at real-time pace). Real Cathy takes answer the prompts; the challenge phrases, random
//! per session, are answered with `ownvoice speak` (synthetic, as an extra case). Covers: a
//! short enrollment, one clipped take rejected and recorded again, quit, resume, and the report.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{dataset, Env};
use serde_json::Value;

struct Tmux {
    name: String,
}

impl Tmux {
    fn start(name: &str, command: &str) -> Tmux {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", name])
            .output();
        let ok = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-s",
                name,
                "-x",
                "200",
                "-y",
                "50",
                command,
            ])
            .status()
            .expect("tmux is installed (tools/setup.sh installs it)");
        assert!(ok.success());
        Tmux { name: name.into() }
    }

    /// The whole pane, scroll-back included.
    fn pane(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-J", "-S", "-", "-t", &self.name])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until `needle` occurs at least `count` times in the pane; returns the pane.
    fn wait(&self, needle: &str, count: usize) -> String {
        let t0 = Instant::now();
        loop {
            let pane = self.pane();
            if pane.matches(needle).count() >= count {
                return pane;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(120),
                "timed out waiting for {needle:?} x{count}; pane:\n{pane}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn keys(&self, keys: &str) {
        Command::new("tmux")
            .args(["send-keys", "-t", &self.name, keys])
            .status()
            .unwrap();
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.name])
            .output();
    }
}

struct Live {
    env: Env,
    prompts: PathBuf,
    _dir: tempfile::TempDir,
}

impl Live {
    fn command(&self, seam: &Path) -> String {
        format!(
            "env OWNVOICE_HOME={} OWNVOICE_PASSPHRASE='{}' OWNVOICE_INPUT_WAV={} RUST_LOG=error {} \
             enroll --person cathy --prompts {} --minutes 5; echo OWNVOICE-EXIT=$?; sleep 600",
            self.env.home.path().display(),
            self.env.passphrase,
            seam.display(),
            env!("CARGO_BIN_EXE_ownvoice"),
            self.prompts.display()
        )
    }

    /// Answers both challenge phrases of a session with synthetic speech of the shown words.
    fn answer_challenges(&self, t: &Tmux, seam: &Path, heard_before: usize) {
        for i in 1..=2 {
            let pane = t.wait(&format!("Challenge {i}/2"), 1 + heard_before / 2);
            let phrase = pane
                .rsplit("say these words: \"")
                .next()
                .and_then(|s| s.split('"').next())
                .unwrap()
                .to_string();
            let wav = seam.join(format!("c{i}.wav"));
            self.env
                .ok(&["speak", &phrase, "-o", wav.to_str().unwrap()]);
            t.keys("Space");
            t.wait("heard: ", heard_before + i);
        }
    }
}

fn cathy(id: &str) -> PathBuf {
    dataset(&format!("cathy_arctic/enroll/wav/cathy/{id}.wav"))
}

/// Places `src` as the next file of the seam folder (names sort in the order placed).
fn feed(seam: &Path, n: usize, src: &Path) {
    std::fs::copy(src, seam.join(format!("t{n:02}.wav"))).unwrap();
}

#[test]
fn enroll_reject_quit_resume_and_report() {
    let dir = tempfile::tempdir().unwrap();
    let prompts = dir.path().join("prompts.tsv");
    let all = std::fs::read_to_string(dataset("cathy_arctic/enroll/transcripts.tsv")).unwrap();
    let first4: Vec<&str> = all.lines().take(5).collect();
    std::fs::write(&prompts, first4.join("\n") + "\n").unwrap();
    let live = Live {
        env: Env::new(),
        prompts,
        _dir: dir,
    };
    let seam1 = live._dir.path().join("seam1");
    std::fs::create_dir(&seam1).unwrap();
    // A clipped take: a0002 amplified 8x.
    let (x, rate) = common::read_wav(&cathy("arctic_a0002"));
    let loud: Vec<f32> = x.iter().map(|s| (s * 8.0).clamp(-1.0, 1.0)).collect();
    let clipped = live._dir.path().join("clipped.wav");
    common::write_wav(&clipped, &loud, rate, 1, 16, false);

    // Session 1: challenges, a0001 accepted, a0002 clipped → rejected → again → accepted, quit.
    let name = format!("ownvoice-test-{}", std::process::id());
    let t = Tmux::start(&name, &live.command(&seam1));
    t.wait("new profile", 1);
    live.answer_challenges(&t, &seam1, 0);
    t.wait("prompt arctic_a0001", 1);
    feed(&seam1, 1, &cathy("arctic_a0001"));
    t.keys("Space");
    t.wait("✓ accepted", 1);
    t.wait("prompt arctic_a0002", 1);
    feed(&seam1, 2, &clipped);
    t.keys("Space");
    let pane = t.wait("✗ rejected", 1);
    assert!(pane.contains("rejected: clipped"), "{pane}");
    t.wait("prompt arctic_a0002", 2);
    feed(&seam1, 3, &cathy("arctic_a0002"));
    t.keys("Space");
    t.wait("✓ accepted", 2);
    t.wait("prompt arctic_a0003", 1);
    t.keys("q");
    let pane = t.wait("OWNVOICE-EXIT=", 1);
    assert!(pane.contains("OWNVOICE-EXIT=0"), "{pane}");
    assert!(
        pane.contains("run the same command again to resume"),
        "{pane}"
    );
    drop(t);

    let show: Value =
        serde_json::from_str(&live.env.ok(&["people", "show", "cathy", "--json"])).unwrap();
    assert_eq!(show["accepted"], 2, "{show}");
    assert_eq!(show["rejected"], 1, "{show}");
    assert_eq!(show["challenges"].as_array().unwrap().len(), 2);

    // Session 2 resumes at a0003 (a0001 and a0002 are done) and runs out of prompts.
    let seam2 = live._dir.path().join("seam2");
    std::fs::create_dir(&seam2).unwrap();
    let t = Tmux::start(&name, &live.command(&seam2));
    t.wait("resuming: 2 takes", 1);
    live.answer_challenges(&t, &seam2, 0);
    let pane = t.wait("prompt arctic_a0003", 1);
    assert!(
        !pane.contains("prompt arctic_a0001"),
        "resume repeated a0001:\n{pane}"
    );
    feed(&seam2, 1, &cathy("arctic_a0003"));
    t.keys("Space");
    t.wait("✓ accepted", 1);
    t.wait("prompt arctic_a0004", 1);
    feed(&seam2, 2, &cathy("arctic_a0004"));
    t.keys("Space");
    let pane = t.wait("OWNVOICE-EXIT=", 1);
    assert!(pane.contains("No prompts left"), "{pane}");
    drop(t);

    let show: Value =
        serde_json::from_str(&live.env.ok(&["people", "show", "cathy", "--json"])).unwrap();
    assert_eq!(show["accepted"], 4, "{show}");
    assert_eq!(show["verified"], true);
    let m = &show;
    assert_eq!(m["challenges"].as_array().unwrap().len(), 4);
    let ids: Vec<&str> = m["takes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["quality"]["accepted"] == true)
        .map(|t| t["prompt_id"].as_str().unwrap_or_else(|| panic!("{t}")))
        .collect();
    assert_eq!(
        ids,
        [
            "arctic_a0001",
            "arctic_a0002",
            "arctic_a0003",
            "arctic_a0004"
        ]
    );
    for take in m["takes"].as_array().unwrap() {
        let q = &take["quality"];
        if q["accepted"] == true {
            assert!(q["wer"].as_f64().unwrap() <= 0.5);
            // Trimmed to speech: at most the take plus padding.
            assert!(q["duration_s"].as_f64().unwrap() < 4.0, "{take}");
        }
    }

    // The report lists every take.
    let html = live._dir.path().join("report.html");
    live.env
        .ok(&["people", "report", "cathy", "-o", html.to_str().unwrap()]);
    let page = std::fs::read_to_string(&html).unwrap();
    let n = m["takes"].as_array().unwrap().len();
    assert_eq!(n, 5);
    for take in m["takes"].as_array().unwrap() {
        let id = take["id"].as_str().unwrap();
        assert!(
            page.contains(&format!("id=\"take-{id}\"")),
            "take {id} missing"
        );
    }
    assert!(page.matches("<svg").count() >= n);
}
