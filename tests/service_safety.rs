//! The service under hostile clients and on the network: random bytes, a huge announced
//! length, a truncated payload, a slow-loris, oversized and malformed HTTP bodies; LAN
//! addresses only with explicit flags; the bearer token; zeroconf advertisement and the
//! Wyoming allow-list.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use common::service::{client, jfk, Server, JFK_TEXT};
use common::Env;
use ownvoice_asr::wer::wer;

fn raw_exchange(addr: &str, bytes: &[u8], then_wait: Duration) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(bytes).unwrap();
    s.set_read_timeout(Some(then_wait)).unwrap();
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    String::from_utf8_lossy(&got).into_owned()
}

#[test]
fn hostile_clients_never_crash_the_server() {
    let env = Env::new();
    let mut server = Server::start(&env, &["--frame-timeout", "2", "--max-request-mb", "1"]);
    let asr = server.addr("wyoming_asr");
    // Random bytes (a fixed xorshift sequence, newlines included).
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let random: Vec<u8> = (0..20_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    let reply = raw_exchange(&asr, &random, Duration::from_secs(5));
    assert!(reply.contains("\"error\"") || reply.is_empty(), "{reply}");
    server.assert_alive();

    // A header announcing an enormous payload: an error event naming the limit, then close.
    let reply = raw_exchange(
        &asr,
        b"{\"type\":\"audio-chunk\",\"payload_length\":99999999999}\n",
        Duration::from_secs(5),
    );
    assert!(reply.contains("over the limit"), "{reply}");
    server.assert_alive();

    // A truncated payload: the client promises 1000 bytes, sends 10 and hangs up.
    {
        let mut s = TcpStream::connect(&asr).unwrap();
        s.write_all(
            b"{\"type\":\"audio-start\",\"data\":{\"rate\":16000,\"width\":2,\"channels\":1}}\n",
        )
        .unwrap();
        s.write_all(b"{\"type\":\"audio-chunk\",\"data\":{\"rate\":16000,\"width\":2,\"channels\":1},\"payload_length\":1000}\n")
            .unwrap();
        s.write_all(&[0; 10]).unwrap();
    }
    server.assert_alive();

    // A slow-loris: half a header, then nothing. The server must keep serving others meanwhile
    // and drop the slow client after the frame timeout (2 s here).
    let mut slow = TcpStream::connect(&asr).unwrap();
    slow.write_all(b"{\"type\": \"descr").unwrap();
    let t = client(
        "wyoming_client.py",
        &["transcribe", &asr, jfk().to_str().unwrap()],
    );
    assert!(wer(JFK_TEXT, t["text"].as_str().unwrap()) <= 0.1, "{t}");
    let started = Instant::now();
    slow.set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let mut got = Vec::new();
    let _ = slow.read_to_end(&mut got);
    assert!(
        started.elapsed() < Duration::from_secs(12),
        "the slow client was not disconnected"
    );
    assert!(String::from_utf8_lossy(&got).contains("\"error\""));

    // HTTP: a body over --max-request-mb is refused with 413; garbage JSON with 400.
    let http = server.addr("http");
    let status = |req: &[u8]| -> String {
        let mut s = TcpStream::connect(&http).unwrap();
        s.write_all(req).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut got = vec![0; 12];
        let _ = s.read_exact(&mut got);
        String::from_utf8_lossy(&got).into_owned()
    };
    let big = format!(
        "POST /v1/audio/speech HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        3 * 1024 * 1024
    );
    let mut req = big.into_bytes();
    req.extend(std::iter::repeat_n(b' ', 3 * 1024 * 1024));
    assert!(status(&req).ends_with("413"), "oversized body");
    assert!(status(b"POST /v1/audio/speech HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n{{{{{").ends_with("400"));
    server.assert_alive();
}

/// 23 s of real speech: JFK (11 s), then three held-back Cathy takes, 1 s of silence between.
#[test]
fn lan_addresses_need_explicit_safety_flags() {
    let env = Env::new();
    let o = env.run(&["serve", "--http", "0.0.0.0:0", "--no-wyoming"]);
    common::assert_clean_failure(&o, "--allow-lan");
    let o = env.run(&[
        "serve",
        "--http",
        "0.0.0.0:0",
        "--no-wyoming",
        "--allow-lan",
    ]);
    common::assert_clean_failure(&o, "--token-file");
    let o = env.run(&[
        "serve",
        "--wyoming-asr",
        "0.0.0.0:0",
        "--no-http",
        "--allow-lan",
    ]);
    common::assert_clean_failure(&o, "--wyoming-allow");
}

#[test]
fn bearer_token_is_required_when_configured() {
    let env = Env::new();
    let token = env.home.path().join("token");
    std::fs::write(&token, "s3cret-token-0123456789\n").unwrap();
    let server = Server::start(&env, &["--token-file", token.to_str().unwrap()]);
    let url = format!("{}/models", server.base_url());
    let code = |auth: Option<&str>| {
        let mut c = Command::new("curl");
        c.args(["-s", "-o", "/dev/null", "-w", "%{http_code}"]);
        if let Some(a) = auth {
            c.args(["-H", &format!("Authorization: Bearer {a}")]);
        }
        String::from_utf8(c.arg(&url).output().unwrap().stdout).unwrap()
    };
    assert_eq!(code(None), "401");
    assert_eq!(code(Some("wrong")), "401");
    assert_eq!(code(Some("s3cret-token-0123456789")), "200");
}

/// The first non-loopback IPv4 address of this machine (from `ip -4 -o addr`).
fn lan_ipv4() -> String {
    let out = Command::new("ip")
        .args(["-4", "-o", "addr"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(3))
        .map(|cidr| cidr.split('/').next().unwrap().to_string())
        .find(|ip| !ip.starts_with("127."))
        .expect("this test needs a non-loopback IPv4 interface")
}

#[test]
fn lan_wyoming_ports_are_advertised_over_zeroconf() {
    let env = Env::new();
    let ip = lan_ipv4();
    let asr = format!("{ip}:0");
    let tts = format!("{ip}:0");
    let server = Server::start(
        &env,
        &[
            "--allow-lan",
            "--wyoming-asr",
            &asr,
            "--wyoming-tts",
            &tts,
            "--wyoming-allow",
            "127.0.0.1",
            "--no-http",
        ],
    );
    let want: Vec<u16> = ["wyoming_asr", "wyoming_tts"]
        .iter()
        .map(|k| server.addr(k).rsplit(':').next().unwrap().parse().unwrap())
        .collect();
    let browser = mdns_sd::ServiceDaemon::new().unwrap();
    let rx = browser.browse("_wyoming._tcp.local.").unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut seen = std::collections::BTreeMap::new();
    while Instant::now() < deadline && seen.len() < 2 {
        if let Ok(mdns_sd::ServiceEvent::ServiceResolved(info)) =
            rx.recv_timeout(Duration::from_millis(500))
        {
            if want.contains(&info.get_port()) {
                seen.insert(info.get_fullname().to_string(), info.get_port());
            }
        }
    }
    let _ = browser.shutdown();
    assert_eq!(seen.len(), 2, "advertised: {seen:?}");
    assert!(
        seen.keys().any(|k| k.starts_with("ownvoice-stt.")),
        "{seen:?}"
    );
    // The allow-list holds: this machine's LAN address is not on it, so a client from there is
    // refused (closed without a reply).
    let mut s = TcpStream::connect(server.addr("wyoming_asr")).unwrap();
    let _ = s.write_all(b"{\"type\":\"describe\"}\n");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    assert!(
        got.is_empty(),
        "a client outside --wyoming-allow got {:?}",
        String::from_utf8_lossy(&got)
    );
}
