//! English text → IPA phonemes with espeak-ng.
//!
//! espeak-ng's `espeak_TextToPhonemes` returns one clause per call and drops the punctuation that
//! ended it. Piper voices were trained on phoneme strings that keep `, . ! ? ; :` (piper-phonemize
//! uses espeak-ng's clause terminator), so the text is split at those marks here, each piece is
//! phonemised, and the mark is put back. espeak-ng keeps global state, so calls are serialised.
//!
//! espeak-ng is GPL-3.0-or-later; linking it is why ownvoice is GPL-3.0-or-later.

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::sync::Mutex;

use crate::TtsError;

#[link(name = "espeak-ng")]
extern "C" {
    fn espeak_Initialize(
        output: c_int,
        buflength: c_int,
        path: *const c_char,
        options: c_int,
    ) -> c_int;
    fn espeak_SetVoiceByName(name: *const c_char) -> c_int;
    fn espeak_TextToPhonemes(
        textptr: *mut *const c_void,
        textmode: c_int,
        phonememode: c_int,
    ) -> *const c_char;
}

/// `AUDIO_OUTPUT_SYNCHRONOUS`: no audio device is opened.
const AUDIO_OUTPUT_SYNCHRONOUS: c_int = 2;
/// `espeakCHARS_UTF8`.
const CHARS_UTF8: c_int = 1;
/// `espeakPHONEMES_IPA`: IPA characters, no ties.
const PHONEMES_IPA: c_int = 0x02;
/// `espeakPHONEMES_TIE` plus U+0361 (COMBINING DOUBLE INVERTED BREVE) as the tie (bits 8..23).
pub const PHONEMES_IPA_TIE: c_int = 0x02 | 0x80 | (0x0361 << 8);

struct Espeak {
    voice: Option<String>,
}

static ESPEAK: Mutex<Option<Espeak>> = Mutex::new(None);

/// Marks that end a clause and are kept in the phoneme string.
const CLAUSE_MARKS: [char; 6] = ['.', ',', '!', '?', ';', ':'];
/// Marks that end a sentence.
const SENTENCE_MARKS: [char; 3] = ['.', '!', '?'];

/// Phonemises `text` with the espeak-ng voice `voice` (e.g. `en-us`), returning one IPA string
/// per sentence, with clause punctuation kept (e.g. `"həlˈoʊ, wˈɜːld."`).
///
/// `phoneme_mode` is espeak-ng's `phonememode` argument; use [`ipa`] for Piper voices.
///
/// # Errors
/// [`TtsError::Espeak`] when espeak-ng cannot start or does not know the voice.
pub fn phonemize_with(
    text: &str,
    voice: &str,
    phoneme_mode: c_int,
) -> Result<Vec<String>, TtsError> {
    let mut guard = ESPEAK.lock().unwrap_or_else(|p| p.into_inner());
    if guard.is_none() {
        // SAFETY: no pointers are retained by espeak-ng; a null path means the built-in data dir.
        let rate = unsafe { espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, std::ptr::null(), 0) };
        if rate <= 0 {
            return Err(TtsError::Espeak(
                "cannot initialise (is the espeak-ng-data package installed?)".into(),
            ));
        }
        *guard = Some(Espeak { voice: None });
    }
    let state = guard.as_mut().expect("initialised above");
    if state.voice.as_deref() != Some(voice) {
        let c_voice =
            CString::new(voice).map_err(|_| TtsError::Espeak("voice name has a NUL".into()))?;
        // SAFETY: c_voice outlives the call.
        if unsafe { espeak_SetVoiceByName(c_voice.as_ptr()) } != 0 {
            return Err(TtsError::Espeak(format!("unknown voice {voice:?}")));
        }
        state.voice = Some(voice.to_string());
    }

    let mut sentences = Vec::new();
    let mut current = String::new();
    for (piece, mark) in split_clauses(text) {
        let ph = clause_phonemes(&piece, phoneme_mode)?;
        if !ph.is_empty() {
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(&ph);
        }
        if let Some(m) = mark {
            if !current.is_empty() {
                current.push(m);
            }
            if SENTENCE_MARKS.contains(&m) && !current.is_empty() {
                sentences.push(std::mem::take(&mut current));
            }
        }
    }
    if !current.trim().is_empty() {
        sentences.push(current);
    }
    Ok(sentences)
}

/// [`phonemize_with`] in plain IPA, as Piper voices expect.
///
/// # Errors
/// As [`phonemize_with`].
pub fn ipa(text: &str, voice: &str) -> Result<Vec<String>, TtsError> {
    phonemize_with(text, voice, PHONEMES_IPA)
}

/// Splits text at clause marks: `[(piece, Some(mark)), …, (tail, None)]`. A mark counts only when
/// followed by whitespace or the end, so `3.5` and `e.g` stay whole.
fn split_clauses(text: &str) -> Vec<(String, Option<char>)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut piece = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let at_break = chars.get(i + 1).is_none_or(|n| n.is_whitespace());
        if CLAUSE_MARKS.contains(&c) && at_break {
            out.push((std::mem::take(&mut piece), Some(c)));
        } else {
            piece.push(c);
        }
    }
    if !piece.trim().is_empty() {
        out.push((piece, None));
    }
    out
}

/// Phonemises one clause (espeak-ng may still split it; the parts are joined with spaces).
fn clause_phonemes(piece: &str, mode: c_int) -> Result<String, TtsError> {
    let piece = piece.trim();
    if piece.is_empty() {
        return Ok(String::new());
    }
    let c_text = CString::new(piece).map_err(|_| TtsError::Espeak("text has a NUL byte".into()))?;
    let mut ptr: *const c_void = c_text.as_ptr().cast();
    let mut parts = Vec::new();
    while !ptr.is_null() {
        // SAFETY: ptr points into c_text, which outlives the loop; espeak-ng advances it and sets
        // it to null at the end. The returned buffer is copied before the next call.
        let out = unsafe { espeak_TextToPhonemes(&mut ptr, CHARS_UTF8, mode) };
        if out.is_null() {
            break;
        }
        let s = unsafe { CStr::from_ptr(out) }
            .to_string_lossy()
            .trim()
            .to_string();
        if !s.is_empty() {
            parts.push(s);
        }
    }
    Ok(parts.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitting_keeps_marks() {
        let s = split_clauses("Hello, world. It costs 3.5 dollars");
        assert_eq!(s[0], ("Hello".into(), Some(',')));
        assert_eq!(s[1], (" world".into(), Some('.')));
        assert_eq!(s[2], (" It costs 3.5 dollars".into(), None));
    }

    #[test]
    fn english_ipa_keeps_punctuation_and_sentences() {
        let s = ipa("Hello, world. How are you?", "en-us").unwrap();
        assert_eq!(s.len(), 2, "{s:?}");
        assert!(s[0].starts_with("həlˈoʊ,"), "{s:?}");
        assert!(s[0].ends_with('.'), "{s:?}");
        assert!(s[1].ends_with('?'), "{s:?}");
    }
}
