"""Shared helpers of the side-by-side comparison scripts (compare_asr.py, compare_tts.py).

* `bootstrap(*requirements)`: re-run the calling script inside the tools virtualenv at
  ${XDG_CACHE_HOME:-~/.cache}/ownvoice/tools-venv, creating it and pip-installing the pinned
  requirements (`name==version`, one or several) there on first use (the only step that needs
  PyPI).
* `normalize`, `word_errors`: the WER text normalisation (lower-case, punctuation removed,
  apostrophes dropped, hyphens split) and the word-level Levenshtein distance.
* `find_ownvoice`: the ownvoice binary from --ownvoice, $OWNVOICE_BIN or PATH.
* `model_dir`: a fetched model's cache folder, checked for the file a peer tool loads.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

VENV = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ownvoice" / "tools-venv"


def bootstrap(*requirements: str) -> None:
    """Re-exec the running script inside the tools venv; install the pinned `requirements`
    (each `name==version`) there if any is missing or at another version."""
    py = VENV / "bin" / "python"
    if Path(sys.prefix).resolve() != VENV.resolve():
        if not py.exists():
            print(f"creating virtualenv {VENV}", file=sys.stderr)
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        os.execv(str(py), [str(py), os.path.abspath(sys.argv[0]), *sys.argv[1:]])
    from importlib import metadata
    missing = []
    for requirement in requirements:
        name, version = requirement.split("==")
        try:
            if metadata.version(name) == version:
                continue
        except metadata.PackageNotFoundError:
            pass
        missing.append(requirement)
    if not missing:
        return
    print(f"installing {' '.join(missing)} into {VENV}", file=sys.stderr)
    # All in one pip call, with the already-satisfied pins repeated so pip keeps them.
    subprocess.run([str(py), "-m", "pip", "install", "-q", *requirements], check=True)


def normalize(text: str) -> list[str]:
    """Words of `text`: lower-case, apostrophes dropped, hyphens split, punctuation removed."""
    text = text.lower().replace("'", "").replace("\u2019", "")
    text = re.sub(r"[-\u2010-\u2015]", " ", text)
    return re.sub(r"[^\w\s]|_", " ", text).split()


def word_errors(ref: list[str], hyp: list[str]) -> int:
    """Substitutions + deletions + insertions turning `ref` into `hyp` (Levenshtein over words)."""
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


def add_common_args(ap) -> None:
    """The options both comparisons take: the binary, timed runs, threads, JSON output, and the
    hidden worker switch the script uses to run the peer tool in its own process."""
    ap.add_argument("--ownvoice", help="ownvoice binary (default: $OWNVOICE_BIN or `ownvoice` on PATH)")
    ap.add_argument("--runs", type=int, default=3, help="timed runs per tool (median is reported)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    ap.add_argument("--_worker", help=argparse.SUPPRESS)


def find_ownvoice(arg: str | None) -> str:
    """The ownvoice binary: `arg`, else $OWNVOICE_BIN, else `ownvoice` on PATH; exits if none."""
    binary = arg or os.environ.get("OWNVOICE_BIN") or shutil.which("ownvoice")
    if not binary:
        sys.exit("ownvoice binary not found: pass --ownvoice PATH or set OWNVOICE_BIN")
    return binary


def model_dir(binary: str, name: str, required_file: str) -> str:
    """The cache folder of model `name` (`ownvoice models path NAME`); exits unless it holds
    `required_file`."""
    path = subprocess.run([binary, "models", "path", name], check=True,
                          capture_output=True, text=True).stdout.strip()
    if not (Path(path) / required_file).is_file():
        sys.exit(f"no {required_file} in {path}: run `ownvoice models fetch`")
    return path
