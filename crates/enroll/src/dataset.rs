//! Folders of takes: WAV files plus `transcripts.tsv` with a header line
//! `path<TAB>speaker<TAB>text` and one row per take (paths relative to the folder), the layout of
//! `shared/datasets` and of ownvoice's own `datasets/`.

use std::path::{Path, PathBuf};

/// One take listed in a dataset folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetTake {
    /// Absolute or folder-joined path of the WAV file.
    pub path: PathBuf,
    /// The path as written in `transcripts.tsv`.
    pub relative: String,
    /// Speaker id.
    pub speaker: String,
    /// What was read aloud.
    pub text: String,
}

/// Errors reading a dataset folder.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}: {detail}")]
    Format {
        path: PathBuf,
        line: usize,
        detail: String,
    },
}

/// Reads `dir/transcripts.tsv`.
///
/// # Errors
/// [`DatasetError::Io`] when the file is missing, [`DatasetError::Format`] for a bad header or
/// row (naming the line).
pub fn read_dataset(dir: &Path) -> Result<Vec<DatasetTake>, DatasetError> {
    let tsv = dir.join("transcripts.tsv");
    let text = std::fs::read_to_string(&tsv).map_err(|source| DatasetError::Io {
        path: tsv.clone(),
        source,
    })?;
    let mut lines = text.lines().enumerate();
    let header = lines.next().map(|(_, l)| l).unwrap_or_default();
    let cols: Vec<&str> = header.split('\t').collect();
    let col = |name: &str| cols.iter().position(|c| c.trim() == name);
    let (Some(pc), Some(sc), Some(tc)) = (col("path"), col("speaker"), col("text")) else {
        return Err(DatasetError::Format {
            path: tsv,
            line: 1,
            detail: "header must name the columns path, speaker and text (tab-separated)".into(),
        });
    };
    let mut out = Vec::new();
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        let get = |c: usize| f.get(c).map(|s| s.trim().to_string());
        let (Some(rel), Some(speaker), Some(text)) = (get(pc), get(sc), get(tc)) else {
            return Err(DatasetError::Format {
                path: tsv.clone(),
                line: i + 1,
                detail: format!("expected {} tab-separated columns", cols.len()),
            });
        };
        out.push(DatasetTake {
            path: dir.join(&rel),
            relative: rel,
            speaker,
            text,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rows_and_rejects_bad_header() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(
            d.path().join("transcripts.tsv"),
            "path\tspeaker\ttext\nwav/a.wav\tann\tHello there.\n\n",
        )
        .unwrap();
        let t = read_dataset(d.path()).unwrap();
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].path, d.path().join("wav/a.wav"));
        assert_eq!(t[0].text, "Hello there.");
        std::fs::write(d.path().join("transcripts.tsv"), "file\ttext\n").unwrap();
        assert!(matches!(
            read_dataset(d.path()),
            Err(DatasetError::Format { line: 1, .. })
        ));
    }
}
