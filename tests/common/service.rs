//! Helpers for the service tests: a running `ownvoice serve` on ephemeral ports and the Python
//! peer clients (`tests/service/*.py`, in the venv `tools/setup.sh` makes).
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use super::Env;

pub const JFK_TEXT: &str = "And so, my fellow Americans, ask not what your country can do for you, ask what you can do for your country.";

pub fn jfk() -> PathBuf {
    super::dataset("jfk_whisper_sample/wav/jfk/jfk.wav")
}

pub fn python() -> PathBuf {
    let dir = std::env::var_os("OWNVOICE_PY_CLIENTS").map_or_else(
        || {
            let cache = std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(std::env::var("HOME").unwrap()).join(".cache"));
            cache.join("ownvoice/pyclients")
        },
        PathBuf::from,
    );
    let py = dir.join("bin/python");
    assert!(
        py.is_file(),
        "{} is missing: run `bash tools/setup.sh` (it installs the wyoming and openai clients)",
        py.display()
    );
    py
}

/// Runs a client script under tests/service and parses its JSON line.
pub fn client(script: &str, args: &[&str]) -> Value {
    let out = Command::new(python())
        .arg(super::root().join("tests/service").join(script))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{script} {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A running `ownvoice serve` on ephemeral loopback ports.
pub struct Server {
    pub child: Child,
    pub ready: Value,
}

impl Server {
    pub fn start(env: &Env, extra: &[&str]) -> Server {
        // Ephemeral loopback ports, unless `extra` sets an address itself.
        let mut args = vec!["serve"];
        for flag in ["--wyoming-asr", "--wyoming-tts", "--http"] {
            if !extra.contains(&flag) {
                args.extend([flag, "127.0.0.1:0"]);
            }
        }
        let mut child = env
            .cmd()
            .args(args)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let ready: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("serve did not print its ready line ({e}): {line:?}"));
        Server { child, ready }
    }

    pub fn addr(&self, key: &str) -> String {
        self.ready[key].as_str().unwrap().to_string()
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr("http"))
    }

    /// The server is still up and answers a Wyoming `describe`.
    pub fn assert_alive(&mut self) {
        assert!(self.child.try_wait().unwrap().is_none(), "the server died");
        let d = client(
            "wyoming_client.py",
            &["describe", &self.addr("wyoming_asr")],
        );
        assert_eq!(d["asr"][0]["name"], "ownvoice");
    }

    /// Peak resident memory, kB.
    pub fn peak_rss_kb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Transcribes a WAV with the ownvoice CLI (to check synthesized speech).
pub fn transcribe_file(env: &Env, path: &Path) -> String {
    env.ok(&["transcribe", path.to_str().unwrap()])
}
