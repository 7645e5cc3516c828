#!/usr/bin/env python3
"""Dictation benchmark: end-of-speech → final-text latency, and what the reduced Whisper audio
context buys (speed) and costs (WER).

1. Builds a 23 s real recording (JFK, then three held-back Cathy takes, 1 s of silence between)
   and plays it into `ownvoice dictate --json` at real-time pace (OWNVOICE_INPUT_WAV), once
   with the reduced audio context and once with the full 30 s window: latency of every final
   result (from the arrival of the last speech sample; it includes the 300 ms of silence VAD
   waits for) and the WER of the joined finals.
2. Runs `ownvoice eval asr --audio-ctx auto|full` on a folder of short takes (default: the 10
   bundled held-back Cathy takes): WER and real-time factor.

Usage: python3 tools/bench_dictation.py [--bin PATH] [--data DIR] [--skip N]
  e.g. --data ../shared/datasets/cathy_arctic --skip 300   (the 99 held-back Cathy takes)
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import wave

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read(path):
    with wave.open(path) as w:
        assert w.getframerate() == 16000 and w.getsampwidth() == 2 and w.getnchannels() == 1, path
        return w.readframes(w.getnframes())


def recording(out):
    jfk = os.path.join(ROOT, "datasets/jfk_whisper_sample")
    held = os.path.join(ROOT, "datasets/cathy_arctic/heldout")
    pcm = read(os.path.join(jfk, "wav/jfk/jfk.wav"))
    text = open(os.path.join(jfk, "transcripts.tsv")).read().splitlines()[1].split("\t")[2]
    for line in open(os.path.join(held, "transcripts.tsv")).read().splitlines()[1:4]:
        rel, _, t = line.split("\t")
        pcm += b"\0\0" * 16000 + read(os.path.join(held, rel))
        text += " " + t
    pcm += b"\0\0" * 16000
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(pcm)
    return text, len(pcm) / 32000


def wer(ref, hyp):
    norm = lambda s: "".join(c.lower() if c.isalnum() or c.isspace() else " " for c in s).split()
    r, h = norm(ref), norm(hyp)
    d = list(range(len(h) + 1))
    for i in range(1, len(r) + 1):
        prev, d[0] = d[0], i
        for j in range(1, len(h) + 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (r[i - 1] != h[j - 1]))
    return d[len(h)] / max(len(r), 1)


def main():
    p = argparse.ArgumentParser()
    cache = os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache"))
    p.add_argument("--bin", default=os.environ.get("OWNVOICE_BIN", f"{cache}/ownvoice/target/release/ownvoice"))
    p.add_argument("--data", default=os.path.join(ROOT, "datasets/cathy_arctic/heldout"))
    p.add_argument("--skip", default="0", help="skip the first N takes of --data")
    a = p.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        wav = os.path.join(tmp, "long.wav")
        ref, seconds = recording(wav)
        for mode, flags in [("reduced", []), ("full", ["--full-context"])]:
            out = subprocess.run([a.bin, "dictate", "--json", *flags],
                                 env={**os.environ, "OWNVOICE_INPUT_WAV": wav},
                                 capture_output=True, text=True, check=True).stdout
            finals = [e for e in map(json.loads, out.splitlines()) if e["type"] == "final"]
            lat = [e["latency_ms"] for e in finals]
            ev = json.loads(subprocess.run(
                [a.bin, "eval", "asr", "--data", a.data, "--skip", a.skip, "--json", "--audio-ctx",
                 "auto" if mode == "reduced" else "full"],
                capture_output=True, text=True, check=True).stdout)
            rows.append({"context": mode, "finals": len(finals),
                         "latency_median_ms": statistics.median(lat), "latency_max_ms": max(lat),
                         "dictation_wer": wer(ref, " ".join(e["text"] for e in finals)),
                         "eval_takes": ev["takes"], "eval_wer": ev["wer"], "eval_rtf": ev["rtf"]})
    print(f"recording: {seconds:.1f} s of real speech at real-time pace; eval data: {a.data}")
    print("| context | finals | latency median | latency max | dictation WER | eval WER | eval RTF |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['context']} | {r['finals']} | {r['latency_median_ms']:.0f} ms | {r['latency_max_ms']:.0f} ms "
              f"| {100 * r['dictation_wer']:.1f} % | {100 * r['eval_wer']:.2f} % ({r['eval_takes']} takes) "
              f"| {r['eval_rtf']:.3f} |")
    print(f"reduced-context speed-up (eval RTF full / reduced): {rows[1]['eval_rtf'] / rows[0]['eval_rtf']:.2f}x")
    json.dump(rows, sys.stderr)


if __name__ == "__main__":
    main()
