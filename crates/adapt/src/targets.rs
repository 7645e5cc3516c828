//! Decoder targets for teacher forcing: the tokens Whisper emits for a training window, in one
//! of its two output formats (Radford et al. 2022, §2.3 and Figure 1):
//!
//! - without timestamps: `<|startoftranscript|> [<|en|> <|transcribe|>] <|notimestamps|>`
//!   ` text` `<|endoftext|>`;
//! - with timestamps: `<|startoftranscript|> [<|en|> <|transcribe|>]`, then for each utterance
//!   `<|start|>` ` text` `<|end|>`, then `<|endoftext|>`.
//!
//! whisper.cpp decodes with timestamps unless told otherwise, and `ownvoice transcribe`, the
//! service and dictation all use that default, so training in the timestamped format adapts
//! the decoding path the adapted model will actually run. Tokens in brackets are those of
//! multilingual models only.

use crate::pack::Window;
use crate::{SpecialTokens, TextTokenizer};

/// The decoder tokens for `window`: the prompt ([`SpecialTokens::prompt_for`]) first,
/// `<|endoftext|>` last; the loss covers the tokens after the prompt.
///
/// # Errors
/// A message from the tokenizer.
pub fn window_tokens(
    tokenizer: &TextTokenizer,
    special: &SpecialTokens,
    window: &Window,
    timestamps: bool,
) -> Result<Vec<u32>, String> {
    let mut tokens = special.prompt_for(timestamps);
    if timestamps {
        for s in &window.segments {
            tokens.push(special.timestamp(s.start_s));
            tokens.extend(tokenizer.encode(&s.text)?);
            tokens.push(special.timestamp(s.end_s));
        }
    } else {
        tokens.extend(tokenizer.encode(&window.text())?);
    }
    tokens.push(special.eot);
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_tokens_step_20_ms_and_saturate() {
        let en = SpecialTokens::for_vocab(51864);
        assert_eq!(en.timestamp(0.0), 50363);
        assert_eq!(en.timestamp(2.41), 50363 + 121);
        assert_eq!(en.timestamp(31.0), 50363 + 1500);
        assert_eq!(en.timestamp(-1.0), 50363);
        let multi = SpecialTokens::for_vocab(51865);
        assert_eq!(multi.timestamp(0.0), 50364);
        assert_eq!(multi.prompt_timestamped(), [50258, 50259, 50359]);
        assert_eq!(multi.prompt(), [50258, 50259, 50359, 50363]);
    }
}
