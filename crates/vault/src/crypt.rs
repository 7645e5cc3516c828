//! Sealing a [`Container`] with age (passphrase, scrypt) and opening it again.

use std::io::{Read, Write};
use std::path::Path;

use age::secrecy::SecretString;
use zeroize::Zeroizing;

use crate::format::{Container, FormatError, VERSION};
use crate::VaultError;

/// The first bytes of every binary age file.
const AGE_MAGIC: &[u8] = b"age-encryption.org/";

/// A passphrase, kept in a `SecretString` (zeroized on drop, never printed by `Debug`).
#[derive(Clone)]
pub struct Passphrase(SecretString);

impl Passphrase {
    /// Wraps a passphrase.
    pub fn new(s: String) -> Passphrase {
        Passphrase(SecretString::from(s))
    }
}

impl std::fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passphrase(***)")
    }
}

/// Encrypts `c` to `passphrase` (scrypt work factor tuned by age to about 1 s on this device).
///
/// # Errors
/// I/O errors only (the output is in memory).
pub fn seal(c: &Container, passphrase: &Passphrase) -> std::io::Result<Vec<u8>> {
    let enc = age::Encryptor::with_user_passphrase(passphrase.0.clone());
    let mut out = Vec::new();
    let mut w = enc.wrap_output(&mut out)?;
    c.write_to(&mut w)?;
    w.finish()?;
    Ok(out)
}

/// Decrypts and parses a profile held in memory; `path` names it in errors.
///
/// # Errors
/// [`VaultError::NotAProfile`], [`VaultError::WrongPassphrase`], [`VaultError::NoMatchingIdentity`],
/// [`VaultError::Truncated`], [`VaultError::Tampered`], [`VaultError::NewerVersion`].
pub fn open(bytes: &[u8], passphrase: &Passphrase, path: &Path) -> Result<Container, VaultError> {
    let p = || path.to_path_buf();
    if !bytes.starts_with(AGE_MAGIC) {
        return Err(VaultError::NotAProfile {
            path: p(),
            detail: if bytes.is_empty() {
                "empty file".into()
            } else {
                "no age header".into()
            },
        });
    }
    let dec = age::Decryptor::new(bytes).map_err(|e| header_error(e, path, bytes))?;
    if !dec.is_scrypt() {
        return Err(VaultError::NoMatchingIdentity { path: p() });
    }
    let identity = age::scrypt::Identity::new(passphrase.0.clone());
    let mut reader = dec
        .decrypt(std::iter::once(&identity as &dyn age::Identity))
        .map_err(|e| header_error(e, path, bytes))?;
    let mut plain = Zeroizing::new(Vec::new());
    reader.read_to_end(&mut plain).map_err(|e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            VaultError::Truncated { path: p() }
        } else {
            VaultError::Tampered {
                path: p(),
                detail: e.to_string(),
            }
        }
    })?;
    Container::read_from(&mut plain.as_slice()).map_err(|e| match e {
        FormatError::NewerVersion(found) => VaultError::NewerVersion {
            path: p(),
            found,
            supported: VERSION,
        },
        FormatError::Magic => VaultError::NotAProfile {
            path: p(),
            detail: "an age file, but not an ownvoice profile".into(),
        },
        other => VaultError::Tampered {
            path: p(),
            detail: other.to_string(),
        },
    })
}

fn header_error(e: age::DecryptError, path: &Path, bytes: &[u8]) -> VaultError {
    let p = path.to_path_buf();
    match e {
        age::DecryptError::DecryptionFailed | age::DecryptError::KeyDecryptionFailed => {
            VaultError::WrongPassphrase { path: p }
        }
        age::DecryptError::NoMatchingKeys => VaultError::NoMatchingIdentity { path: p },
        age::DecryptError::InvalidMac => VaultError::Tampered {
            path: p,
            detail: "header MAC mismatch".into(),
        },
        age::DecryptError::Io(ref io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            VaultError::Truncated { path: p }
        }
        age::DecryptError::InvalidHeader if !bytes.contains(&b'\n') || bytes.len() < 64 => {
            VaultError::Truncated { path: p }
        }
        other => VaultError::Tampered {
            path: p,
            detail: other.to_string(),
        },
    }
}

/// Reads and opens the profile at `path`.
///
/// # Errors
/// [`VaultError::Io`] (e.g. no such profile), or those of [`open`].
pub fn load(path: &Path, passphrase: &Passphrase) -> Result<Container, VaultError> {
    let bytes = std::fs::read(path).map_err(|source| VaultError::Io {
        path: path.into(),
        source,
    })?;
    open(&bytes, passphrase, path)
}

/// Seals `c` and writes it to `path` atomically (temporary file beside it, fsync, rename,
/// directory fsync). Parent directories are created (mode 0700 on Unix).
///
/// # Errors
/// [`VaultError::Io`] naming `path`.
pub fn save(path: &Path, c: &Container, passphrase: &Passphrase) -> Result<(), VaultError> {
    let io = |source| VaultError::Io {
        path: path.into(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            std::fs::create_dir_all(dir).map_err(io)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                    .map_err(io)?;
            }
        }
    }
    let sealed = seal(c, passphrase).map_err(io)?;
    let mut f = atomic_write_file::AtomicWriteFile::open(path).map_err(io)?;
    f.write_all(&sealed).map_err(io)?;
    f.commit().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Container {
        Container {
            manifest: br#"{"person":"ada"}"#.to_vec(),
            blobs: vec![(
                "takes/1.pcm".into(),
                (0..5000u32).map(|i| (i * 7) as u8).collect(),
            )],
        }
    }

    #[test]
    fn seal_open_round_trip_and_failures() {
        let pw = Passphrase::new("correct horse".into());
        let sealed = seal(&sample(), &pw).unwrap();
        let path = Path::new("ada.age");
        assert_eq!(open(&sealed, &pw, path).unwrap(), sample());

        // The plaintext is nowhere in the ciphertext.
        assert!(!sealed.windows(16).any(|w| w == crate::format::MAGIC));

        let wrong = open(&sealed, &Passphrase::new("wrong".into()), path).unwrap_err();
        assert!(
            matches!(wrong, VaultError::WrongPassphrase { .. }),
            "{wrong}"
        );

        // One flipped byte anywhere in the payload is detected.
        for at in [sealed.len() - 1, sealed.len() / 2, sealed.len() - 4000] {
            let mut bad = sealed.clone();
            bad[at] ^= 0x01;
            let e = open(&bad, &pw, path).unwrap_err();
            assert!(
                matches!(e, VaultError::Tampered { .. }),
                "flip at {at}: {e}"
            );
        }

        let e = open(&sealed[..sealed.len() - 100], &pw, path).unwrap_err();
        assert!(
            matches!(
                e,
                VaultError::Truncated { .. } | VaultError::Tampered { .. }
            ),
            "{e}"
        );

        let e = open(b"RIFF....WAVEfmt ", &pw, path).unwrap_err();
        assert!(matches!(e, VaultError::NotAProfile { .. }), "{e}");
    }

    #[test]
    fn save_is_atomic_and_loadable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("people").join("ada.age");
        let pw = Passphrase::new("pw".into());
        save(&path, &sample(), &pw).unwrap();
        save(&path, &sample(), &pw).unwrap();
        assert_eq!(load(&path, &pw).unwrap(), sample());
        assert_eq!(
            std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
            1
        );
    }
}
