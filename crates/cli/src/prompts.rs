//! Prompt sets and challenge phrases for interactive enrollment.
//!
//! The default prompt set is `datasets/prompts/arctic.tsv` (CMU ARCTIC prompts ordered for
//! phoneme coverage, see that folder's README), compiled into the binary.

use std::path::Path;

use anyhow::{bail, Context, Result};
use rand::seq::SliceRandom;

/// The built-in prompt set (TSV: id, text, ...).
const ARCTIC: &str = include_str!("../../../datasets/prompts/arctic.tsv");
/// The built-in challenge word list (one word per line, `#` comments).
const CHALLENGE_WORDS: &str = include_str!("../../../datasets/prompts/challenge_words.txt");
/// Words per challenge phrase.
pub const CHALLENGE_LEN: usize = 4;

/// One sentence to read.
#[derive(Debug, Clone, PartialEq)]
pub struct Prompt {
    /// Stable id (ARCTIC id or file stem).
    pub id: String,
    /// The text.
    pub text: String,
}

/// The built-in prompt set, in coverage order.
pub fn builtin() -> Vec<Prompt> {
    parse(ARCTIC, Path::new("datasets/prompts/arctic.tsv")).expect("built-in prompt set is valid")
}

/// Reads a prompt set: a TSV with `id` and `text` columns, or a datasets `transcripts.tsv`
/// (`path`, `text`; the id is the file stem).
///
/// # Errors
/// Unreadable file, missing columns, or no prompts.
pub fn load(path: &Path) -> Result<Vec<Prompt>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read the prompt set", path.display()))?;
    parse(&text, path)
}

fn parse(text: &str, path: &Path) -> Result<Vec<Prompt>> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name);
    let Some(text_col) = col("text") else {
        bail!("{}: no `text` column in the header", path.display());
    };
    let (id_col, from_path) = match (col("id"), col("path")) {
        (Some(i), _) => (i, false),
        (None, Some(p)) => (p, true),
        _ => bail!("{}: needs an `id` or a `path` column", path.display()),
    };
    let mut out = Vec::new();
    for (n, line) in lines.enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        let (Some(id), Some(t)) = (cols.get(id_col), cols.get(text_col)) else {
            bail!("{}: line {} has too few columns", path.display(), n + 2);
        };
        let id = if from_path {
            Path::new(id)
                .file_stem()
                .map_or(id.to_string(), |s| s.to_string_lossy().into_owned())
        } else {
            id.to_string()
        };
        out.push(Prompt {
            id,
            text: t.trim().to_string(),
        });
    }
    if out.is_empty() {
        bail!("{}: the prompt set is empty", path.display());
    }
    Ok(out)
}

/// A fresh challenge phrase: [`CHALLENGE_LEN`] distinct words drawn at random (OS entropy).
pub fn challenge_phrase() -> String {
    let words: Vec<&str> = CHALLENGE_WORDS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let mut rng = rand::rngs::OsRng;
    words
        .choose_multiple(&mut rng, CHALLENGE_LEN)
        .copied()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_set_and_formats() {
        let b = builtin();
        assert_eq!(b.len(), 399);
        assert_eq!(b[0].id, "arctic_a0023");
        let t = parse(
            "path\tspeaker\ttext\nwav/c/arctic_a0001.wav\tc\tHello there.\n",
            Path::new("t.tsv"),
        )
        .unwrap();
        assert_eq!(t[0].id, "arctic_a0001");
        assert!(parse("foo\tbar\n", Path::new("x.tsv")).is_err());
    }

    #[test]
    fn challenge_phrases_are_random_distinct_words() {
        let a = challenge_phrase();
        let words: std::collections::HashSet<_> = a.split(' ').collect();
        assert_eq!(words.len(), CHALLENGE_LEN);
        // 46 choose 4 orderings: two draws agreeing would be a broken RNG.
        assert!((0..5).any(|_| challenge_phrase() != a));
    }
}
