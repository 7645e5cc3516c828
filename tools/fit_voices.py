#!/usr/bin/env python3
"""Fits personal voices for three speakers of ../shared/datasets and measures them.

Targets: Cathy (CMU ARCTIC, first --cathy-takes takes), speechocean762 so762_0036 (female) and
so762_0482 (male), all 20 takes each. For each: enroll into a scratch OWNVOICE_HOME, then
`ownvoice voice train --minutes M`, then `ownvoice voice report --compare-stock --json`:
cosine of the fitted voice (20 Harvard sentences) to the held-back real takes (the mean over
takes, and to their centroid) vs the stock voices, Whisper WER (fitted and best stock voice),
F0, RTF and time to first audio.

Identification: every shared speaker (Cathy, LJ, JFK, CMU ARCTIC aew/axb, the 20 speechocean762
speakers, the 4 FSDD speakers) gets a voice print (mean d-vector of their real utterances; the
target's own print from their real takes). Each of the 20 sentences spoken by the fitted voice
is embedded and the speakers ranked by cosine: "identified" is the share of sentences whose top
speaker is the target, "rank" the mean rank of the target (1 = best). The best stock voice is
ranked the same way for comparison.

Usage: python3 tools/fit_voices.py [--minutes M] [--only NAME] [--f0-weight W] [--sigma S] [--train-arg=ARG ...] [--no-stock]   (results: /tmp/fit_voices; the shared speakers' voice prints are cached there in prints.json)
"""
import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, "..", "shared", "datasets")
CACHE = os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache"))
BIN = os.environ.get("OWNVOICE_BIN", f"{CACHE}/ownvoice/target/release/ownvoice")
OUT = "/tmp/fit_voices"
HARVARD = [
    "The birch canoe slid on the smooth planks.", "Glue the sheet to the dark blue background.",
    "It's easy to tell the depth of a well.", "These days a chicken leg is a rare dish.",
    "Rice is often served in round bowls.", "The juice of lemons makes fine punch.",
    "The box was thrown beside the parked truck.", "The hogs were fed chopped corn and garbage.",
    "Four hours of steady work faced us.", "A large size in stockings is hard to sell.",
    "The boy was there when the sun rose.", "A rod is used to catch pink salmon.",
    "The source of the huge river is the clear spring.", "Kick the ball straight and follow through.",
    "Help the woman get back to her feet.", "A pot of tea helps to pass the evening.",
    "Smoky fires lack flame and heat.", "The soft cushion broke the man's fall.",
    "The salt breeze came across from the sea.", "The girl at the booth sold fifty bonds.",
]


def run(args, env=None, check=True):
    r = subprocess.run([BIN, *args], env={**os.environ, **(env or {})}, capture_output=True, text=True)
    if check and r.returncode != 0:
        sys.exit(f"ownvoice {' '.join(args)} failed:\n{r.stderr}")
    return r.stdout


def rows(folder):
    with open(os.path.join(folder, "transcripts.tsv")) as f:
        return list(csv.DictReader(f, delimiter="\t"))


def embed(paths):
    """d-vectors by path; clips with no speech left after VAD trimming (some FSDD digits) are
    skipped."""
    out = []
    for i in range(0, len(paths), 50):
        batch = paths[i:i + 50]
        got = run(["embed", "--json", *batch], check=False)
        if got.strip():
            out += json.loads(got)
        else:
            for p in batch:
                one = run(["embed", "--json", p], check=False)
                out += json.loads(one) if one.strip() else []
    return {e["path"]: e["embedding"] for e in out}


def dot(a, b):
    return sum(x * y for x, y in zip(a, b))


def mean_unit(vs):
    m = [sum(c) / len(vs) for c in zip(*vs)]
    n = dot(m, m) ** 0.5
    return [x / n for x in m]


def speaker_prints():
    prints = {}
    for ds in ["cathy_arctic", "ljspeech_samples", "jfk_whisper_sample", "cmu_arctic_pyroomacoustics",
               "speechocean762", "fsdd"]:
        folder = os.path.join(SHARED, ds)
        by = {}
        for r in rows(folder):
            by.setdefault(r["speaker"], []).append(os.path.join(folder, r["path"]))
        for spk, paths in by.items():
            e = embed(paths[:40])
            prints[spk] = mean_unit(list(e.values()))
    return prints


def rank(voice_wavs, prints, target):
    e = embed(voice_wavs)
    ranks = []
    for v in e.values():
        order = sorted(prints, key=lambda s: -dot(v, prints[s]))
        ranks.append(order.index(target) + 1)
    return sum(r == 1 for r in ranks) / len(ranks), sum(ranks) / len(ranks)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--cathy-takes", type=int, default=100)
    p.add_argument("--only")
    p.add_argument("--f0-weight", type=float, help="voice train --f0-weight (default: its default)")
    p.add_argument("--sigma", type=float, help="voice train --sigma (default: its default)")
    p.add_argument("--train-arg", action="append", default=[],
                   help="one more argument for voice train (repeat: --train-arg=--offset --train-arg=pca)")
    p.add_argument("--no-stock", action="store_true",
                   help="skip scoring the stock voices (faster; their figures do not depend on the fit)")
    a = p.parse_args()
    os.makedirs(OUT, exist_ok=True)
    cached = os.path.join(OUT, "prints.json")
    if os.path.exists(cached):
        prints = json.load(open(cached))
    else:
        print("voice prints of the shared speakers ...", file=sys.stderr)
        prints = speaker_prints()
        json.dump(prints, open(cached, "w"))
    targets = [("cathy", os.path.join(SHARED, "cathy_arctic"), "cathy", a.cathy_takes),
               ("so762_0036", os.path.join(SHARED, "speechocean762"), "so762_0036", 20),
               ("so762_0482", os.path.join(SHARED, "speechocean762"), "so762_0482", 20)]
    results = []
    for name, folder, spk, limit in targets:
        if a.only and a.only != name:
            continue
        home = os.path.join(OUT, "home-" + name)
        shutil.rmtree(home, ignore_errors=True)
        env = {"OWNVOICE_HOME": home, "OWNVOICE_PASSPHRASE": "x"}
        run(["enroll", "--person", "p", "--from-dir", folder, "--speaker", spk, "--limit", str(limit),
             "--max-wer", "1.0", "--json"], env)
        t0 = time.time()
        extra = [] if a.f0_weight is None else ["--f0-weight", str(a.f0_weight)]
        extra += [] if a.sigma is None else ["--sigma", str(a.sigma)]
        extra += a.train_arg
        train = json.loads(run(["voice", "train", "--person", "p", "--minutes", str(a.minutes), "--json", *extra], env))
        train_s = time.time() - t0
        rep = json.loads(run(["voice", "report", "p", "--json", *([] if a.no_stock else ["--compare-stock"])], env))
        best_stock = max(rep["stock"], key=lambda s: s[1]["similarity_heldout"] or 0) if rep["stock"] else None
        voices = [("fitted", "p")] + ([("stock", best_stock[0])] if best_stock else [])
        wavs = {"fitted": [], "stock": []}
        for i, s in enumerate(HARVARD):
            for kind, voice in voices:
                w = os.path.join(OUT, f"{name}-{kind}-{i:02d}.wav")
                run(["speak", "--voice", voice, s, "-o", w], env)
                wavs[kind].append(w)
        ident, mean_rank = rank(wavs["fitted"], prints, spk)
        # With --no-stock the stock columns are null in the JSON and "not scored" in the table.
        s_ident, s_rank = rank(wavs["stock"], prints, spk) if best_stock else (None, None)
        r = {"speaker": name, "takes": limit, "minutes": a.minutes, "train_wall_s": round(train_s),
             "generations": train["record"]["generations"], "evaluations": train["record"]["evaluations"],
             "fitted_heldout_cos": rep["voice"]["similarity_heldout"],
             "real_heldout_cos": rep.get("real_heldout_to_print"),
             "fitted_centroid_cos": rep["voice"].get("similarity_heldout_centroid"),
             "real_centroid_cos": rep.get("real_centroid_to_print"),
             "stock_centroid_cos": best_stock and best_stock[1].get("similarity_heldout_centroid"),
             "best_stock": best_stock and best_stock[0],
             "stock_heldout_cos": best_stock and best_stock[1]["similarity_heldout"],
             "identified": ident, "mean_rank": mean_rank, "stock_identified": s_ident, "stock_mean_rank": s_rank,
             "speakers": len(prints), "wer": rep["voice"]["wer"], "speed": rep["voice"].get("speed", 1.0),
             "stock_wer": best_stock and best_stock[1]["wer"],
             "wer_beam": rep["voice"].get("wer_beam"),
             "stock_wer_beam": best_stock and best_stock[1].get("wer_beam"), "rtf": rep["voice"]["rtf"],
             "first_audio_s": rep["voice"]["first_audio_s"],
             "f0_voice": rep["voice"]["f0_voice"], "f0_person": rep["voice"]["f0_person"]}
        results.append(r)
        print(json.dumps(r), flush=True)
    print("| speaker | fit | cos to held-back takes: fitted / best stock (real takes to their print) | cos to their centroid: fitted / best stock (real) | identified (rank) fitted / stock | WER fitted / stock: greedy (5 beams) | F0 voice / person | RTF | first audio |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        scored = r["best_stock"] is not None
        stock_cos = f"{r['stock_heldout_cos']:.3f} ({r['best_stock']})" if scored else "not scored"
        stock_id = f"{100 * r['stock_identified']:.0f} % ({r['stock_mean_rank']:.1f})" if scored else "not scored"
        stock_wer = f"{100 * r['stock_wer']:.1f} %" if scored else "not scored"
        pct = lambda x: "n/a" if x is None else f"{100 * x:.1f} %"
        beams = f" ({pct(r.get('wer_beam'))} / {pct(r.get('stock_wer_beam')) if scored else 'not scored'})"
        rate = f", rate {r['speed']:.2f}" if r.get("speed", 1.0) != 1.0 else ""
        print(f"| {r['speaker']} | {r['minutes']} min, {r['generations']} gen, {r['evaluations']} voices{rate} "
              f"| {r['fitted_heldout_cos']:.3f} / {stock_cos} ({r['real_heldout_cos'] or 0:.3f}) "
              f"| {r['fitted_centroid_cos'] or 0:.3f} / {r['stock_centroid_cos'] or 0:.3f} ({r['real_centroid_cos'] or 0:.3f}) "
              f"| {100 * r['identified']:.0f} % ({r['mean_rank']:.1f}) / {stock_id} of {r['speakers']} "
              f"| {100 * r['wer']:.1f} % / {stock_wer}{beams} | {r['f0_voice']['mean_hz']:.0f} / {r['f0_person']['mean_hz']:.0f} Hz "
              f"| {r['rtf']:.2f} | {r['first_audio_s']:.2f} s |")


if __name__ == "__main__":
    main()
