#!/usr/bin/env python3
"""Summary of tools/adapt_speechocean.sh: per speaker, the WER of every take tested once (its
fold's model), before and after adaptation, and after the WER gate (a fold whose model got
worse keeps the base model). Word counts come from the enrollment report (takes in profile
order; fold f holds the takes with index ≡ f mod 4).

usage: adapt_summary.py DATASET_DIR RESULTS_DIR
       adapt_summary.py --unseen RESULTS_DIR [T ...]   (tools/adapt_speechocean_unseen.sh: the
       test takes were never enrolled; WER from `ownvoice eval asr`, base model vs --person)

With --unseen, each T adds a summary of the same runs as if the gate had asked a paired t of
at least T (`adapt --gate-t T`): a fold whose recorded `gate_t` falls short keeps the base
model. This is exact for T at or above the minimum the runs used (their `gate_min_t`: a
stricter gate refuses a subset of the same models), so a run with `--gate-t 0` measures every
stricter gate at once.
"""
import json
import pathlib
import statistics
import sys


def unseen(results, min_ts):
    """Per speaker: test-take errors and words summed over folds, base vs the person's model."""
    per = {}
    # The same runs, as if the gate had asked a paired t of at least T: {T: per speaker}.
    stricter = {t: {} for t in min_ts}
    for before in sorted(results.glob("*-[0-9].before.json")):
        stem = before.name[: -len(".before.json")]
        spk, f = stem.rsplit("-", 1)
        try:
            b = json.load(open(before))
            a = json.load(open(results / f"{stem}.after.json"))
            ad = json.load(open(results / f"{stem}.adapt.json"))
        except (OSError, ValueError):
            continue
        t = per.setdefault(spk, {"words": 0, "before": 0, "after": 0, "folds": 0, "installed": 0, "secs": 0.0, "max_secs": 0.0})
        t["words"] += b["words"]
        t["before"] += b["errors"]
        t["after"] += a["errors"]
        t["folds"] += 1
        t["installed"] += bool(ad["installed"])
        t["secs"] += ad["train_seconds"]
        t["max_secs"] = max(t["max_secs"], ad["train_seconds"])
        for min_t, per_t in stricter.items():
            if min_t < ad.get("gate_min_t", 0.0):
                sys.exit(f"{stem}: ran with --gate-t {ad['gate_min_t']}; a gate of {min_t} cannot be replayed")
            # gate_t null: infinite (every take gained the same).
            passes = ad["installed"] and (ad.get("gate_t") is None or ad["gate_t"] >= min_t)
            s = per_t.setdefault(spk, {"words": 0, "before": 0, "after": 0, "folds": 0, "installed": 0, "max_secs": 0.0})
            s["words"] += b["words"]
            s["before"] += b["errors"]
            s["after"] += a["errors"] if passes else b["errors"]
            s["folds"] += 1
            s["installed"] += passes
            s["max_secs"] = t["max_secs"]
    if not per:
        sys.exit("no results in " + str(results))
    print(f"{'speaker':12} folds installed  words  WER before  after  rel.change  train s/fold")
    for spk, t in per.items():
        b, a = 100 * t["before"] / t["words"], 100 * t["after"] / t["words"]
        r = rel_change(t)
        print(f"{spk:12} {t['folds']:5} {t['installed']:9} {t['words']:6} {b:10.1f} {a:6.1f} {100*r:+10.1f} % {t['secs']/t['folds']:9.1f}")
    summary(per, "")
    most = max(t["folds"] for t in per.values())
    full = {spk: t for spk, t in per.items() if t["folds"] == most}
    if len(full) < len(per):
        summary(full, f"only the speakers with all {most} folds scored: ")
    for min_t, per_t in stricter.items():
        worse = ", ".join(f"{spk} {100*rel_change(t):+.1f} %" for spk, t in per_t.items() if rel_change(t) > 0)
        summary(per_t, f"as if --gate-t {min_t:g} (worse: {worse or 'none'}): ")


def rel_change(t):
    """A speaker's relative WER change, after vs before (0 when the base WER is 0)."""
    return (t["after"] - t["before"]) / t["before"] if t["before"] else 0.0


def summary(per, label):
    """One line over the speakers in `per`: mean and pooled relative WER change."""
    rel = [rel_change(t) for t in per.values()]
    w = sum(t["words"] for t in per.values())
    pb = 100 * sum(t["before"] for t in per.values()) / w
    pa = 100 * sum(t["after"] for t in per.values()) / w
    print(
        f"\n{label}{len(per)} speakers, test takes never enrolled: mean relative WER change {100*statistics.mean(rel):+.1f} % "
        f"(median {100*statistics.median(rel):+.1f} %); pooled WER {pb:.1f} % -> {pa:.1f} %; "
        f"improved {sum(r < 0 for r in rel)}, worse {sum(r > 0 for r in rel)}; "
        f"models installed in {sum(t['installed'] for t in per.values())} of {sum(t['folds'] for t in per.values())} folds; "
        f"speakers at or past -35 %: {sum(r <= -0.35 for r in rel)}; "
        f"longest adaptation {max(t['max_secs'] for t in per.values()):.0f} s of training"
    )


if sys.argv[1] == "--unseen":
    unseen(pathlib.Path(sys.argv[2]), [float(t) for t in sys.argv[3:]])
    sys.exit(0)

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
