#!/usr/bin/env python3
"""Summary of tools/adapt_speechocean.sh: per speaker, the WER of every take tested once (its
fold's model), before and after adaptation, and after the WER gate (a fold whose model got
worse keeps the base model). Word counts come from the enrollment report (takes in profile
order; fold f holds the takes with index ≡ f mod 4).

usage: adapt_summary.py DATASET_DIR RESULTS_DIR
"""
import json
import pathlib
import statistics
import sys

results = pathlib.Path(sys.argv[2])
enrolled = results.parent / "enrolled"
rows = []
for enroll in sorted(enrolled.glob("*.json")):
    spk = enroll.stem
    takes = [t for t in json.load(open(enroll))["takes"] if t["quality"]["accepted"]]
    words = [len(t["text"].split()) for t in takes]
    tot = {"n": 0, "before": 0.0, "after": 0.0, "gated": 0.0, "secs": 0.0, "folds": 0}
    for f in range(4):
        p = results / f"{spk}-{f}.json"
        try:
            r = json.load(open(p))
        except (OSError, ValueError):
            continue  # not run (yet), or failed
        n = sum(w for i, w in enumerate(words) if i % 4 == f)
        b, a = r["heldout_wer_before"] * n, r["heldout_wer_after"] * n
        tot["n"] += n
        tot["before"] += b
        tot["after"] += a
        tot["gated"] += a if r["installed"] else b
        tot["secs"] += r["train_seconds"]
        tot["folds"] += 1
    if tot["folds"]:
        rows.append((spk, tot))

if not rows:
    sys.exit("no results in " + str(results))
print(f"{'speaker':12} folds  words  WER before  after  gated   rel.change  rel.gated  train s/fold")
rel, relg = [], []
for spk, t in rows:
    b, a, g = (100 * t[k] / t["n"] for k in ("before", "after", "gated"))
    r = (a - b) / b if b else 0.0
    rg = (g - b) / b if b else 0.0
    rel.append(r)
    relg.append(rg)
    print(f"{spk:12} {t['folds']:5} {t['n']:6} {b:10.1f} {a:6.1f} {g:6.1f} {100*r:+11.1f} % {100*rg:+8.1f} % {t['secs']/t['folds']:9.1f}")
n = sum(t["n"] for _, t in rows)
pooled = {k: 100 * sum(t[k] for _, t in rows) / n for k in ("before", "after", "gated")}
print(
    f"\n{len(rows)} speakers: mean relative WER change {100*statistics.mean(rel):+.1f} % "
    f"(median {100*statistics.median(rel):+.1f} %), with the gate {100*statistics.mean(relg):+.1f} %; "
    f"pooled WER {pooled['before']:.1f} % -> {pooled['after']:.1f} % (gated {pooled['gated']:.1f} %); "
    f"improved {sum(r < 0 for r in rel)}, worse {sum(r > 0 for r in rel)}"
)
