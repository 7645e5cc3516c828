//! Replays the fuzz targets' seeds and every input fuzzing ever found to crash
//! (fuzz/regressions/TARGET/), through the same checks the fuzz targets run (fuzz/checks.rs).

#[path = "../fuzz/checks.rs"]
mod checks;
mod common;

fn replay(target: &str, check: fn(&[u8])) -> usize {
    let mut n = 0;
    for dir in ["seeds", "regressions"] {
        let d = common::root().join("fuzz").join(dir).join(target);
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries {
            let path = e.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            let caught = std::panic::catch_unwind(|| check(&data));
            assert!(caught.is_ok(), "{} makes {target} panic", path.display());
            n += 1;
        }
    }
    n
}

#[test]
fn fuzz_findings_and_seeds_stay_fixed() {
    let decode = replay("decode_audio", checks::decode_audio);
    assert!(replay("ct2_reader", checks::ct2_reader) >= 1);
    assert!(replay("ggml_reader", checks::ggml_reader) >= 1);
    assert!(replay("profile", checks::profile) >= 1);
    assert!(replay("wyoming_frame", checks::wyoming_frame) >= 4);
    // The decoding fixtures are decode_audio's seeds; they must all decode.
    let fixtures = common::root().join("tests/fixtures/decode");
    for e in std::fs::read_dir(fixtures).unwrap() {
        let p = e.unwrap().path();
        if matches!(
            p.extension().and_then(|x| x.to_str()),
            Some("wav" | "flac" | "mp3" | "ogg")
        ) {
            checks::decode_audio(&std::fs::read(&p).unwrap());
        }
    }
    eprintln!("replayed {decode} decode_audio regressions");
}

#[test]
fn the_seeds_parse() {
    // The seeds are valid files: if a reader stops accepting them, fuzzing starts from nothing.
    let seed = |t: &str| {
        std::fs::read(common::root().join("fuzz/seeds").join(t).join("tiny.bin")).unwrap()
    };
    assert!(ownvoice_asr::ct2::parse(&seed("ct2_reader")).is_ok());
    assert!(ownvoice_asr::ggml::WhisperGgml::parse(&seed("ggml_reader")).is_ok());
    let c = std::fs::read(common::root().join("fuzz/seeds/profile/container.bin")).unwrap();
    assert!(ownvoice_vault::Container::read_from(&mut c.as_slice()).is_ok());
    let w =
        std::fs::read(common::root().join("fuzz/seeds/wyoming_frame/transcribe_audio")).unwrap();
    let (events, err) = ownvoice_service::wyoming::frame::parse_all(&w, &Default::default());
    assert!(err.is_none() && events.len() == 4, "{err:?}");
}
