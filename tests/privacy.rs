//! The privacy promises, tested on the main job (enroll → adapt → transcribe with the person's
//! model → speak → fit the person's voice → speak in it) run by the real binary on real
//! recordings:
//!
//! - **No plaintext:** with HOME, TMPDIR, the XDG folders and the state pointed at watched
//!   folders, the job writes there only the device key and the profile, and no file written
//!   outside the profile (there, in the model cache or in /dev/shm) holds a WAV header, ggml
//!   magic, or a take's raw samples (as 16-bit PCM or 32-bit float).
//! - **Offline:** the job passes inside a network namespace with no network (`unshare -n`),
//!   and under `strace` it opens no internet socket. Only the model fetch touches the network;
//!   a source scan keeps it that way.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The real model cache, as the test itself sees it (the job's own XDG folders are watched).
fn models_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("OWNVOICE_MODELS_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map_or_else(
            || PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache"),
            PathBuf::from,
        );
    cache.join("ownvoice/models")
}

/// Every file under `dir` with its size and modification time.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (u64, std::time::SystemTime)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                stack.push(e.path());
            } else if ft.is_file() {
                if let Ok(m) = e.metadata() {
                    out.insert(e.path(), (m.len(), m.modified().unwrap()));
                }
            }
        }
    }
    out
}

/// A sandbox: watched HOME, TMPDIR and XDG folders; the real model cache.
struct Sandbox {
    root: tempfile::TempDir,
    takes: tempfile::TempDir,
    out: tempfile::TempDir,
}

impl Sandbox {
    fn new(n_takes: usize) -> Sandbox {
        let root = tempfile::tempdir().unwrap();
        for d in ["home", "tmp", "cache", "config", "data", "state", "runtime"] {
            std::fs::create_dir_all(root.path().join(d)).unwrap();
        }
        Sandbox {
            root,
            takes: common::cathy_takes(n_takes),
            out: tempfile::tempdir().unwrap(),
        }
    }

    fn watched(&self) -> PathBuf {
        self.root.path().to_path_buf()
    }

    /// `ownvoice ARGS` with every place it may write pointed into the sandbox, prefixed by
    /// `wrap` (e.g. `unshare -rn`).
    fn cmd(&self, wrap: &[&str], args: &[&str]) -> Command {
        let bin = env!("CARGO_BIN_EXE_ownvoice");
        let mut c = if wrap.is_empty() {
            Command::new(bin)
        } else {
            let mut c = Command::new(wrap[0]);
            c.args(&wrap[1..]).arg(bin);
            c
        };
        let r = self.root.path();
        c.args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", r.join("home"))
            .env("TMPDIR", r.join("tmp"))
            .env("XDG_CACHE_HOME", r.join("cache"))
            .env("XDG_CONFIG_HOME", r.join("config"))
            .env("XDG_DATA_HOME", r.join("data"))
            .env("XDG_STATE_HOME", r.join("state"))
            .env("XDG_RUNTIME_DIR", r.join("runtime"))
            .env("OWNVOICE_MODELS_DIR", models_dir())
            .env("OWNVOICE_PASSPHRASE", "correct horse battery staple")
            .current_dir(common::root());
        c
    }

    fn ok(&self, wrap: &[&str], args: &[&str]) -> String {
        let out = self.cmd(wrap, args).output().unwrap();
        assert!(
            out.status.success(),
            "{wrap:?} ownvoice {args:?} failed:\n{}",
            common::stderr(&out)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// The main job: device identity, enrollment, adaptation, a transcription with the
    /// person's model, a spoken sentence.
    fn main_job(&self, wrap: &[&str]) {
        let takes = self.takes.path().to_str().unwrap();
        let speech = self.out.path().join("spoken.wav");
        self.ok(wrap, &["device", "init", "--label", "test", "--force"]);
        self.ok(wrap, &["enroll", "--person", "ada", "--from-dir", takes]);
        self.ok(wrap, &["people", "show", "ada"]);
        // Adaptation with a tiny budget: one epoch over the takes.
        self.ok(
            wrap,
            &["adapt", "--person", "ada", "--epochs", "1", "--batch", "2"],
        );
        let heldout = common::dataset("cathy_arctic/heldout/wav/cathy");
        let clip = std::fs::read_dir(heldout)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|x| x == "wav"))
            .unwrap();
        let text = self.ok(
            wrap,
            &["transcribe", "--person", "ada", clip.to_str().unwrap()],
        );
        assert!(text.split_whitespace().count() >= 3, "transcript: {text}");
        self.ok(
            wrap,
            &[
                "speak",
                "Nothing of this leaves the device.",
                "-o",
                speech.to_str().unwrap(),
            ],
        );
        assert!(std::fs::metadata(&speech).unwrap().len() > 10_000);
        // A personal voice: fitted (one small generation) and spoken with.
        self.ok(
            wrap,
            &[
                "voice",
                "train",
                "--person",
                "ada",
                "--generations",
                "1",
                "--population",
                "4",
            ],
        );
        let own = self.out.path().join("own.wav");
        self.ok(
            wrap,
            &[
                "speak",
                "--voice",
                "ada",
                "In my own voice.",
                "-o",
                own.to_str().unwrap(),
            ],
        );
        assert!(std::fs::metadata(&own).unwrap().len() > 10_000);
    }
}

/// Needles that must not appear in any file written outside the profile.
fn needles(takes: &Path) -> Vec<(String, Vec<u8>)> {
    let mut n = vec![
        ("a WAV header".to_string(), b"WAVEfmt ".to_vec()),
        (
            "ggml magic".to_string(),
            0x6767_6d6c_u32.to_le_bytes().to_vec(),
        ),
    ];
    let tsv = std::fs::read_to_string(takes.join("transcripts.tsv")).unwrap();
    for rel in tsv.lines().skip(1).map(|l| l.split('\t').next().unwrap()) {
        let (x, _) = common::read_wav(&takes.join(rel));
        for at in [x.len() / 4, x.len() / 2] {
            let win = &x[at..at + 16];
            let pcm: Vec<u8> = win
                .iter()
                .flat_map(|s| ((s * 32768.0).round() as i16).to_le_bytes())
                .collect();
            let f32s: Vec<u8> = win.iter().flat_map(|s| s.to_le_bytes()).collect();
            n.push((format!("{rel}'s samples (PCM16)"), pcm));
            n.push((format!("{rel}'s samples (f32)"), f32s));
        }
    }
    n
}

#[test]
fn no_plaintext_outside_the_profile() {
    let sb = Sandbox::new(4);
    let models_before = snapshot(&models_dir());
    let shm_before = snapshot(Path::new("/dev/shm"));
    sb.main_job(&[]);

    let written = snapshot(&sb.watched());
    let profiles: Vec<&PathBuf> = written
        .keys()
        .filter(|p| p.extension().is_some_and(|x| x == "age"))
        .collect();
    assert_eq!(profiles.len(), 1, "one profile expected: {written:?}");
    // Nothing but the device key and the profile: no decrypted take, no model, no cache, and
    // no third-party state (ONNX Runtime's telemetry keeps a device id and an event database
    // under ~/.cache/Microsoft unless it is turned off; see ownvoice_onnx).
    let names: Vec<String> = written
        .keys()
        .map(|p| p.strip_prefix(sb.watched()).unwrap().display().to_string())
        .collect();
    assert_eq!(
        names,
        ["data/ownvoice/device.key", "data/ownvoice/people/ada.age"],
        "files written by the job"
    );
    let mut suspects: Vec<PathBuf> = written.keys().cloned().collect();
    // New or changed files in the model cache and /dev/shm are scanned too.
    for (before, dir) in [
        (&models_before, models_dir()),
        (&shm_before, "/dev/shm".into()),
    ] {
        for (p, meta) in snapshot(&dir) {
            if before.get(&p) != Some(&meta) {
                suspects.push(p);
            }
        }
    }
    let needles = needles(sb.takes.path());
    for path in &suspects {
        let Ok(bytes) = std::fs::read(path) else {
            continue;
        };
        for (what, needle) in &needles {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_slice()),
                "{} holds {what}",
                path.display()
            );
        }
    }
    eprintln!("scanned {} files written by the job", suspects.len());
}

/// The `unshare` flags that give a new network namespace here: `-n` as root, else `-rn` (a user
/// namespace too).
fn unshare_flags() -> Result<&'static str, String> {
    let mut errors = Vec::new();
    for flags in ["-n", "-rn"] {
        let out = Command::new("unshare")
            .args([flags, "true"])
            .output()
            .map_err(|e| format!("unshare: {e} (util-linux)"))?;
        if out.status.success() {
            return Ok(flags);
        }
        errors.push(format!("unshare {flags}: {}", common::stderr(&out).trim()));
    }
    Err(format!("no network namespace can be made here: {errors:?}"))
}

#[test]
fn main_job_runs_with_no_network() {
    let flags = unshare_flags().unwrap();
    // Inside the namespace there really is no network: a connection cannot even be tried.
    let probe = Command::new("unshare")
        .args([flags, "bash", "-c", "exec 3<>/dev/tcp/9.9.9.9/53"])
        .output()
        .unwrap();
    assert!(!probe.status.success(), "the namespace has a network");
    assert!(
        common::stderr(&probe).contains("unreachable"),
        "{}",
        common::stderr(&probe)
    );
    let sb = Sandbox::new(4);
    sb.main_job(&["unshare", flags]);
}

#[test]
fn main_job_opens_no_internet_socket() {
    let sb = Sandbox::new(2);
    let log = sb.out.path().join("strace.log");
    let log_s = log.to_str().unwrap().to_string();
    let wrap = [
        "strace",
        "-f",
        "-qq",
        "-e",
        "trace=socket,connect",
        "-o",
        &log_s,
    ];
    assert!(
        Command::new("strace").arg("-V").output().is_ok(),
        "strace is needed (tools/setup.sh installs it)"
    );
    let mut all = String::new();
    // One log per command (strace -o overwrites): check after each.
    let check = |all: &mut String| {
        let text = std::fs::read_to_string(&log).unwrap();
        all.push_str(&text);
        for line in text.lines() {
            assert!(
                !(line.contains("AF_INET") || line.contains("AF_INET6")),
                "an internet socket: {line}"
            );
        }
    };
    let takes = sb.takes.path().to_str().unwrap().to_string();
    let speech = sb
        .out
        .path()
        .join("offline.wav")
        .to_str()
        .unwrap()
        .to_string();
    for args in [
        vec!["enroll", "--person", "ada", "--from-dir", &takes],
        vec!["transcribe", "datasets/jfk_whisper_sample/wav/jfk/jfk.wav"],
        vec!["speak", "Offline.", "-o", &speech],
    ] {
        sb.ok(&wrap, &args);
        check(&mut all);
    }
    // The trace did record system calls of these kinds (the check can fail).
    let probe = Command::new("strace")
        .args(["-f", "-qq", "-e", "trace=socket", "-o", &log_s])
        .args(["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9 || true"])
        .output()
        .unwrap();
    assert!(probe.status.success());
    assert!(std::fs::read_to_string(&log).unwrap().contains("AF_INET"));
}

#[test]
fn only_the_model_fetch_uses_the_network() {
    // Outbound network code (a client that connects somewhere): only in the fetch module.
    let fetch_only = ["crates/models/src/fetch.rs"];
    let client = [
        "ureq::",
        "reqwest",
        "TcpStream::connect",
        "hyper::client",
        "UdpSocket",
    ];
    // Listening sockets: only the service (which binds loopback unless told otherwise) and the
    // command that starts it.
    let serving =
        |rel: &str| rel.starts_with("crates/service/") || rel == "crates/cli/src/cmd_serve.rs";
    let server = [
        "TcpListener",
        "TcpStream",
        "std::net",
        "hyper::",
        "axum::",
        "mdns_sd",
    ];
    let mut found = Vec::new();
    let mut stack = vec![common::root().join("crates")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p
                    .strip_prefix(common::root())
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                let text = std::fs::read_to_string(&p).unwrap();
                for pat in client {
                    if text.contains(pat) && !fetch_only.contains(&rel.as_str()) {
                        found.push(format!("{rel}: {pat}"));
                    }
                }
                for pat in server {
                    if text.contains(pat) && !serving(&rel) && !fetch_only.contains(&rel.as_str()) {
                        found.push(format!("{rel}: {pat}"));
                    }
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "network code outside the fetch step and the service: {found:?}"
    );
    let fetch = std::fs::read_to_string(common::root().join(fetch_only[0])).unwrap();
    assert!(
        fetch.contains("ureq::"),
        "the scan looks for the wrong thing"
    );
    let serve =
        std::fs::read_to_string(common::root().join("crates/service/src/wyoming/server.rs"))
            .unwrap();
    assert!(
        serve.contains("TcpListener"),
        "the scan looks for the wrong thing"
    );
}
