//! `ownvoice serve` driven from outside, as Home Assistant and local apps drive it: the real
//! `wyoming` Python client (transcribe, synthesize, streaming synthesis), the official `openai`
//! Python client (both audio endpoints, every transcription format, 20 requests at once), a
//! WebSocket dictation stream of 23 s of real speech at real-time pace, and per-person routing.
//! Hostile clients and network exposure: `tests/service_safety.rs`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::service::{client, jfk, transcribe_file, Server, JFK_TEXT};
use common::Env;
use ownvoice_asr::wer::wer;
use serde_json::Value;

#[test]
fn wyoming_clients_transcribe_and_synthesize() {
    let env = Env::new();
    let mut server = Server::start(&env, &[]);
    let asr = server.addr("wyoming_asr");
    let tts = server.addr("wyoming_tts");

    let d = client("wyoming_client.py", &["describe", &asr]);
    assert_eq!(d["asr"][0]["models"][0], "tiny.en");
    let d = client("wyoming_client.py", &["describe", &tts]);
    assert_eq!(d["tts"][0]["voices"][0], "joe");
    assert_eq!(d["tts"][0]["streaming"], true);

    let t = client(
        "wyoming_client.py",
        &["transcribe", &asr, jfk().to_str().unwrap()],
    );
    let w = wer(JFK_TEXT, t["text"].as_str().unwrap());
    assert!(w <= 0.1, "WER {w} for {t}");

    let out = tempfile::tempdir().unwrap();
    let text = "The kettle is on. We will eat dinner at home tonight. Please feed the cat.";
    for (mode, starts) in [("plain", 1), ("stream", 3)] {
        let wav = out.path().join(format!("{mode}.wav"));
        let mut args = vec!["synthesize", &tts, text, wav.to_str().unwrap()];
        if mode == "stream" {
            args.push("--stream");
        }
        let r = client("wyoming_client.py", &args);
        assert_eq!(r["rate"], 22050, "{r}");
        // Streaming speaks sentence by sentence, as wyoming-piper does.
        assert_eq!(r["audio_starts"], starts, "{mode}: {r}");
        assert!(r["seconds"].as_f64().unwrap() > 2.0, "{mode}: {r}");
        let heard = transcribe_file(&env, &wav);
        let w = wer(text, &heard);
        assert!(
            w <= 0.2,
            "{mode}: synthesized speech heard as {heard:?} (WER {w})"
        );
    }
    // A voice that does not exist is an error event, not a crash.
    let bad = client(
        "wyoming_client.py",
        &[
            "synthesize",
            &tts,
            "Hello.",
            "/tmp/none.wav",
            "--voice",
            "nobody",
        ],
    );
    assert!(bad["error"].as_str().unwrap().contains("no voice"), "{bad}");
    server.assert_alive();
}

#[test]
fn openai_client_both_endpoints() {
    let env = Env::new();
    let mut server = Server::start(&env, &[]);
    let base = server.base_url();
    let file = jfk();
    let f = file.to_str().unwrap();

    let j = client("openai_client.py", &["transcribe", &base, f]);
    assert!(wer(JFK_TEXT, j["text"].as_str().unwrap()) <= 0.1, "{j}");
    let v = client(
        "openai_client.py",
        &["transcribe", &base, f, "--format", "verbose_json"],
    );
    assert_eq!(v["language"], "en");
    assert!((v["duration"].as_f64().unwrap() - 11.0).abs() < 0.1, "{v}");
    assert!(!v["segments"].as_array().unwrap().is_empty());
    let t = client(
        "openai_client.py",
        &["transcribe", &base, f, "--format", "text"],
    );
    assert!(wer(JFK_TEXT, t["body"].as_str().unwrap()) <= 0.1);
    let s = client(
        "openai_client.py",
        &["transcribe", &base, f, "--format", "srt"],
    );
    assert!(
        s["body"]
            .as_str()
            .unwrap()
            .starts_with("1\n00:00:00,000 --> "),
        "{s}"
    );
    let s = client(
        "openai_client.py",
        &["transcribe", &base, f, "--format", "vtt"],
    );
    assert!(s["body"].as_str().unwrap().starts_with("WEBVTT"), "{s}");

    let m = client("openai_client.py", &["models", &base]);
    assert_eq!(m["models"], serde_json::json!(["tiny.en", "joe"]));

    let out = tempfile::tempdir().unwrap();
    let text = "Good morning. It will rain this afternoon, so please take your coat with you.";
    let wav = out.path().join("speech.wav");
    let r = client(
        "openai_client.py",
        &["speech", &base, text, wav.to_str().unwrap()],
    );
    assert_eq!(r["sample_rate"], 22050);
    // Piper samples its durations (noise_w), so each run differs a little: allow 2 words in 14.
    let heard = transcribe_file(&env, &wav);
    assert!(wer(text, &heard) <= 0.15, "heard {heard:?}");
    // pcm: raw 24 kHz 16-bit mono, as OpenAI's.
    let pcm = out.path().join("speech.pcm");
    let r = client(
        "openai_client.py",
        &[
            "speech",
            &base,
            text,
            pcm.to_str().unwrap(),
            "--format",
            "pcm",
            "--speed",
            "1.25",
        ],
    );
    assert_eq!(r["sample_rate"], 24000);
    let bytes = std::fs::read(&pcm).unwrap();
    let samples: Vec<f32> = bytes
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]) as f32 / 32768.0)
        .collect();
    let as_wav = out.path().join("pcm.wav");
    common::write_wav(&as_wav, &samples, 24_000, 1, 16, false);
    let heard = transcribe_file(&env, &as_wav);
    assert!(wer(text, &heard) <= 0.2, "pcm heard {heard:?}");
    // Speed changes the duration. Piper samples its phoneme durations, so compare two speeds far
    // apart (1.25 vs 0.8: expected ratio 0.64) rather than one against the voice's own pace.
    let slow = out.path().join("slow.pcm");
    client(
        "openai_client.py",
        &[
            "speech",
            &base,
            text,
            slow.to_str().unwrap(),
            "--format",
            "pcm",
            "--speed",
            "0.8",
        ],
    );
    let fast_s = bytes.len() as f64 / 2.0 / 24_000.0;
    let slow_s = std::fs::metadata(&slow).unwrap().len() as f64 / 2.0 / 24_000.0;
    assert!(
        fast_s < slow_s * 0.85,
        "speed 1.25 gave {fast_s:.2} s, speed 0.8 {slow_s:.2} s"
    );
    server.assert_alive();
}

#[test]
fn twenty_concurrent_transcriptions_with_bounded_memory() {
    let env = Env::new();
    let mut server = Server::start(&env, &["--jobs", "1", "--queue", "32"]);
    let r = client(
        "openai_client.py",
        &[
            "concurrent",
            &server.base_url(),
            jfk().to_str().unwrap(),
            "20",
        ],
    );
    let results = r["results"].as_array().unwrap();
    assert_eq!(results.len(), 20);
    for x in results {
        let w = wer(JFK_TEXT, x["text"].as_str().unwrap());
        assert!(w <= 0.1, "{x}");
    }
    let rss_mb = server.peak_rss_kb() / 1024;
    eprintln!(
        "20 concurrent transcriptions of 11 s: wall {:.1} s, peak RSS {rss_mb} MB",
        r["wall_s"].as_f64().unwrap()
    );
    assert!(rss_mb < 1500, "peak RSS {rss_mb} MB");
    server.assert_alive();
}

/// Sends raw bytes to a Wyoming port; returns what came back before the server closed.
fn long_recording(dir: &Path) -> (PathBuf, String) {
    let mut samples = ownvoice_audio::load_16k_mono(&jfk()).unwrap();
    let mut text = JFK_TEXT.to_string();
    let held = common::dataset("cathy_arctic/heldout");
    let tsv = std::fs::read_to_string(held.join("transcripts.tsv")).unwrap();
    for line in tsv.lines().skip(1).take(3) {
        let cols: Vec<&str> = line.split('\t').collect();
        samples.extend(std::iter::repeat_n(0.0, 16_000));
        samples.extend(ownvoice_audio::load_16k_mono(&held.join(cols[0])).unwrap());
        text += " ";
        text += cols[2];
    }
    samples.extend(std::iter::repeat_n(0.0, 16_000));
    let path = dir.join("long.wav");
    common::write_wav(&path, &samples, 16_000, 1, 16, false);
    (path, text)
}

#[test]
fn websocket_dictation_streams_partials_and_finals() {
    let env = Env::new();
    let server = Server::start(&env, &[]);
    let dir = tempfile::tempdir().unwrap();
    let (wav, reference) = long_recording(dir.path());
    let (samples, _) = common::read_wav(&wav);
    assert!(samples.len() >= 20 * 16_000);
    let url = format!("ws://{}/v1/audio/dictation", server.addr("http"));
    let (mut ws, _) = tungstenite::connect(url.as_str()).unwrap();
    if let tungstenite::stream::MaybeTlsStream::Plain(s) = ws.get_mut() {
        s.set_read_timeout(Some(Duration::from_millis(5))).unwrap();
    }
    let mut events: Vec<Value> = Vec::new();
    let read_ready = |ws: &mut tungstenite::WebSocket<_>, events: &mut Vec<Value>| loop {
        match ws.read() {
            Ok(tungstenite::Message::Text(t)) => events.push(serde_json::from_str(&t).unwrap()),
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return false
            }
            Err(_) => return true,
        }
    };
    // 100 ms chunks at real-time pace.
    let started = Instant::now();
    for (i, chunk) in samples.chunks(1600).enumerate() {
        let due = started + Duration::from_millis(100 * i as u64);
        while Instant::now() < due {
            read_ready(&mut ws, &mut events);
            std::thread::sleep(Duration::from_millis(5));
        }
        let pcm: Vec<u8> = chunk
            .iter()
            .flat_map(|&s| ((s * 32767.0) as i16).to_le_bytes())
            .collect();
        ws.send(tungstenite::Message::Binary(pcm.into())).unwrap();
    }
    ws.send(tungstenite::Message::Text("{\"type\":\"stop\"}".into()))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !events.iter().any(|e| e["type"] == "done") && Instant::now() < deadline {
        if read_ready(&mut ws, &mut events) {
            break;
        }
    }
    let partials = events.iter().filter(|e| e["type"] == "partial").count();
    let finals: Vec<&Value> = events.iter().filter(|e| e["type"] == "final").collect();
    let text: Vec<&str> = finals.iter().map(|e| e["text"].as_str().unwrap()).collect();
    let text = text.join(" ");
    let w = wer(&reference, &text);
    let latencies: Vec<f64> = finals
        .iter()
        .map(|e| e["latency_ms"].as_f64().unwrap())
        .collect();
    eprintln!(
        "dictation: {partials} partials, {} finals, WER {w:.3}, latency ms {latencies:?}\n{text}",
        finals.len()
    );
    assert!(
        events.iter().any(|e| e["type"] == "done"),
        "no done event: {events:?}"
    );
    assert!(partials >= 3, "{events:?}");
    assert!(finals.len() >= 4, "{events:?}");
    assert!(w <= 0.2, "WER {w}: {text}");
    // Finals come in time order and each names its model.
    assert!(finals
        .windows(2)
        .all(|p| p[0]["start"].as_f64() < p[1]["start"].as_f64()));
    assert!(finals.iter().all(|e| e["model"] == "tiny.en"));
}

#[test]
fn requests_reach_the_right_person() {
    let env = Env::new();
    let takes = common::cathy_takes(6);
    env.enroll("cathy", takes.path());
    // A fitted voice (one small generation) is served under her name once she is unlocked.
    env.train_voice("cathy", "1", "1234");
    let mut server = Server::start(&env, &["--person", "cathy"]);
    assert_eq!(server.ready["people"], serde_json::json!(["cathy"]));
    assert_eq!(server.ready["voices"], serde_json::json!(["joe", "cathy"]));
    let out = tempfile::tempdir().unwrap();
    let wav = out.path().join("own.wav");
    let text = "The kettle is on. Please feed the cat.";
    let r = client(
        "wyoming_client.py",
        &[
            "synthesize",
            &server.addr("wyoming_tts"),
            text,
            wav.to_str().unwrap(),
            "--voice",
            "cathy",
        ],
    );
    assert_eq!(r["rate"], 24000, "{r}");
    let heard = transcribe_file(&env, &wav);
    assert!(wer(text, &heard) <= 0.2, "her voice heard as {heard:?}");
    let base = server.base_url();
    let d = client(
        "wyoming_client.py",
        &["describe", &server.addr("wyoming_asr")],
    );
    assert_eq!(
        d["asr"][0]["models"],
        serde_json::json!(["tiny.en", "cathy"])
    );

    // Speaker identification routes an utterance that names nobody.
    let held = common::dataset("cathy_arctic/heldout/wav/cathy/arctic_a0031.wav");
    let out = Command::new("curl")
        .args(["-s", "-F"])
        .arg(format!("file=@{}", held.display()))
        .args(["-F", "response_format=verbose_json"])
        .arg(format!("{base}/audio/transcriptions"))
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["person"], "cathy", "{v}");
    let out = Command::new("curl")
        .args(["-s", "-F"])
        .arg(format!("file=@{}", jfk().display()))
        .args(["-F", "response_format=verbose_json"])
        .arg(format!("{base}/audio/transcriptions"))
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["person"],
        Value::Null,
        "JFK must not be routed to cathy: {v}"
    );
    // Naming a person who is not unlocked is a 404 naming the fix.
    let out = Command::new("curl")
        .args(["-s", "-o", "/dev/stdout", "-w", "\n%{http_code}", "-F"])
        .arg(format!("file=@{}", jfk().display()))
        .args(["-F", "person=bob"])
        .arg(format!("{base}/audio/transcriptions"))
        .output()
        .unwrap();
    let body = String::from_utf8_lossy(&out.stdout);
    assert!(
        body.ends_with("404") && body.contains("--person bob"),
        "{body}"
    );
    server.assert_alive();
}
