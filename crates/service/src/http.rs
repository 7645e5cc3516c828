//! The OpenAI-style HTTP audio API (axum):
//!
//! - `POST /v1/audio/transcriptions` — multipart `file`, `model`, `language`, `prompt`,
//!   `response_format` (`json`, `text`, `srt`, `vtt`, `verbose_json`), and ownvoice's `person`.
//! - `POST /v1/audio/speech` — JSON `model`, `input`, `voice`, `response_format` (`wav`, `pcm`),
//!   `speed`; streamed sentence by sentence as it is synthesised. `pcm` is 24 kHz signed 16-bit
//!   mono, as OpenAI's; `wav` keeps the voice's own rate.
//! - `GET /v1/models`, `GET /health`.
//! - `GET /v1/audio/dictation` — WebSocket streaming dictation ([`crate::ws`]).
//!
//! Errors use OpenAI's shape: `{"error": {"message", "type", "param", "code"}}`. With a bearer
//! token configured every route but `/health` requires `Authorization: Bearer TOKEN`.

use std::path::Path;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Multipart, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::{pcm, AsrRequest, AsrResult, Engine, ServiceError};

/// Sample rate of `pcm` speech responses, Hz (OpenAI's).
pub const PCM_RATE: u32 = 24_000;

/// HTTP settings.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Bearer token every request but `/health` must carry (`None`: no authentication; the CLI
    /// only allows that on loopback).
    pub token: Option<String>,
    /// Largest request body, bytes (default 25 MiB, OpenAI's upload limit).
    pub max_request_bytes: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            token: None,
            max_request_bytes: 25 * 1024 * 1024,
        }
    }
}

#[derive(Clone)]
pub(crate) struct AppState {
    pub engine: Arc<Engine>,
    token: Option<Arc<str>>,
}

impl IntoResponse for ServiceError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let kind = if self.status() >= 500 {
            "server_error"
        } else {
            "invalid_request_error"
        };
        let body = json!({"error": {"message": self.to_string(), "type": kind, "param": null, "code": self.code()}});
        (status, Json(body)).into_response()
    }
}

/// The router.
pub fn router(engine: Arc<Engine>, config: &HttpConfig) -> Router {
    let state = AppState {
        engine,
        token: config.token.clone().map(Arc::from),
    };
    let api = Router::new()
        .route("/v1/audio/transcriptions", post(transcriptions))
        .route("/v1/audio/speech", post(speech))
        .route("/v1/models", get(models))
        .route("/v1/audio/dictation", get(crate::ws::dictation))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth));
    Router::new()
        .route("/health", get(health))
        .merge(api)
        .layer(DefaultBodyLimit::max(config.max_request_bytes))
        .with_state(state)
}

/// Constant-time comparison, so the token cannot be guessed byte by byte from timings.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn auth(State(s): State<AppState>, req: Request, next: Next) -> Response {
    if let Some(token) = &s.token {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if !given.is_some_and(|g| same(g.as_bytes(), token.as_bytes())) {
            let body = json!({"error": {"message": "missing or wrong bearer token", "type": "invalid_request_error", "param": null, "code": "unauthorized"}});
            return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
        }
    }
    next.run(req).await
}

async fn health(State(s): State<AppState>) -> Json<serde_json::Value> {
    let jobs = s.engine.jobs();
    Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "jobs_running": jobs.running(),
        "jobs_waiting": jobs.waiting(),
    }))
}

async fn models(State(s): State<AppState>) -> Json<serde_json::Value> {
    let mut data: Vec<serde_json::Value> = Vec::new();
    for name in s.engine.model_names() {
        data.push(json!({"id": name, "object": "model", "created": 0, "owned_by": "ownvoice", "kind": "transcription"}));
    }
    for v in s.engine.voices() {
        data.push(json!({"id": v.name, "object": "model", "created": 0, "owned_by": "ownvoice", "kind": "voice", "languages": v.languages}));
    }
    Json(json!({"object": "list", "data": data}))
}

fn field_text(bytes: &[u8], name: &str) -> Result<String, ServiceError> {
    String::from_utf8(bytes.to_vec())
        .map_err(|_| ServiceError::BadRequest(format!("field {name:?} is not UTF-8 text")))
}

async fn transcriptions(
    State(s): State<AppState>,
    mut form: Multipart,
) -> Result<Response, ServiceError> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        let text = format!("multipart body: {}", e.body_text());
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ServiceError::TooLarge(text)
        } else {
            ServiceError::BadRequest(text)
        }
    };
    let mut file: Option<(String, Bytes)> = None;
    let mut req = AsrRequest::default();
    let mut format = "json".to_string();
    while let Some(field) = form.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            let filename = field.file_name().unwrap_or("upload").to_string();
            file = Some((filename, field.bytes().await.map_err(bad)?));
            continue;
        }
        let value = field_text(&field.bytes().await.map_err(bad)?, &name)?;
        match name.as_str() {
            "model" => req.model = Some(value),
            "language" => req.language = Some(value),
            "prompt" => req.prompt = Some(value),
            "person" => req.person = Some(value).filter(|p| !p.is_empty()),
            "response_format" => format = value,
            _ => {} // temperature, timestamp_granularities[] ...: accepted, not used
        }
    }
    if !matches!(
        format.as_str(),
        "json" | "text" | "srt" | "vtt" | "verbose_json"
    ) {
        return Err(ServiceError::BadRequest(format!(
            "response_format {format:?} is not one of json, text, srt, vtt, verbose_json"
        )));
    }
    let (filename, bytes) = file.ok_or_else(|| {
        ServiceError::BadRequest("the multipart field \"file\" is missing".into())
    })?;
    let samples = tokio::task::spawn_blocking(move || -> Result<Vec<f32>, ServiceError> {
        let audio = ownvoice_audio::decode_bytes(bytes.to_vec(), Path::new(&filename))?;
        Ok(ownvoice_audio::decode::to_16k(audio)?)
    })
    .await
    .map_err(|e| ServiceError::Internal(e.to_string()))??;
    let r = s.engine.transcribe(samples, req).await?;
    Ok(render(&r, &format))
}

fn render(r: &AsrResult, format: &str) -> Response {
    let text = |body: String, mime: &'static str| {
        (
            [(header::CONTENT_TYPE, HeaderValue::from_static(mime))],
            body,
        )
            .into_response()
    };
    match format {
        "text" => text(format!("{}\n", r.text), "text/plain; charset=utf-8"),
        "srt" => text(
            ownvoice_asr::subtitles::srt(&r.segments),
            "application/x-subrip",
        ),
        "vtt" => text(ownvoice_asr::subtitles::vtt(&r.segments), "text/vtt"),
        "verbose_json" => {
            let segments: Vec<_> = r
                .segments
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    json!({"id": i, "seek": 0, "start": s.start, "end": s.end, "text": s.text,
                           "tokens": [], "temperature": 0.0, "avg_logprob": 0.0,
                           "compression_ratio": 0.0, "no_speech_prob": s.no_speech_prob})
                })
                .collect();
            Json(json!({"task": "transcribe", "language": r.language, "duration": r.duration_s,
                        "text": r.text, "segments": segments, "model": r.model, "person": r.person}))
            .into_response()
        }
        _ => Json(json!({"text": r.text, "model": r.model, "person": r.person})).into_response(),
    }
}

#[derive(Deserialize)]
struct SpeechRequest {
    #[serde(default)]
    #[allow(dead_code)]
    model: Option<String>,
    input: String,
    #[serde(default)]
    voice: Option<String>,
    #[serde(default)]
    response_format: Option<String>,
    #[serde(default)]
    speed: Option<f32>,
}

async fn speech(
    State(s): State<AppState>,
    body: Result<Json<SpeechRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ServiceError> {
    let Json(req) = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ServiceError::TooLarge(e.body_text())
        } else {
            ServiceError::BadRequest(e.body_text())
        }
    })?;
    let format = req.response_format.unwrap_or_else(|| "wav".into());
    if format != "wav" && format != "pcm" {
        return Err(ServiceError::BadRequest(format!(
            "response_format {format:?} is not supported; use wav or pcm"
        )));
    }
    let stream = s
        .engine
        .synthesize(req.input, req.voice.as_deref(), req.speed.unwrap_or(1.0))
        .await?;
    let rate = stream.sample_rate;
    let out_rate = if format == "pcm" { PCM_RATE } else { rate };
    let header_bytes = (format == "wav").then(|| pcm::streaming_wav_header(rate));
    let body = futures_util::stream::unfold(
        (stream.chunks, header_bytes),
        move |(mut rx, mut head)| async move {
            let chunk = rx.recv().await?;
            let bytes = chunk.and_then(|samples| {
                let samples = if out_rate == rate {
                    samples
                } else {
                    ownvoice_audio::resample::resample(&samples, rate, out_rate)?
                };
                let mut b = head.take().unwrap_or_default();
                b.extend(pcm::to_pcm16(&samples));
                Ok(Bytes::from(b))
            });
            let bytes = bytes.map_err(|e| std::io::Error::other(e.to_string()));
            Some((bytes, (rx, head)))
        },
    );
    let mime = if format == "wav" {
        "audio/wav"
    } else {
        "audio/pcm"
    };
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(mime)),
            (
                header::HeaderName::from_static("x-sample-rate"),
                HeaderValue::from(out_rate),
            ),
            (
                header::HeaderName::from_static("x-voice"),
                HeaderValue::from_str(&stream.voice).unwrap_or(HeaderValue::from_static("?")),
            ),
        ],
        Body::from_stream(body),
    )
        .into_response())
}
