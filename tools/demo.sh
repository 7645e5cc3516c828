#!/usr/bin/env bash
# The main job on the bundled real recordings: enroll Cathy from 30 takes into an encrypted
# profile, transcribe her 10 held-back takes (WER), speak a sentence and transcribe it back,
# fit a voice to hers (1 minute) and speak in it, then serve her models over HTTP.
# Idempotent: running it again reuses the build, the models and the profile.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

export OWNVOICE_HOME="${OWNVOICE_HOME:-$OWNVOICE_CACHE/demo-home}"
export OWNVOICE_PASSPHRASE="${OWNVOICE_PASSPHRASE:-demo only - choose your own passphrase}"
out="${OWNVOICE_DEMO_OUT:-$PWD/demo-out}"
mkdir -p "$out"
ov() { "$OWNVOICE_BIN" "$@"; }

# A demo profile from before the current profile format cannot be read: start it again.
if [ -e "$OWNVOICE_HOME/people/cathy.age" ] && ! ov people show cathy --access-only >/dev/null 2>&1; then
  echo "(removing a demo profile written by an older ownvoice)"
  rm -f "$OWNVOICE_HOME/people/cathy.age"
fi
ov device show >/dev/null 2>&1 || ov device init --label "demo device" >/dev/null

echo
echo "== 1. enroll cathy from datasets/cathy_arctic/enroll (30 real takes)"
ov enroll --person cathy --from-dir datasets/cathy_arctic/enroll
ov people show cathy > "$out/cathy-profile.txt"
head -6 "$out/cathy-profile.txt"
ov people report cathy -o "$out/cathy-report.html"

echo
echo "== 2. transcribe cathy's 10 held-back takes (never enrolled) with Whisper tiny.en"
ov eval asr --data datasets/cathy_arctic/heldout | tail -1
ov transcribe --format srt datasets/cathy_arctic/heldout/wav/cathy/*.wav > "$out/heldout.srt"

echo
echo "== 2b. whose voice is it? (GE2E d-vectors against cathy's voice print)"
ov verify --person cathy datasets/cathy_arctic/heldout/wav/cathy/arctic_a0031.wav || true
ov verify --person cathy datasets/ljspeech_samples/wav/ljspeech/LJ001-0001.wav || true

echo
echo "== 3. speak a sentence with the Piper joe voice, then transcribe it back"
sentence="My voice is mine: ownvoice keeps it on my own devices, encrypted."
ov speak "$sentence" -o "$out/spoken.wav"
echo "said:  $sentence"
echo "heard: $(ov transcribe "$out/spoken.wav")"

echo
echo "== 4. fit a TTS voice to cathy's takes (all 54 stock voices speak first; a 3-minute budget in all, give it 30 for a closer voice)"
ov voice train --person cathy --minutes 3
ov speak --voice cathy "$sentence" -o "$out/cathy-voice.wav"
echo "heard: $(ov transcribe "$out/cathy-voice.wav")"
echo
echo "== 5. the local service: an OpenAI-style transcription routed to cathy by her voice"
"$OWNVOICE_BIN" serve --person cathy --no-wyoming --http 127.0.0.1:0 > "$out/serve.json" 2>/dev/null &
serve_pid=$!
for _ in $(seq 100); do [ -s "$out/serve.json" ] && break; sleep 0.2; done
http=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['http'])" "$out/serve.json")
curl -s "http://$http/v1/audio/transcriptions" -F file=@datasets/cathy_arctic/heldout/wav/cathy/arctic_a0031.wav \
  -F response_format=json; echo
kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true
echo
echo "== outputs"
echo "encrypted profile : $OWNVOICE_HOME/people/cathy.age"
echo "enrollment report : $out/cathy-report.html"
echo "subtitles         : $out/heldout.srt"
echo "speech            : $out/spoken.wav"
echo "cathy's own voice : $out/cathy-voice.wav"
