//! FLAC, MP3, Ogg Vorbis (and the WAV encodings hound does not read, such as 64-bit float or
//! A-law) through symphonia 0.6, down-mixed to mono `f32`.

use std::io::Cursor;
use std::path::Path;

use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

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
    let ext = match container {
        Container::Wav => "wav",
        Container::Flac => "flac",
        Container::Mp3 => "mp3",
        Container::Ogg => "ogg",
    };
    let mut hint = Hint::new();
    hint.with_extension(ext);
    let stream = MediaSourceStream::new(Box::new(Cursor::new(bytes)), Default::default());
    let mut reader = symphonia::default::get_probe()
        .probe(
            &hint,
            stream,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| match e {
            // The magic number matched but no reader accepts what follows: symphonia 0.6 scores
            // the stream before choosing a reader, where 0.5 failed later, reading it.
            SymError::Unsupported(what) if what.starts_with("core (probe)") => {
                AudioError::NotAudio {
                    path: path.into(),
                    detail: format!("no valid {} stream: {what}", ext.to_uppercase()),
                }
            }
            e => sym_error(path, e),
        })?;
    let no_track = || AudioError::NotAudio {
        path: path.into(),
        detail: "no audio track".into(),
    };
    let track = reader
        .first_track_known_codec(TrackType::Audio)
        .ok_or_else(no_track)?;
    let track_id = track.id;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(no_track)?;
    // Gapless is on by default: the decoder drops the encoder delay and padding that the reader
    // marks on each packet.
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(params, &AudioDecoderOptions::default().gapless(true))
        .map_err(|e| sym_error(path, e))?;

    let mut samples = Vec::new();
    let mut sample_rate = params.sample_rate.unwrap_or(0);
    let mut channels = params.channels.as_ref().map_or(0, |c| c.count());
    // symphonia 0.5's MP3 and Vorbis decoders clamped their output to [-1, 1]; 0.6's do not, and
    // a corrupt MP3 frame then decodes to samples in the thousands. Clamp as before.
    let clamp = matches!(container, Container::Mp3 | Container::Ogg);
    let mut interleaved: Vec<f32> = Vec::new();
    loop {
        let packet = match reader.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            // A file cut short mid-packet: keep what decoded before the cut.
            Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(sym_error(path, e)),
        };
        if packet.track_id != track_id {
            continue;
        }
        let decoded = match decoder.decode(&packet) {
            Ok(d) => d,
            // A corrupt packet: skip it, as players do; an all-corrupt file ends up Empty.
            Err(SymError::DecodeError(_)) => continue,
            Err(e) => return Err(sym_error(path, e)),
        };
        let spec = decoded.spec();
        sample_rate = spec.rate();
        channels = spec.channels().count();
        decoded.copy_to_vec_interleaved(&mut interleaved);
        if clamp {
            interleaved.iter_mut().for_each(|s| *s = s.clamp(-1.0, 1.0));
        }
        let ch = decoded.num_planes().max(1);
        samples.extend(
            interleaved
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

    #[test]
    fn frame_sync_without_frames_is_not_audio() {
        let mut bytes = vec![0xFF, 0xFB];
        bytes.extend_from_slice(&[0; 200]);
        let e = decode(bytes, Container::Mp3, Path::new("x.mp3")).unwrap_err();
        assert!(matches!(e, AudioError::NotAudio { .. }), "{e}");
        assert!(e.to_string().contains("x.mp3"));
    }
}
