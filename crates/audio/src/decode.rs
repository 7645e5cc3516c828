//! Decoding to mono `f32`: [`read_audio`] is the one entry point for files (WAV, FLAC, MP3,
//! Ogg Vorbis), [`load_16k_mono`] the 16 kHz mono loader every command uses. WAV goes through
//! hound; everything else (and WAV encodings hound lacks) through symphonia.

use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use crate::compressed::{self, Container};
use crate::{resample::resample, AudioError, SPEECH_SAMPLE_RATE};

/// A mono signal: samples in `[-1.0, 1.0]` at `sample_rate` Hz.
#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    /// Mono samples, `[n_samples]`.
    pub samples: Vec<f32>,
    /// Sample rate in Hz.
    pub sample_rate: u32,
    /// Channels in the source before down-mixing.
    pub source_channels: u16,
}

impl Audio {
    /// Duration in seconds.
    pub fn duration_s(&self) -> f64 {
        self.samples.len() as f64 / self.sample_rate as f64
    }
}

/// Reads a WAV file (8/16/24/32-bit integer PCM or 32-bit float, any rate, any channel count) and
/// down-mixes it to mono by averaging channels.
///
/// # Errors
/// [`AudioError::NotFound`], [`AudioError::Io`], [`AudioError::NotAudio`] for a non-WAV or malformed
/// file, [`AudioError::Unsupported`] for other encodings, [`AudioError::Empty`] for zero samples.
pub fn read_wav(path: &Path) -> Result<Audio, AudioError> {
    decode_wav_bytes(&read_bytes(path)?, path)
}

fn read_bytes(path: &Path) -> Result<Vec<u8>, AudioError> {
    std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => AudioError::NotFound { path: path.into() },
        _ => AudioError::Io {
            path: path.into(),
            source: e,
        },
    })
}

/// Decodes WAV bytes held in memory; `name` is used in error messages only.
///
/// # Errors
/// As [`read_wav`], less the file-system errors.
pub fn decode_wav_bytes(bytes: &[u8], name: &Path) -> Result<Audio, AudioError> {
    let path: PathBuf = name.into();
    if bytes.is_empty() {
        return Err(AudioError::NotAudio {
            path,
            detail: "the file is empty (0 bytes)".into(),
        });
    }
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(AudioError::NotAudio {
            path,
            detail: "no RIFF/WAVE header".into(),
        });
    }
    let reader = hound::WavReader::new(Cursor::new(bytes)).map_err(|e| classify(&path, e))?;
    let spec = reader.spec();
    if spec.channels == 0 {
        return Err(AudioError::NotAudio {
            path,
            detail: "0 channels".into(),
        });
    }
    let interleaved = read_samples(reader, &path)?;
    let channels = spec.channels as usize;
    if interleaved.len() < channels {
        return Err(AudioError::Empty { path });
    }
    let samples: Vec<f32> = interleaved
        .chunks_exact(channels)
        .map(|frame| frame.iter().sum::<f32>() / channels as f32)
        .collect();
    Ok(Audio {
        samples,
        sample_rate: spec.sample_rate,
        source_channels: spec.channels,
    })
}

fn read_samples<R: Read>(
    mut reader: hound::WavReader<R>,
    path: &Path,
) -> Result<Vec<f32>, AudioError> {
    let spec = reader.spec();
    match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Float, 32) => reader
            .samples::<f32>()
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| classify(path, e)),
        (hound::SampleFormat::Int, bits @ (8 | 16 | 24 | 32)) => {
            // Full-scale of a signed `bits`-bit integer, so that samples land in [-1, 1).
            let scale = 1.0 / (1u64 << (bits - 1)) as f32;
            reader
                .samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| classify(path, e))
        }
        (format, bits) => Err(AudioError::Unsupported {
            path: path.into(),
            detail: format!("{bits}-bit {format:?}"),
        }),
    }
}

fn classify(path: &Path, e: hound::Error) -> AudioError {
    match e {
        // The bytes are already in memory: a read error here means the file ends early.
        hound::Error::IoError(e) => AudioError::NotAudio {
            path: path.into(),
            detail: format!("truncated or malformed: {e}"),
        },
        hound::Error::FormatError(m) => AudioError::NotAudio {
            path: path.into(),
            detail: m.to_string(),
        },
        hound::Error::Unsupported => AudioError::Unsupported {
            path: path.into(),
            detail: "format tag not PCM or IEEE float".into(),
        },
        other => AudioError::Unsupported {
            path: path.into(),
            detail: other.to_string(),
        },
    }
}

/// Reads an audio file — WAV (8/16/24/32-bit integer, 32/64-bit float, A-law, µ-law), FLAC,
/// MP3 or Ogg Vorbis, recognised by content, not by extension — and down-mixes it to mono.
///
/// # Errors
/// [`AudioError::NotFound`], [`AudioError::Io`], [`AudioError::NotAudio`] for anything else or a
/// malformed file, [`AudioError::Unsupported`] for an encoding none of the decoders reads,
/// [`AudioError::Empty`] for zero samples.
pub fn read_audio(path: &Path) -> Result<Audio, AudioError> {
    let bytes = read_bytes(path)?;
    decode_bytes(bytes, path)
}

/// Decodes a whole audio file held in memory (any format [`read_audio`] reads); `name` is used
/// in error messages only.
///
/// # Errors
/// As [`read_audio`], less the file-system errors.
pub fn decode_bytes(bytes: Vec<u8>, name: &Path) -> Result<Audio, AudioError> {
    match compressed::sniff(&bytes) {
        // hound first (exact integer scaling, clear header errors); symphonia for the WAV
        // encodings hound rejects (64-bit float, A-law, µ-law), keeping hound's error if both fail.
        Some(Container::Wav) => match decode_wav_bytes(&bytes, name) {
            Err(e @ (AudioError::Unsupported { .. } | AudioError::NotAudio { .. })) => {
                compressed::decode(bytes, Container::Wav, name).map_err(|_| e)
            }
            other => other,
        },
        Some(container) => compressed::decode(bytes, container, name),
        None if bytes.is_empty() => Err(AudioError::NotAudio {
            path: name.into(),
            detail: "the file is empty (0 bytes)".into(),
        }),
        None => Err(AudioError::NotAudio {
            path: name.into(),
            detail: "no WAV, FLAC, MP3 or Ogg header".into(),
        }),
    }
}

/// Reads an audio file (see [`read_audio`]) and converts it to 16 kHz mono, the input every
/// speech model here expects.
///
/// # Errors
/// As [`read_audio`], plus [`AudioError::Resample`].
pub fn load_16k_mono(path: &Path) -> Result<Vec<f32>, AudioError> {
    to_16k(read_audio(path)?)
}

/// Converts decoded audio to 16 kHz (a no-op when it already is).
///
/// # Errors
/// [`AudioError::Resample`].
pub fn to_16k(audio: Audio) -> Result<Vec<f32>, AudioError> {
    if audio.sample_rate == SPEECH_SAMPLE_RATE {
        Ok(audio.samples)
    } else {
        resample(&audio.samples, audio.sample_rate, SPEECH_SAMPLE_RATE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav_bytes(
        spec: hound::WavSpec,
        write: impl FnOnce(&mut hound::WavWriter<&mut Cursor<Vec<u8>>>),
    ) -> Vec<u8> {
        let mut cur = Cursor::new(Vec::new());
        {
            let mut w = hound::WavWriter::new(&mut cur, spec).unwrap();
            write(&mut w);
            w.finalize().unwrap();
        }
        cur.into_inner()
    }

    #[test]
    fn stereo_24_bit_is_downmixed_and_scaled() {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 8000,
            bits_per_sample: 24,
            sample_format: hound::SampleFormat::Int,
        };
        let bytes = wav_bytes(spec, |w| {
            for _ in 0..10 {
                w.write_sample(1 << 22).unwrap(); // +0.5
                w.write_sample(0).unwrap();
            }
        });
        let a = decode_wav_bytes(&bytes, Path::new("x.wav")).unwrap();
        assert_eq!(a.samples.len(), 10);
        assert!((a.samples[0] - 0.25).abs() < 1e-6);
        assert_eq!(a.source_channels, 2);
    }

    #[test]
    fn header_only_wav_is_empty_error() {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 16000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let bytes = wav_bytes(spec, |_| {});
        let e = decode_wav_bytes(&bytes, Path::new("empty.wav")).unwrap_err();
        assert!(matches!(e, AudioError::Empty { .. }), "{e}");
        assert!(e.to_string().contains("empty.wav"));
    }

    #[test]
    fn text_is_not_audio() {
        let e = decode_wav_bytes(b"hello world, not audio", Path::new("t.txt")).unwrap_err();
        assert!(matches!(e, AudioError::NotAudio { .. }), "{e}");
    }
}
