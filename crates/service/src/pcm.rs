//! Raw PCM and streaming WAV: the byte formats audio travels in over Wyoming, HTTP and
//! WebSocket.

use crate::ServiceError;

/// Little-endian integer PCM (`width` 1 = unsigned 8-bit, 2 = signed 16-bit, 4 = signed 32-bit;
/// interleaved `channels`) → mono f32 in [-1, 1] (channels averaged).
///
/// # Errors
/// [`ServiceError::BadRequest`] for another width, zero channels, or a byte count that is not a
/// whole number of frames.
pub fn to_mono_f32(bytes: &[u8], width: usize, channels: usize) -> Result<Vec<f32>, ServiceError> {
    if !matches!(width, 1 | 2 | 4) || channels == 0 || channels > 8 {
        return Err(ServiceError::BadRequest(format!(
            "unsupported PCM: width {width} bytes, {channels} channels (use 16-bit mono)"
        )));
    }
    let frame = width * channels;
    if !bytes.len().is_multiple_of(frame) {
        return Err(ServiceError::BadRequest(format!(
            "{} bytes of PCM is not a whole number of {frame}-byte frames",
            bytes.len()
        )));
    }
    let sample = |b: &[u8]| -> f32 {
        match width {
            1 => (b[0] as f32 - 128.0) / 128.0,
            2 => i16::from_le_bytes([b[0], b[1]]) as f32 / 32768.0,
            _ => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32 / 2_147_483_648.0,
        }
    };
    Ok(bytes
        .chunks_exact(frame)
        .map(|f| f.chunks_exact(width).map(sample).sum::<f32>() / channels as f32)
        .collect())
}

/// f32 samples → signed 16-bit little-endian PCM bytes.
pub fn to_pcm16(samples: &[f32]) -> Vec<u8> {
    samples
        .iter()
        .flat_map(|&s| ownvoice_audio::write::f32_to_i16(s).to_le_bytes())
        .collect()
}

/// A 44-byte WAV header (PCM, 16-bit, mono) for a stream of unknown length: the RIFF and data
/// sizes are 0xFFFFFFFF, as OpenAI's streamed `wav` responses and ffmpeg's pipes write them.
pub fn streaming_wav_header(sample_rate: u32) -> Vec<u8> {
    let mut h = Vec::with_capacity(44);
    h.extend_from_slice(b"RIFF");
    h.extend_from_slice(&u32::MAX.to_le_bytes());
    h.extend_from_slice(b"WAVEfmt ");
    h.extend_from_slice(&16u32.to_le_bytes());
    h.extend_from_slice(&1u16.to_le_bytes()); // PCM
    h.extend_from_slice(&1u16.to_le_bytes()); // mono
    h.extend_from_slice(&sample_rate.to_le_bytes());
    h.extend_from_slice(&(sample_rate * 2).to_le_bytes()); // byte rate
    h.extend_from_slice(&2u16.to_le_bytes()); // block align
    h.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    h.extend_from_slice(b"data");
    h.extend_from_slice(&u32::MAX.to_le_bytes());
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcm_round_trip_and_stereo_mix() {
        let s = [0.5f32, -0.25, 0.0];
        let back = to_mono_f32(&to_pcm16(&s), 2, 1).unwrap();
        for (a, b) in s.iter().zip(&back) {
            assert!((a - b).abs() < 1e-4);
        }
        let stereo = to_pcm16(&[0.5, -0.5, 0.25, 0.25]);
        assert_eq!(to_mono_f32(&stereo, 2, 2).unwrap(), vec![0.0, 0.25]);
        assert!(to_mono_f32(&[0, 0, 0], 2, 1).is_err());
        assert!(to_mono_f32(&[0; 6], 3, 1).is_err());
    }

    #[test]
    fn header_is_44_bytes() {
        let h = streaming_wav_header(22_050);
        assert_eq!(h.len(), 44);
        assert_eq!(&h[24..28], &22_050u32.to_le_bytes());
    }
}
