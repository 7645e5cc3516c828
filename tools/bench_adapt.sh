#!/usr/bin/env bash
# Whole-run cost of `ownvoice adapt` (issue 6 benchmark): 100 training takes × 3 epochs of
# Cathy (CMU ARCTIC), tiny.en, this machine's cores. Enrolls 117 takes once (every 7th is held
# back: 100 train, 17 held back), then times each variant with /usr/bin/time and prints
# wall seconds, training seconds (the optimisation alone), peak RSS and the held-back WER.
# Per-step times are in `cargo bench -p ownvoice --bench adapt`.
set -u
export OWNVOICE_PASSPHRASE=x
OV=${OWNVOICE_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/ownvoice/target/release/ownvoice}
S=${S:-$(cd "$(dirname "$0")/../.." && pwd)/shared/datasets/cathy_arctic}
out=/tmp/bench_adapt; mkdir -p $out
if [ ! -f $out/enrolled/people/cathy.age ]; then
  rm -rf $out/enrolled
  OWNVOICE_HOME=$out/enrolled $OV enroll --person cathy --from-dir "$S" --limit 117 --max-wer 1.0 \
    > $out/enroll.txt 2>&1 || { echo "enroll failed: $out/enroll.txt"; exit 1; }
fi
printf '%-34s %8s %8s %10s %12s\n' variant wall_s train_s peak_MB "WER before→after"
while IFS='|' read -r name args; do
  export OWNVOICE_HOME=$out/home; rm -rf $OWNVOICE_HOME; cp -r $out/enrolled $OWNVOICE_HOME
  # shellcheck disable=SC2086
  /usr/bin/time -f "%e %M" -o $out/time.txt $OV adapt --person cathy --heldout 0.15 --epochs 3 \
    --no-early-stopping $args --json > $out/run.json 2> $out/run.err || { echo "$name failed"; continue; }
  read -r wall rss < $out/time.txt
  python3 -c "
import json; r=json.load(open('$out/run.json'))
print('%-34s %8.0f %8.0f %10.0f %6.2f→%.2f %%' % ('$name', $wall, r['train_seconds'], $rss/1024, 100*r['heldout_wer_before'], 100*r['heldout_wer_after']))"
done <<'VARIANTS'
decoder + 2 encoder blocks (default)|
decoder + 2 encoder blocks, packed|--pack
decoder LoRA (encoder cached)|--encoder-layers 0
decoder LoRA, packed|--pack --encoder-layers 0
VARIANTS
rm -rf $out/home
