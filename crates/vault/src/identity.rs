//! This device's X25519 identity: the key that opens profiles shared with this device.
//!
//! The identity file is text (mode 0600), three comment lines then the key:
//!
//! ```text
//! # ownvoice device identity
//! # label: laptop
//! # public key: age1…
//! AGE-SECRET-KEY-1…
//! ```
//!
//! or, when protected by a passphrase, the key line is replaced by an ASCII-armored age file
//! (scrypt recipient, work factor tuned by age to about 1 s) whose plaintext is the key line.
//! The public key line lets `device show` and `people share` work without the passphrase; it is
//! checked against the key whenever the key is loaded.

use std::io::{Read, Write};
use std::path::Path;
use std::str::FromStr;

use age::armor::{ArmoredReader, ArmoredWriter, Format};
use age::secrecy::ExposeSecret;
use age::x25519;
use zeroize::Zeroizing;

use crate::access::{DeviceRecipient, MAX_LABEL};
use crate::{Passphrase, VaultError};

const FIRST_LINE: &str = "# ownvoice device identity";
const ARMOR_BEGIN: &str = "-----BEGIN AGE ENCRYPTED FILE-----";

/// A device's secret X25519 identity and its label. The secret is zeroized on drop (by age).
pub struct DeviceIdentity {
    identity: x25519::Identity,
    label: String,
}

impl std::fmt::Debug for DeviceIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "DeviceIdentity({}, {})",
            self.label,
            self.identity.to_public()
        )
    }
}

/// What an identity file says without its passphrase.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityInfo {
    /// The public recipient and label.
    pub recipient: DeviceRecipient,
    /// True when the key is passphrase-protected.
    pub protected: bool,
}

/// Checks a device label: 1 to 128 bytes, no control characters.
///
/// # Errors
/// A message saying what is wrong.
pub fn check_label(label: &str) -> Result<(), String> {
    if label.trim().is_empty() || label.len() > MAX_LABEL || label.chars().any(char::is_control) {
        return Err(format!(
            "{label:?} is not a usable device label (1 to {MAX_LABEL} bytes, no control characters)"
        ));
    }
    Ok(())
}

impl DeviceIdentity {
    /// A fresh random identity.
    ///
    /// # Errors
    /// A message for a bad label (see [`check_label`]).
    pub fn generate(label: &str) -> Result<DeviceIdentity, String> {
        check_label(label)?;
        Ok(DeviceIdentity {
            identity: x25519::Identity::generate(),
            label: label.to_string(),
        })
    }

    /// The public side: what a profile is shared to.
    pub fn recipient(&self) -> DeviceRecipient {
        DeviceRecipient {
            recipient: self.identity.to_public(),
            label: self.label.clone(),
        }
    }

    pub(crate) fn x25519(&self) -> &x25519::Identity {
        &self.identity
    }

    /// Writes the identity file atomically with mode 0600, protected by `passphrase` if given.
    ///
    /// # Errors
    /// [`VaultError::Io`] naming `path`.
    pub fn save(&self, path: &Path, passphrase: Option<&Passphrase>) -> Result<(), VaultError> {
        let io = |source| VaultError::Io {
            path: path.into(),
            source,
        };
        let secret = self.identity.to_string();
        let mut text = Zeroizing::new(format!(
            "{FIRST_LINE}\n# label: {}\n# public key: {}\n",
            self.label,
            self.identity.to_public()
        ));
        match passphrase {
            None => {
                text.push_str(secret.expose_secret());
                text.push('\n');
            }
            Some(p) => {
                let enc = age::Encryptor::with_user_passphrase(p.secret().clone());
                let mut armored = Vec::new();
                let aw =
                    ArmoredWriter::wrap_output(&mut armored, Format::AsciiArmor).map_err(io)?;
                let mut w = enc.wrap_output(aw).map_err(io)?;
                w.write_all(secret.expose_secret().as_bytes()).map_err(io)?;
                w.finish().and_then(|aw| aw.finish()).map_err(io)?;
                text.push_str(&String::from_utf8_lossy(&armored));
            }
        }
        crate::write_private(path, text.as_bytes())
    }

    /// Reads what an identity file says without decrypting it.
    ///
    /// # Errors
    /// [`VaultError::Io`], or [`VaultError::NotAProfile`]-style [`VaultError::BadIdentity`].
    pub fn info(path: &Path) -> Result<IdentityInfo, VaultError> {
        let text = read_text(path)?;
        parse_info(&text).map_err(|detail| VaultError::BadIdentity {
            path: path.into(),
            detail,
        })
    }

    /// Loads the identity file; `passphrase` is needed when it is protected.
    ///
    /// # Errors
    /// [`VaultError::IdentityLocked`] (protected, no passphrase given),
    /// [`VaultError::WrongPassphrase`], [`VaultError::BadIdentity`], [`VaultError::Io`].
    pub fn load(
        path: &Path,
        passphrase: Option<&Passphrase>,
    ) -> Result<DeviceIdentity, VaultError> {
        let text = read_text(path)?;
        let bad = |detail: String| VaultError::BadIdentity {
            path: path.into(),
            detail,
        };
        let info = parse_info(&text).map_err(bad)?;
        let body = body(&text);
        let key = if info.protected {
            let Some(p) = passphrase else {
                return Err(VaultError::IdentityLocked { path: path.into() });
            };
            let dec = age::Decryptor::new(ArmoredReader::new(body.as_bytes()))
                .map_err(|e| bad(e.to_string()))?;
            let id = crate::scrypt_identity(p);
            let mut r = dec
                .decrypt(std::iter::once(&id as &dyn age::Identity))
                .map_err(|e| match e {
                    age::DecryptError::DecryptionFailed
                    | age::DecryptError::KeyDecryptionFailed => {
                        VaultError::WrongPassphrase { path: path.into() }
                    }
                    other => bad(other.to_string()),
                })?;
            let mut s = Zeroizing::new(String::new());
            r.read_to_string(&mut s).map_err(|e| bad(e.to_string()))?;
            s
        } else {
            Zeroizing::new(body.trim().to_string())
        };
        let identity = x25519::Identity::from_str(key.trim())
            .map_err(|_| bad("no AGE-SECRET-KEY-1 line".into()))?;
        if identity.to_public() != info.recipient.recipient {
            return Err(bad(
                "the public key line does not match the secret key".into()
            ));
        }
        Ok(DeviceIdentity {
            identity,
            label: info.recipient.label,
        })
    }
}

fn read_text(path: &Path) -> Result<Zeroizing<String>, VaultError> {
    let bytes = Zeroizing::new(std::fs::read(path).map_err(|source| VaultError::Io {
        path: path.into(),
        source,
    })?);
    match std::str::from_utf8(&bytes) {
        Ok(s) => Ok(Zeroizing::new(s.to_string())),
        Err(_) => Err(VaultError::BadIdentity {
            path: path.into(),
            detail: "not a text file".into(),
        }),
    }
}

/// The text after the comment lines.
fn body(text: &str) -> &str {
    let mut rest = text;
    while rest.starts_with('#') {
        rest = rest.split_once('\n').map_or("", |(_, r)| r);
    }
    rest
}

fn parse_info(text: &str) -> Result<IdentityInfo, String> {
    if !text.starts_with(FIRST_LINE) {
        return Err("not an ownvoice device identity (no header line)".into());
    }
    let field = |name: &str| {
        text.lines()
            .take_while(|l| l.starts_with('#'))
            .find_map(|l| l.strip_prefix(name))
            .map(str::trim)
    };
    let label = field("# label:").ok_or("no label line")?;
    let key = field("# public key:").ok_or("no public key line")?;
    let recipient = DeviceRecipient::parse(key, label)?;
    Ok(IdentityInfo {
        recipient,
        protected: body(text).trim_start().starts_with(ARMOR_BEGIN),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_protected_round_trip_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let id = DeviceIdentity::generate("laptop").unwrap();
        let plain = dir.path().join("plain.key");
        id.save(&plain, None).unwrap();
        let back = DeviceIdentity::load(&plain, None).unwrap();
        assert_eq!(back.recipient(), id.recipient());
        assert!(!DeviceIdentity::info(&plain).unwrap().protected);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&plain).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }

        let locked = dir.path().join("locked.key");
        let pw = Passphrase::new("device pw".into());
        id.save(&locked, Some(&pw)).unwrap();
        let text = std::fs::read_to_string(&locked).unwrap();
        assert!(!text.contains("AGE-SECRET-KEY-1"), "{text}");
        let info = DeviceIdentity::info(&locked).unwrap();
        assert!(info.protected);
        assert_eq!(info.recipient, id.recipient());
        assert!(matches!(
            DeviceIdentity::load(&locked, None),
            Err(VaultError::IdentityLocked { .. })
        ));
        assert!(matches!(
            DeviceIdentity::load(&locked, Some(&Passphrase::new("nope".into()))),
            Err(VaultError::WrongPassphrase { .. })
        ));
        let back = DeviceIdentity::load(&locked, Some(&pw)).unwrap();
        assert_eq!(back.recipient(), id.recipient());
    }

    #[test]
    fn a_swapped_public_key_line_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let a = DeviceIdentity::generate("a").unwrap();
        let b = DeviceIdentity::generate("b").unwrap();
        let path = dir.path().join("a.key");
        a.save(&path, None).unwrap();
        let text = std::fs::read_to_string(&path).unwrap().replace(
            &a.recipient().recipient.to_string(),
            &b.recipient().recipient.to_string(),
        );
        std::fs::write(&path, text).unwrap();
        assert!(matches!(
            DeviceIdentity::load(&path, None),
            Err(VaultError::BadIdentity { .. })
        ));
        assert!(DeviceIdentity::generate("bad\nlabel").is_err());
    }
}
