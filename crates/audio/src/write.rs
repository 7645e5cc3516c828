//! 16-bit PCM WAV encoding, in memory and as an atomic file write.

use std::io::{Cursor, Write};
use std::path::Path;

use crate::AudioError;

/// Encodes mono `f32` samples (clamped to `[-1, 1]`) as a 16-bit PCM WAV file image.
pub fn encode_wav_i16(samples: &[f32], sample_rate: u32) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut cur = Cursor::new(Vec::with_capacity(44 + samples.len() * 2));
    {
        let mut w = hound::WavWriter::new(&mut cur, spec).expect("in-memory WAV header");
        let mut w16 = w.get_i16_writer(samples.len() as u32);
        for &s in samples {
            w16.write_sample(f32_to_i16(s));
        }
        w16.flush().expect("in-memory WAV data");
        w.finalize().expect("in-memory WAV finalize");
    }
    cur.into_inner()
}

/// Converts a sample in `[-1, 1]` to 16-bit PCM, rounding and clamping.
pub fn f32_to_i16(s: f32) -> i16 {
    (s.clamp(-1.0, 1.0) * 32767.0).round() as i16
}

/// Writes a mono 16-bit WAV file atomically: a temporary file in the same directory is written,
/// flushed to disk (fsync) and renamed over `path`, and the directory is fsynced. A crash leaves
/// either the old file or the new one, never a torn one.
///
/// # Errors
/// [`AudioError::Io`] naming `path`.
pub fn write_wav_atomic(path: &Path, samples: &[f32], sample_rate: u32) -> Result<(), AudioError> {
    write_atomic(path, &encode_wav_i16(samples, sample_rate)).map_err(|source| AudioError::Io {
        path: path.into(),
        source,
    })
}

/// Writes `bytes` to `path` atomically: a temporary file beside it is written, fsynced and
/// renamed over `path`, and the directory is fsynced (the `atomic-write-file` crate).
///
/// When `path` exists and is not a regular file (`/dev/null`, `/dev/stdout`, a FIFO), the bytes
/// are written into it directly: renaming over it would replace the device or pipe with a file.
///
/// # Errors
/// The underlying I/O error.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
        return std::fs::OpenOptions::new()
            .write(true)
            .open(path)?
            .write_all(bytes);
    }
    let mut file = atomic_write_file::AtomicWriteFile::open(path)?;
    file.write_all(bytes)?;
    file.commit()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::decode_wav_bytes;

    #[test]
    fn round_trip_is_within_one_lsb() {
        let x: Vec<f32> = (0..500).map(|i| ((i as f32) * 0.37).sin() * 0.8).collect();
        let bytes = encode_wav_i16(&x, 22_050);
        let a = decode_wav_bytes(&bytes, Path::new("mem.wav")).unwrap();
        assert_eq!(a.sample_rate, 22_050);
        for (p, q) in x.iter().zip(&a.samples) {
            assert!((p - q).abs() < 2.0 / 32768.0);
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_stays_a_fifo() {
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read(fifo).unwrap())
        };
        write_wav_atomic(&fifo, &[0.1, 0.2], 16_000).unwrap();
        assert_eq!(&reader.join().unwrap()[..4], b"RIFF");
        assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    }

    #[test]
    fn atomic_write_replaces_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.wav");
        std::fs::write(&p, b"old").unwrap();
        write_wav_atomic(&p, &[0.1, 0.2], 16_000).unwrap();
        assert_eq!(&std::fs::read(&p).unwrap()[0..4], b"RIFF");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
