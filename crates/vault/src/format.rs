//! The plaintext layout inside an encrypted profile (format version 2), little-endian:
//!
//! ```text
//! bytes[16]  magic "OWNVOICE-PROFILE"
//! u16        format version (2; version 1, a development format without the access copy, is
//!            not read)
//! u32        access length, then a copy of the envelope's clear access section (see
//!            [`crate::access`]): opening checks the two are equal, which authenticates the
//!            clear copy
//! u32        manifest length, then the manifest (UTF-8 JSON; its schema belongs to the caller)
//! u32        blob count
//! per blob:  u16 name length, name (UTF-8), u64 data length, data
//! ```
//!
//! Blob names are unique; the order is preserved.

use std::io::{Read, Write};

use zeroize::{Zeroize, Zeroizing};

use crate::access::{read_array, read_exact};

/// The 16-byte magic at the start of every profile plaintext.
pub const MAGIC: &[u8; 16] = b"OWNVOICE-PROFILE";
/// The format version this build writes and the newest it reads.
pub const VERSION: u16 = 2;
/// Largest access section accepted, bytes (256 devices and a passphrase slot fit in 80 KiB).
const MAX_ACCESS: u32 = 1 << 20;

/// A profile's plaintext: a JSON manifest plus named binary blobs. Zeroized on drop.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Container {
    /// UTF-8 JSON manifest.
    pub manifest: Vec<u8>,
    /// Named blobs (audio, models), in order.
    pub blobs: Vec<(String, Vec<u8>)>,
}

impl Drop for Container {
    fn drop(&mut self) {
        self.manifest.zeroize();
        for (_, b) in &mut self.blobs {
            b.zeroize();
        }
    }
}

impl Container {
    /// The blob called `name`.
    pub fn blob(&self, name: &str) -> Option<&[u8]> {
        self.blobs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.as_slice())
    }

    /// Inserts or replaces the blob called `name`.
    pub fn put_blob(&mut self, name: &str, data: Vec<u8>) {
        match self.blobs.iter_mut().find(|(n, _)| n == name) {
            Some((_, b)) => {
                b.zeroize();
                *b = data;
            }
            None => self.blobs.push((name.to_string(), data)),
        }
    }

    /// Removes the blob called `name` (its bytes zeroed); true when it existed.
    pub fn remove_blob(&mut self, name: &str) -> bool {
        match self.blobs.iter().position(|(n, _)| n == name) {
            Some(i) => {
                let (_, mut b) = self.blobs.remove(i);
                b.zeroize();
                true
            }
            None => false,
        }
    }

    /// Writes the plaintext layout to `w`, with `access` (the encoded access section) bound in.
    ///
    /// # Errors
    /// I/O errors of `w`; `InvalidInput` for a name over 65 535 bytes.
    pub fn write_to<W: Write>(&self, w: &mut W, access: &[u8]) -> std::io::Result<()> {
        w.write_all(MAGIC)?;
        w.write_all(&VERSION.to_le_bytes())?;
        w.write_all(&(access.len() as u32).to_le_bytes())?;
        w.write_all(access)?;
        w.write_all(&(self.manifest.len() as u32).to_le_bytes())?;
        w.write_all(&self.manifest)?;
        w.write_all(&(self.blobs.len() as u32).to_le_bytes())?;
        for (name, data) in &self.blobs {
            let n = u16::try_from(name.len()).map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::InvalidInput, "blob name too long")
            })?;
            w.write_all(&n.to_le_bytes())?;
            w.write_all(name.as_bytes())?;
            w.write_all(&(data.len() as u64).to_le_bytes())?;
            w.write_all(data)?;
        }
        Ok(())
    }

    /// Parses the plaintext layout from a reader: the container and the bound access bytes.
    ///
    /// # Errors
    /// [`FormatError`]; never panics, and never allocates more than the input holds.
    pub fn read_from<R: Read>(r: &mut R) -> Result<(Container, Vec<u8>), FormatError> {
        let mut magic = [0u8; 16];
        read_exact(r, &mut magic)?;
        if &magic != MAGIC {
            return Err(FormatError::Magic);
        }
        let version = u16::from_le_bytes(read_array(r)?);
        if version > VERSION {
            return Err(FormatError::NewerVersion(version));
        }
        if version < VERSION {
            return Err(FormatError::Malformed(format!(
                "format version {version} is a development format this ownvoice no longer reads"
            )));
        }
        let access_len = u32::from_le_bytes(read_array(r)?);
        if access_len > MAX_ACCESS {
            return Err(FormatError::Malformed(format!(
                "access section of {access_len} bytes"
            )));
        }
        let access = read_vec(r, access_len as u64)?;
        let manifest_len = u32::from_le_bytes(read_array(r)?);
        let manifest = read_vec(r, manifest_len as u64)?;
        let count = u32::from_le_bytes(read_array(r)?);
        let mut c = Container {
            manifest,
            blobs: Vec::new(),
        };
        for _ in 0..count {
            let name_len = u16::from_le_bytes(read_array(r)?);
            let name = String::from_utf8(read_vec(r, name_len as u64)?)
                .map_err(|_| FormatError::Malformed("blob name is not UTF-8".into()))?;
            if c.blob(&name).is_some() {
                return Err(FormatError::Malformed(format!("duplicate blob {name:?}")));
            }
            let len = u64::from_le_bytes(read_array(r)?);
            let data = read_vec(r, len)?;
            c.blobs.push((name, data));
        }
        let mut extra = [0u8; 1];
        if r.read(&mut extra).map_err(FormatError::Io)? != 0 {
            return Err(FormatError::Malformed(
                "trailing data after the last blob".into(),
            ));
        }
        Ok((c, access))
    }
}

/// Errors of the plaintext layout.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    #[error("no OWNVOICE-PROFILE magic")]
    Magic,
    #[error("format version {0} is newer than {VERSION}")]
    NewerVersion(u16),
    #[error("ends early")]
    Truncated,
    #[error("{0}")]
    Malformed(String),
    #[error(transparent)]
    Io(std::io::Error),
}

/// Reads `len` bytes, growing the buffer as data arrives (a lying length cannot force a huge
/// allocation).
fn read_vec<R: Read>(r: &mut R, len: u64) -> Result<Vec<u8>, FormatError> {
    let mut out = Zeroizing::new(Vec::new());
    let got = r.take(len).read_to_end(&mut out).map_err(FormatError::Io)?;
    if (got as u64) < len {
        return Err(FormatError::Truncated);
    }
    Ok(std::mem::take(&mut *out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Container {
        Container {
            manifest: br#"{"person":"ada"}"#.to_vec(),
            blobs: vec![
                ("takes/0001.pcm".into(), vec![1, 2, 3]),
                ("empty".into(), vec![]),
            ],
        }
    }

    #[test]
    fn round_trip() {
        let mut bytes = Vec::new();
        sample().write_to(&mut bytes, b"acc").unwrap();
        assert_eq!(&bytes[..16], MAGIC);
        assert_eq!(
            Container::read_from(&mut bytes.as_slice()).unwrap(),
            (sample(), b"acc".to_vec())
        );
    }

    #[test]
    fn every_prefix_is_an_error() {
        let mut bytes = Vec::new();
        sample().write_to(&mut bytes, b"acc").unwrap();
        for n in 0..bytes.len() {
            assert!(
                Container::read_from(&mut &bytes[..n]).is_err(),
                "prefix {n}"
            );
        }
    }

    #[test]
    fn newer_version_is_named() {
        let mut bytes = Vec::new();
        sample().write_to(&mut bytes, b"acc").unwrap();
        bytes[16] = 3;
        assert!(matches!(
            Container::read_from(&mut bytes.as_slice()),
            Err(FormatError::NewerVersion(3))
        ));
        bytes[16] = 1;
        assert!(matches!(
            Container::read_from(&mut bytes.as_slice()),
            Err(FormatError::Malformed(_))
        ));
    }

    #[test]
    fn put_blob_replaces() {
        let mut c = sample();
        c.put_blob("empty", vec![9]);
        assert_eq!(c.blob("empty"), Some(&[9u8][..]));
        assert_eq!(c.blobs.len(), 2);
    }
}
