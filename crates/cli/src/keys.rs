//! The keys that open and seal profiles: this device's identity and passphrases.
//!
//! A profile opens with this device's identity when it is shared with this device (no
//! question asked, unless the identity itself is passphrase-protected), else with the
//! profile's passphrase.
//!
//! Environment (for scripts and tests; a terminal prompt otherwise):
//! `OWNVOICE_PASSPHRASE` (a profile's passphrase), `OWNVOICE_NEW_PASSPHRASE` (a passphrase being
//! added by `people share --to passphrase`), `OWNVOICE_DEVICE_PASSPHRASE` (a protected device
//! identity's), `OWNVOICE_IDENTITY` (the identity file; default `$OWNVOICE_HOME/device.key`).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use ownvoice_vault::identity::IdentityInfo;
use ownvoice_vault::{Access, Container, DeviceIdentity, Key, Passphrase, PassphraseSlot};
use zeroize::Zeroizing;

use crate::context;

/// This device's identity file: `$OWNVOICE_IDENTITY`, else `$OWNVOICE_HOME/device.key`.
pub fn identity_path() -> PathBuf {
    std::env::var_os("OWNVOICE_IDENTITY")
        .filter(|p| !p.is_empty())
        .map_or_else(|| context::home().join("device.key"), PathBuf::from)
}

/// What this device's identity file says, without unlocking it; `None` before `device init`.
///
/// # Errors
/// An unreadable or foreign identity file.
pub fn device_info() -> Result<Option<IdentityInfo>> {
    let path = identity_path();
    if !path.exists() {
        return Ok(None);
    }
    Ok(Some(DeviceIdentity::info(&path)?))
}

/// Loads this device's identity, asking for its passphrase when it is protected.
///
/// # Errors
/// No identity, a wrong passphrase, an unreadable file.
pub fn device_identity() -> Result<DeviceIdentity> {
    let path = identity_path();
    let Some(info) = device_info()? else {
        bail!(
            "this device has no identity yet ({}): run `ownvoice device init`",
            path.display()
        );
    };
    let pass = if info.protected {
        Some(secret(
            "OWNVOICE_DEVICE_PASSPHRASE",
            "this device's identity",
            false,
        )?)
    } else {
        None
    };
    Ok(DeviceIdentity::load(&path, pass.as_ref())?)
}

/// A secret from `var`, else asked on the terminal (twice when `confirm`).
///
/// # Errors
/// An empty value, no terminal, differing answers.
pub fn secret(var: &str, purpose: &str, confirm: bool) -> Result<Passphrase> {
    if let Ok(p) = std::env::var(var) {
        if p.is_empty() {
            bail!("{var} is set but empty");
        }
        return Ok(Passphrase::new(p));
    }
    if !std::io::stdin().is_terminal() {
        bail!("a passphrase is needed for {purpose}: set {var} or run in a terminal");
    }
    let p = Zeroizing::new(rpassword::prompt_password(format!(
        "Passphrase for {purpose}: "
    ))?);
    if p.is_empty() {
        bail!("empty passphrase");
    }
    if confirm && *Zeroizing::new(rpassword::prompt_password("Repeat the passphrase: ")?) != *p {
        bail!("the passphrases differ");
    }
    Ok(Passphrase::new(p.to_string()))
}

/// True when this device's identity is among those that open `access`.
pub fn device_can_open(access: &Access) -> Result<bool> {
    Ok(device_info()?.is_some_and(|i| access.devices.contains(&i.recipient)))
}

/// True when a passphrase can be had without a terminal or one is there to ask.
fn passphrase_at_hand() -> bool {
    std::env::var_os("OWNVOICE_PASSPHRASE").is_some() || std::io::stdin().is_terminal()
}

/// Opens the profile at `path`: with this device's identity if it is shared with this device,
/// else with the passphrase.
///
/// # Errors
/// No way in held here (naming who can open it), wrong passphrase, tampered, truncated, …
pub fn open_profile(path: &Path, person: &str) -> Result<(Container, Access)> {
    let access = ownvoice_vault::load_access(path)?;
    if device_can_open(&access)? {
        let id = device_identity()?;
        return Ok(ownvoice_vault::load(path, Key::Device(&id))?);
    }
    if access.passphrase.is_none() || !passphrase_at_hand() {
        let here = device_info()?.map_or("this device has no identity".to_string(), |i| {
            format!(
                "this device is {} ({})",
                i.recipient.label, i.recipient.recipient
            )
        });
        bail!(
            "{}: {person}'s profile is not shared with this device ({here}); it opens with {}{}",
            path.display(),
            ownvoice_vault::envelope::describe(&access),
            if access.passphrase.is_some() {
                " (set OWNVOICE_PASSPHRASE or run in a terminal)"
            } else {
                ""
            }
        );
    }
    let pass = context::passphrase(&format!("{person}'s profile"), false)?;
    Ok(ownvoice_vault::load(path, Key::Passphrase(&pass))?)
}

/// Like [`open_profile`], but `None` instead of asking when no key is at hand (no matching device
/// identity, no `OWNVOICE_PASSPHRASE`, no terminal).
///
/// # Errors
/// As [`open_profile`] once a key is tried.
pub fn try_open_profile(path: &Path, person: &str) -> Result<Option<(Container, Access)>> {
    let access = ownvoice_vault::load_access(path)?;
    if device_can_open(&access)? || (access.passphrase.is_some() && passphrase_at_hand()) {
        return open_profile(path, person).map(Some);
    }
    Ok(None)
}

/// Who may open a new profile: this device (when it has an identity) and a passphrase (asked
/// twice; with a device identity an empty answer at the terminal means none).
///
/// # Errors
/// No device identity and no passphrase to be had.
pub fn new_access(person: &str) -> Result<Access> {
    let mut access = Access::default();
    if let Some(info) = device_info()? {
        access
            .add_device(info.recipient)
            .map_err(anyhow::Error::msg)?;
        let from_env = std::env::var_os("OWNVOICE_PASSPHRASE").is_some();
        if from_env {
            let p = context::passphrase(&format!("{person}'s new profile"), true)?;
            access.passphrase = Some(PassphraseSlot::new(&p)?);
        } else if std::io::stdin().is_terminal() {
            let p = Zeroizing::new(rpassword::prompt_password(format!(
                "Passphrase for {person}'s new profile (to open it on other devices and from backups; empty: this device only): "
            ))?);
            if !p.is_empty() {
                let again = Zeroizing::new(rpassword::prompt_password("Repeat the passphrase: ")?);
                if *again != *p {
                    bail!("the passphrases differ");
                }
                access.passphrase = Some(PassphraseSlot::new(&Passphrase::new(p.to_string()))?);
            }
        }
    } else {
        let p = context::passphrase(&format!("{person}'s new profile"), true)?;
        access.passphrase = Some(PassphraseSlot::new(&p)?);
    }
    Ok(access)
}
