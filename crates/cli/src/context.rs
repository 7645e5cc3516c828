//! Where state lives, the passphrase, and resolving model names to files.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use ownvoice_models::ModelCache;
use ownvoice_vault::Passphrase;

/// `$OWNVOICE_HOME`, else the XDG data dir (`~/.local/share/ownvoice`).
pub fn home() -> PathBuf {
    if let Some(h) = std::env::var_os("OWNVOICE_HOME").filter(|h| !h.is_empty()) {
        return PathBuf::from(h);
    }
    directories::ProjectDirs::from("", "", "ownvoice")
        .map(|d| d.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from(".ownvoice"))
}

/// The folder of people's profiles.
pub fn people_dir() -> PathBuf {
    home().join("people")
}

/// Checks a person's name: letters, digits, `-`, `_`, `.`; not starting with `.`.
pub fn check_person_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || "-_.".contains(c));
    if !ok {
        bail!("{name:?} is not a valid person name (use letters, digits, '-', '_' or '.')");
    }
    Ok(())
}

/// Path of a person's profile.
pub fn profile_path(person: &str) -> Result<PathBuf> {
    check_person_name(person)?;
    Ok(people_dir().join(format!("{person}.age")))
}

/// A profile's passphrase: `$OWNVOICE_PASSPHRASE`, else asked on the terminal (twice when
/// `confirm`).
pub fn passphrase(purpose: &str, confirm: bool) -> Result<Passphrase> {
    crate::keys::secret("OWNVOICE_PASSPHRASE", purpose, confirm)
}

/// The model cache.
pub fn models() -> ModelCache {
    ModelCache::from_env()
}

/// Loads ONNX Runtime from the model cache.
pub fn init_onnx() -> Result<()> {
    let lib = models().onnxruntime_library()?;
    ownvoice_onnx::init(&lib)?;
    Ok(())
}

/// Resolves `--model`: a cached Whisper model name, or a path to a ggml file.
pub fn whisper_model_path(model: &str) -> Result<PathBuf> {
    let as_path = Path::new(model);
    if as_path.is_file() {
        return Ok(as_path.to_path_buf());
    }
    models().whisper_ggml(model).with_context(|| {
        format!("Whisper model {model:?} (a fetched or imported name, or a ggml file path)")
    })
}

/// Loads a Whisper model by name or path.
pub fn load_whisper(model: &str) -> Result<ownvoice_asr::WhisperModel> {
    let path = whisper_model_path(model)?;
    Ok(ownvoice_asr::WhisperModel::from_file(&path)?)
}

/// Loads Silero VAD (initialising ONNX Runtime).
pub fn load_vad() -> Result<ownvoice_vad::SileroVad> {
    init_onnx()?;
    let path = models().file("silero-vad", "silero_vad.onnx")?;
    Ok(ownvoice_vad::SileroVad::load(&path)?)
}

/// Default CPU threads for inference: the available cores, at most 8.
pub fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(8)
}

/// Current Unix time, seconds.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Saves a person's profile after a change: stamps `profile.updated_at` now, writes its
/// manifest into `container` and writes the container, encrypted, to `path` (atomically: a
/// temporary file, fsync, rename; [`ownvoice_vault::save`]).
///
/// # Errors
/// The vault's errors writing `path`.
pub fn save_profile(
    path: &Path,
    container: &mut ownvoice_vault::Container,
    profile: &mut ownvoice_enroll::PersonProfile,
    access: &ownvoice_vault::Access,
) -> Result<()> {
    profile.updated_at = now();
    profile.store_manifest(container);
    ownvoice_vault::save(path, container, access)?;
    Ok(())
}

/// A progress bar over `len` items, `"{what} {pos}/{len} [bar] eta {eta} {msg}"`; hidden when
/// the output is JSON (`quiet`).
pub fn progress(len: usize, what: &str, quiet: bool) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{what} {{pos}}/{{len}} [{{bar:30}}] eta {{eta}} {{msg}}"
        ))
        .expect("valid template")
        .progress_chars("=> "),
    );
    if quiet {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    bar
}

/// Splits takes into (train, held back): every k-th take is held back, k = round(1 / share)
/// (at least 2), so about `share` of them; at least one is held back when there are two or more.
/// The held-back takes are those whose index is `k − 1` modulo k.
pub fn split_heldout<T>(takes: Vec<T>, share: f64) -> (Vec<T>, Vec<T>) {
    split_heldout_fold(takes, share, None)
}

/// Held-back folds for a share: k = round(1 / share), at least 2.
pub fn heldout_folds(share: f64) -> usize {
    ((1.0 / share.clamp(0.01, 0.5)).round() as usize).max(2)
}

/// [`split_heldout`] with the fold chosen: the takes whose index is `fold` modulo k are held
/// back (`None`: the last fold, k − 1). Rotating `fold` over `0..k` tests every take once.
pub fn split_heldout_fold<T>(takes: Vec<T>, share: f64, fold: Option<usize>) -> (Vec<T>, Vec<T>) {
    let k = heldout_folds(share);
    let fold = fold.unwrap_or(k - 1) % k;
    let (mut train, mut held) = (Vec::new(), Vec::new());
    for (i, t) in takes.into_iter().enumerate() {
        if i % k == fold {
            held.push(t);
        } else {
            train.push(t);
        }
    }
    if held.is_empty() && train.len() > 1 {
        held.extend(train.pop());
    }
    (train, held)
}
