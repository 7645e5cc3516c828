//! Resolving a voice name to a synthesiser: a Piper voice (`joe`), a Kokoro stock style pack
//! (`af_heart`, `am_michael`, `jf_alpha`, …, or `kokoro` for [`DEFAULT_STYLE`]), or a person's
//! fitted voice (their name).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::{anyhow, bail, Context, Result};
use ownvoice_enroll::PersonProfile;
use ownvoice_tts::kokoro::{read_packs, Kokoro, StylePack};
use ownvoice_tts::{KokoroVoice, PiperVoice, Synthesizer};

use crate::{context, keys};

/// Blob of a person's fitted style pack.
pub const STYLE_BLOB: &str = "voice/kokoro.style";
/// Blob of an unfinished fit's checkpoint.
pub const CHECKPOINT_BLOB: &str = "voice/kokoro.checkpoint";
/// The stock style `--voice kokoro` speaks in (Kokoro's US English flagship voice), when the
/// `kokoro-voices` packs are fetched; else the first pack of the `kokoro` model.
pub const DEFAULT_STYLE: &str = "af_heart";

/// The catalog entry with the extra stock packs.
pub const EXTRA_PACKS: &str = "kokoro-voices";

/// The TTS model fitted voices are for.
pub const KOKORO_MODEL: &str = "kokoro-v1.0-int8";

/// A loaded voice.
pub struct Loaded {
    /// The synthesiser.
    pub synth: Box<dyn Synthesizer>,
    /// One line describing it.
    pub description: String,
    /// The person it belongs to (a fitted voice).
    pub person: Option<String>,
}

/// Loads voices, sharing one Kokoro session between them.
pub struct VoiceLoader {
    threads: usize,
    kokoro: Option<Arc<Mutex<Kokoro>>>,
    packs: Option<Vec<(String, StylePack)>>,
}

/// Paths of the fetched Kokoro model: (`kokoro.onnx`, `vocab.json`, `voices.npz`).
pub fn kokoro_files() -> Result<(PathBuf, PathBuf, PathBuf)> {
    let cache = context::models();
    let f = |name: &str| {
        cache
            .file("kokoro", name)
            .with_context(|| "the Kokoro model (run `ownvoice models fetch kokoro`)".to_string())
    };
    Ok((f("kokoro.onnx")?, f("vocab.json")?, f("voices.npz")?))
}

/// The stock packs: those of the fetched Kokoro model (`voices.npz`, 5 Japanese), then those of
/// `kokoro-voices` (49, raw f32 `[510, 1, 256]` files) when it is fetched, in catalog order.
///
/// # Errors
/// Kokoro not fetched; an unreadable or malformed pack (naming the file).
pub fn stock_packs() -> Result<Vec<(String, StylePack)>> {
    let (_, _, npz) = kokoro_files()?;
    let mut packs = read_packs(&npz)?;
    let cache = context::models();
    if let Some(entry) = cache.installed(EXTRA_PACKS) {
        let dir = cache.model_dir(EXTRA_PACKS);
        for f in &entry.files {
            let path = dir.join(&f.path);
            let bytes = std::fs::read(&path).with_context(|| path.display().to_string())?;
            let pack = StylePack::from_bytes(&bytes).with_context(|| path.display().to_string())?;
            packs.push((f.path.trim_end_matches(".bin").to_string(), pack));
        }
    }
    Ok(packs)
}

/// A person's fitted style pack and its speaking rate (a Kokoro `speed` factor), when their
/// profile holds one (opens the profile).
pub fn person_pack(person: &str) -> Result<Option<(StylePack, f32)>> {
    let path = crate::cmd_people::existing_profile(person)?;
    let (c, _) = keys::open_profile(&path, person)?;
    let p = PersonProfile::from_container(&c).with_context(|| path.display().to_string())?;
    let Some((blob, rate)) = p.voice.and_then(|v| v.style_blob.map(|b| (b, v.speed))) else {
        return Ok(None);
    };
    let bytes = c
        .blob(&blob)
        .ok_or_else(|| anyhow!("{}: the style blob {blob} is missing", path.display()))?;
    Ok(Some((StylePack::from_bytes(bytes)?, rate)))
}

impl VoiceLoader {
    /// A loader whose models use `threads` inference threads.
    pub fn new(threads: usize) -> VoiceLoader {
        VoiceLoader {
            threads,
            kokoro: None,
            packs: None,
        }
    }

    fn kokoro(&mut self) -> Result<Arc<Mutex<Kokoro>>> {
        if let Some(k) = &self.kokoro {
            return Ok(k.clone());
        }
        context::init_onnx()?;
        let (model, vocab, _) = kokoro_files()?;
        let k = Arc::new(Mutex::new(Kokoro::load(&model, &vocab, self.threads)?));
        self.kokoro = Some(k.clone());
        Ok(k)
    }

    fn packs(&mut self) -> Result<&[(String, StylePack)]> {
        if self.packs.is_none() {
            self.packs = Some(stock_packs()?);
        }
        Ok(self.packs.as_deref().unwrap_or_default())
    }

    /// A synthesiser for a person's fitted pack and its speaking rate (already read from their
    /// profile).
    ///
    /// # Errors
    /// Kokoro loading errors.
    pub fn own_voice(&mut self, pack: StylePack, rate: f32) -> Result<Box<dyn Synthesizer>> {
        Ok(Box::new(KokoroVoice {
            model: self.kokoro()?,
            pack,
            rate,
        }))
    }

    /// Loads the voice `name`.
    ///
    /// # Errors
    /// An unknown name (listing what exists), a person without a fitted voice, model errors.
    pub fn load(&mut self, name: &str) -> Result<Loaded> {
        let cache = context::models();
        if ownvoice_models::catalog::find(name)
            .is_some_and(|s| s.kind == ownvoice_models::catalog::Kind::PiperVoice)
        {
            context::init_onnx()?;
            let model = cache
                .file(name, "voice.onnx")
                .with_context(|| format!("voice {name:?} (run `ownvoice models fetch {name}`)"))?;
            let cfg = cache.file(name, "voice.onnx.json")?;
            return Ok(Loaded {
                synth: Box::new(PiperVoice::load(&model, &cfg, self.threads)?),
                description: format!("Piper voice {name}"),
                person: None,
            });
        }
        let stock = if name == "kokoro" {
            let packs = self.packs()?;
            packs
                .iter()
                .find(|(n, _)| n == DEFAULT_STYLE)
                .or(packs.first())
                .cloned()
        } else {
            self.packs()
                .ok()
                .and_then(|p| p.iter().find(|(n, _)| n == name).cloned())
        };
        if let Some((pack_name, pack)) = stock {
            return Ok(Loaded {
                synth: Box::new(KokoroVoice {
                    model: self.kokoro()?,
                    pack,
                    rate: 1.0,
                }),
                description: format!("Kokoro stock style {pack_name}"),
                person: None,
            });
        }
        if crate::context::check_person_name(name).is_ok()
            && crate::context::profile_path(name)?.is_file()
        {
            let Some((pack, rate)) = person_pack(name)? else {
                bail!("{name} has no fitted voice yet: run `ownvoice voice train --person {name}`");
            };
            return Ok(Loaded {
                synth: self.own_voice(pack, rate)?,
                description: format!("{name}'s own voice (Kokoro, fitted)"),
                person: Some(name.to_string()),
            });
        }
        let stock: Vec<String> = self
            .packs()
            .map(|p| p.iter().map(|(n, _)| n.clone()).collect())
            .unwrap_or_default();
        bail!(
            "no voice {name:?}: use joe (Piper), kokoro or a Kokoro style ({}), or the name of a person with a fitted voice",
            stock.join(", ")
        )
    }
}
