//! `ownvoice serve`: the Wyoming servers and the HTTP API, with the models of the people
//! unlocked at start.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::Args;
use ownvoice_enroll::PersonProfile;
use ownvoice_service::http::HttpConfig;
use ownvoice_service::wyoming::{Role, WyomingConfig};
use ownvoice_service::{Engine, EngineConfig, Person, Voice};
use ownvoice_speaker::Embedding;
use ownvoice_tts::kokoro::StylePack;

use crate::{context, keys};

/// Serve speech-to-text and text-to-speech to Home Assistant (Wyoming) and to local apps
/// (OpenAI-style HTTP API, streaming dictation over WebSocket).
///
/// Everything listens on loopback unless you pass --allow-lan; a LAN address then also needs
/// --token-file (HTTP bearer token) and --wyoming-allow (client addresses; Wyoming has no
/// authentication). Each --person's profile is opened at start (device key or
/// $OWNVOICE_PASSPHRASE / the terminal) and their adapted model and voice print stay in memory
/// only. Requests name a person (Wyoming `transcribe` name, HTTP `model` or `person`), or are
/// routed by speaker identification.
///
/// On start one JSON line on stdout gives the bound addresses:
/// {"wyoming_asr": ADDR, "wyoming_tts": ADDR, "http": ADDR, "models": [...], "voices": [...],
/// "people": [...]}.
///
/// Examples:
///   ownvoice serve
///   ownvoice serve --person alice --http 127.0.0.1:8080
///   ownvoice serve --allow-lan --wyoming-asr 0.0.0.0:10300 --wyoming-allow 192.168.1.0/24 \
///       --http 0.0.0.0:8080 --token-file ~/.config/ownvoice/token
#[derive(Args)]
#[command(verbatim_doc_comment)]
pub struct ServeArgs {
    /// Wyoming speech-to-text address (as wyoming-faster-whisper).
    #[arg(long, default_value = "127.0.0.1:10300")]
    wyoming_asr: SocketAddr,
    /// Wyoming text-to-speech address (as wyoming-piper).
    #[arg(long, default_value = "127.0.0.1:10200")]
    wyoming_tts: SocketAddr,
    /// HTTP API address (OpenAI-style /v1/audio/*, /v1/models, /health).
    #[arg(long, default_value = "127.0.0.1:8080")]
    http: SocketAddr,
    /// Serve neither Wyoming port.
    #[arg(long)]
    no_wyoming: bool,
    /// Do not serve HTTP.
    #[arg(long)]
    no_http: bool,
    /// Whisper models to load (repeatable); the first is the default.
    #[arg(long = "model", default_value = "tiny.en")]
    models: Vec<String>,
    /// Voices to load (repeatable; joe, kokoro or a Kokoro style name); the first is the
    /// default. Each --person with a fitted voice is added under their name.
    #[arg(long = "voice", default_value = "joe")]
    voices: Vec<String>,
    /// Unlock this person's profile for the service (repeatable).
    #[arg(long = "person")]
    people: Vec<String>,
    /// Allow listening on non-loopback addresses.
    #[arg(long)]
    allow_lan: bool,
    /// File holding the HTTP bearer token (required with a LAN HTTP address).
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// Client address or network allowed on the Wyoming ports (repeatable; e.g. 192.168.1.0/24;
    /// required with a LAN Wyoming address).
    #[arg(long = "wyoming-allow")]
    wyoming_allow: Vec<String>,
    /// Do not advertise the Wyoming ports over zeroconf (only done on LAN addresses).
    #[arg(long)]
    no_zeroconf: bool,
    /// Inference jobs run at once; more wait in the queue.
    #[arg(long, default_value_t = 1)]
    jobs: usize,
    /// Requests that may wait for a job; beyond that they are refused as busy (HTTP 503).
    #[arg(long, default_value_t = 64)]
    queue: usize,
    /// Longest audio accepted per transcription, seconds.
    #[arg(long, default_value_t = 600.0)]
    max_audio_seconds: f64,
    /// Largest HTTP request body, MiB.
    #[arg(long, default_value_t = 25)]
    max_request_mb: usize,
    /// Do not route requests that name no person by speaker identification.
    #[arg(long)]
    no_identify: bool,
    /// CPU threads per job (default: available cores, at most 8).
    #[arg(long)]
    threads: Option<usize>,
    /// Seconds a Wyoming client may stay silent between events before it is disconnected.
    #[arg(long, default_value_t = 300.0)]
    idle_timeout: f64,
    /// Seconds one Wyoming frame may take to arrive once it has started (slow clients are
    /// disconnected).
    #[arg(long, default_value_t = 10.0)]
    frame_timeout: f64,
}

fn check_addresses(a: &ServeArgs) -> Result<Option<Vec<ipnet::IpNet>>> {
    let loopback = a.wyoming_asr.ip().is_loopback() && a.wyoming_tts.ip().is_loopback();
    let wyoming_lan = !a.no_wyoming && !loopback;
    let http_lan = !a.no_http && !a.http.ip().is_loopback();
    if (wyoming_lan || http_lan) && !a.allow_lan {
        bail!(
            "refusing to listen beyond this machine without --allow-lan (addresses: Wyoming {} and {}, HTTP {})",
            a.wyoming_asr,
            a.wyoming_tts,
            a.http
        );
    }
    if http_lan && a.token_file.is_none() {
        bail!(
            "HTTP on {} needs --token-file: clients on the network must present a bearer token",
            a.http
        );
    }
    let allow = a
        .wyoming_allow
        .iter()
        .map(|s| {
            s.parse::<ipnet::IpNet>()
                .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .with_context(|| format!("--wyoming-allow {s:?} is not an address or network"))
        })
        .collect::<Result<Vec<_>>>()?;
    if wyoming_lan && allow.is_empty() {
        bail!("Wyoming on a LAN address needs --wyoming-allow ADDR|NET (Wyoming has no authentication)");
    }
    Ok((!allow.is_empty()).then_some(allow))
}

fn read_token(path: &std::path::Path) -> Result<String> {
    let t = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read the token file", path.display()))?;
    let t = t.trim().to_string();
    if t.len() < 16 {
        bail!(
            "{}: the token is shorter than 16 characters",
            path.display()
        );
    }
    Ok(t)
}

/// Opens `name`'s profile once and takes what the service needs into memory: their models and
/// voice print, and their fitted style pack and its speaking rate if any.
fn unlock(name: &str, bases: &[String]) -> Result<(Person, Option<(StylePack, f32)>)> {
    let path = crate::cmd_people::existing_profile(name)?;
    let (c, _) = keys::open_profile(&path, name)?;
    let p = PersonProfile::from_container(&c).with_context(|| path.display().to_string())?;
    let mut asr = BTreeMap::new();
    if let Some(r) = p.adaptation.as_ref().filter(|r| r.installed) {
        if let (true, Some(blob)) = (bases.contains(&r.base_model), r.model_blob.as_ref()) {
            let bytes = c.blob(blob).with_context(|| {
                format!("{}: adapted model blob {blob} is missing", path.display())
            })?;
            asr.insert(
                r.base_model.clone(),
                Arc::new(ownvoice_asr::WhisperModel::from_bytes(bytes)?),
            );
        }
    }
    let pack = match p
        .voice
        .as_ref()
        .and_then(|v| Some((v.style_blob.as_deref()?, v.speed)))
    {
        Some((blob, rate)) => Some((
            StylePack::from_bytes(c.blob(blob).with_context(|| {
                format!("{}: the style blob {blob} is missing", path.display())
            })?)?,
            rate,
        )),
        None => None,
    };
    let person = Person {
        name: name.to_string(),
        asr,
        print: p.speaker.as_ref().map(|s| Embedding(s.dvector.clone())),
    };
    Ok((person, pack))
}

/// Loads every model the engine serves.
pub fn build_engine(
    models: &[String],
    voices: &[String],
    people: &[String],
    config: EngineConfig,
) -> Result<Engine> {
    context::init_onnx()?;
    let mut asr = BTreeMap::new();
    for m in models {
        asr.insert(m.clone(), Arc::new(context::load_whisper(m)?));
    }
    let cache = context::models();
    let mut loader = crate::voices::VoiceLoader::new(config.threads);
    let mut loaded = Vec::new();
    for v in voices {
        let l = loader.load(v)?;
        loaded.push(Voice::new(
            v,
            &l.description,
            &["en_US"],
            l.person.as_deref(),
            l.synth,
        ));
    }
    let (people, packs): (Vec<Person>, Vec<Option<(StylePack, f32)>>) = people
        .iter()
        .map(|p| unlock(p, models))
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .unzip();
    // An unlocked person's fitted voice is served under their name, and only then.
    for (p, pack) in people.iter().zip(packs) {
        if voices.contains(&p.name) {
            continue;
        }
        if let Some((pack, rate)) = pack {
            let synth = loader.own_voice(pack, rate)?;
            loaded.push(Voice::new(
                &p.name,
                &format!("{}'s own voice (Kokoro, fitted)", p.name),
                &["en_US"],
                Some(&p.name),
                synth,
            ));
        }
    }
    let vad = cache.file("silero-vad", "silero_vad.onnx")?;
    let encoder = if people.iter().any(|p| p.print.is_some()) {
        Some(crate::cmd_speaker::load_encoder()?)
    } else {
        None
    };
    Ok(Engine::new(
        config,
        asr,
        people,
        loaded,
        Some(vad),
        encoder,
    )?)
}

pub fn run(a: ServeArgs) -> Result<ExitCode> {
    let allow = check_addresses(&a)?;
    let token = a.token_file.as_deref().map(read_token).transpose()?;
    let config = EngineConfig {
        default_model: a.models[0].clone(),
        threads: a.threads.unwrap_or_else(context::default_threads),
        max_audio_s: a.max_audio_seconds,
        jobs: a.jobs,
        queue: a.queue,
        identify: !a.no_identify,
        ..EngineConfig::default()
    };
    let engine = Arc::new(build_engine(&a.models, &a.voices, &a.people, config)?);
    engine.warm_up()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(serve(a, engine, allow, token))
}

async fn serve(
    a: ServeArgs,
    engine: Arc<Engine>,
    allow: Option<Vec<ipnet::IpNet>>,
    token: Option<String>,
) -> Result<ExitCode> {
    use tokio::net::TcpListener;
    let bind = |addr: SocketAddr| async move {
        TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))
    };
    let mut ready = serde_json::Map::new();
    let mut tasks = tokio::task::JoinSet::new();
    let mut advertise = Vec::new();
    if !a.no_wyoming {
        let wcfg = WyomingConfig {
            allow,
            idle_timeout: std::time::Duration::from_secs_f64(a.idle_timeout.max(0.1)),
            frame_timeout: std::time::Duration::from_secs_f64(a.frame_timeout.max(0.1)),
            ..WyomingConfig::default()
        };
        for (addr, role, key) in [
            (a.wyoming_asr, Role::Asr, "wyoming_asr"),
            (a.wyoming_tts, Role::Tts, "wyoming_tts"),
        ] {
            let l = bind(addr).await?;
            let local = l.local_addr()?;
            ready.insert(key.into(), local.to_string().into());
            if !local.ip().is_loopback() {
                let what = if role == Role::Asr { "stt" } else { "tts" };
                advertise.push((local, format!("ownvoice-{what}")));
            }
            tasks.spawn(ownvoice_service::wyoming::serve(
                l,
                role,
                engine.clone(),
                wcfg.clone(),
            ));
        }
    }
    if !a.no_http {
        let l = bind(a.http).await?;
        ready.insert("http".into(), l.local_addr()?.to_string().into());
        let cfg = HttpConfig {
            token,
            max_request_bytes: a.max_request_mb * 1024 * 1024,
        };
        let app = ownvoice_service::http::router(engine.clone(), &cfg);
        tasks.spawn(async move {
            let app = app.into_make_service_with_connect_info::<SocketAddr>();
            if let Err(e) = axum::serve(l, app).await {
                tracing::error!("http: {e}");
            }
        });
    }
    let _advertiser = if advertise.is_empty() || a.no_zeroconf {
        None
    } else {
        match ownvoice_service::mdns::advertise(&advertise) {
            Ok(adv) => Some(adv),
            Err(e) => {
                eprintln!("warning: zeroconf advertisement failed: {e}");
                None
            }
        }
    };
    ready.insert("models".into(), engine.model_names().into());
    ready.insert(
        "voices".into(),
        engine
            .voices()
            .iter()
            .map(|v| v.name.clone())
            .collect::<Vec<_>>()
            .into(),
    );
    ready.insert(
        "people".into(),
        engine
            .people()
            .map(|p| p.name.clone())
            .collect::<Vec<_>>()
            .into(),
    );
    println!("{}", serde_json::Value::Object(ready));
    use std::io::Write;
    std::io::stdout().flush()?;
    eprintln!("ownvoice serve: ready (Ctrl-C to stop)");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate() => {}
        _ = tasks.join_next() => bail!("a server stopped unexpectedly"),
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(unix)]
async fn terminate() {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut s) => {
            s.recv().await;
        }
        Err(_) => std::future::pending().await,
    }
}
