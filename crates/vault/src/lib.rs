//! The encrypted profile container of ownvoice.
//!
//! A person's profile (their enrollment takes, later their adapted models and voices) is one
//! file, `NAME.age`, made of two parts ([`envelope`]):
//!
//! - a clear **access section** ([`access`]): who can open it, a passphrase slot and/or a list of
//!   device recipients, readable without any key;
//! - an [age](https://age-encryption.org/v1) **payload** encrypted to every one of them, whose
//!   plaintext is the versioned [`format`] (magic, version, access copy, manifest, named blobs).
//!
//! A passphrase opens a profile through its slot: an X25519 identity that is itself age-encrypted
//! with the passphrase (scrypt, about 1 s), the pattern of age's passphrase-protected identity
//! files. A device opens it with its own identity ([`identity`], `ownvoice device init`). Sharing
//! and revoking re-encrypt the payload under a fresh file key.
//!
//! Plaintext only ever exists in memory ([`zeroize`]d on drop; passphrases and identities are
//! secrecy/zeroize types); saves are atomic (temporary file, fsync, rename, directory fsync), so a
//! crash leaves the old or the new profile.

pub mod access;
pub mod envelope;
pub mod format;
pub mod identity;

pub use access::{Access, DeviceRecipient, PassphraseSlot};
pub use envelope::{load, load_access, open, read_access, save, seal, Key};
pub use format::Container;
pub use identity::DeviceIdentity;

use std::path::{Path, PathBuf};

use age::secrecy::SecretString;

/// A passphrase, kept in a `SecretString` (zeroized on drop, never printed by `Debug`).
#[derive(Clone)]
pub struct Passphrase(SecretString);

impl Passphrase {
    /// Wraps a passphrase.
    pub fn new(s: String) -> Passphrase {
        Passphrase(SecretString::from(s))
    }

    pub(crate) fn secret(&self) -> &SecretString {
        &self.0
    }
}

impl std::fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passphrase(***)")
    }
}

/// Errors opening or saving a profile or an identity. Each is distinct so a user knows what
/// went wrong.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The passphrase does not open this profile or identity.
    #[error("{path}: wrong passphrase (or its passphrase slot is damaged)")]
    WrongPassphrase { path: PathBuf },
    /// The key offered is not among those that open the profile.
    #[error("{path}: no matching identity: this profile opens with {who}")]
    NoMatchingIdentity { path: PathBuf, who: String },
    /// The file is not an ownvoice profile at all.
    #[error("{path}: not an ownvoice profile ({detail})")]
    NotAProfile { path: PathBuf, detail: String },
    /// The profile was written by a newer ownvoice.
    #[error("{path}: profile format version {found} is newer than this ownvoice reads ({supported}); upgrade ownvoice")]
    NewerVersion {
        path: PathBuf,
        found: u16,
        supported: u16,
    },
    /// The file ends early.
    #[error("{path}: truncated profile (the file ends early; restore it from a backup)")]
    Truncated { path: PathBuf },
    /// Authentication failed: the file was modified or corrupted.
    #[error("{path}: tampered or corrupted profile (authentication failed: {detail}); it was not loaded")]
    Tampered { path: PathBuf, detail: String },
    /// A device identity file that cannot be read.
    #[error("{path}: not a usable ownvoice device identity ({detail})")]
    BadIdentity { path: PathBuf, detail: String },
    /// A passphrase-protected device identity was needed but no passphrase was given.
    #[error("{path}: this device identity is passphrase-protected; give its passphrase")]
    IdentityLocked { path: PathBuf },
    /// A file-system error.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The scrypt work factor (log2 N) above which a passphrase file is refused: age's default cap
/// is measured on this machine at that moment and drops when the device is busy, which would
/// refuse the device's own profiles; 2^22 is 4 s or more on a laptop, 16 times age's 1 s target.
const MAX_SCRYPT_LOG_N: u8 = 22;

/// An age scrypt identity for `p`, with the work-factor cap [`MAX_SCRYPT_LOG_N`].
pub(crate) fn scrypt_identity(p: &Passphrase) -> age::scrypt::Identity {
    let mut id = age::scrypt::Identity::new(p.secret().clone());
    id.set_max_work_factor(MAX_SCRYPT_LOG_N);
    id
}

/// Creates `path`'s parent directories, the new ones with mode 0700 on Unix.
pub(crate) fn create_private_dir(path: &Path) -> Result<(), VaultError> {
    let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) else {
        return Ok(());
    };
    if dir.exists() {
        return Ok(());
    }
    let io = |source| VaultError::Io {
        path: dir.into(),
        source,
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io)
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir).map_err(io)
}

/// Writes a file atomically (temporary file, fsync, rename, directory fsync) with mode 0600,
/// creating its parent directories with mode 0700: for identities and profile copies. An
/// existing target that is not a regular file (`/dev/stdout`, a FIFO) is written into directly,
/// never replaced.
///
/// # Errors
/// [`VaultError::Io`] naming `path`.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), VaultError> {
    use std::io::Write;
    let io = |source| VaultError::Io {
        path: path.into(),
        source,
    };
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
        return std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|mut f| f.write_all(bytes))
            .map_err(io);
    }
    create_private_dir(path)?;
    let mut f = atomic_write_file::AtomicWriteFile::open(path).map_err(io)?;
    envelope::set_private(&f).map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    f.commit().map_err(io)
}
