//! The encrypted profile container of ownvoice.
//!
//! A person's profile (their enrollment takes, later their adapted models and voices) is one file,
//! `NAME.age`: an [age](https://age-encryption.org/v1) file encrypted to a passphrase (scrypt),
//! whose plaintext is the versioned [`format`] (magic, version, manifest, named blobs). The
//! plaintext only ever exists in memory ([`zeroize`]d on drop); saves are atomic
//! (temporary file, fsync, rename, directory fsync), so a crash leaves the old or the new profile.
//!
//! - [`format`]: the plaintext layout, read and written as a stream.
//! - [`crypt`]: sealing and opening with age, and the distinct errors a user sees.

pub mod crypt;
pub mod format;

pub use crypt::{load, open, save, seal, Passphrase};
pub use format::Container;

use std::path::PathBuf;

/// Errors opening or saving a profile. Each is distinct so a user knows what went wrong.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The passphrase does not open this profile.
    #[error("{path}: wrong passphrase (or the profile header is damaged)")]
    WrongPassphrase { path: PathBuf },
    /// The profile is encrypted to identities this device does not hold.
    #[error("{path}: no matching identity: this profile is not encrypted to a passphrase or key held here")]
    NoMatchingIdentity { path: PathBuf },
    /// The file is not an age file / ownvoice profile at all.
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
    /// A file-system error.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}
