#!/usr/bin/env python3
"""Side-by-side ASR comparison: ownvoice (whisper.cpp) vs faster-whisper (CTranslate2).

Both tools transcribe the same WAV files with the same Whisper tiny.en weights
(the folder printed by `ownvoice models path tiny.en`: faster-whisper loads its
CTranslate2 `model.bin` directly, ownvoice its ggml file from the same folder),
with matched settings: greedy decoding (beam 1, temperature 0 only, no
fallback), English, float32, 2 CPU threads, timestamps on, no VAD.

Timing is wall clock and includes model load once per tool:
  * ownvoice: one `ownvoice transcribe --format json FILE...` process for all files;
  * faster-whisper: WhisperModel(...) load + transcribing all files, measured inside
    one fresh Python worker process (interpreter start and imports are excluded and
    reported separately).
The tools run alternately `--runs` times (default 3); the median time is reported.
Accuracy is WER over all files (lower-case, punctuation removed, apostrophes
dropped, hyphens split; summed word errors / summed reference words).

Run from the repository root (needs a fetched tiny.en: `ownvoice models fetch`):

    python3 tools/compare_asr.py [--ownvoice target/release/ownvoice] [--data DIR]... [--json]

On first use the script creates a virtualenv at
${XDG_CACHE_HOME:-~/.cache}/ownvoice/tools-venv, installs faster-whisper==1.2.1
into it (needs PyPI once) and re-runs itself with that venv's Python.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import wave
from pathlib import Path

from compare_common import add_common_args, bootstrap, find_ownvoice, normalize, word_errors
from compare_common import model_dir as fetched_model_dir

PEER = "faster-whisper==1.2.1"
DEFAULT_DATA = ["datasets/cathy_arctic/heldout", "datasets/jfk_whisper_sample",
                "datasets/ljspeech_samples"]


def wer(refs: list[str], hyps: list[str]) -> float:
    errors = sum(word_errors(normalize(r), normalize(h)) for r, h in zip(refs, hyps))
    return errors / max(1, sum(len(normalize(r)) for r in refs))


def load_datasets(dirs: list[str]) -> tuple[list[str], list[str]]:
    files, refs = [], []
    for d in dirs:
        with open(Path(d) / "transcripts.tsv", encoding="utf-8") as f:
            header = f.readline().rstrip("\n").split("\t")
            ip, it = header.index("path"), header.index("text")
            for line in f:
                if line.strip():
                    cols = line.rstrip("\n").split("\t")
                    files.append(str(Path(d) / cols[ip]))
                    refs.append(cols[it])
    return files, refs


def audio_seconds(files: list[str]) -> float:
    total = 0.0
    for p in files:
        with wave.open(p) as w:
            total += w.getnframes() / w.getframerate()
    return total


def run_ownvoice(binary: str, files: list[str], threads: int) -> tuple[float, list[str]]:
    cmd = [binary, "transcribe", "--model", "tiny.en", "--threads", str(threads),
           "--format", "json", *files]
    t0 = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    seconds = time.perf_counter() - t0
    items = json.loads(out)
    assert len(items) == len(files), "ownvoice returned a different number of results"
    return seconds, [it["text"] for it in items]


def run_faster_whisper(model_dir: str, files: list[str], threads: int) -> tuple[float, float, list[str]]:
    cmd = [sys.executable, os.path.abspath(__file__), "--_worker", model_dir,
           "--threads", str(threads), *files]
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    res = json.loads(out)
    return res["seconds"], res["import_seconds"], res["texts"]


def worker(model_dir: str, files: list[str], threads: int) -> None:
    """Runs in a fresh process: load the model and transcribe every file, timed."""
    t0 = time.perf_counter()
    from faster_whisper import WhisperModel
    t1 = time.perf_counter()
    model = WhisperModel(model_dir, device="cpu", compute_type="float32",
                         cpu_threads=threads, num_workers=1, local_files_only=True)
    texts = []
    for path in files:
        segments, _info = model.transcribe(
            path, language="en", beam_size=1, best_of=1, temperature=[0.0],
            vad_filter=False, without_timestamps=False)
        texts.append(" ".join(s.text.strip() for s in segments))  # consumes the generator
    seconds = time.perf_counter() - t1
    print(json.dumps({"seconds": seconds, "import_seconds": t1 - t0, "texts": texts}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_common_args(ap)
    ap.add_argument("--data", action="append", help="dataset folder with transcripts.tsv (repeatable)")
    ap.add_argument("files", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args()
    bootstrap(PEER)
    if args._worker:
        return worker(args._worker, args.files, args.threads)

    binary = find_ownvoice(args.ownvoice)
    model_dir = fetched_model_dir(binary, "tiny.en", "model.bin")
    files, refs = load_datasets(args.data or DEFAULT_DATA)
    log = (lambda *a: print(*a, file=sys.stderr)) if args.json else print
    log(f"{len(files)} files, {audio_seconds(files):.1f} s of audio, model {model_dir}")

    ow_times, fw_times, fw_imports = [], [], []
    ow_texts = fw_texts = None
    for i in range(args.runs):
        s, ow_texts = run_ownvoice(binary, files, args.threads)
        ow_times.append(s)
        s, imp, fw_texts = run_faster_whisper(model_dir, files, args.threads)
        fw_times.append(s)
        fw_imports.append(imp)
        log(f"run {i + 1}/{args.runs}: ownvoice {ow_times[-1]:.2f} s, faster-whisper {s:.2f} s")

    ow = {"wer": wer(refs, ow_texts), "seconds": statistics.median(ow_times)}
    fw = {"wer": wer(refs, fw_texts), "seconds": statistics.median(fw_times),
          "import_seconds": statistics.median(fw_imports)}
    result = {"ownvoice": ow, "faster_whisper": fw,
              "time_ratio": ow["seconds"] / fw["seconds"],
              "files": len(files), "audio_seconds": round(audio_seconds(files), 3)}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print()
    print(f"{'tool':<16}{'WER %':>8}{'wall s':>9}")
    print(f"{'ownvoice':<16}{100 * ow['wer']:>8.2f}{ow['seconds']:>9.2f}")
    print(f"{'faster-whisper':<16}{100 * fw['wer']:>8.2f}{fw['seconds']:>9.2f}")
    print(f"time ratio ownvoice / faster-whisper: {result['time_ratio']:.2f}"
          f"  (median of {args.runs}; faster-whisper excludes {fw['import_seconds']:.2f} s of imports)")


if __name__ == "__main__":
    main()
