//! Crash safety of saves: a process saving a profile over and over is killed with SIGKILL at
//! random moments, 100 times; after every kill the profile must open, to the content of the
//! last save it reported or of the one it had started, never to anything else.
//!
//! The test re-runs its own binary as the saving child (selected by an environment variable),
//! so the saves are those of the library itself, not of a copy.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use ownvoice_vault::{envelope, Access, Container, DeviceIdentity, Key, PassphraseSlot};

const CHILD: &str = "OWNVOICE_CRASH_CHILD_DIR";
const KILLS: usize = 100;
/// Bytes of audio-like data per save: big enough that a save takes milliseconds.
const BLOB: usize = 3 << 20;

fn content(version: u64) -> Container {
    let mut state = version.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let blob = (0..BLOB)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    Container {
        manifest: format!("{{\"version\":{version}}}").into_bytes(),
        blobs: vec![("takes/0001.pcm".into(), blob)],
    }
}

fn version_of(c: &Container) -> u64 {
    let text = std::str::from_utf8(&c.manifest).unwrap();
    let v: u64 = text
        .trim_start_matches("{\"version\":")
        .trim_end_matches('}')
        .parse()
        .unwrap();
    assert_eq!(
        c,
        &content(v),
        "the profile's blob does not belong to version {v}"
    );
    v
}

fn paths(dir: &Path) -> (PathBuf, PathBuf) {
    (dir.join("ada.age"), dir.join("device.key"))
}

/// The child: open the profile, then save version+1, version+2, … until killed, printing
/// "saved N" after each save returns.
fn child(dir: &Path) -> ! {
    let (profile, key) = paths(dir);
    let id = DeviceIdentity::load(&key, None).unwrap();
    let (c, access) = ownvoice_vault::load(&profile, Key::Device(&id)).unwrap();
    let mut v = version_of(&c);
    let out = std::io::stdout();
    loop {
        v += 1;
        ownvoice_vault::save(&profile, &content(v), &access).unwrap();
        let mut o = out.lock();
        writeln!(o, "saved {v}").unwrap();
        o.flush().unwrap();
    }
}

#[test]
fn sigkill_during_saves_leaves_the_old_or_the_new_profile() {
    if let Some(dir) = std::env::var_os(CHILD) {
        child(Path::new(&dir));
    }
    let dir = tempfile::tempdir().unwrap();
    let (profile, key) = paths(dir.path());
    let id = DeviceIdentity::generate("test device").unwrap();
    id.save(&key, None).unwrap();
    let pw = ownvoice_vault::Passphrase::new("pw".into());
    let mut access = Access {
        passphrase: Some(PassphraseSlot::new(&pw).unwrap()),
        devices: vec![],
    };
    access.add_device(id.recipient()).unwrap();
    ownvoice_vault::save(&profile, &content(0), &access).unwrap();

    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("seed {seed}");
    let mut rng = seed;
    let mut last = 0u64;
    let (mut at_old, mut at_new, mut saves) = (0, 0, 0u64);
    for round in 0..KILLS {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "sigkill_during_saves_leaves_the_old_or_the_new_profile",
                "--nocapture",
            ])
            .env(CHILD, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        std::thread::sleep(Duration::from_micros(20_000 + rng % 180_000));
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        let reported = BufReader::new(child.stdout.take().unwrap())
            .lines()
            .map_while(Result::ok)
            .filter_map(|l| l.strip_prefix("saved ").and_then(|v| v.parse::<u64>().ok()))
            .last()
            .unwrap_or(last);
        let (c, a) = ownvoice_vault::load(&profile, Key::Device(&id))
            .unwrap_or_else(|e| panic!("round {round} (seed {seed}): {e}"));
        assert_eq!(a, access, "round {round}: the access section changed");
        let v = version_of(&c);
        assert!(
            v == reported || v == reported + 1,
            "round {round} (seed {seed}): the profile holds version {v}, the child had reported {reported}"
        );
        if v == reported {
            at_old += 1;
        } else {
            at_new += 1;
        }
        saves += v - last;
        last = v;
    }
    eprintln!(
        "{KILLS} kills over {saves} saves: {at_old} left the last reported save, {at_new} the one in flight"
    );
    // The passphrase still opens it, and the next save clears what the kills left behind.
    let (c, _) = envelope::load(&profile, Key::Passphrase(&pw)).unwrap();
    assert_eq!(version_of(&c), last);
    ownvoice_vault::save(&profile, &c, &access).unwrap();
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["ada.age", "device.key"]);
    assert!(
        saves >= KILLS as u64 / 2,
        "too few saves ({saves}) were interrupted to mean anything"
    );
}
