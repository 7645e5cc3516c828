//! The `info` event: what `describe` answers, in the shape of `wyoming.info.Info` (1.10.2):
//! `asr` programs with `models`, `tts` programs with `voices`, and empty lists for the other
//! services. Each artifact carries `name`, `attribution {name, url}`, `installed`,
//! `description` and `version`.

use serde_json::{json, Value};

use super::Role;
use crate::Engine;

const URL: &str = "https://example.invalid/ownvoice";

fn attribution(name: &str, url: &str) -> Value {
    json!({"name": name, "url": url})
}

/// The `info` data for a server in `role`.
pub fn info(engine: &Engine, role: Role) -> Value {
    let version = env!("CARGO_PKG_VERSION");
    let mut asr = Vec::new();
    let mut tts = Vec::new();
    if role == Role::Asr {
        let mut models: Vec<Value> = engine
            .asr_models()
            .map(|(name, m)| {
                json!({
                    "name": name,
                    "attribution": attribution("OpenAI Whisper", "https://github.com/openai/whisper"),
                    "installed": true,
                    "description": format!("Whisper {name} (whisper.cpp)"),
                    "version": null,
                    "languages": m.languages(),
                })
            })
            .collect();
        let default = &engine.config().default_model;
        for p in engine.people() {
            let adapted: Vec<&str> = p.asr.keys().map(String::as_str).collect();
            models.push(json!({
                "name": p.name,
                "attribution": attribution("ownvoice", URL),
                "installed": true,
                "description": if adapted.is_empty() {
                    format!("{default} for {} (no adapted model yet)", p.name)
                } else {
                    format!("Whisper adapted to {} ({})", p.name, adapted.join(", "))
                },
                "version": null,
                "languages": ["en"],
            }));
        }
        asr.push(json!({
            "name": "ownvoice",
            "attribution": attribution("ownvoice", URL),
            "installed": true,
            "description": "ownvoice speech-to-text: Whisper, adapted to each person, on this device",
            "version": version,
            "models": models,
            "supports_transcript_streaming": false,
        }));
    } else {
        let voices: Vec<Value> = engine
            .voices()
            .iter()
            .map(|v| {
                json!({
                    "name": v.name,
                    "attribution": attribution("ownvoice", URL),
                    "installed": true,
                    "description": v.description,
                    "version": null,
                    "languages": v.languages,
                    "speakers": null,
                })
            })
            .collect();
        tts.push(json!({
            "name": "ownvoice",
            "attribution": attribution("ownvoice", URL),
            "installed": true,
            "description": "ownvoice text-to-speech: stock voices and each person's own voice, on this device",
            "version": version,
            "voices": voices,
            "supports_synthesize_streaming": true,
        }));
    }
    json!({
        "asr": asr,
        "tts": tts,
        "handle": [],
        "intent": [],
        "wake": [],
        "mic": [],
        "snd": [],
    })
}
