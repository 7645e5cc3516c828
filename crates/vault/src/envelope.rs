//! The sealed profile file: a clear access section, then an age payload.
//!
//! Layout (little-endian):
//!
//! ```text
//! bytes[16]  magic "OWNVOICE-SEALED\n"
//! u16        envelope version (1)
//! u32        access length, then the access section (see [`crate::access`]): who can open it
//! ...        payload: a binary age file (age-encryption.org/v1) encrypted to every X25519
//!            recipient of the access section (the passphrase slot's and each device's); its
//!            plaintext is a [`Container`] that repeats the access section
//! bytes[8]   end marker "OWNVEND\n"
//! u64        length of everything before the end marker, bytes
//! ```
//!
//! age authenticates the payload but cannot tell a cut-off file from a modified one; the end
//! marker can, so a file that ends early is reported as truncated, not as tampered.
//!
//! Both parts are read and written as streams. Opening costs one scrypt (about 1 s) with a
//! passphrase and one X25519 agreement with a device identity; sealing costs no scrypt, since
//! the passphrase slot is kept as it is.

use std::io::{BufReader, Read, Write};
use std::path::Path;

use zeroize::Zeroizing;

use crate::access::{read_array, read_exact, Access};
use crate::format::{Container, FormatError};
use crate::identity::DeviceIdentity;
use crate::{Passphrase, VaultError};

/// The first 16 bytes of every sealed profile.
pub const ENVELOPE_MAGIC: &[u8; 16] = b"OWNVOICE-SEALED\n";
/// The envelope version this build writes and the newest it reads.
pub const ENVELOPE_VERSION: u16 = 1;
/// Largest access section accepted, bytes.
const MAX_ACCESS: u32 = 1 << 20;
/// The end marker before the trailing length.
const END_MAGIC: &[u8; 8] = b"OWNVEND\n";
/// Bytes of the end marker and length.
const TRAILER: usize = 16;
/// The first bytes of a bare age file: an ownvoice development-format profile.
const AGE_MAGIC: &[u8] = b"age-encryption.org/";

/// What opens a profile.
#[derive(Clone, Copy, Debug)]
pub enum Key<'a> {
    /// The profile's passphrase.
    Passphrase(&'a Passphrase),
    /// This device's identity.
    Device(&'a DeviceIdentity),
}

/// Writes `c` sealed to everyone in `access` to `w`.
///
/// # Errors
/// `InvalidInput` when `access` lets nobody in; I/O errors of `w`.
pub fn seal_to<W: Write>(w: &mut W, c: &Container, access: &Access) -> std::io::Result<()> {
    let recipients = access.recipients();
    if recipients.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "a profile needs a passphrase or at least one device that can open it",
        ));
    }
    let section = access.encode();
    let mut w = Counting { inner: w, n: 0 };
    w.write_all(ENVELOPE_MAGIC)?;
    w.write_all(&ENVELOPE_VERSION.to_le_bytes())?;
    w.write_all(&(section.len() as u32).to_le_bytes())?;
    w.write_all(&section)?;
    let enc = age::Encryptor::with_recipients(recipients.into_iter().map(|r| r as _))
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()))?;
    let mut payload = enc.wrap_output(&mut w)?;
    c.write_to(&mut payload, &section)?;
    payload.finish()?;
    let before = w.n;
    w.write_all(END_MAGIC)?;
    w.write_all(&before.to_le_bytes())?;
    Ok(())
}

/// Counts the bytes written through it.
struct Counting<W> {
    inner: W,
    n: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.n += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Passes a stream through but for its last [`TRAILER`] bytes, which it keeps back: the age
/// reader sees exactly the payload, and the trailer can be checked at the end.
struct HoldBack<R> {
    inner: R,
    buf: Vec<u8>,
    eof: bool,
    passed: u64,
}

impl<R: Read> HoldBack<R> {
    fn new(inner: R) -> Self {
        HoldBack {
            inner,
            buf: Vec::new(),
            eof: false,
            passed: 0,
        }
    }

    /// Reads to the end; true when the stream ended with a valid end marker.
    fn finish(&mut self) -> std::io::Result<bool> {
        std::io::copy(self, &mut std::io::sink())?;
        Ok(self.buf.len() == TRAILER
            && &self.buf[..8] == END_MAGIC
            && self.buf[8..] == self.passed.to_le_bytes())
    }
}

impl<R: Read> Read for HoldBack<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let mut chunk = [0u8; 8192];
        while !self.eof && self.buf.len() < TRAILER + out.len().max(1) {
            match self.inner.read(&mut chunk) {
                Ok(0) => self.eof = true,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let n = self.buf.len().saturating_sub(TRAILER).min(out.len());
        out[..n].copy_from_slice(&self.buf[..n]);
        self.buf.drain(..n);
        self.passed += n as u64;
        Ok(n)
    }
}

/// Seals `c` into memory (see [`seal_to`]).
///
/// # Errors
/// As [`seal_to`].
pub fn seal(c: &Container, access: &Access) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    seal_to(&mut out, c, access)?;
    Ok(out)
}

/// Reads the magic, version and access section from `r`, leaving it at the payload. `path`
/// names the profile in errors.
///
/// # Errors
/// [`VaultError::NotAProfile`], [`VaultError::NewerVersion`], [`VaultError::Truncated`],
/// [`VaultError::Tampered`] (a malformed section), [`VaultError::Io`].
pub fn read_access_from<R: Read>(r: &mut R, path: &Path) -> Result<Access, VaultError> {
    let p = || path.to_path_buf();
    let mut magic = [0u8; 16];
    let mut got = 0;
    while got < magic.len() {
        match r.read(&mut magic[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(source) => return Err(VaultError::Io { path: p(), source }),
        }
    }
    if &magic != ENVELOPE_MAGIC {
        let detail = if got == 0 {
            "empty file".to_string()
        } else if got == magic.len() && AGE_MAGIC.starts_with(&magic) {
            "an age file from an ownvoice development format; enroll again".to_string()
        } else if ENVELOPE_MAGIC.starts_with(&magic[..got]) {
            return Err(VaultError::Truncated { path: p() });
        } else {
            "no OWNVOICE-SEALED header".to_string()
        };
        return Err(VaultError::NotAProfile { path: p(), detail });
    }
    let fmt = |e: FormatError| format_error(e, path);
    let version = u16::from_le_bytes(read_array(r).map_err(fmt)?);
    if version > ENVELOPE_VERSION {
        return Err(VaultError::NewerVersion {
            path: p(),
            found: version,
            supported: ENVELOPE_VERSION,
        });
    }
    if version == 0 {
        return Err(VaultError::NotAProfile {
            path: p(),
            detail: "envelope version 0".into(),
        });
    }
    let len = u32::from_le_bytes(read_array(r).map_err(fmt)?);
    if len > MAX_ACCESS {
        return Err(VaultError::Tampered {
            path: p(),
            detail: format!("access section of {len} bytes"),
        });
    }
    let mut section = vec![0u8; len as usize];
    read_exact(r, &mut section).map_err(fmt)?;
    let mut slice = section.as_slice();
    let access = Access::decode(&mut slice).map_err(fmt)?;
    if !slice.is_empty() {
        return Err(VaultError::Tampered {
            path: p(),
            detail: "trailing bytes in the access section".into(),
        });
    }
    Ok(access)
}

/// Who can open the profile held in `bytes`, without decrypting anything.
///
/// # Errors
/// As [`read_access_from`].
pub fn read_access(bytes: &[u8], path: &Path) -> Result<Access, VaultError> {
    read_access_from(&mut &bytes[..], path)
}

/// Opens a sealed profile read from `r` with `key`: the container and its access section.
///
/// # Errors
/// Those of [`read_access_from`]; [`VaultError::NoMatchingIdentity`] (the key is not among the
/// recipients), [`VaultError::WrongPassphrase`], [`VaultError::Truncated`],
/// [`VaultError::Tampered`], [`VaultError::NewerVersion`] (plaintext format).
pub fn open_from<R: Read>(
    r: &mut R,
    key: Key<'_>,
    path: &Path,
) -> Result<(Container, Access), VaultError> {
    let p = || path.to_path_buf();
    let r = &mut HoldBack::new(r);
    let access = read_access_from(r, path)?;
    let identity = match key {
        Key::Passphrase(pw) => {
            let Some(slot) = &access.passphrase else {
                return Err(VaultError::NoMatchingIdentity {
                    path: p(),
                    who: describe(&access),
                });
            };
            slot.unwrap_identity(pw).map_err(|e| match e {
                age::DecryptError::DecryptionFailed | age::DecryptError::KeyDecryptionFailed => {
                    VaultError::WrongPassphrase { path: p() }
                }
                other => VaultError::Tampered {
                    path: p(),
                    detail: format!("passphrase slot: {other}"),
                },
            })?
        }
        Key::Device(d) => {
            let mine = d.recipient().recipient;
            if !access.devices.iter().any(|x| x.recipient == mine) {
                return Err(VaultError::NoMatchingIdentity {
                    path: p(),
                    who: describe(&access),
                });
            }
            d.x25519().clone()
        }
    };
    let mut plain = Zeroizing::new(Vec::new());
    let decrypted = age::Decryptor::new(&mut *r)
        .and_then(|dec| {
            let mut reader = dec.decrypt(std::iter::once(&identity as &dyn age::Identity))?;
            reader.read_to_end(&mut plain)?;
            Ok(())
        })
        .map_err(|e| payload_error(e, path));
    let ended_well = r
        .finish()
        .map_err(|source| VaultError::Io { path: p(), source })?;
    match (decrypted, ended_well) {
        (Err(VaultError::Io { path, source }), _) => return Err(VaultError::Io { path, source }),
        (Err(_), false) => return Err(VaultError::Truncated { path: p() }),
        (Err(e), true) => return Err(e),
        (Ok(()), false) => {
            return Err(VaultError::Tampered {
                path: p(),
                detail: "the end marker after the payload is damaged".into(),
            })
        }
        (Ok(()), true) => {}
    }
    let (c, bound) =
        Container::read_from(&mut plain.as_slice()).map_err(|e| format_error(e, path))?;
    if bound != access.encode() {
        return Err(VaultError::Tampered {
            path: p(),
            detail: "the clear list of who can open it was changed".into(),
        });
    }
    Ok((c, access))
}

/// Opens a sealed profile held in memory (see [`open_from`]).
///
/// # Errors
/// As [`open_from`].
pub fn open(bytes: &[u8], key: Key<'_>, path: &Path) -> Result<(Container, Access), VaultError> {
    open_from(&mut &bytes[..], key, path)
}

/// Reads and opens the profile at `path`, streaming.
///
/// # Errors
/// [`VaultError::Io`] (e.g. no such profile), or those of [`open_from`].
pub fn load(path: &Path, key: Key<'_>) -> Result<(Container, Access), VaultError> {
    let f = std::fs::File::open(path).map_err(|source| VaultError::Io {
        path: path.into(),
        source,
    })?;
    open_from(&mut BufReader::new(f), key, path)
}

/// Reads who can open the profile at `path` (only its head is read; nothing is decrypted).
///
/// # Errors
/// As [`read_access_from`].
pub fn load_access(path: &Path) -> Result<Access, VaultError> {
    let f = std::fs::File::open(path).map_err(|source| VaultError::Io {
        path: path.into(),
        source,
    })?;
    read_access_from(&mut BufReader::new(f), path)
}

/// Seals `c` to `access` and writes it to `path` atomically: a temporary file in the same
/// directory, fsync, rename over `path`, fsync of the directory (by `atomic-write-file`). A
/// crash at any point leaves the old or the new profile. Parent directories are created (mode
/// 0700 on Unix); the file is mode 0600.
///
/// # Errors
/// [`VaultError::Io`] naming `path` (including an `access` that lets nobody in).
pub fn save(path: &Path, c: &Container, access: &Access) -> Result<(), VaultError> {
    let io = |source| VaultError::Io {
        path: path.into(),
        source,
    };
    crate::create_private_dir(path)?;
    remove_stale_temporaries(path);
    let mut f = atomic_write_file::AtomicWriteFile::open(path).map_err(io)?;
    set_private(&f).map_err(io)?;
    let mut w = std::io::BufWriter::new(&mut f);
    seal_to(&mut w, c, access).map_err(io)?;
    w.flush().map_err(io)?;
    drop(w);
    f.commit().map_err(io)
}

/// Removes what a save killed between naming its temporary file and renaming it left behind:
/// `.NAME.XXXXXX` beside `path`, holding a sealed profile (ciphertext only, but clutter).
fn remove_stale_temporaries(path: &Path) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return;
    };
    let prefix = format!(".{}.", name.to_string_lossy());
    let Ok(entries) = std::fs::read_dir(if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    }) else {
        return;
    };
    for e in entries.flatten() {
        let n = e.file_name();
        let n = n.to_string_lossy();
        let is_temp = n
            .strip_prefix(&prefix)
            .is_some_and(|rest| rest.len() == 6 && rest.chars().all(|c| c.is_ascii_alphanumeric()));
        let sealed = || {
            let mut head = [0u8; 16];
            std::fs::File::open(e.path())
                .and_then(|mut f| f.read_exact(&mut head))
                .is_ok()
                && &head == ENVELOPE_MAGIC
        };
        if is_temp && sealed() {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

#[cfg(unix)]
pub(crate) fn set_private(f: &atomic_write_file::AtomicWriteFile) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    f.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
pub(crate) fn set_private(_: &atomic_write_file::AtomicWriteFile) -> std::io::Result<()> {
    Ok(())
}

/// "a passphrase, or the devices laptop (age1…), phone (age1…)".
pub fn describe(access: &Access) -> String {
    let mut parts = Vec::new();
    if access.passphrase.is_some() {
        parts.push("its passphrase".to_string());
    }
    for d in &access.devices {
        parts.push(format!("the device {} ({})", d.label, d.recipient));
    }
    if parts.is_empty() {
        "nobody".into()
    } else {
        parts.join(", or ")
    }
}

fn payload_error(e: age::DecryptError, path: &Path) -> VaultError {
    let p = path.to_path_buf();
    match e {
        age::DecryptError::Io(io)
            if !matches!(
                io.kind(),
                std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::InvalidData
            ) =>
        {
            VaultError::Io {
                path: p,
                source: io,
            }
        }
        age::DecryptError::NoMatchingKeys => VaultError::Tampered {
            path: p,
            detail: "the payload is not encrypted to the recipients its header lists".into(),
        },
        other => VaultError::Tampered {
            path: p,
            detail: other.to_string(),
        },
    }
}

fn format_error(e: FormatError, path: &Path) -> VaultError {
    let p = path.to_path_buf();
    match e {
        FormatError::NewerVersion(found) => VaultError::NewerVersion {
            path: p,
            found,
            supported: crate::format::VERSION,
        },
        FormatError::Magic => VaultError::NotAProfile {
            path: p,
            detail: "an age payload, but not an ownvoice profile".into(),
        },
        FormatError::Truncated => VaultError::Truncated { path: p },
        FormatError::Io(source) => VaultError::Io { path: p, source },
        other @ FormatError::Malformed(_) => VaultError::Tampered {
            path: p,
            detail: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::PassphraseSlot;

    fn sample() -> Container {
        Container {
            manifest: br#"{"person":"ada"}"#.to_vec(),
            blobs: vec![(
                "takes/1.pcm".into(),
                (0..5000u32).map(|i| (i * 7) as u8).collect(),
            )],
        }
    }

    struct Fixture {
        pw: Passphrase,
        laptop: DeviceIdentity,
        access: Access,
        sealed: Vec<u8>,
    }

    fn fixture() -> Fixture {
        let pw = Passphrase::new("correct horse".into());
        let laptop = DeviceIdentity::generate("laptop").unwrap();
        let mut access = Access {
            passphrase: Some(PassphraseSlot::new(&pw).unwrap()),
            devices: vec![],
        };
        access.add_device(laptop.recipient()).unwrap();
        let sealed = seal(&sample(), &access).unwrap();
        Fixture {
            pw,
            laptop,
            access,
            sealed,
        }
    }

    const P: &str = "ada.age";

    #[test]
    fn opens_with_passphrase_or_device_and_lists_access_without_a_key() {
        let f = fixture();
        let path = Path::new(P);
        let (c, a) = open(&f.sealed, Key::Passphrase(&f.pw), path).unwrap();
        assert_eq!((c, &a), (sample(), &f.access));
        let (c, _) = open(&f.sealed, Key::Device(&f.laptop), path).unwrap();
        assert_eq!(c, sample());
        assert_eq!(read_access(&f.sealed, path).unwrap(), f.access);
        // Nothing of the plaintext is in the file.
        assert!(!f.sealed.windows(16).any(|w| w == crate::format::MAGIC));
        assert!(!f.sealed.windows(8).any(|w| w == b"\"person\""));
    }

    #[test]
    fn wrong_keys_are_named() {
        let f = fixture();
        let path = Path::new(P);
        let e = open(
            &f.sealed,
            Key::Passphrase(&Passphrase::new("nope".into())),
            path,
        );
        assert!(
            matches!(e, Err(VaultError::WrongPassphrase { .. })),
            "{e:?}"
        );
        let phone = DeviceIdentity::generate("phone").unwrap();
        let e = open(&f.sealed, Key::Device(&phone), path).unwrap_err();
        assert!(matches!(e, VaultError::NoMatchingIdentity { .. }), "{e}");
        assert!(e.to_string().contains("laptop"), "{e}");

        let device_only = Access {
            passphrase: None,
            devices: vec![f.laptop.recipient()],
        };
        let sealed = seal(&sample(), &device_only).unwrap();
        let e = open(&sealed, Key::Passphrase(&f.pw), path).unwrap_err();
        assert!(matches!(e, VaultError::NoMatchingIdentity { .. }), "{e}");
        assert!(seal(&sample(), &Access::default()).is_err());
    }

    #[test]
    fn every_flipped_payload_byte_is_tampering() {
        let f = fixture();
        let path = Path::new(P);
        let head = f.sealed.len() - read_payload_len(&f.sealed);
        for at in (head..f.sealed.len())
            .step_by(97)
            .chain([f.sealed.len() - 1])
        {
            let mut bad = f.sealed.clone();
            bad[at] ^= 0x01;
            let e = open(&bad, Key::Device(&f.laptop), path).unwrap_err();
            assert!(
                matches!(e, VaultError::Tampered { .. }),
                "flip at {at}: {e}"
            );
        }
    }

    #[test]
    fn a_changed_clear_access_section_is_tampering() {
        let f = fixture();
        let path = Path::new(P);
        // Rename the device in the clear header: "laptop" -> "lapdog".
        let at = f
            .sealed
            .windows(6)
            .position(|w| w == b"laptop")
            .expect("label in the clear");
        let mut bad = f.sealed.clone();
        bad[at..at + 6].copy_from_slice(b"lapdog");
        let e = open(&bad, Key::Passphrase(&f.pw), path).unwrap_err();
        assert!(matches!(e, VaultError::Tampered { .. }), "{e}");
    }

    #[test]
    fn truncation_foreign_files_and_versions_are_named() {
        let f = fixture();
        let path = Path::new(P);
        let key = Key::Device(&f.laptop);
        let sizes = (0..f.sealed.len()).step_by(53).chain([f.sealed.len() - 1]);
        for n in sizes {
            let e = open(&f.sealed[..n], key, path).unwrap_err();
            let ok = if n == 0 {
                matches!(e, VaultError::NotAProfile { .. })
            } else {
                matches!(e, VaultError::Truncated { .. })
            };
            assert!(ok, "prefix {n}: {e}");
        }
        let e = open(b"RIFF....WAVEfmt ", key, path).unwrap_err();
        assert!(matches!(e, VaultError::NotAProfile { .. }), "{e}");
        let e = open(
            b"age-encryption.org/v1\n-> scrypt c2FsdA 18\nAAAA\n--- mac\n",
            key,
            path,
        )
        .unwrap_err();
        assert!(e.to_string().contains("development format"), "{e}");
        let mut newer = f.sealed.clone();
        newer[16] = 9;
        let e = open(&newer, key, path).unwrap_err();
        assert!(
            matches!(e, VaultError::NewerVersion { found: 9, .. }),
            "{e}"
        );
    }

    #[test]
    fn save_is_atomic_private_and_loadable() {
        let f = fixture();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("people").join("ada.age");
        save(&path, &sample(), &f.access).unwrap();
        save(&path, &sample(), &f.access).unwrap();
        let (c, a) = load(&path, Key::Device(&f.laptop)).unwrap();
        assert_eq!((c, a), (sample(), f.access.clone()));
        assert_eq!(load_access(&path).unwrap(), f.access);
        assert_eq!(
            std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
            1
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(path.parent().unwrap()), 0o700);
        }
    }

    /// Bytes after the access section.
    fn read_payload_len(sealed: &[u8]) -> usize {
        let len = u32::from_le_bytes(sealed[18..22].try_into().unwrap()) as usize;
        sealed.len() - 22 - len
    }
}
