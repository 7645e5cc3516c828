//! FLAC, MP3, Ogg Vorbis (and the WAV encodings hound does not read, such as 64-bit float or
//! A-law) through symphonia, down-mixed to mono `f32`.

use std::io::Cursor;
use std::path::Path;

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{DecoderOptions, CODEC_TYPE_NULL};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use crate::{Audio, AudioError};

/// Container formats recognised by their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// RIFF/WAVE.
    Wav,
    /// Native FLAC (`fLaC`).
    Flac,
    /// MPEG audio (an ID3v2 tag or an MPEG frame sync).
    Mp3,
    /// Ogg (`OggS`), read for its Vorbis stream.
    Ogg,
}

/// The container of `bytes` from its magic number, or `None`.
pub fn sniff(bytes: &[u8]) -> Option<Container> {
    match bytes {
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'A', b'V', b'E', ..] => Some(Container::Wav),
        [b'f', b'L', b'a', b'C', ..] => Some(Container::Flac),
        [b'O', b'g', b'g', b'S', ..] => Some(Container::Ogg),
        [b'I', b'D', b'3', ..] => Some(Container::Mp3),
        // MPEG-1/2/2.5 Layer III frame sync: 11 set bits, then a layer field of 01.
        [0xFF, b, ..] if b & 0xE0 == 0xE0 && b & 0x06 == 0x02 => Some(Container::Mp3),
        _ => None,
    }
}

/// Decodes a whole file of `container` held in memory; `path` names it in errors.
///
/// MP3 encoder delay and padding are removed where the file records them (gapless mode).
///
/// # Errors
/// [`AudioError::NotAudio`] for a malformed stream, [`AudioError::Unsupported`] for a codec that
/// is not built in, [`AudioError::Empty`] for a stream without samples.
pub fn decode(bytes: Vec<u8>, container: Container, path: &Path) -> Result<Audio, AudioError> {
    let mut hint = Hint::new();
    hint.with_extension(match container {
        Container::Wav => "wav",
        Container::Flac => "flac",
        Container::Mp3 => "mp3",
        Container::Ogg => "ogg",
    });
    let stream = MediaSourceStream::new(Box::new(Cursor::new(bytes)), Default::default());
    let format_opts = FormatOptions {
        enable_gapless: true,
        ..Default::default()
    };
    let probed = symphonia::default::get_probe()
        .format(&hint, stream, &format_opts, &MetadataOptions::default())
        .map_err(|e| sym_error(path, e))?;
    let mut reader = probed.format;
    let track = reader
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or_else(|| AudioError::NotAudio {
            path: path.into(),
            detail: "no audio track".into(),
        })?;
    let track_id = track.id;
    let mut decoder = symphonia::default::get_codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .map_err(|e| sym_error(path, e))?;

    let mut samples = Vec::new();
    let mut sample_rate = track.codec_params.sample_rate.unwrap_or(0);
    let mut channels = track.codec_params.channels.map_or(0, |c| c.count());
    let mut buf: Option<SampleBuffer<f32>> = None;
    loop {
        let packet = match reader.next_packet() {
            Ok(p) => p,
            Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(sym_error(path, e)),
        };
        if packet.track_id() != track_id {
            continue;
        }
        let decoded = match decoder.decode(&packet) {
            Ok(d) => d,
            // A corrupt packet: skip it, as players do; an all-corrupt file ends up Empty.
            Err(SymError::DecodeError(_)) => continue,
            Err(e) => return Err(sym_error(path, e)),
        };
        let spec = *decoded.spec();
        sample_rate = spec.rate;
        channels = spec.channels.count();
        let b = buf.get_or_insert_with(|| SampleBuffer::new(decoded.capacity() as u64, spec));
        if b.capacity() < decoded.capacity() * channels {
            *b = SampleBuffer::new(decoded.capacity() as u64, spec);
        }
        b.copy_interleaved_ref(decoded);
        let ch = channels.max(1);
        samples.extend(
            b.samples()
                .chunks_exact(ch)
                .map(|frame| frame.iter().sum::<f32>() / ch as f32),
        );
    }
    if samples.is_empty() || sample_rate == 0 {
        return Err(AudioError::Empty { path: path.into() });
    }
    Ok(Audio {
        samples,
        sample_rate,
        source_channels: channels as u16,
    })
}

fn sym_error(path: &Path, e: SymError) -> AudioError {
    match e {
        SymError::Unsupported(what) => AudioError::Unsupported {
            path: path.into(),
            detail: what.to_string(),
        },
        SymError::IoError(e) => AudioError::NotAudio {
            path: path.into(),
            detail: format!("truncated or malformed: {e}"),
        },
        other => AudioError::NotAudio {
            path: path.into(),
            detail: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_magic_numbers() {
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVEfmt "), Some(Container::Wav));
        assert_eq!(sniff(b"fLaC\0\0\0\x22"), Some(Container::Flac));
        assert_eq!(sniff(b"OggS\0\x02"), Some(Container::Ogg));
        assert_eq!(sniff(b"ID3\x04\0"), Some(Container::Mp3));
        assert_eq!(sniff(&[0xFF, 0xFB, 0x90, 0x64]), Some(Container::Mp3));
        assert_eq!(sniff(b"hello"), None);
        assert_eq!(sniff(&[0xFF, 0xF1]), None, "ADTS AAC (layer 00) is not MP3");
    }

    #[test]
    fn garbage_after_magic_is_not_audio() {
        let mut bytes = b"fLaC".to_vec();
        bytes.extend_from_slice(&[0x55; 64]);
        let e = decode(bytes, Container::Flac, Path::new("x.flac")).unwrap_err();
        assert!(
            matches!(e, AudioError::NotAudio { .. } | AudioError::Empty { .. }),
            "{e}"
        );
        assert!(e.to_string().contains("x.flac"));
    }
}
