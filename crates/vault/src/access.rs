//! Who can open a profile: its passphrase slot and its device recipients.
//!
//! The access section is stored in the clear at the head of a sealed profile, so `people show` can
//! say who can open it without decrypting anything, and repeated inside the encrypted payload, so
//! a changed clear copy is detected as tampering when the profile is opened.
//!
//! Layout (little-endian):
//!
//! ```text
//! u8    flags: bit 0 = has a passphrase slot (other bits must be 0)
//! if passphrase:
//!   str16  the slot's X25519 recipient ("age1…")
//!   u32    wrapped length, then the wrapped identity: an age file (scrypt recipient) whose
//!          plaintext is the slot's "AGE-SECRET-KEY-1…" identity
//! u16   device count (at most 256)
//! per device: str16 recipient ("age1…"), str16 label (UTF-8, at most 128 bytes)
//! ```
//!
//! `str16` is a u16 byte length and that many UTF-8 bytes.

use std::io::{Read, Write};
use std::str::FromStr;

use age::secrecy::ExposeSecret;
use age::x25519;
use zeroize::Zeroizing;

use crate::format::FormatError;
use crate::Passphrase;

/// Most device recipients one profile may hold.
pub const MAX_DEVICES: usize = 256;
/// Longest device label, bytes.
pub const MAX_LABEL: usize = 128;
/// Largest wrapped passphrase identity accepted, bytes (an age scrypt file of one key is ~300).
const MAX_WRAPPED: u32 = 4096;

/// A device that can open the profile: its public X25519 key and a human label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceRecipient {
    /// The device's age recipient, `age1…`.
    pub recipient: x25519::Recipient,
    /// A name the person gave the device ("laptop"); shown, never trusted.
    pub label: String,
}

impl DeviceRecipient {
    /// Parses `age1…` with a label.
    ///
    /// # Errors
    /// A message when `recipient` is not an age X25519 recipient or the label is too long.
    pub fn parse(recipient: &str, label: &str) -> Result<DeviceRecipient, String> {
        let r = x25519::Recipient::from_str(recipient.trim())
            .map_err(|e| format!("{recipient:?} is not an age recipient (expected age1…): {e}"))?;
        if label.len() > MAX_LABEL {
            return Err(format!("label longer than {MAX_LABEL} bytes"));
        }
        Ok(DeviceRecipient {
            recipient: r,
            label: label.to_string(),
        })
    }
}

/// The passphrase slot: an X25519 identity that only the passphrase unwraps.
///
/// The profile payload is encrypted to `recipient` like to any device; the identity itself is
/// kept in `wrapped`, age-encrypted with the passphrase (scrypt, work factor tuned by age to
/// about 1 s). Opening costs one scrypt; saving costs none, so a save after every take is cheap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PassphraseSlot {
    recipient: x25519::Recipient,
    wrapped: Vec<u8>,
}

impl PassphraseSlot {
    /// Makes a new slot: a fresh identity wrapped with `passphrase` (about 1 s of scrypt).
    ///
    /// # Errors
    /// I/O errors of the in-memory encryption (none in practice).
    pub fn new(passphrase: &Passphrase) -> std::io::Result<PassphraseSlot> {
        let identity = x25519::Identity::generate();
        let secret = identity.to_string();
        let enc = age::Encryptor::with_user_passphrase(passphrase.secret().clone());
        let mut wrapped = Vec::new();
        let mut w = enc.wrap_output(&mut wrapped)?;
        w.write_all(secret.expose_secret().as_bytes())?;
        w.finish()?;
        Ok(PassphraseSlot {
            recipient: identity.to_public(),
            wrapped,
        })
    }

    /// The slot's recipient (what the payload is encrypted to).
    pub fn recipient(&self) -> &x25519::Recipient {
        &self.recipient
    }

    /// Unwraps the slot's identity with `passphrase`.
    ///
    /// # Errors
    /// The age error: `DecryptionFailed`/`KeyDecryptionFailed` for a wrong passphrase, others
    /// for a damaged slot.
    pub fn unwrap_identity(
        &self,
        passphrase: &Passphrase,
    ) -> Result<x25519::Identity, age::DecryptError> {
        let dec = age::Decryptor::new(self.wrapped.as_slice())?;
        let identity = crate::scrypt_identity(passphrase);
        let mut r = dec.decrypt(std::iter::once(&identity as &dyn age::Identity))?;
        let mut text = Zeroizing::new(String::new());
        r.read_to_string(&mut text)?;
        let id = x25519::Identity::from_str(text.trim())
            .map_err(|_| age::DecryptError::InvalidHeader)?;
        if id.to_public() != self.recipient {
            return Err(age::DecryptError::InvalidHeader);
        }
        Ok(id)
    }
}

/// Who can open a profile. A profile needs at least one way in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Access {
    /// The passphrase slot, if the profile opens with a passphrase.
    pub passphrase: Option<PassphraseSlot>,
    /// Devices whose identity opens the profile.
    pub devices: Vec<DeviceRecipient>,
}

impl Access {
    /// True when nothing can open a profile sealed with this access.
    pub fn is_empty(&self) -> bool {
        self.passphrase.is_none() && self.devices.is_empty()
    }

    /// Adds a device; false (and nothing changed) when its recipient is already there.
    ///
    /// # Errors
    /// A message when the profile already has [`MAX_DEVICES`].
    pub fn add_device(&mut self, d: DeviceRecipient) -> Result<bool, String> {
        if self.devices.iter().any(|x| x.recipient == d.recipient) {
            return Ok(false);
        }
        if self.devices.len() >= MAX_DEVICES {
            return Err(format!("a profile holds at most {MAX_DEVICES} devices"));
        }
        self.devices.push(d);
        Ok(true)
    }

    /// Removes the devices whose recipient (`age1…`) or label equals `who`; returns them.
    pub fn revoke_device(&mut self, who: &str) -> Vec<DeviceRecipient> {
        let (gone, kept) = std::mem::take(&mut self.devices)
            .into_iter()
            .partition(|d| d.recipient.to_string() == who || d.label == who);
        self.devices = kept;
        gone
    }

    /// All X25519 recipients the payload is encrypted to (passphrase slot first).
    pub(crate) fn recipients(&self) -> Vec<&x25519::Recipient> {
        self.passphrase
            .iter()
            .map(|s| &s.recipient)
            .chain(self.devices.iter().map(|d| &d.recipient))
            .collect()
    }

    /// Encodes the access section.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.push(u8::from(self.passphrase.is_some()));
        if let Some(s) = &self.passphrase {
            put_str(&mut out, &s.recipient.to_string());
            out.extend_from_slice(&(s.wrapped.len() as u32).to_le_bytes());
            out.extend_from_slice(&s.wrapped);
        }
        out.extend_from_slice(&(self.devices.len() as u16).to_le_bytes());
        for d in &self.devices {
            put_str(&mut out, &d.recipient.to_string());
            put_str(&mut out, &d.label);
        }
        out
    }

    /// Decodes the access section from `r` (exactly its bytes are consumed).
    ///
    /// # Errors
    /// [`FormatError::Truncated`] or [`FormatError::Malformed`]; never panics.
    pub(crate) fn decode<R: Read>(r: &mut R) -> Result<Access, FormatError> {
        let flags = read_array::<_, 1>(r)?[0];
        if flags > 1 {
            return Err(FormatError::Malformed(format!(
                "unknown access flags {flags:#x}"
            )));
        }
        let passphrase = if flags == 1 {
            let recipient = read_recipient(r)?;
            let len = u32::from_le_bytes(read_array(r)?);
            if len > MAX_WRAPPED {
                return Err(FormatError::Malformed(format!(
                    "passphrase slot of {len} bytes"
                )));
            }
            let mut wrapped = vec![0u8; len as usize];
            read_exact(r, &mut wrapped)?;
            Some(PassphraseSlot { recipient, wrapped })
        } else {
            None
        };
        let count = u16::from_le_bytes(read_array(r)?) as usize;
        if count > MAX_DEVICES {
            return Err(FormatError::Malformed(format!("{count} device recipients")));
        }
        let mut devices = Vec::with_capacity(count);
        for _ in 0..count {
            let recipient = read_recipient(r)?;
            let label = read_str(r, MAX_LABEL)?;
            devices.push(DeviceRecipient { recipient, label });
        }
        Ok(Access {
            passphrase,
            devices,
        })
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u16).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn read_str<R: Read>(r: &mut R, max: usize) -> Result<String, FormatError> {
    let len = u16::from_le_bytes(read_array(r)?) as usize;
    if len > max {
        return Err(FormatError::Malformed(format!("a {len}-byte string")));
    }
    let mut b = vec![0u8; len];
    read_exact(r, &mut b)?;
    String::from_utf8(b).map_err(|_| FormatError::Malformed("a string is not UTF-8".into()))
}

fn read_recipient<R: Read>(r: &mut R) -> Result<x25519::Recipient, FormatError> {
    let s = read_str(r, 128)?;
    x25519::Recipient::from_str(&s)
        .map_err(|_| FormatError::Malformed(format!("{s:?} is not an age recipient")))
}

pub(crate) fn read_exact<R: Read>(r: &mut R, buf: &mut [u8]) -> Result<(), FormatError> {
    r.read_exact(buf).map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => FormatError::Truncated,
        _ => FormatError::Io(e),
    })
}

pub(crate) fn read_array<R: Read, const N: usize>(r: &mut R) -> Result<[u8; N], FormatError> {
    let mut b = [0u8; N];
    read_exact(r, &mut b)?;
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(label: &str) -> DeviceRecipient {
        DeviceRecipient {
            recipient: x25519::Identity::generate().to_public(),
            label: label.into(),
        }
    }

    #[test]
    fn encode_decode_round_trip_and_prefixes_fail() {
        let mut a = Access::default();
        a.add_device(device("laptop")).unwrap();
        a.add_device(device("phone")).unwrap();
        let bytes = a.encode();
        assert_eq!(Access::decode(&mut bytes.as_slice()).unwrap(), a);
        for n in 0..bytes.len() {
            assert!(Access::decode(&mut &bytes[..n]).is_err(), "prefix {n}");
        }
    }

    #[test]
    fn add_is_idempotent_and_revoke_by_label_or_key() {
        let mut a = Access::default();
        let d = device("laptop");
        assert!(a.add_device(d.clone()).unwrap());
        assert!(!a.add_device(d.clone()).unwrap());
        a.add_device(device("phone")).unwrap();
        assert_eq!(a.revoke_device("phone").len(), 1);
        assert_eq!(a.revoke_device(&d.recipient.to_string()), vec![d]);
        assert!(a.is_empty());
        assert!(a.revoke_device("nobody").is_empty());
    }

    #[test]
    fn passphrase_slot_unwraps_only_with_its_passphrase() {
        let pw = Passphrase::new("correct horse".into());
        let slot = PassphraseSlot::new(&pw).unwrap();
        let id = slot.unwrap_identity(&pw).unwrap();
        assert_eq!(&id.to_public(), slot.recipient());
        assert!(slot
            .unwrap_identity(&Passphrase::new("wrong".into()))
            .is_err());
        // The identity is not in the slot in the clear.
        let secret = id.to_string();
        let needle = secret.expose_secret().as_bytes();
        assert!(!slot.wrapped.windows(needle.len()).any(|w| w == needle));
    }
}
