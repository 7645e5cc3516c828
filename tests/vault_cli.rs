//! Who can open a profile, through the CLI: device identities, sharing and revoking, export and
//! import between two devices (two OWNVOICE_HOMEs), and the distinct errors of a damaged file.

mod common;

use common::{assert_clean_failure, Env};
use serde_json::Value;

/// `ownvoice ARGS` in `env` without any passphrase in the environment.
fn run_nopass(env: &Env, args: &[&str]) -> std::process::Output {
    env.cmd()
        .env_remove("OWNVOICE_PASSPHRASE")
        .args(args)
        .output()
        .unwrap()
}

fn ok_nopass(env: &Env, args: &[&str]) -> String {
    let out = run_nopass(env, args);
    assert!(
        out.status.success(),
        "ownvoice {args:?}: {}",
        common::stderr(&out)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Exports ada's profile from `from` and imports it into `to`, replacing what `to` had.
fn carry(from: &Env, to: &Env, copy: &std::path::Path) {
    let copy = copy.to_str().unwrap();
    from.ok(&["people", "export", "ada", "-o", copy]);
    ok_nopass(to, &["people", "import", copy, "--as", "ada", "--force"]);
}

fn show(env: &Env, person: &str) -> Value {
    serde_json::from_str(&ok_nopass(env, &["people", "show", person, "--json"])).unwrap()
}

#[test]
fn share_revoke_export_import_between_two_devices() {
    let laptop = Env::new();
    let phone = Env::new();
    let laptop_key = laptop.ok(&["device", "init", "--label", "laptop"]);
    let phone_key = phone.ok(&["device", "init", "--label", "phone"]);
    let (laptop_key, phone_key) = (laptop_key.trim(), phone_key.trim());
    assert!(laptop_key.starts_with("age1"), "{laptop_key}");
    let key_file = laptop.home.path().join("device.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_clean_failure(&laptop.run(&["device", "init"]), "already holds");

    // Enrolled with a device identity and a passphrase: both open it.
    let takes = common::cathy_takes(2);
    laptop.enroll("ada", takes.path());
    // Without a passphrase, this device opens it by its identity.
    let s = show(&laptop, "ada");
    assert_eq!(s["passphrase"], true);
    assert_eq!(s["recipients"][0]["recipient"], laptop_key);
    assert_eq!(s["recipients"][0]["label"], "laptop");
    assert_eq!(s["verified"], true);
    assert_eq!(s["accepted"], 2);

    // Exported to the phone: not shared with it yet, so it shows who can open it, nothing more.
    let copy = phone.home.path().join("ada-backup.age");
    laptop.ok(&["people", "export", "ada", "-o", copy.to_str().unwrap()]);
    ok_nopass(
        &phone,
        &["people", "import", copy.to_str().unwrap(), "--as", "ada"],
    );
    let s = show(&phone, "ada");
    assert_eq!(s["verified"], false);
    assert_eq!(s["recipients"].as_array().unwrap().len(), 1);
    assert!(s.get("accepted").is_none(), "{s}");
    assert_clean_failure(
        &run_nopass(
            &phone,
            &["people", "report", "ada", "-o", "never-written.html"],
        ),
        "not shared with this device",
    );
    // The passphrase still opens it there.
    assert_eq!(
        serde_json::from_str::<Value>(&phone.ok(&["people", "show", "ada", "--json"])).unwrap()
            ["verified"],
        true
    );

    // Shared with the phone, then the passphrase revoked: the phone opens its new copy alone.
    ok_nopass(
        &laptop,
        &[
            "people", "share", "ada", "--to", phone_key, "--label", "phone",
        ],
    );
    ok_nopass(
        &laptop,
        &["people", "share", "ada", "--revoke", "passphrase"],
    );
    carry(&laptop, &phone, &copy);
    let s = show(&phone, "ada");
    assert_eq!(
        (s["verified"].clone(), s["passphrase"].clone()),
        (true.into(), false.into())
    );
    let wrong = phone.run(&["people", "show", "ada"]);
    assert!(
        wrong.status.success(),
        "a passphrase given is simply not needed"
    );

    // Revoke the laptop: the laptop can no longer open it; the last way in is kept.
    ok_nopass(&laptop, &["people", "share", "ada", "--revoke", "laptop"]);
    assert_clean_failure(
        &run_nopass(
            &laptop,
            &["people", "report", "ada", "-o", "never-written.html"],
        ),
        "not shared with this device",
    );
    assert_clean_failure(
        &run_nopass(&laptop, &["people", "share", "ada", "--revoke", "phone"]),
        "not shared with this device",
    );
    carry(&laptop, &phone, &copy);
    assert_clean_failure(
        &run_nopass(&phone, &["people", "share", "ada", "--revoke", "phone"]),
        "nothing could open",
    );
    assert_clean_failure(
        &run_nopass(&phone, &["people", "share", "ada", "--to", "age1notakey"]),
        "not an age recipient",
    );
    // Give it a passphrase again from the phone.
    let out = phone
        .cmd()
        .env_remove("OWNVOICE_PASSPHRASE")
        .env("OWNVOICE_NEW_PASSPHRASE", "a new one")
        .args(["people", "share", "ada", "--to", "passphrase"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::stderr(&out));
    let out = phone
        .cmd()
        .env("OWNVOICE_IDENTITY", "/nonexistent")
        .env("OWNVOICE_PASSPHRASE", "a new one")
        .args(["people", "show", "ada", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::stderr(&out));
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout).unwrap()["accepted"],
        2
    );
}

#[test]
fn damaged_profiles_get_distinct_errors() {
    let env = Env::new();
    let takes = common::cathy_takes(1);
    env.enroll("ada", takes.path());
    let path = env.profile("ada");
    let sealed = std::fs::read(&path).unwrap();
    let check = |bytes: &[u8], needle: &str| {
        std::fs::write(&path, bytes).unwrap();
        assert_clean_failure(&env.run(&["people", "show", "ada"]), needle);
    };
    check(&sealed[..sealed.len() / 2], "truncated");
    check(&sealed[..sealed.len() - 1], "truncated");
    check(&sealed[..40], "truncated");
    let mut flipped = sealed.clone();
    let mid = sealed.len() / 2;
    flipped[mid] ^= 1;
    check(&flipped, "tampered");
    let mut newer = sealed.clone();
    newer[16] = 7;
    check(&newer, "newer");
    check(
        b"just some text, long enough to read a header from",
        "not an ownvoice profile",
    );
    std::fs::write(&path, &sealed).unwrap();
    let out = env
        .cmd()
        .env("OWNVOICE_PASSPHRASE", "wrong")
        .args(["people", "show", "ada"])
        .output()
        .unwrap();
    assert_clean_failure(&out, "wrong passphrase");
    // Only the passphrase opens it and none is given: who can open it is still shown.
    let s = show(&env, "ada");
    assert_eq!(
        (s["passphrase"].clone(), s["verified"].clone()),
        (true.into(), false.into())
    );
}
