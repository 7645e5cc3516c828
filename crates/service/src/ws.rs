//! `GET /v1/audio/dictation`: streaming dictation over a WebSocket.
//!
//! Query parameters: `model`, `person`, `language`, `rate` (Hz of the PCM sent, default 16000),
//! `partials` (`false` to get only final results).
//!
//! Client → server: binary messages of signed 16-bit little-endian mono PCM at `rate`; a text
//! message `{"type": "stop"}` (or closing) ends the stream.
//!
//! Server → client, text JSON messages: `{"type": "partial", "text", "start"}`,
//! `{"type": "final", "text", "start", "end", "latency_ms", "model"}`,
//! `{"type": "error", "message"}`, and `{"type": "done"}` after the last final.

use std::collections::HashMap;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::Response;
use serde_json::json;
use tokio::sync::mpsc;

use crate::dictation::{Dictation, DictationConfig, DictationEvent};
use crate::http::AppState;
use crate::{pcm, AsrRequest, ServiceError};

/// What the socket task hands the dictation thread.
enum Input {
    Audio(Vec<f32>),
    Stop,
}

pub(crate) async fn dictation(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    ws: WebSocketUpgrade,
) -> Response {
    ws.max_message_size(1 << 20)
        .on_upgrade(move |socket| session(socket, s, q))
}

async fn session(mut socket: WebSocket, s: AppState, q: HashMap<String, String>) {
    let rate: u32 = q.get("rate").and_then(|r| r.parse().ok()).unwrap_or(16_000);
    let request = AsrRequest {
        model: q.get("model").cloned(),
        person: q.get("person").cloned().filter(|p| !p.is_empty()),
        language: q.get("language").cloned(),
        ..AsrRequest::default()
    };
    let config = DictationConfig {
        partial_every_s: if q.get("partials").is_some_and(|p| p == "false") {
            0.0
        } else {
            DictationConfig::default().partial_every_s
        },
        ..DictationConfig::default()
    };
    let (in_tx, mut in_rx) = mpsc::channel::<Input>(256);
    let (out_tx, mut out_rx) = mpsc::channel::<Result<DictationEvent, ServiceError>>(64);
    let engine = s.engine.clone();
    let worker = tokio::task::spawn_blocking(move || {
        let mut d = match Dictation::new(engine, request, config) {
            Ok(d) => d,
            Err(e) => {
                let _ = out_tx.blocking_send(Err(e));
                return;
            }
        };
        let mut resampler = (rate != 16_000)
            .then(|| ownvoice_audio::resample::StreamResampler::new(rate, 16_000).ok())
            .flatten();
        while let Some(input) = in_rx.blocking_recv() {
            // Take everything already queued first, so a slow partial never builds a backlog.
            let mut audio = Vec::new();
            let mut stop = false;
            let mut next = Some(input);
            while let Some(i) = next {
                match i {
                    Input::Audio(a) => audio.extend(a),
                    Input::Stop => stop = true,
                }
                next = if stop { None } else { in_rx.try_recv().ok() };
            }
            if let Some(r) = resampler.as_mut() {
                audio = r.push(&audio);
            }
            let events = d.push(&audio).and_then(|mut ev| {
                if stop {
                    ev.extend(d.finish()?);
                }
                Ok(ev)
            });
            match events {
                Ok(ev) => {
                    for e in ev {
                        if out_tx.blocking_send(Ok(e)).is_err() {
                            return;
                        }
                    }
                }
                Err(e) => {
                    let _ = out_tx.blocking_send(Err(e));
                    return;
                }
            }
            if stop {
                return;
            }
        }
        // The socket closed without a stop: finish anyway (nobody is listening, but free the VAD).
        let _ = d.finish();
    });
    let mut stopped = false;
    loop {
        tokio::select! {
            msg = socket.recv(), if !stopped => {
                let input = match msg {
                    Some(Ok(Message::Binary(b))) => match pcm::to_mono_f32(&b, 2, 1) {
                        Ok(a) => Input::Audio(a),
                        Err(e) => {
                            let _ = send(&mut socket, json!({"type": "error", "message": e.to_string()})).await;
                            break;
                        }
                    },
                    Some(Ok(Message::Text(t))) if t.contains("stop") => { stopped = true; Input::Stop }
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => { stopped = true; Input::Stop }
                    Some(Ok(_)) => continue,
                };
                if in_tx.send(input).await.is_err() {
                    stopped = true;
                }
            }
            ev = out_rx.recv() => match ev {
                Some(Ok(e)) => {
                    let v = serde_json::to_value(&e).unwrap_or_default();
                    if send(&mut socket, v).await.is_err() { break; }
                }
                Some(Err(e)) => {
                    let _ = send(&mut socket, json!({"type": "error", "message": e.to_string()})).await;
                    break;
                }
                None => {
                    let _ = send(&mut socket, json!({"type": "done"})).await;
                    break;
                }
            }
        }
    }
    drop(in_tx);
    let _ = worker.await;
    let _ = socket.send(Message::Close(None)).await;
}

async fn send(socket: &mut WebSocket, v: serde_json::Value) -> Result<(), axum::Error> {
    socket.send(Message::Text(v.to_string().into())).await
}
