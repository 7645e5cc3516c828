#!/usr/bin/env python3
"""Builds datasets/prompts/arctic.tsv: the interactive enrollment prompt set, ordered for
phoneme coverage.

Source: the CMU ARCTIC "A" prompts read in datasets' cathy_arctic folder (../shared/datasets/
cathy_arctic/transcripts.tsv, 399 sentences). ARCTIC's prompts were themselves selected from
out-of-copyright Project Gutenberg text for diphone coverage (Kominek & Black, "The CMU ARCTIC
speech databases", SSW5 2004). Here they are re-ordered greedily so that a person who stops early
has still covered as much as possible: each step takes the prompt that adds the most phoneme
bigrams (diphones, word boundaries included) not yet covered, ties broken by fewer words, then
by ARCTIC id. Phonemes come from espeak-ng (`espeak-ng -q -x --ipa -v en-us`), the same
phonemizer the TTS uses.

    python3 tools/order_prompts.py [SOURCE_TSV]   # writes datasets/prompts/arctic.tsv
"""
import csv
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared/datasets/cathy_arctic/transcripts.tsv"
OUT = ROOT / "datasets/prompts/arctic.tsv"
# The phoneme symbols of espeak-ng's IPA output, one per character except these combining marks.
MARKS = set("ˈˌːˑ̃ʰ͡‿")


def phonemes(text: str) -> list[str]:
    ipa = subprocess.run(["espeak-ng", "-q", "--ipa", "-v", "en-us", text],
                         check=True, capture_output=True, text=True).stdout
    out: list[str] = []
    for ch in ipa.replace("\n", " "):
        if ch in MARKS:
            if out and out[-1] != " ":
                out[-1] += ch if ch in "ːʰ̃" else ""
            continue
        if ch.isspace():
            if out and out[-1] != "#":
                out.append("#")
            continue
        out.append(ch)
    return out


def main() -> None:
    rows = []
    with open(SRC, encoding="utf-8") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            rows.append((Path(r["path"]).stem, r["text"].strip()))
    bigrams = {}
    for pid, text in rows:
        ph = ["#"] + phonemes(text) + ["#"]
        bigrams[pid] = {(a, b) for a, b in zip(ph, ph[1:])}
    covered: set = set()
    order = []
    left = dict(rows)
    while left:
        best = max(left, key=lambda p: (len(bigrams[p] - covered), -len(left[p].split()), -int(p[-4:])))
        gain = len(bigrams[best] - covered)
        covered |= bigrams[best]
        order.append((best, left.pop(best), gain, len(covered)))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        f.write("id\ttext\tnew_diphones\tcovered_diphones\n")
        for pid, text, gain, cov in order:
            f.write(f"{pid}\t{text}\t{gain}\t{cov}\n")
    total = len(covered)
    for n in (10, 25, 50, 100):
        print(f"first {n:>3} prompts cover {order[n - 1][3]} of {total} diphones "
              f"({100 * order[n - 1][3] / total:.0f} %)")
    print(f"wrote {OUT} ({len(order)} prompts)")


if __name__ == "__main__":
    main()
