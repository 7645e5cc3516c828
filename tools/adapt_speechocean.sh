#!/usr/bin/env bash
# Speaker adaptation on speechocean762 (../shared/datasets): per speaker, enroll all 20 takes
# (without the enrollment WER gate: learner speech is what adaptation is for), adapt tiny.en
# holding back every 4th take (5 of 20), and print: speaker, train takes, held-back takes,
# WER before %, WER after %, training seconds. N speakers (default 20), E epochs, LR rate.
# Uses the release build of tools/setup.sh; state goes to /tmp/so_adapt.
set -u
S=${S:-$(cd "$(dirname "$0")/../.." && pwd)/shared/datasets/speechocean762}
OV=${OWNVOICE_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/ownvoice/target/release/ownvoice}
export OWNVOICE_PASSPHRASE=x
out=/tmp/so_adapt; mkdir -p $out
for spk in $(tail -n +2 $S/transcripts.tsv | cut -f2 | sort -u | head -${N:-20}); do
  export OWNVOICE_HOME=$out/home-$spk; rm -rf $OWNVOICE_HOME
  $OV enroll --person p --from-dir $S --speaker $spk --max-wer 1.0 --json > $out/$spk-enroll.json 2>/dev/null
  $OV adapt --person p --heldout 0.25 --epochs ${E:-3} --lr ${LR:-5e-4} --json > $out/$spk-adapt.json 2>$out/$spk-adapt.err
  python3 -c "
import json; r=json.load(open('$out/$spk-adapt.json')); print('$spk', r['train_takes'], r['heldout_takes'], round(r['heldout_wer_before']*100,1), round(r['heldout_wer_after']*100,1), round(r['train_seconds'],1))"
done
