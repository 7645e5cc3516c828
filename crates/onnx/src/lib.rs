//! The one ONNX Runtime layer of ownvoice.
//!
//! ONNX Runtime is loaded at run time from the shared library that `ownvoice models fetch`
//! installed (the `onnxruntime` PyPI wheel), so nothing is downloaded at build time. There is one
//! runtime environment per process ([`init`]); every model (Silero VAD, Piper voices, ...) gets its
//! session from [`session_from_file`].

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub use ort;
use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;

static ENV: OnceLock<ort::environment::Environment> = OnceLock::new();

/// Errors of the ONNX Runtime layer.
#[derive(Debug, thiserror::Error)]
pub enum OnnxError {
    /// The runtime library could not be loaded.
    #[error("cannot load the ONNX Runtime library {path}: {detail} (run `ownvoice models fetch`)")]
    Library { path: PathBuf, detail: String },
    /// [`session_from_file`] was called before [`init`].
    #[error("ONNX Runtime is not initialised (internal error: call ownvoice_onnx::init first)")]
    NotInitialised,
    /// A model failed to load.
    #[error("{path}: cannot load ONNX model: {detail}")]
    Model { path: PathBuf, detail: String },
    /// Inference failed.
    #[error("ONNX inference failed: {0}")]
    Run(String),
}

impl From<ort::Error> for OnnxError {
    fn from(e: ort::Error) -> Self {
        OnnxError::Run(e.to_string())
    }
}

/// Loads the ONNX Runtime shared library at `library` and creates the process's environment.
/// Later calls are no-ops (the first library loaded stays).
///
/// # Errors
/// [`OnnxError::Library`] when the file is missing or is not a usable ONNX Runtime.
pub fn init(library: &Path) -> Result<(), OnnxError> {
    if ENV.get().is_some() {
        return Ok(());
    }
    let lib_err = |detail: String| OnnxError::Library {
        path: library.into(),
        detail,
    };
    if !library.is_file() {
        return Err(lib_err("no such file".into()));
    }
    disable_telemetry();
    let env = ort::init_from(library)
        .map_err(|e| lib_err(e.to_string()))?
        .with_name("ownvoice")
        .with_telemetry(false)
        .build()
        .map_err(|e| lib_err(e.to_string()))?;
    let _ = ENV.set(env);
    Ok(())
}

/// Turns ONNX Runtime's telemetry off before the library is loaded.
///
/// Official ONNX Runtime builds from 1.29 on send telemetry from Linux too (1DS uploader to
/// `mobile.events.data.microsoft.com`, a persistent device identifier and an offline cache;
/// microsoft/onnxruntime PR #27379). `DisableTelemetryEvents` (ort's `with_telemetry(false)`)
/// only acts after `CreateEnv`, which already starts the uploader; `ORT_DISABLE_TELEMETRY=1`
/// set before initialisation is the full opt-out. ownvoice's offline test
/// (tests/privacy.rs) traces the sockets a run opens and fails on any internet socket.
fn disable_telemetry() {
    // Called before ONNX Runtime starts its threads; our own threads do not read the
    // environment concurrently.
    std::env::set_var("ORT_DISABLE_TELEMETRY", "1");
}

/// Builds a session for the ONNX model at `path` with `threads` intra-op threads (0 = runtime
/// default) and full graph optimisation.
///
/// # Errors
/// [`OnnxError::NotInitialised`], or [`OnnxError::Model`] naming the file.
pub fn session_from_file(path: &Path, threads: usize) -> Result<Session, OnnxError> {
    let env = ENV.get().ok_or(OnnxError::NotInitialised)?;
    let model_err = |detail: String| OnnxError::Model {
        path: path.into(),
        detail,
    };
    if !path.is_file() {
        return Err(model_err(
            "no such file (run `ownvoice models fetch`)".into(),
        ));
    }
    let mut builder = Session::builder(env)
        .map_err(|e| model_err(e.to_string()))?
        .with_optimization_level(GraphOptimizationLevel::Level3)
        .map_err(|e| model_err(ort::Error::<()>::from(e).to_string()))?;
    if threads > 0 {
        builder = builder
            .with_intra_threads(threads)
            .map_err(|e| model_err(ort::Error::<()>::from(e).to_string()))?;
    }
    builder
        .commit_from_file(path)
        .map_err(|e| model_err(e.to_string()))
}
