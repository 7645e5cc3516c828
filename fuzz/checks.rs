//! What each fuzz target does with one input: shared by the fuzz targets (fuzz/fuzz_targets/)
//! and by the regression replay in the test suite (tests/fuzz_regressions.rs), so a crash found
//! by fuzzing is replayed exactly. Each function must not panic on any input; where a parse
//! succeeds, it also checks a property of the result.
#![allow(dead_code)]

use std::path::Path;
use std::sync::OnceLock;

use ownvoice_vault::{Container, DeviceIdentity, Key};

/// The audio decoding entry: WAV (hound), FLAC, MP3, Ogg Vorbis (symphonia), sniffed by content.
pub fn decode_audio(data: &[u8]) {
    if let Ok(audio) = ownvoice_audio::decode_bytes(data.to_vec(), Path::new("fuzz-input")) {
        assert!(
            audio.sample_rate > 0,
            "decoded audio with a zero sample rate"
        );
    }
}

/// The CTranslate2 `model.bin` reader; every variable read back.
pub fn ct2_reader(data: &[u8]) {
    if let Ok(model) = ownvoice_asr::ct2::parse(data) {
        for v in model.variables.values() {
            let _ = v.to_f32();
            let _ = v.to_f16_bits();
            let _ = v.scalar_i64();
        }
    }
}

/// The whisper.cpp ggml reader: a parsed model writes back to the same bytes.
pub fn ggml_reader(data: &[u8]) {
    if let Ok(model) = ownvoice_asr::ggml::WhisperGgml::parse(data) {
        assert!(
            model.to_bytes() == data,
            "ggml parse/write is not a round trip"
        );
    }
}

fn identity() -> &'static DeviceIdentity {
    static ID: OnceLock<DeviceIdentity> = OnceLock::new();
    ID.get_or_init(|| DeviceIdentity::generate("fuzz").unwrap())
}

/// The profile parsers: the clear access section, the sealed file (opened with a device key,
/// so the age layers are reached), and the plaintext container, which must round-trip.
pub fn profile(data: &[u8]) {
    let path = Path::new("fuzz.age");
    let _ = ownvoice_vault::read_access(data, path);
    let _ = ownvoice_vault::open(data, Key::Device(identity()), path);
    if let Ok((c, access)) = Container::read_from(&mut &data[..]) {
        let mut again = Vec::new();
        c.write_to(&mut again, &access).unwrap();
        assert!(again == data, "container parse/write is not a round trip");
    }
}

/// The Wyoming frame reader (the service's protocol parser for network peers): every event read
/// writes back and reads again to the same type, data keys and payload.
pub fn wyoming_frame(data: &[u8]) {
    use ownvoice_service::wyoming::frame::{parse_all, FrameLimits};
    let limits = FrameLimits {
        max_header: 4096,
        max_data: 4096,
        max_payload: 65_536,
    };
    let (events, _) = parse_all(data, &limits);
    for e in events {
        let (again, err) = parse_all(&e.to_bytes(), &limits);
        assert!(err.is_none(), "a written event does not read back: {err:?}");
        assert!(again.len() == 1, "one event wrote {} events", again.len());
        let a = &again[0];
        assert!(
            a.kind == e.kind && a.payload == e.payload,
            "event changed in a round trip"
        );
        assert!(
            a.data.keys().eq(e.data.keys()),
            "event data keys changed in a round trip"
        );
    }
}
