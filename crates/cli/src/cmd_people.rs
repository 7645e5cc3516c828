//! `ownvoice people list | show NAME | delete NAME`.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use ownvoice_enroll::PersonProfile;
use serde::Serialize;

use crate::context;

#[derive(Subcommand)]
pub enum PeopleCommand {
    /// List enrolled people (reads no secrets: no passphrase needed).
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Decrypt a profile, check all of it, and show its takes and quality figures.
    Show {
        name: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write an enrollment report: one self-contained HTML page with every take's waveform and
    /// level plot, the quality table and totals.
    ///
    /// The page holds what the person read and the quality figures, not their audio; it is
    /// written unencrypted where you ask, so keep it somewhere private.
    Report {
        name: String,
        /// Output HTML file (written atomically).
        #[arg(short, long)]
        output: std::path::PathBuf,
    },
    /// Delete a person's profile (asks first; --yes to skip the question).
    Delete {
        name: String,
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Serialize)]
struct ListItem {
    name: String,
    profile: String,
    size_bytes: u64,
    modified_at: u64,
}

#[derive(Serialize)]
struct ShowReport<'a> {
    profile: String,
    size_bytes: u64,
    accepted: usize,
    rejected: usize,
    accepted_seconds: f64,
    blobs: usize,
    verified: bool,
    #[serde(flatten)]
    manifest: &'a PersonProfile,
}

pub fn run(cmd: PeopleCommand) -> Result<ExitCode> {
    match cmd {
        PeopleCommand::List { json } => {
            let dir = context::people_dir();
            let mut items = Vec::new();
            if dir.is_dir() {
                for e in std::fs::read_dir(&dir).with_context(|| dir.display().to_string())? {
                    let p = e?.path();
                    if p.extension().is_some_and(|x| x == "age") {
                        let m = std::fs::metadata(&p)?;
                        items.push(ListItem {
                            name: p
                                .file_stem()
                                .unwrap_or_default()
                                .to_string_lossy()
                                .into_owned(),
                            profile: p.display().to_string(),
                            size_bytes: m.len(),
                            modified_at: m
                                .modified()
                                .ok()
                                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                                .map_or(0, |d| d.as_secs()),
                        });
                    }
                }
            }
            items.sort_by(|a, b| a.name.cmp(&b.name));
            if json {
                println!("{}", serde_json::to_string_pretty(&items)?);
            } else if items.is_empty() {
                println!(
                    "nobody is enrolled yet (profiles live in {})",
                    dir.display()
                );
            } else {
                for i in items {
                    println!(
                        "{:<20} {:>8.1} MB  {}",
                        i.name,
                        i.size_bytes as f64 / 1e6,
                        i.profile
                    );
                }
            }
        }
        PeopleCommand::Report { name, output } => {
            let (_, _, p) = open_verified(&name)?;
            let html = ownvoice_enroll::report::render_html(&p);
            ownvoice_audio::write::write_atomic(&output, html.as_bytes())
                .with_context(|| format!("{}: cannot write", output.display()))?;
            println!(
                "{}: report of {} takes ({} accepted)",
                output.display(),
                p.takes.len(),
                p.accepted().count()
            );
        }
        PeopleCommand::Show { name, json } => {
            let (path, c, p) = open_verified(&name)?;
            let accepted = p.accepted().count();
            let report = ShowReport {
                profile: path.display().to_string(),
                size_bytes: std::fs::metadata(&path)?.len(),
                accepted,
                rejected: p.takes.len() - accepted,
                accepted_seconds: p.accepted_seconds(),
                blobs: c.blobs.len(),
                verified: true,
                manifest: &p,
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!("{} — {}", p.person, report.profile);
                println!(
                    "{} takes accepted ({:.1} min of speech), {} rejected; ASR check model {}; profile verified",
                    accepted,
                    report.accepted_seconds / 60.0,
                    report.rejected,
                    p.asr_model
                );
                println!(
                    "{:<6} {:>6} {:>8} {:>8} {:>7} {:>6}  {:<8} text",
                    "take", "secs", "peak dB", "rms dB", "speech", "WER", "verdict"
                );
                for t in &p.takes {
                    let q = &t.quality;
                    let db = |x: Option<f32>| x.map_or("-inf".to_string(), |v| format!("{v:.1}"));
                    println!(
                        "{:<6} {:>6.2} {:>8} {:>8} {:>6.0}% {:>5.0}%  {:<8} {}",
                        t.id,
                        q.duration_s,
                        db(q.peak_dbfs),
                        db(q.rms_dbfs),
                        q.speech_ratio * 100.0,
                        q.wer * 100.0,
                        if q.accepted { "ok" } else { "rejected" },
                        if q.accepted {
                            t.text.clone()
                        } else {
                            q.reasons.join("; ")
                        }
                    );
                }
            }
        }
        PeopleCommand::Delete { name, yes } => {
            let path = context::profile_path(&name)?;
            if !path.exists() {
                bail!("no profile for {name:?} (expected {})", path.display());
            }
            if !yes {
                if !std::io::stdin().is_terminal() {
                    bail!("refusing to delete {} without --yes", path.display());
                }
                eprint!(
                    "Delete {}'s profile {} for good? [y/N] ",
                    name,
                    path.display()
                );
                let mut answer = String::new();
                std::io::stdin().read_line(&mut answer)?;
                if !matches!(answer.trim(), "y" | "Y" | "yes") {
                    eprintln!("kept");
                    return Ok(ExitCode::FAILURE);
                }
            }
            std::fs::remove_file(&path).with_context(|| path.display().to_string())?;
            eprintln!("deleted {}", path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Decrypts `name`'s profile and checks every blob: (path, container, manifest).
fn open_verified(
    name: &str,
) -> Result<(std::path::PathBuf, ownvoice_vault::Container, PersonProfile)> {
    let path = context::profile_path(name)?;
    if !path.exists() {
        bail!("no profile for {name:?} (expected {})", path.display());
    }
    let pass = context::passphrase(&format!("{name}'s profile"), false)?;
    let c = ownvoice_vault::load(&path, &pass)?;
    let p = PersonProfile::from_container(&c).with_context(|| path.display().to_string())?;
    p.check_blobs(&c)
        .with_context(|| path.display().to_string())?;
    Ok((path, c, p))
}
