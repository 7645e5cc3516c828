#!/usr/bin/env bash
# Speaker adaptation on Cathy (../shared/datasets/cathy_arctic, 399 takes): enroll all, adapt
# tiny.en holding back every 4th take (99), print the JSON record (held-back WER before/after).
set -u
export OWNVOICE_HOME=/tmp/cathy-adapt OWNVOICE_PASSPHRASE=x
OV=${OWNVOICE_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/ownvoice/target/release/ownvoice}
S=${S:-$(cd "$(dirname "$0")/../.." && pwd)/shared/datasets/cathy_arctic}
rm -rf $OWNVOICE_HOME
/usr/bin/time -f "enroll %e s" $OV enroll --person cathy --from-dir "$S" --max-wer 1.0 > /tmp/cathy-enroll.txt 2>&1
/usr/bin/time -f "adapt %e s, peak RSS %M KB" $OV adapt --person cathy --heldout 0.25 --json > /tmp/cathy-adapt.json 2> /tmp/cathy-adapt.err
cat /tmp/cathy-adapt.json; tail -1 /tmp/cathy-adapt.err
