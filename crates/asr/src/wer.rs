//! Word error rate (WER): word-level Levenshtein distance over the reference length, after a
//! simple normalisation (lower case, punctuation removed, apostrophes dropped, hyphens split,
//! numbers spelled out).

use crate::numbers::{cardinal, ordinal};

/// Normalises text into words for scoring: lower-cased; apostrophes removed (`I'm` → `im`);
/// thousands separators dropped (`1,000` → `1000`); every other non-alphanumeric character is a
/// word break; numbers spelled out (`300` → `three hundred`, `15th` → `fifteenth`), since
/// references spell numbers while Whisper often writes digits.
pub fn normalize(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut cleaned = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        let between_digits = |j: usize| {
            j > 0
                && chars[j - 1].is_ascii_digit()
                && chars.get(j + 1).is_some_and(char::is_ascii_digit)
        };
        if c == '\'' || c == '’' || (c == ',' && between_digits(i)) {
            continue;
        }
        if c.is_alphanumeric() {
            cleaned.extend(c.to_lowercase());
        } else {
            cleaned.push(' ');
        }
    }
    let mut words = Vec::new();
    for w in cleaned.split_whitespace() {
        let digits = w.chars().take_while(char::is_ascii_digit).count();
        let spelled = match (digits, w[digits..].as_ref()) {
            (0, _) => None,
            (d, "") if d <= 15 => w.parse().ok().map(cardinal),
            (d, "st" | "nd" | "rd" | "th") if d <= 15 => w[..d].parse().ok().map(ordinal),
            _ => None,
        };
        match spelled {
            Some(s) => words.extend(s.split(' ').map(str::to_string)),
            None => words.push(w.to_string()),
        }
    }
    words
}

/// Edit counts of one hypothesis against its reference.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WordErrors {
    /// Substitutions + deletions + insertions.
    pub errors: usize,
    /// Words in the normalised reference.
    pub reference_words: usize,
}

impl WordErrors {
    /// Scores `hypothesis` against `reference`.
    pub fn score(reference: &str, hypothesis: &str) -> WordErrors {
        let r = normalize(reference);
        let h = normalize(hypothesis);
        WordErrors {
            errors: edit_distance(&r, &h),
            reference_words: r.len(),
        }
    }

    /// The WER as a fraction (can exceed 1 with many insertions); 0 for an empty reference
    /// and hypothesis, 1 for an empty reference with a non-empty hypothesis.
    pub fn wer(&self) -> f64 {
        if self.reference_words == 0 {
            return if self.errors == 0 { 0.0 } else { 1.0 };
        }
        self.errors as f64 / self.reference_words as f64
    }
}

impl std::ops::Add for WordErrors {
    type Output = WordErrors;
    fn add(self, o: WordErrors) -> WordErrors {
        WordErrors {
            errors: self.errors + o.errors,
            reference_words: self.reference_words + o.reference_words,
        }
    }
}

impl std::iter::Sum for WordErrors {
    fn sum<I: Iterator<Item = WordErrors>>(iter: I) -> WordErrors {
        iter.fold(WordErrors::default(), |a, b| a + b)
    }
}

/// WER of one hypothesis against one reference, as a fraction.
pub fn wer(reference: &str, hypothesis: &str) -> f64 {
    WordErrors::score(reference, hypothesis).wer()
}

/// Words of `reference` that the hypothesis does not contain, in order (for "words missing: …").
pub fn missing_words(reference: &str, hypothesis: &str) -> Vec<String> {
    let h = normalize(hypothesis);
    normalize(reference)
        .into_iter()
        .filter(|w| !h.contains(w))
        .collect()
}

fn edit_distance(a: &[String], b: &[String]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, x) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, y) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(x != y);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation() {
        assert_eq!(
            normalize("Lord, but I'm glad to see you again, Phil."),
            ["lord", "but", "im", "glad", "to", "see", "you", "again", "phil"]
        );
        assert_eq!(normalize("twenty-one"), ["twenty", "one"]);
        assert_eq!(
            normalize("They were 300 yards apart."),
            ["they", "were", "three", "hundred", "yards", "apart"]
        );
        assert_eq!(
            normalize("the 15th century, 1,000 men"),
            ["the", "fifteenth", "century", "one", "thousand", "men"]
        );
    }

    #[test]
    fn counts_substitution_deletion_insertion() {
        assert_eq!(wer("a b c d", "a b c d"), 0.0);
        assert_eq!(wer("a b c d", "a x c d"), 0.25);
        assert_eq!(wer("a b c d", "a c d"), 0.25);
        assert_eq!(wer("a b c d", "a b c d e f"), 0.5);
        assert_eq!(wer("", ""), 0.0);
        assert_eq!(wer("", "hello"), 1.0);
    }

    #[test]
    fn case_and_punctuation_do_not_count() {
        assert_eq!(
            wer(
                "Ask not what your country can do.",
                "ask NOT what your country, can do"
            ),
            0.0
        );
    }

    #[test]
    fn missing_words_are_listed() {
        assert_eq!(missing_words("the cat sat", "the sat"), ["cat"]);
    }
}
