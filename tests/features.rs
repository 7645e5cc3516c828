//! Whisper log-mel and speaker-encoder mel against reference features computed by numpy + librosa
//! (`tools/make_feature_fixtures.py`) on three real clips: the Rust output must match within 1e-3
//! max abs difference, through the library and through `ownvoice features`.

mod common;

use std::path::Path;

use common::{root, Env};
use ndarray::Array2;
use ndarray_npy::ReadNpyExt;

const CLIPS: [(&str, &str); 3] = [
    (
        "arctic_a0001",
        "cathy_arctic/enroll/wav/cathy/arctic_a0001.wav",
    ),
    (
        "arctic_a0036",
        "cathy_arctic/heldout/wav/cathy/arctic_a0036.wav",
    ),
    ("jfk", "jfk_whisper_sample/wav/jfk/jfk.wav"),
];
const TOLERANCE: f32 = 1e-3;

fn read_npy(path: &Path) -> Array2<f32> {
    Array2::<f32>::read_npy(std::fs::File::open(path).unwrap()).unwrap()
}

fn fixture(stem: &str, kind: &str) -> Array2<f32> {
    read_npy(&root().join(format!("tests/fixtures/features/{stem}.{kind}.npy")))
}

fn max_abs_diff(a: &Array2<f32>, b: &Array2<f32>) -> f32 {
    assert_eq!(a.dim(), b.dim(), "shapes differ");
    a.iter()
        .zip(b.iter())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn whisper_log_mel_matches_reference() {
    for (stem, rel) in CLIPS {
        let x = ownvoice_audio::load_16k_mono(&common::dataset(rel)).unwrap();
        for n_mels in [80, 128] {
            let ours = ownvoice_features::whisper_log_mel(&x, n_mels).unwrap();
            let reference = fixture(stem, &format!("logmel{n_mels}"));
            let d = max_abs_diff(&ours, &reference);
            eprintln!(
                "{stem} log-mel {n_mels}: {:?}, max abs diff {d:.2e}",
                ours.dim()
            );
            assert!(d < TOLERANCE, "{stem} log-mel {n_mels}: max abs diff {d}");
        }
    }
}

#[test]
fn speaker_mel_matches_reference() {
    for (stem, rel) in CLIPS {
        let x = ownvoice_audio::load_16k_mono(&common::dataset(rel)).unwrap();
        let ours = ownvoice_features::speaker_mel(&x).unwrap();
        let reference = fixture(stem, "speakermel");
        let d = max_abs_diff(&ours, &reference);
        eprintln!("{stem} speaker mel: {:?}, max abs diff {d:.2e}", ours.dim());
        assert!(d < TOLERANCE, "{stem} speaker mel: max abs diff {d}");
    }
}

#[test]
fn features_command_writes_matching_npy() {
    let env = Env::new();
    let out = tempfile::tempdir().unwrap();
    let wav = common::dataset(CLIPS[0].1);
    for (args, kind) in [
        (vec!["log-mel", "--n-mels", "128"], "logmel128"),
        (vec!["speaker-mel"], "speakermel"),
    ] {
        let npy = out.path().join(format!("{kind}.npy"));
        let mut full = vec!["features"];
        full.extend(args);
        full.extend([wav.to_str().unwrap(), "-o", npy.to_str().unwrap()]);
        env.ok(&full);
        let d = max_abs_diff(&read_npy(&npy), &fixture(CLIPS[0].0, kind));
        assert!(d < TOLERANCE, "{kind} via CLI: {d}");
    }
    let bad = env.run(&[
        "features",
        "log-mel",
        "--n-mels",
        "40",
        wav.to_str().unwrap(),
        "-o",
        "/tmp/never.npy",
    ]);
    common::assert_clean_failure(&bad, "80 or 128");
}
