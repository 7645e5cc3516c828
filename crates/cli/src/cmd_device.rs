//! `ownvoice device init | show`: this device's identity, the key that opens profiles shared
//! with it.

use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::Subcommand;
use ownvoice_vault::DeviceIdentity;
use serde::Serialize;

use crate::keys;

#[derive(Subcommand)]
pub enum DeviceCommand {
    /// Create this device's identity: an X25519 key (age) that opens profiles shared with this
    /// device, written to $OWNVOICE_HOME/device.key (or $OWNVOICE_IDENTITY) with mode 0600.
    ///
    /// Prints the device's recipient (age1…): give it to `ownvoice people share NAME --to` on
    /// a device that already opens the profile. Profiles enrolled on this device afterwards open
    /// here without a passphrase.
    Init {
        /// A name for this device, shown in `people show` (default: the host name).
        #[arg(long)]
        label: Option<String>,
        /// Protect the key with a passphrase ($OWNVOICE_DEVICE_PASSPHRASE or a prompt), asked
        /// whenever the key is used.
        #[arg(long)]
        protect: bool,
        /// Replace an existing identity. Profiles shared only with the old one can no longer
        /// be opened here.
        #[arg(long)]
        force: bool,
    },
    /// Show this device's recipient and label (reads no secret).
    Show {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Serialize)]
struct DeviceReport {
    identity: String,
    recipient: String,
    label: String,
    protected: bool,
}

pub fn run(cmd: DeviceCommand) -> Result<ExitCode> {
    let path = keys::identity_path();
    match cmd {
        DeviceCommand::Init {
            label,
            protect,
            force,
        } => {
            if path.exists() && !force {
                bail!(
                    "{} already holds this device's identity (`ownvoice device show`); --force replaces it",
                    path.display()
                );
            }
            let label = label.unwrap_or_else(hostname);
            let id = DeviceIdentity::generate(&label).map_err(anyhow::Error::msg)?;
            let pass = if protect {
                Some(keys::secret(
                    "OWNVOICE_DEVICE_PASSPHRASE",
                    "this device's identity",
                    true,
                )?)
            } else {
                None
            };
            id.save(&path, pass.as_ref())?;
            eprintln!(
                "created {} ({}{})",
                path.display(),
                label,
                if protect {
                    ", passphrase-protected"
                } else {
                    ""
                }
            );
            println!("{}", id.recipient().recipient);
        }
        DeviceCommand::Show { json } => {
            let Some(info) = keys::device_info()? else {
                bail!(
                    "this device has no identity yet ({}): run `ownvoice device init`",
                    path.display()
                );
            };
            let report = DeviceReport {
                identity: path.display().to_string(),
                recipient: info.recipient.recipient.to_string(),
                label: info.recipient.label.clone(),
                protected: info.protected,
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!("{}", report.recipient);
                eprintln!(
                    "label {:?}, key {}{}",
                    report.label,
                    report.identity,
                    if report.protected {
                        " (passphrase-protected)"
                    } else {
                        ""
                    }
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The host name, or "this device".
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "this device".into())
}
