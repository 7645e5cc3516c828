#!/usr/bin/env bash
# Speaker adaptation on speechocean762 as a user meets it: the test takes are not in the
# profile at all. Per speaker and fold f in FOLDS: enroll only the 15 takes whose index (in
# transcripts.tsv order) is ≢ f mod 4; `ownvoice adapt` then runs with its defaults, exactly
# as for a user (for 15 takes: a gate cross-validated over 3 folds of the enrolled takes, and
# the installed model trained on all 15); finally `ownvoice eval asr` scores the 5 unseen takes
# with the base model and with `--person` (the adapted model if the gate installed it, else the
# base model). So no decision ever sees a test take, and the "after" figure is what the person
# would get.
#
# (tools/adapt_speechocean.sh is the other protocol: there the test takes are the held-back
# takes, early stopping is off, and its "gated" figure is optimistic.)
#
# Settings: N speakers (default 20; or SPEAKERS, their names), FOLDS (default "0 1 2 3"),
# ARGS (extra `ownvoice adapt` flags, default none; stop 16 ran `--cv-folds 0 --epochs 10
# --batch 2 --lr 1e-3 --warmup 5`, the held-back split of 2 takes with early stopping;
# `--gate-t 0` installs on any pooled gain, and MIN_TS="0.5 1" then also summarises the same
# runs under those stricter gates), TAG (results in /tmp/so_unseen/$TAG; a speaker and fold
# already scored there is skipped, so an interrupted run goes on where it stopped; REDO=1
# scores everything again). Prints one line per speaker and fold, then the summary of
# tools/adapt_summary.py --unseen. Uses the release build of tools/setup.sh.
set -u
S=${S:-$(cd "$(dirname "$0")/../.." && pwd)/shared/datasets/speechocean762}
OV=${OWNVOICE_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/ownvoice/target/release/ownvoice}
ARGS=${ARGS:-}
TAG=${TAG:-default}
export OWNVOICE_PASSPHRASE=x
out=/tmp/so_unseen/$TAG; mkdir -p "$out"
SPEAKERS=${SPEAKERS:-$(tail -n +2 "$S/transcripts.tsv" | cut -f2 | sort -u | head -"${N:-20}")}
for spk in $SPEAKERS; do
  for f in ${FOLDS:-0 1 2 3}; do
    r=$out/$spk-$f
    [ -s "$r.after.json" ] && [ -z "${REDO:-}" ] && { echo "$spk fold $f: already scored, kept"; continue; }
    d=$out/data/$spk-$f; mkdir -p "$d/train" "$d/test"
    for part in train test; do printf 'path\tspeaker\ttext\n' > "$d/$part/transcripts.tsv"; done
    awk -F'\t' -v spk="$spk" -v f="$f" -v S="$S" -v d="$d" '
      NR > 1 && $2 == spk { part = (i++ % 4 == f) ? "test" : "train";
        print S "/" $1 "\t" $2 "\t" $3 >> (d "/" part "/transcripts.tsv") }' "$S/transcripts.tsv"
    export OWNVOICE_HOME=$out/home; rm -rf "$OWNVOICE_HOME"
    $OV enroll --person p --from-dir "$d/train" --max-wer 1.0 --json > "$r.enroll.json" 2>/dev/null \
      || { echo "$spk fold $f: enroll failed" >&2; continue; }
    # shellcheck disable=SC2086
    $OV adapt --person p $ARGS --json > "$r.adapt.json" 2> "$r.adapt.err" \
      || { echo "$spk fold $f: adapt failed" >&2; continue; }
    $OV eval asr --data "$d/test" --json > "$r.before.json" 2>/dev/null &&
      $OV eval asr --data "$d/test" --person p --json > "$r.after.json" 2>/dev/null \
      || { echo "$spk fold $f: eval failed" >&2; continue; }
    python3 -c "
import json; a=json.load(open('$r.adapt.json')); b=json.load(open('$r.before.json')); c=json.load(open('$r.after.json'))
print('$spk', $f, 'installed' if a['installed'] else 'kept base', 'gate t', a.get('gate_t'), 'test WER', round(b['wer']*100,1), '->', round(c['wer']*100,1), 'train s', round(a['train_seconds'],1))"
  done
done
rm -rf "$out/home"
# shellcheck disable=SC2086
python3 "$(dirname "$0")/adapt_summary.py" --unseen "$out" ${MIN_TS:-}
