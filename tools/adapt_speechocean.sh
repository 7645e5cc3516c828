#!/usr/bin/env bash
# Speaker adaptation on speechocean762 (../shared/datasets), the issue-6 protocol: per speaker,
# enroll all 20 takes (without the enrollment WER gate: learner speech is what adaptation is
# for), then for each fold f in FOLDS adapt on 15 takes and test on the other 5 (index ≡ f mod 4),
# so with the default FOLDS="0 1 2 3" every take is tested once, by a model that never saw it.
# Early stopping is off (--no-early-stopping) so the test takes choose nothing: the WER after is
# the last epoch's, whatever the WER gate then decides.
#
# Settings: N speakers (default 20), FOLDS, ARGS (extra `ownvoice adapt` flags; default the
# tuned settings below), TAG (results go to /tmp/so_adapt/$TAG). Prints one line per speaker and
# fold, then a summary by tools/adapt_summary.py (mean relative WER change per speaker, with
# and without the gate). Uses the release build of tools/setup.sh.
set -u
S=${S:-$(cd "$(dirname "$0")/../.." && pwd)/shared/datasets/speechocean762}
OV=${OWNVOICE_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/ownvoice/target/release/ownvoice}
ARGS=${ARGS:---epochs 10 --batch 2 --lr 1e-3 --warmup 5}
TAG=${TAG:-default}
export OWNVOICE_PASSPHRASE=x
base=/tmp/so_adapt; out=$base/$TAG; mkdir -p $out $base/enrolled
for spk in $(tail -n +2 $S/transcripts.tsv | cut -f2 | sort -u | head -${N:-20}); do
  enrolled=$base/enrolled/$spk
  if [ ! -f $enrolled/people/p.age ]; then
    rm -rf $enrolled
    OWNVOICE_HOME=$enrolled $OV enroll --person p --from-dir $S --speaker $spk --max-wer 1.0 \
      --json > $base/enrolled/$spk.json 2>/dev/null || { echo "$spk: enroll failed" >&2; continue; }
  fi
  for f in ${FOLDS:-0 1 2 3}; do
    export OWNVOICE_HOME=$out/home; rm -rf $OWNVOICE_HOME; cp -r $enrolled $OWNVOICE_HOME
    # shellcheck disable=SC2086
    $OV adapt --person p --heldout 0.25 --heldout-fold $f --no-early-stopping $ARGS --json \
      > $out/$spk-$f.json 2> $out/$spk-$f.err || { echo "$spk fold $f: adapt failed" >&2; continue; }
    python3 -c "
import json; r=json.load(open('$out/$spk-$f.json'))
print('$spk', $f, r['train_takes'], r['heldout_takes'], round(r['heldout_wer_before']*100,1), round(r['heldout_wer_after']*100,1), round(r['train_seconds'],1))"
  done
done
rm -rf $out/home
python3 "$(dirname "$0")/adapt_summary.py" "$S" "$out"
