#!/usr/bin/env bash
# Speaker adaptation on Cathy (../shared/datasets/cathy_arctic, 399 takes): enroll all, adapt
# MODEL (default tiny.en; `base` after `ownvoice models fetch base`) holding back every 4th take
# (99), print the JSON record (held-back WER before/after). The enrolled profile in
# /tmp/cathy-adapt is reused when present (REENROLL=1 enrolls again); results go to
# /tmp/cathy-adapt-$MODEL.json.
set -u
MODEL=${MODEL:-tiny.en}
export OWNVOICE_HOME=/tmp/cathy-adapt OWNVOICE_PASSPHRASE=x
OV=${OWNVOICE_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/ownvoice/target/release/ownvoice}
S=${S:-$(cd "$(dirname "$0")/../.." && pwd)/shared/datasets/cathy_arctic}
if [ "${REENROLL:-0}" = 1 ] || [ ! -f $OWNVOICE_HOME/people/cathy.age ]; then
  rm -rf $OWNVOICE_HOME
  /usr/bin/time -f "enroll %e s" $OV enroll --person cathy --from-dir "$S" --max-wer 1.0 > /tmp/cathy-enroll.txt 2>&1
fi
r=/tmp/cathy-adapt-$MODEL
/usr/bin/time -f "adapt %e s, peak RSS %M KB" $OV adapt --person cathy --model "$MODEL" --heldout 0.25 --json > $r.json 2> $r.err
cat $r.json; tail -1 $r.err
