//! Kokoro-82M (v1.0, int8 ONNX, 24 kHz): English text → espeak-ng IPA → Kokoro's phoneme symbols
//! → audio, in a voice given by a style pack.
//!
//! Model signature (`ort` 2.0 on the int8 export): `tokens` i64 `[1, T]` — the phoneme ids
//! wrapped in the pad id 0 — `style` f32 `[1, 256]` and `speed` f32 `[1]`; output `audio` f32
//! `[N]` at 24 kHz. A style pack is f32 `[510, 1, 256]`: one style vector per phoneme count, and
//! an utterance of `n` phonemes uses row `min(n, 510) − 1` (kokoro 0.9.4 `KPipeline`,
//! kokoro-onnx 0.6.1).
//!
//! English phonemes: espeak-ng IPA with `^` ties, then misaki 0.9.4's `EspeakFallback` rules for
//! American English (`misaki/espeak.py`, lines 14–60): the E2M replacement table, syllabic
//! consonants, `o^ʊ → O`, length marks dropped, `ɾ → T`, `ʔ → t`, ties removed. Kokoro's own
//! pipeline looks words up in misaki's dictionaries first and uses these rules for the rest; here
//! every word takes the espeak-ng path.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use ort::session::Session;
use ort::value::Tensor;

use crate::phonemize::phonemize_with;
use crate::TtsError;

/// Output sample rate, Hz.
pub const SAMPLE_RATE: u32 = 24_000;
/// Length of a style vector.
pub const STYLE_DIM: usize = 256;
/// Rows of a style pack (one per phoneme count, 1..=510).
pub const PACK_ROWS: usize = 510;
/// Most phonemes in one inference (the model's 512-token context less the two pads).
pub const MAX_PHONEMES: usize = 510;

/// espeak-ng phoneme mode: IPA (0x02), ties on (0x80), `^` as the tie character (bits 8..23).
const PHONEMES_IPA_CARET_TIE: i32 = 0x02 | 0x80 | ((b'^' as i32) << 8);

/// misaki's E2M table (`misaki/espeak.py` l.14–29), in the order it applies it: longest key
/// first, ties in table order.
const E2M: &[(&str, &str)] = &[
    ("ʔˌn\u{329}", "ʔn"),
    ("ʔn\u{329}", "ʔn"),
    ("a^ɪ", "I"),
    ("a^ʊ", "W"),
    ("d^ʒ", "ʤ"),
    ("e^ɪ", "A"),
    ("t^ʃ", "ʧ"),
    ("ɔ^ɪ", "Y"),
    ("ə^l", "ᵊl"),
    ("ʲo", "jo"),
    ("ʲə", "jə"),
    ("e", "A"),
    ("ʲ", ""),
    ("ɚ", "əɹ"),
    ("r", "ɹ"),
    ("x", "k"),
    ("ç", "k"),
    ("ɐ", "ə"),
    ("ɬ", "l"),
    ("\u{303}", ""),
];

/// espeak-ng IPA (with `^` ties) → Kokoro's American English symbols, following misaki's
/// `EspeakFallback(british=False)` step by step.
pub fn misaki_us(espeak: &str) -> String {
    let mut s = espeak.trim().to_string();
    for (from, to) in E2M {
        s = s.replace(from, to);
    }
    // Syllabic consonants: "X\u{329}" → "ᵊX" (l.46).
    let mut out = String::with_capacity(s.len());
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if i + 1 < chars.len() && chars[i + 1] == '\u{329}' && !chars[i].is_whitespace() {
            out.push('ᵊ');
            out.push(chars[i]);
            i += 2;
        } else {
            if chars[i] != '\u{329}' {
                out.push(chars[i]);
            }
            i += 1;
        }
    }
    let mut s = out;
    for (from, to) in [
        ("o^ʊ", "O"),
        ("ɜːɹ", "ɜɹ"),
        ("ɜː", "ɜɹ"),
        ("ɪə", "iə"),
        ("ː", ""),
    ] {
        s = s.replace(from, to);
    }
    s.replace('o', "ɔ")
        .replace('ɾ', "T")
        .replace('ʔ', "t")
        .replace('^', "")
}

/// A style pack: `[510, 256]` style vectors (the `[510, 1, 256]` file layout without the unit
/// axis).
#[derive(Debug, Clone, PartialEq)]
pub struct StylePack {
    /// Row-major `[PACK_ROWS, STYLE_DIM]`.
    pub rows: Vec<f32>,
}

impl StylePack {
    /// A pack from `[510 × 256]` values.
    ///
    /// # Errors
    /// [`TtsError::Config`] for another length or a non-finite value.
    pub fn new(rows: Vec<f32>) -> Result<StylePack, TtsError> {
        if rows.len() != PACK_ROWS * STYLE_DIM || rows.iter().any(|x| !x.is_finite()) {
            return Err(TtsError::Config {
                path: "style pack".into(),
                detail: format!(
                    "expected {} finite values ([510, 256]), got {}",
                    PACK_ROWS * STYLE_DIM,
                    rows.len()
                ),
            });
        }
        Ok(StylePack { rows })
    }

    /// The style vector for an utterance of `n_phonemes` (row `min(n, 510) − 1`).
    pub fn row(&self, n_phonemes: usize) -> &[f32] {
        let r = n_phonemes.clamp(1, PACK_ROWS) - 1;
        &self.rows[r * STYLE_DIM..(r + 1) * STYLE_DIM]
    }

    /// Little-endian f32 bytes (for storing in a profile).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.rows.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    /// Reads [`StylePack::to_bytes`] output.
    ///
    /// # Errors
    /// As [`StylePack::new`].
    pub fn from_bytes(bytes: &[u8]) -> Result<StylePack, TtsError> {
        StylePack::new(
            bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
        )
    }
}

/// Reads the stock style packs from `voices.npz` (entries `NAME.npy`, f32 `[510, 1, 256]`), in
/// file order.
///
/// # Errors
/// [`TtsError::Config`] naming the file and the entry at fault.
pub fn read_packs(npz: &Path) -> Result<Vec<(String, StylePack)>, TtsError> {
    let err = |detail: String| TtsError::Config {
        path: npz.display().to_string(),
        detail,
    };
    let file = std::fs::File::open(npz).map_err(|e| err(e.to_string()))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| err(e.to_string()))?;
    let mut packs = Vec::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| err(e.to_string()))?;
        let name = entry.name().trim_end_matches(".npy").to_string();
        let mut bytes = Vec::new();
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| err(format!("{name}: {e}")))?;
        let arr: ndarray::Array3<f32> = ndarray_npy::ReadNpyExt::read_npy(&bytes[..])
            .map_err(|e| err(format!("{name}: {e}")))?;
        if arr.shape() != [PACK_ROWS, 1, STYLE_DIM] {
            return Err(err(format!(
                "{name}: shape {:?}, expected [510, 1, 256]",
                arr.shape()
            )));
        }
        let rows = arr.iter().copied().collect();
        packs.push((name, StylePack::new(rows).map_err(|e| err(e.to_string()))?));
    }
    Ok(packs)
}

#[derive(serde::Deserialize)]
struct VocabFile {
    vocab: HashMap<String, i64>,
}

/// The Kokoro model and its phoneme vocabulary.
pub struct Kokoro {
    session: Session,
    vocab: HashMap<char, i64>,
}

impl Kokoro {
    /// Loads `kokoro.onnx` and `vocab.json` (`{"vocab": {symbol: id}}`).
    ///
    /// # Errors
    /// [`TtsError::Config`] for the vocabulary, [`TtsError::Onnx`] for the model.
    pub fn load(model: &Path, vocab: &Path, threads: usize) -> Result<Kokoro, TtsError> {
        let err = |detail: String| TtsError::Config {
            path: vocab.display().to_string(),
            detail,
        };
        let text = std::fs::read_to_string(vocab).map_err(|e| err(e.to_string()))?;
        let v: VocabFile = serde_json::from_str(&text).map_err(|e| err(e.to_string()))?;
        let mut map = HashMap::new();
        for (k, id) in v.vocab {
            let mut c = k.chars();
            if let (Some(ch), None) = (c.next(), c.next()) {
                map.insert(ch, id);
            }
        }
        if map.is_empty() {
            return Err(err("empty vocabulary".into()));
        }
        Ok(Kokoro {
            session: ownvoice_onnx::session_from_file(model, threads)?,
            vocab: map,
        })
    }

    /// Phonemises English `text` into Kokoro symbol strings, one per sentence (sentences over
    /// [`MAX_PHONEMES`] are split at word boundaries).
    ///
    /// # Errors
    /// [`TtsError::Espeak`].
    pub fn sentences(&self, text: &str) -> Result<Vec<String>, TtsError> {
        let mut out = Vec::new();
        for s in phonemize_with(text, "en-us", PHONEMES_IPA_CARET_TIE)? {
            let ph = misaki_us(&s);
            if ph.chars().count() <= MAX_PHONEMES {
                out.push(ph);
                continue;
            }
            let mut cur = String::new();
            for word in ph.split(' ') {
                if cur.chars().count() + word.chars().count() + 1 > MAX_PHONEMES && !cur.is_empty()
                {
                    out.push(std::mem::take(&mut cur));
                }
                if !cur.is_empty() {
                    cur.push(' ');
                }
                cur.extend(word.chars().take(MAX_PHONEMES));
            }
            if !cur.is_empty() {
                out.push(cur);
            }
        }
        Ok(out)
    }

    /// Phoneme ids of a symbol string; symbols outside the vocabulary are skipped.
    pub fn ids(&self, phonemes: &str) -> Vec<i64> {
        phonemes
            .chars()
            .filter_map(|c| self.vocab.get(&c).copied())
            .take(MAX_PHONEMES)
            .collect()
    }

    /// Symbols of `phonemes` that are not in the vocabulary.
    pub fn unknown(&self, phonemes: &str) -> Vec<char> {
        phonemes
            .chars()
            .filter(|c| !self.vocab.contains_key(c))
            .collect()
    }

    /// Synthesises one phoneme string with the style vector `style` (256 values) at `speed`
    /// (1.0 normal): samples at 24 kHz.
    ///
    /// # Errors
    /// [`TtsError::EmptyText`] when no symbol is known; [`TtsError::Onnx`].
    pub fn synthesize_style(
        &mut self,
        phonemes: &str,
        style: &[f32],
        speed: f32,
    ) -> Result<Vec<f32>, TtsError> {
        let ids = self.ids(phonemes);
        if ids.is_empty() {
            return Err(TtsError::EmptyText);
        }
        let mut tokens = Vec::with_capacity(ids.len() + 2);
        tokens.push(0);
        tokens.extend(&ids);
        tokens.push(0);
        let n = tokens.len();
        let style = style.to_vec();
        let run = |s: &mut Session| -> Result<Vec<f32>, ort::Error> {
            let outputs = s.run(ort::inputs![
                "tokens" => Tensor::from_array(([1usize, n], tokens.clone()))?,
                "style" => Tensor::from_array(([1usize, STYLE_DIM], style.clone()))?,
                "speed" => Tensor::from_array(([1usize], vec![speed]))?,
            ])?;
            let (_, audio) = outputs["audio"].try_extract_tensor::<f32>()?;
            Ok(audio.iter().map(|x| x.clamp(-1.0, 1.0)).collect())
        };
        run(&mut self.session).map_err(|e| TtsError::Onnx(e.into()))
    }

    /// Synthesises one phoneme string with a style pack (the row for its length).
    ///
    /// # Errors
    /// As [`Kokoro::synthesize_style`].
    pub fn synthesize_pack(
        &mut self,
        phonemes: &str,
        pack: &StylePack,
        speed: f32,
    ) -> Result<Vec<f32>, TtsError> {
        let n = self.ids(phonemes).len();
        self.synthesize_style(phonemes, pack.row(n), speed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misaki_rules_on_espeak_output() {
        // espeak-ng 1.51 `--ipa --tie=^ -v en-us` of "Hello world, this is a test." and what
        // misaki 0.9.4 makes of it (checked against misaki's own EspeakFallback).
        assert_eq!(misaki_us("həlˈo^ʊ wˈɜːld,"), "həlˈO wˈɜɹld,");
        assert_eq!(misaki_us("ðɪs ɪz ɐ tˈɛst."), "ðɪs ɪz ə tˈɛst.");
        assert_eq!(misaki_us("mˈa^ɪ d^ʒˈɑːb"), "mˈI ʤˈɑb");
        assert_eq!(misaki_us("bˈʌɾɚ"), "bˈʌTəɹ");
        assert_eq!(misaki_us("bˈʌʔn\u{329}"), "bˈʌtn");
    }

    #[test]
    fn pack_rows_follow_phoneme_count() {
        let rows: Vec<f32> = (0..PACK_ROWS * STYLE_DIM)
            .map(|i| (i / STYLE_DIM) as f32)
            .collect();
        let p = StylePack::new(rows).unwrap();
        assert_eq!(p.row(1)[0], 0.0);
        assert_eq!(p.row(29)[0], 28.0);
        assert_eq!(p.row(9999)[0], 509.0);
        assert_eq!(StylePack::from_bytes(&p.to_bytes()).unwrap(), p);
        assert!(StylePack::new(vec![0.0; 10]).is_err());
    }
}
