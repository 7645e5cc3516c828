//! The Wyoming connection handler: one task per connection, events in order.
//!
//! Speech-to-text (as wyoming-faster-whisper): `transcribe` (optional `name` = model or person,
//! `language`), then `audio-start`, `audio-chunk`s, `audio-stop` → `transcript {text, language}`.
//!
//! Text-to-speech (as wyoming-piper): `synthesize {text, voice {name}}` → `audio-start`,
//! `audio-chunk`s, `audio-stop`; streaming: `synthesize-start`, `synthesize-chunk`s,
//! `synthesize-stop` → for each complete sentence `audio-start`/`audio-chunk`s/`audio-stop`, then
//! `synthesize-stopped`. A `synthesize` sent inside a stream is ignored (Home Assistant sends one
//! for compatibility).
//!
//! Robustness: a malformed frame gets an `error` event and the connection is closed; request
//! errors (unknown voice, too much audio) get an `error` event and the connection goes on. A peer
//! that sends nothing for `idle_timeout`, or takes longer than `frame_timeout` to finish a frame
//! (a slow-loris), is disconnected. Beyond `max_connections` new connections are closed at once.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use super::frame::{read_event, write_event, Event, FrameError, FrameLimits};
use super::{info, Role};
use crate::{pcm, AsrRequest, Engine, ServiceError};

/// Samples per `audio-chunk` sent (wyoming-piper's `samples_per_chunk`).
const SAMPLES_PER_CHUNK: usize = 1024;

/// Connection settings.
#[derive(Debug, Clone)]
pub struct WyomingConfig {
    /// Frame size limits.
    pub limits: FrameLimits,
    /// Longest wait for the next event before the connection is closed.
    pub idle_timeout: Duration,
    /// Longest time one frame may take to arrive once its first byte has.
    pub frame_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
    /// Client addresses allowed (`None`: any; the CLI only allows that on loopback).
    pub allow: Option<Vec<ipnet::IpNet>>,
}

impl Default for WyomingConfig {
    fn default() -> Self {
        WyomingConfig {
            limits: FrameLimits::default(),
            idle_timeout: Duration::from_secs(300),
            frame_timeout: Duration::from_secs(10),
            max_connections: 64,
            allow: None,
        }
    }
}

/// Accepts connections on `listener` forever.
pub async fn serve(listener: TcpListener, role: Role, engine: Arc<Engine>, config: WyomingConfig) {
    let config = Arc::new(config);
    let slots = Arc::new(Semaphore::new(config.max_connections));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!("wyoming accept: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        if !allowed(&config, peer.ip()) {
            tracing::warn!("wyoming: refused {peer}: not in the --wyoming-allow list");
            continue;
        }
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            tracing::warn!(
                "wyoming: refused {peer}: {} connections open",
                config.max_connections
            );
            continue;
        };
        let engine = engine.clone();
        let config = config.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let _ = stream.set_nodelay(true);
            if let Err(e) = Connection::new(stream, peer, role, engine, config)
                .run()
                .await
            {
                tracing::debug!("wyoming {peer}: {e}");
            }
        });
    }
}

fn allowed(config: &WyomingConfig, ip: IpAddr) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    config
        .allow
        .as_ref()
        .is_none_or(|nets| nets.iter().any(|n| n.contains(&ip)))
}

/// Audio being received for transcription.
struct Incoming {
    rate: u32,
    width: usize,
    channels: usize,
    samples: Vec<f32>,
}

struct Connection {
    reader: BufReader<tokio::net::tcp::OwnedReadHalf>,
    writer: tokio::net::tcp::OwnedWriteHalf,
    peer: SocketAddr,
    role: Role,
    engine: Arc<Engine>,
    config: Arc<WyomingConfig>,
    request: AsrRequest,
    audio: Option<Incoming>,
    /// Streaming synthesis: the voice and the text not yet spoken.
    stream: Option<(Option<String>, String)>,
}

fn str_field(data: &serde_json::Map<String, Value>, key: &str) -> Option<String> {
    data.get(key).and_then(Value::as_str).map(str::to_string)
}

fn voice_name(data: &serde_json::Map<String, Value>) -> Option<String> {
    data.get("voice")
        .and_then(|v| v.get("name"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// Splits `buffer` after its last sentence end (`.`, `!`, `?`, `;`, `:` or a newline followed by
/// whitespace): the complete sentences, and the rest to keep.
fn complete_sentences(buffer: &str) -> (String, String) {
    let bytes = buffer.as_bytes();
    let mut cut = None;
    for i in 0..bytes.len().saturating_sub(1) {
        if matches!(bytes[i], b'.' | b'!' | b'?' | b';' | b':' | b'\n')
            && bytes[i + 1].is_ascii_whitespace()
        {
            cut = Some(i + 1);
        }
    }
    match cut {
        Some(c) => (buffer[..c].to_string(), buffer[c..].to_string()),
        None => (String::new(), buffer.to_string()),
    }
}

impl Connection {
    fn new(
        stream: TcpStream,
        peer: SocketAddr,
        role: Role,
        engine: Arc<Engine>,
        config: Arc<WyomingConfig>,
    ) -> Connection {
        let (r, w) = stream.into_split();
        Connection {
            reader: BufReader::new(r),
            writer: w,
            peer,
            role,
            engine,
            config,
            request: AsrRequest::default(),
            audio: None,
            stream: None,
        }
    }

    async fn send(&mut self, e: Event) -> std::io::Result<()> {
        write_event(&mut self.writer, &e).await
    }

    async fn send_error(&mut self, e: &ServiceError) -> std::io::Result<()> {
        tracing::info!("wyoming {}: {e}", self.peer);
        self.send(Event::with_data(
            "error",
            json!({"text": e.to_string(), "code": e.code()}),
        ))
        .await
    }

    /// Next event, with the idle and per-frame deadlines.
    async fn next(&mut self) -> Result<Option<Event>, FrameError> {
        let idle = self.config.idle_timeout;
        match tokio::time::timeout(idle, self.reader.fill_buf()).await {
            Err(_) => return Ok(None),
            Ok(r) => {
                if r?.is_empty() {
                    return Ok(None);
                }
            }
        }
        let limits = self.config.limits;
        match tokio::time::timeout(
            self.config.frame_timeout,
            read_event(&mut self.reader, &limits),
        )
        .await
        {
            Ok(r) => r,
            Err(_) => Err(FrameError::Truncated("frame not complete in time")),
        }
    }

    async fn run(mut self) -> std::io::Result<()> {
        loop {
            let event = match self.next().await {
                Ok(Some(e)) => e,
                Ok(None) => return Ok(()),
                Err(FrameError::Io(e)) => return Err(e),
                Err(e) => {
                    // Malformed frame: say why, then close (the stream is out of step).
                    let err = ServiceError::BadRequest(format!("bad frame: {e}"));
                    let _ = self.send_error(&err).await;
                    return Ok(());
                }
            };
            match self.handle(event).await {
                Ok(()) => {}
                Err(Failure::Request(e)) => self.send_error(&e).await?,
                Err(Failure::Close(e)) => {
                    let _ = self.send_error(&e).await;
                    return Ok(());
                }
                Err(Failure::Io(e)) => return Err(e),
            }
        }
    }

    async fn handle(&mut self, e: Event) -> Result<(), Failure> {
        match e.kind.as_str() {
            "describe" => {
                let data = info::info(&self.engine, self.role);
                self.send(Event::with_data("info", data)).await?;
            }
            "ping" => {
                let text = str_field(&e.data, "text");
                self.send(Event::with_data("pong", json!({ "text": text })))
                    .await?;
            }
            "transcribe" => {
                self.request = AsrRequest {
                    model: str_field(&e.data, "name"),
                    language: str_field(&e.data, "language"),
                    ..AsrRequest::default()
                };
            }
            "audio-start" => {
                let rate = e.data.get("rate").and_then(Value::as_u64).unwrap_or(16_000);
                let width = e.data.get("width").and_then(Value::as_u64).unwrap_or(2);
                let channels = e.data.get("channels").and_then(Value::as_u64).unwrap_or(1);
                if !(4_000..=192_000).contains(&rate) {
                    return Err(Failure::Request(ServiceError::BadRequest(format!(
                        "audio-start: rate {rate} Hz is not supported"
                    ))));
                }
                self.audio = Some(Incoming {
                    rate: rate as u32,
                    width: width as usize,
                    channels: channels as usize,
                    samples: Vec::new(),
                });
            }
            "audio-chunk" => self.audio_chunk(e)?,
            "audio-stop" => self.audio_stop().await?,
            "synthesize" => {
                if self.stream.is_none() {
                    let text = str_field(&e.data, "text").unwrap_or_default();
                    self.speak(text, voice_name(&e.data), true, true).await?;
                }
            }
            "synthesize-start" => self.stream = Some((voice_name(&e.data), String::new())),
            "synthesize-chunk" => {
                let Some((voice, mut buffer)) = self.stream.take() else {
                    return Err(Failure::Request(ServiceError::BadRequest(
                        "synthesize-chunk outside synthesize-start/stop".into(),
                    )));
                };
                buffer += &str_field(&e.data, "text").unwrap_or_default();
                let (ready, rest) = complete_sentences(&buffer);
                self.stream = Some((voice.clone(), rest));
                if !ready.trim().is_empty() {
                    self.speak(ready, voice, true, true).await?;
                }
            }
            "synthesize-stop" => {
                if let Some((voice, rest)) = self.stream.take() {
                    if !rest.trim().is_empty() {
                        self.speak(rest, voice, true, true).await?;
                    }
                }
                self.send(Event::new("synthesize-stopped")).await?;
            }
            other => tracing::debug!("wyoming {}: ignoring {other:?}", self.peer),
        }
        Ok(())
    }

    fn audio_chunk(&mut self, e: Event) -> Result<(), Failure> {
        let max_s = self.engine.config().max_audio_s;
        let Some(audio) = self.audio.as_mut() else {
            return Err(Failure::Request(ServiceError::BadRequest(
                "audio-chunk before audio-start".into(),
            )));
        };
        let samples = pcm::to_mono_f32(&e.payload, audio.width, audio.channels)?;
        audio.samples.extend(samples);
        if audio.samples.len() as f64 / audio.rate as f64 > max_s {
            self.audio = None;
            return Err(Failure::Close(ServiceError::TooLarge(format!(
                "more than {max_s} s of audio in one request"
            ))));
        }
        Ok(())
    }

    async fn audio_stop(&mut self) -> Result<(), Failure> {
        let Some(audio) = self.audio.take() else {
            return Err(Failure::Request(ServiceError::BadRequest(
                "audio-stop before audio-start".into(),
            )));
        };
        let samples = if audio.rate == 16_000 {
            audio.samples
        } else {
            ownvoice_audio::resample::resample(&audio.samples, audio.rate, 16_000)
                .map_err(ServiceError::from)?
        };
        let request = std::mem::take(&mut self.request);
        let r = self.engine.transcribe(samples, request).await?;
        tracing::info!(
            "wyoming {}: transcribed {:.1} s with {}",
            self.peer,
            r.duration_s,
            r.model
        );
        self.send(Event::with_data(
            "transcript",
            json!({"text": r.text, "language": r.language}),
        ))
        .await?;
        Ok(())
    }

    /// Synthesises `text` and sends it as one `audio-start` … `audio-stop` sequence.
    async fn speak(
        &mut self,
        text: String,
        voice: Option<String>,
        start: bool,
        stop: bool,
    ) -> Result<(), Failure> {
        let mut s = self.engine.synthesize(text, voice.as_deref(), 1.0).await?;
        let fmt = json!({"rate": s.sample_rate, "width": 2, "channels": 1});
        if start {
            self.send(Event::with_data("audio-start", fmt.clone()))
                .await?;
        }
        while let Some(chunk) = s.chunks.recv().await {
            let chunk = chunk?;
            for piece in chunk.chunks(SAMPLES_PER_CHUNK) {
                let e =
                    Event::with_data("audio-chunk", fmt.clone()).with_payload(pcm::to_pcm16(piece));
                self.send(e).await?;
            }
        }
        if stop {
            self.send(Event::new("audio-stop")).await?;
        }
        Ok(())
    }
}

/// How a handled event failed.
enum Failure {
    /// Report and go on.
    Request(ServiceError),
    /// Report and close the connection.
    Close(ServiceError),
    /// The socket failed.
    Io(std::io::Error),
}

impl From<ServiceError> for Failure {
    fn from(e: ServiceError) -> Self {
        Failure::Request(e)
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::Io(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_split_after_the_last_end() {
        assert_eq!(
            complete_sentences("Hello there. How are"),
            ("Hello there.".into(), " How are".into())
        );
        assert_eq!(
            complete_sentences("No end yet"),
            (String::new(), "No end yet".into())
        );
        assert_eq!(
            complete_sentences("3.5 kg"),
            (String::new(), "3.5 kg".into())
        );
    }

    #[test]
    fn allow_list() {
        let mut c = WyomingConfig::default();
        assert!(allowed(&c, "10.0.0.5".parse().unwrap()));
        c.allow = Some(vec![
            "192.168.1.0/24".parse().unwrap(),
            "127.0.0.1/32".parse().unwrap(),
        ]);
        assert!(allowed(&c, "192.168.1.77".parse().unwrap()));
        assert!(allowed(&c, "::ffff:127.0.0.1".parse().unwrap()));
        assert!(!allowed(&c, "192.168.2.1".parse().unwrap()));
    }
}
