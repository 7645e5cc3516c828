//! `ownvoice people list | show | report | share | export | import | delete`.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use ownvoice_enroll::PersonProfile;
use serde::Serialize;

use crate::{context, keys};

#[derive(Subcommand)]
pub enum PeopleCommand {
    /// List enrolled people (reads no secrets: no passphrase needed).
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show who can open a profile (read from its clear header: no key needed), then, when this
    /// device or a passphrase opens it, decrypt it, check all of it, and show its takes and
    /// quality figures.
    Show {
        name: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Only say who can open it; decrypt nothing.
        #[arg(long)]
        access_only: bool,
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
    /// Let another device open a profile, or stop letting one (re-encrypts it under a new key).
    ///
    /// RECIPIENT is a device's age1… recipient (`ownvoice device show` on that device), or the
    /// word `passphrase` (a new one: $OWNVOICE_NEW_PASSPHRASE or a prompt). --revoke takes a
    /// recipient, a device label, or `passphrase`. A profile keeps at least one way in.
    /// Revoking stops future copies from opening on that device; copies it already has are
    /// not recalled.
    Share {
        name: String,
        /// Recipient to add (repeatable).
        #[arg(long = "to", value_name = "RECIPIENT")]
        to: Vec<String>,
        /// Label for the devices added with --to (default: "device NNNN…").
        #[arg(long)]
        label: Option<String>,
        /// Recipient, label, or `passphrase` to remove (repeatable).
        #[arg(long = "revoke", value_name = "RECIPIENT")]
        revoke: Vec<String>,
    },
    /// Copy a profile, still encrypted, to FILE (a backup, or to carry to another device).
    Export {
        name: String,
        /// Output file (written atomically, mode 0600).
        #[arg(short, long)]
        output: std::path::PathBuf,
    },
    /// Add a profile file (from `people export`, a backup, or a sync folder) to this device's
    /// people. It is checked, and fully verified when this device or $OWNVOICE_PASSPHRASE
    /// opens it.
    Import {
        file: std::path::PathBuf,
        /// The person's name here (default: the file name without .age).
        #[arg(long = "as", value_name = "NAME")]
        name: Option<String>,
        /// Replace an existing profile of that name.
        #[arg(long)]
        force: bool,
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
    #[serde(flatten)]
    access: Option<AccessReport>,
}

#[derive(Serialize)]
struct ShowReport<'a> {
    profile: String,
    size_bytes: u64,
    #[serde(flatten)]
    access: AccessReport,
    verified: bool,
    #[serde(flatten)]
    contents: Option<Contents<'a>>,
}

#[derive(Serialize)]
struct Contents<'a> {
    accepted: usize,
    rejected: usize,
    accepted_seconds: f64,
    blobs: usize,
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
                        let access = ownvoice_vault::load_access(&p)
                            .ok()
                            .map(|a| access_report(&a));
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
                            access,
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
                        "{:<20} {:>8.1} MB  {:<40} {}",
                        i.name,
                        i.size_bytes as f64 / 1e6,
                        i.access
                            .as_ref()
                            .map_or("(unreadable header)".into(), AccessReport::summary),
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
        PeopleCommand::Show {
            name,
            json,
            access_only,
        } => show(&name, json, access_only)?,
        PeopleCommand::Share {
            name,
            to,
            label,
            revoke,
        } => crate::cmd_share::share(&name, &to, label.as_deref(), &revoke)?,
        PeopleCommand::Export { name, output } => crate::cmd_share::export(&name, &output)?,
        PeopleCommand::Import { file, name, force } => {
            crate::cmd_share::import(&file, name.as_deref(), force)?
        }
        PeopleCommand::Delete { name, yes } => {
            let path = existing_profile(&name)?;
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

/// The path of `name`'s existing profile.
///
/// # Errors
/// A bad name, or no such profile.
pub(crate) fn existing_profile(name: &str) -> Result<std::path::PathBuf> {
    let path = context::profile_path(name)?;
    if !path.exists() {
        bail!("no profile for {name:?} (expected {})", path.display());
    }
    Ok(path)
}

/// Decrypts `name`'s profile and checks every blob: (path, container, manifest).
fn open_verified(
    name: &str,
) -> Result<(std::path::PathBuf, ownvoice_vault::Container, PersonProfile)> {
    let path = existing_profile(name)?;
    let (c, _) = keys::open_profile(&path, name)?;
    let p = PersonProfile::from_container(&c).with_context(|| path.display().to_string())?;
    p.check_blobs(&c)
        .with_context(|| path.display().to_string())?;
    Ok((path, c, p))
}

/// Who can open a profile, as shown and as JSON (`passphrase`, `recipients`).
#[derive(Serialize)]
pub(crate) struct AccessReport {
    /// True when a passphrase opens it.
    passphrase: bool,
    /// The devices that open it.
    recipients: Vec<RecipientReport>,
}

#[derive(Serialize)]
struct RecipientReport {
    recipient: String,
    label: String,
}

impl AccessReport {
    /// "passphrase + 2 devices".
    fn summary(&self) -> String {
        let n = self.recipients.len();
        match (self.passphrase, n) {
            (true, 0) => "passphrase".into(),
            (true, _) => format!("passphrase + {n} device{}", if n == 1 { "" } else { "s" }),
            (false, _) => format!("{n} device{}", if n == 1 { "" } else { "s" }),
        }
    }

    /// One line per way in.
    pub(crate) fn print(&self) {
        println!(
            "opens with: passphrase {}",
            if self.passphrase { "yes" } else { "no" }
        );
        for r in &self.recipients {
            println!("            device {:<20} {}", r.label, r.recipient);
        }
    }
}

pub(crate) fn access_report(a: &ownvoice_vault::Access) -> AccessReport {
    AccessReport {
        passphrase: a.passphrase.is_some(),
        recipients: a
            .devices
            .iter()
            .map(|d| RecipientReport {
                recipient: d.recipient.to_string(),
                label: d.label.clone(),
            })
            .collect(),
    }
}

fn show(name: &str, json: bool, access_only: bool) -> Result<()> {
    let path = existing_profile(name)?;
    let access = ownvoice_vault::load_access(&path)?;
    let opened = if access_only {
        None
    } else {
        keys::try_open_profile(&path, name)?
    };
    let checked = match &opened {
        Some((c, _)) => {
            let p = PersonProfile::from_container(c).with_context(|| path.display().to_string())?;
            p.check_blobs(c)
                .with_context(|| path.display().to_string())?;
            Some(p)
        }
        None => None,
    };
    let contents = checked.as_ref().zip(opened.as_ref()).map(|(p, (c, _))| {
        let accepted = p.accepted().count();
        Contents {
            accepted,
            rejected: p.takes.len() - accepted,
            accepted_seconds: p.accepted_seconds(),
            blobs: c.blobs.len(),
            manifest: p,
        }
    });
    let report = ShowReport {
        profile: path.display().to_string(),
        size_bytes: std::fs::metadata(&path)?.len(),
        access: access_report(&access),
        verified: contents.is_some(),
        contents,
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!("{name} — {}", report.profile);
    report.access.print();
    let Some(c) = &report.contents else {
        println!(
            "(not decrypted: this device is not among its recipients and no passphrase was given)"
        );
        return Ok(());
    };
    let p = c.manifest;
    println!(
        "{} takes accepted ({:.1} min of speech), {} rejected; ASR check model {}; profile verified",
        c.accepted,
        c.accepted_seconds / 60.0,
        c.rejected,
        p.asr_model
    );
    match &p.speaker {
        Some(v) => println!(
            "voice print: {} takes, score {:.2} ± {:.2} against it",
            v.takes, v.score_mean, v.score_std
        ),
        None => println!("voice print: none yet"),
    }
    match &p.adaptation {
        Some(a) => println!(
            "adapted {}: held-back WER {:.2} % -> {:.2} %, {}",
            a.base_model,
            a.heldout_wer_before * 100.0,
            a.heldout_wer_after * 100.0,
            crate::adapt_gate::outcome(a)
        ),
        None => println!("adapted Whisper model: none (ownvoice adapt)"),
    }
    match &p.voice {
        Some(v) if v.style_blob.is_some() => println!(
            "fitted voice: similarity {:.3} to the voice print (best stock {} {:.3}), {} generations, speaking rate {:.2}",
            v.similarity, v.best_stock, v.best_stock_similarity, v.generations, v.speed
        ),
        Some(v) => println!(
            "fitted voice: unfinished, checkpoint after generation {} (run voice train to resume)",
            v.generations
        ),
        None => println!("fitted voice: none (ownvoice voice train)"),
    }
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
    Ok(())
}
