//! `ownvoice people share | export | import`: who can open a profile, and moving it between
//! devices, always encrypted.

use std::path::Path;

use anyhow::{bail, Context, Result};
use ownvoice_vault::{DeviceRecipient, PassphraseSlot};

use crate::cmd_people::{access_report, existing_profile};
use crate::{context, keys};

/// Adds the recipients `to` and removes `revoke` from `name`'s profile, then re-encrypts it.
///
/// # Errors
/// Nothing to do, a bad recipient, a revocation that matches nothing or would leave no way in,
/// or the profile cannot be opened here.
pub fn share(name: &str, to: &[String], label: Option<&str>, revoke: &[String]) -> Result<()> {
    if to.is_empty() && revoke.is_empty() {
        bail!("nothing to do: give --to RECIPIENT and/or --revoke RECIPIENT");
    }
    let path = existing_profile(name)?;
    let (container, mut access) = keys::open_profile(&path, name)?;
    for who in revoke {
        if who == "passphrase" {
            if access.passphrase.take().is_none() {
                bail!("{name}'s profile has no passphrase to revoke");
            }
            eprintln!("revoked the passphrase");
        } else {
            let gone = access.revoke_device(who);
            if gone.is_empty() {
                bail!(
                    "{who:?} is not among the devices of {name}'s profile (see `ownvoice people show {name} --access-only`)"
                );
            }
            for d in gone {
                eprintln!("revoked device {} ({})", d.label, d.recipient);
            }
        }
    }
    for who in to {
        if who == "passphrase" {
            if access.passphrase.is_some() {
                bail!("{name}'s profile already opens with a passphrase (revoke it first to change it)");
            }
            let p = keys::secret(
                "OWNVOICE_NEW_PASSPHRASE",
                &format!("{name}'s profile (new)"),
                true,
            )?;
            access.passphrase = Some(PassphraseSlot::new(&p)?);
            eprintln!("added a passphrase");
        } else {
            let label = label.map_or_else(|| default_label(who), str::to_string);
            ownvoice_vault::identity::check_label(&label).map_err(anyhow::Error::msg)?;
            let d = DeviceRecipient::parse(who, &label).map_err(anyhow::Error::msg)?;
            if access.add_device(d).map_err(anyhow::Error::msg)? {
                eprintln!("shared with device {label} ({})", who.trim());
            } else {
                eprintln!("already shared with {}", who.trim());
            }
        }
    }
    if access.is_empty() {
        bail!("refusing: nothing could open {name}'s profile after that; keep a passphrase or a device");
    }
    ownvoice_vault::save(&path, &container, &access)?;
    if !keys::device_can_open(&access)? && access.passphrase.is_none() {
        eprintln!("note: this device can no longer open {name}'s profile");
    }
    access_report(&access).print();
    Ok(())
}

/// "device age1qyqs…" from the recipient's first characters.
fn default_label(recipient: &str) -> String {
    let r = recipient.trim();
    format!("device {}…", &r[..r.len().min(12)])
}

/// Copies `name`'s profile, still encrypted, to `output`.
///
/// # Errors
/// No such profile, an unreadable header, a write error.
pub fn export(name: &str, output: &Path) -> Result<()> {
    let path = existing_profile(name)?;
    let access = ownvoice_vault::load_access(&path)?;
    let bytes = std::fs::read(&path).with_context(|| path.display().to_string())?;
    ownvoice_vault::write_private(output, &bytes)?;
    eprintln!(
        "exported {name}'s encrypted profile to {} ({:.1} MB)",
        output.display(),
        bytes.len() as f64 / 1e6
    );
    access_report(&access).print();
    if access.passphrase.is_none() {
        eprintln!(
            "note: no passphrase opens this copy; only the devices above can. For a backup that \
             outlives them: ownvoice people share {name} --to passphrase"
        );
    }
    Ok(())
}

/// Adds the profile file `file` to this device's people as `name` (default: its file stem).
///
/// # Errors
/// Not a profile, tampered (when it can be opened here), a name taken without `force`.
pub fn import(file: &Path, name: Option<&str>, force: bool) -> Result<()> {
    let name = match name {
        Some(n) => n.to_string(),
        None => file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .context("the file has no name; give --as NAME")?,
    };
    let dest = context::profile_path(&name)?;
    if dest.exists() && !force {
        bail!(
            "{name:?} already has a profile here ({}); --force replaces it, --as NAME picks another name",
            dest.display()
        );
    }
    let access = ownvoice_vault::load_access(file)?;
    // Verify all of it when a key is at hand (decrypting into memory only).
    let verified = keys::try_open_profile(file, &name)?.is_some();
    let bytes = std::fs::read(file).with_context(|| file.display().to_string())?;
    ownvoice_vault::write_private(&dest, &bytes)?;
    eprintln!(
        "imported {} as {name:?} ({}){}",
        file.display(),
        dest.display(),
        if verified {
            ", verified"
        } else {
            "; not verified (no key for it here)"
        }
    );
    access_report(&access).print();
    Ok(())
}
