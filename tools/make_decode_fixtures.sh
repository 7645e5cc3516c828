#!/usr/bin/env bash
# Decoder fixtures for crates/audio: tests/fixtures/decode/.
#
# From ONE real clip, datasets/cathy_arctic/enroll/wav/cathy/arctic_a0002.wav (CMU ARCTIC prompt
# read by "cathy", CC0 1.0; 16 kHz mono s16, 3.35 s), this makes the same audio in several
# containers / codecs / sample rates / channel counts / sample formats:
#
#   source_16k_mono.wav        byte-for-byte copy of the clip
#   pcm_u8_8k_mono.wav         WAV unsigned 8-bit, 8 kHz
#   pcm_s16_44k_stereo.wav     WAV signed 16-bit, 44.1 kHz, 2 ch       (excerpt, see below)
#   pcm_s24_48k_mono.wav       WAV signed 24-bit, 48 kHz               (excerpt)
#   pcm_s32_22k_mono.wav       WAV signed 32-bit, 22.05 kHz            (excerpt)
#   float32_48k_stereo.wav     WAV IEEE float 32-bit, 48 kHz, 2 ch     (excerpt)
#   float64_16k_mono.wav       WAV IEEE float 64-bit, 16 kHz           (excerpt)
#   flac_s16_44k_stereo.flac   FLAC 16-bit, 44.1 kHz, 2 ch
#   flac_s24_48k_mono.flac     FLAC 24-bit, 48 kHz
#   mp3_44k_stereo.mp3         MP3 (LAME) 128 kbps CBR, 44.1 kHz, 2 ch
#   mp3_22k_mono.mp3           MP3 (LAME) VBR -V 5, 22.05 kHz, 1 ch
#   vorbis_44k_stereo.ogg      Ogg Vorbis q4, 44.1 kHz, 2 ch
#   vorbis_16k_mono.ogg        Ogg Vorbis q4, 16 kHz, 1 ch
#   fixtures.tsv               file, container, codec, sample_rate_hz, channels, bits,
#                              duration_s (ffprobe of the generated file), transcript
#   README.md                  how they were made, tool versions, licence
#
# Stereo files carry the clip in the left channel and the clip at half amplitude (-6.02 dB) in
# the right one. Resampling is sox's `rate -v` (very high quality); no dither (-D), so every
# integer format is plain rounding, and sox runs with -R (repeatable). MP3 and Vorbis are encoded
# by ffmpeg (libmp3lame / libvorbis) from a float32 WAV that sox resampled/remixed the same way,
# with bit-exact flags so re-running gives identical files.
#
# The uncompressed formats above 16 kHz / 16-bit (and the float64 one) would be 0.3-1.3 MB for
# the whole clip, so they hold only its first EXCERPT_S seconds (the word "Not"; cut in a pause),
# taken AFTER resampling the whole clip: each excerpt is exactly the first N samples of the
# full-length conversion. Everything else holds the whole clip.
#
# Usage (from anywhere; writes into the repository):
#     tools/make_decode_fixtures.sh [OUT_DIR]        # default tests/fixtures/decode
# Installs sox and ffmpeg with apt-get when missing (sudo only when not root). Idempotent:
# re-running regenerates identical files.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/tests/fixtures/decode}"
SRC_DIR="$ROOT/datasets/cathy_arctic/enroll"
SRC="$SRC_DIR/wav/cathy/arctic_a0002.wav"
EXCERPT_S=0.44            # multiple of 0.02 s: a whole number of samples at 8/16/22.05/44.1/48 kHz
EXCERPT_TEXT="Not"

need=()
command -v sox >/dev/null && command -v soxi >/dev/null || need+=(sox)
# sox's FLAC writer lives in libsox-fmt-base
command -v sox >/dev/null && sox -h 2>&1 | grep -i 'file formats' | grep -qw flac || need+=(libsox-fmt-base)
command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || need+=(ffmpeg)
if ((${#need[@]})); then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "installing ${need[*]}" >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

[ "$(soxi -r "$SRC")" = 16000 ] && [ "$(soxi -c "$SRC")" = 1 ] && [ "$(soxi -b "$SRC")" = 16 ] \
    || { echo "$SRC: expected 16 kHz mono 16-bit" >&2; exit 1; }
TEXT="$(awk -F'\t' '$1 == "wav/cathy/arctic_a0002.wav" { print $3; exit }' "$SRC_DIR/transcripts.tsv")"
[ -n "$TEXT" ] || { echo "no transcript for arctic_a0002 in $SRC_DIR/transcripts.tsv" >&2; exit 1; }

mkdir -p "$OUT"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# excerpt_samples RATE -> number of samples in EXCERPT_S seconds at RATE
excerpt_samples() { awk -v r="$1" -v s="$EXCERPT_S" 'BEGIN { printf "%d", r * s + 0.5 }'; }

# pcm NAME RATE CHANNELS ENCODING BITS WHOLE|EXCERPT  (sox: WAV or FLAC by NAME's extension)
pcm() {
    local name=$1 rate=$2 ch=$3 enc=$4 bits=$5 span=$6 fx=()
    [ "$ch" = 2 ] && fx+=(remix 1 1v0.5)
    [ "$rate" != 16000 ] && fx+=(rate -v "$rate")
    [ "$span" = EXCERPT ] && fx+=(trim 0 "$(excerpt_samples "$rate")s")
    local enc_opt=(); [ -n "$enc" ] && enc_opt=(-e "$enc")
    sox -R -D "$SRC" "${enc_opt[@]}" -b "$bits" "$TMP/$name" "${fx[@]}"
    mv -f "$TMP/$name" "$OUT/$name"
}

# lossy NAME RATE CHANNELS FFMPEG-CODEC-ARGS...  (sox resamples/remixes to float, ffmpeg encodes)
lossy() {
    local name=$1 rate=$2 ch=$3; shift 3
    local fx=()
    [ "$ch" = 2 ] && fx+=(remix 1 1v0.5)
    [ "$rate" != 16000 ] && fx+=(rate -v "$rate")
    sox -R -D "$SRC" -e floating-point -b 32 "$TMP/in_$name.wav" "${fx[@]}"
    ffmpeg -nostdin -v error -y -i "$TMP/in_$name.wav" -map_metadata -1 \
        -fflags +bitexact -flags:a +bitexact "$@" "$TMP/$name"
    mv -f "$TMP/$name" "$OUT/$name"
}

cp -f "$SRC" "$OUT/source_16k_mono.wav"
pcm pcm_u8_8k_mono.wav        8000  1 unsigned-integer 8  WHOLE
pcm pcm_s16_44k_stereo.wav    44100 2 signed-integer   16 EXCERPT
pcm pcm_s24_48k_mono.wav      48000 1 signed-integer   24 EXCERPT
pcm pcm_s32_22k_mono.wav      22050 1 signed-integer   32 EXCERPT
pcm float32_48k_stereo.wav    48000 2 floating-point   32 EXCERPT
pcm float64_16k_mono.wav      16000 1 floating-point   64 EXCERPT
pcm flac_s16_44k_stereo.flac  44100 2 ""               16 WHOLE
pcm flac_s24_48k_mono.flac    48000 1 ""               24 WHOLE
lossy mp3_44k_stereo.mp3    44100 2 -c:a libmp3lame -b:a 128k
lossy mp3_22k_mono.mp3      22050 1 -c:a libmp3lame -q:a 5
lossy vorbis_44k_stereo.ogg 44100 2 -c:a libvorbis -q:a 4
lossy vorbis_16k_mono.ogg   16000 1 -c:a libvorbis -q:a 4

FILES=(source_16k_mono.wav pcm_u8_8k_mono.wav pcm_s16_44k_stereo.wav pcm_s24_48k_mono.wav
       pcm_s32_22k_mono.wav float32_48k_stereo.wav float64_16k_mono.wav
       flac_s16_44k_stereo.flac flac_s24_48k_mono.flac mp3_44k_stereo.mp3 mp3_22k_mono.mp3
       vorbis_44k_stereo.ogg vorbis_16k_mono.ogg)
EXCERPTS=" pcm_s16_44k_stereo.wav pcm_s24_48k_mono.wav pcm_s32_22k_mono.wav float32_48k_stereo.wav float64_16k_mono.wav "

# probe FILE -> "container<TAB>codec<TAB>rate<TAB>channels<TAB>bits<TAB>duration" from ffprobe
probe() {
    local f=$1 key val fmt="" codec="" rate="" ch="" raw="" bps="" dur=""
    while IFS='=' read -r key val; do
        case "$key" in
            format_name) fmt=$val ;; codec_name) codec=$val ;; sample_rate) rate=$val ;;
            channels) ch=$val ;; bits_per_raw_sample) raw=$val ;; bits_per_sample) bps=$val ;;
            duration) [ -n "$dur" ] || dur=$val ;;   # the stream's duration comes first
        esac
    done < <(ffprobe -v error -select_streams a:0 -show_entries \
        stream=codec_name,sample_rate,channels,bits_per_raw_sample,bits_per_sample,duration:format=format_name \
        -of default=nw=1 "$f")
    local bits=""
    case "$codec" in
        pcm_*|flac) if [ -n "$raw" ] && [ "$raw" != N/A ] && [ "$raw" != 0 ]; then bits=$raw; else bits=$bps; fi ;;
    esac
    [ -n "$fmt" ] && [ -n "$codec" ] && [ -n "$rate" ] && [ -n "$ch" ] && [ -n "$dur" ] && [ "$dur" != N/A ] \
        || { echo "ffprobe gave incomplete information for $f" >&2; exit 1; }
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$fmt" "$codec" "$rate" "$ch" "$bits" "$dur"
}

{
    printf 'file\tcontainer\tcodec\tsample_rate_hz\tchannels\tbits\tduration_s\ttranscript\n'
    for f in "${FILES[@]}"; do
        text="$TEXT"; [[ "$EXCERPTS" == *" $f "* ]] && text="$EXCERPT_TEXT"
        printf '%s\t%s\t%s\n' "$f" "$(probe "$OUT/$f")" "$text"
    done
} >"$OUT/fixtures.tsv"

# Decoded sample counts (ffmpeg, after its own gapless trimming) for the README's MP3/Vorbis note.
decoded_frames() {
    local ch; ch="$(ffprobe -v error -select_streams a:0 -show_entries stream=channels -of csv=p=0 "$1")"
    echo $(( $(ffmpeg -nostdin -v error -i "$1" -f s16le -acodec pcm_s16le - | wc -c) / (2 * ch) ))
}

# lame_gapless FILE -> "delay / padding" from the LAME tag of an MP3's Xing/Info frame, or "-"
lame_gapless() {
    local off="" b
    [[ "$1" == *.mp3 ]] && off="$(grep -obUaE 'Xing|Info' "$1" | head -1 | cut -d: -f1)"
    [ -n "$off" ] || { echo "-"; return; }
    read -r -a b < <(od -An -tu1 -j $((off + 141)) -N3 "$1")
    echo "$(( (b[0] << 4) | (b[1] >> 4) )) / $(( ((b[1] & 15) << 8) | b[2] ))"
}

versions() {
    echo "- $(sox --version 2>&1 | sed 's/^sox: *//')"
    echo "- $(ffmpeg -version | head -1 | sed 's/ Copyright.*//')"
    if command -v dpkg-query >/dev/null; then
        dpkg-query -W -f='- Debian package ${Package} ${Version}\n' \
            sox libsox3 ffmpeg libmp3lame0 libvorbisenc2 libflac12 2>/dev/null || true
    fi
}

{
cat <<EOF
# Decoder fixtures

Generated by \`tools/make_decode_fixtures.sh\` (run it from anywhere; it rewrites this folder with
identical content). Do not edit by hand.

## Source
\`source_16k_mono.wav\` is a byte-for-byte copy of
\`datasets/cathy_arctic/enroll/wav/cathy/arctic_a0002.wav\`: 16 kHz mono signed 16-bit,
$(soxi -s "$SRC") samples ($(soxi -D "$SRC") s), peak amplitude about 0.17. Transcript (from
\`datasets/cathy_arctic/enroll/transcripts.tsv\`): "$TEXT"

**Licence:** the recording is from the Rhasspy "Voice Dataset (Cathy)" (a native US-English female
speaker reading CMU ARCTIC prompts), released under **CC0 1.0** (public-domain dedication); see
\`datasets/cathy_arctic/LICENSE\` and \`datasets/cathy_arctic/SOURCE.md\`. The CMU ARCTIC prompt
text itself is distributed by CMU under a permissive BSD-style licence.

## How each file was made
- Resampling: \`sox rate -v\` (very high quality) of the whole clip; no dither (\`sox -D\`: integer
  formats are plain rounding); \`sox -R\` (repeatable).
- Stereo files: left = the clip, right = the clip times 0.5 (\`sox remix 1 1v0.5\`, -6.02 dB), so a
  decoder's channel order and a downmix can be checked (mean downmix = 0.75 x the clip).
- WAV and FLAC are written by sox. MP3 (libmp3lame) and Ogg Vorbis (libvorbis) are encoded by
  ffmpeg from a float32 WAV that sox resampled/remixed the same way, with
  \`-fflags +bitexact -flags:a +bitexact -map_metadata -1\` (no version strings, fixed Ogg serial).
  \`mp3_44k_stereo.mp3\` is 128 kbps CBR; \`mp3_22k_mono.mp3\` is LAME VBR \`-V 5\` (with a
  Xing/LAME header); both Vorbis files are quality 4.
- **Excerpts:** \`pcm_s16_44k_stereo.wav\`, \`pcm_s24_48k_mono.wav\`, \`pcm_s32_22k_mono.wav\`,
  \`float32_48k_stereo.wav\` and \`float64_16k_mono.wav\` hold only the first ${EXCERPT_S} s (the
  word "$EXCERPT_TEXT", cut in the pause before "at") to keep them small. The cut is made after
  resampling the whole clip, so each excerpt is exactly the first N samples of the full-length
  conversion (N = ${EXCERPT_S} s x rate). \`float64_16k_mono.wav\` is not resampled: its samples
  are exactly the source's int16 / 32768.
- WAV headers as sox writes them: the u8 and s16 files use a plain 16-byte \`fmt \` chunk
  (WAVE_FORMAT_PCM, 0x0001); \`pcm_s24_48k_mono.wav\` and \`pcm_s32_22k_mono.wav\` use
  WAVE_FORMAT_EXTENSIBLE (0xFFFE, 40-byte \`fmt \`, PCM sub-format) plus a \`fact\` chunk; the two
  float files use WAVE_FORMAT_IEEE_FLOAT (0x0003, 18-byte \`fmt \`) plus a \`fact\` chunk.
- \`fixtures.tsv\`: one row per file. \`container\`, \`codec\`, \`sample_rate_hz\`, \`channels\`,
  \`bits\` and \`duration_s\` are what \`ffprobe\` reports for the generated file (\`bits\` is the
  stored sample width: bits_per_raw_sample, else bits_per_sample; empty for MP3 and Vorbis, which
  have none). \`transcript\` is the words the file contains.

## MP3 / Vorbis length caveat
Lossy codecs do not store exactly the source's samples. N is the clip's length resampled to the
file's rate; "stored" is ffprobe's duration_s x rate (every coded frame); "decoded" is what ffmpeg
returns (it honours the LAME/Xing gapless header and the Ogg granule positions):

| file | rate | N | stored | decoded (ffmpeg) | LAME tag delay / padding |
|---|---|---|---|---|---|
EOF
for f in mp3_44k_stereo.mp3 mp3_22k_mono.mp3 vorbis_44k_stereo.ogg vorbis_16k_mono.ogg; do
    rate="$(ffprobe -v error -select_streams a:0 -show_entries stream=sample_rate -of csv=p=0 "$OUT/$f")"
    n=$(awk -v s="$(soxi -s "$SRC")" -v r="$rate" 'BEGIN { printf "%d", s * r / 16000 + 0.5 }')
    dur="$(awk -F'\t' -v f="$f" '$1 == f { print $7 }' "$OUT/fixtures.tsv")"
    stored=$(awk -v d="$dur" -v r="$rate" 'BEGIN { printf "%d", d * r + 0.5 }')
    echo "| \`$f\` | $rate | $n | $stored | $(decoded_frames "$OUT/$f") | $(lame_gapless "$OUT/$f") |"
done
cat <<EOF

MP3: ffprobe's \`duration_s\` for the two MP3 files counts every coded frame, so it is longer
than the clip. The LAME tag (in the Xing/Info frame, after a 20-byte ID3v2 header that ffmpeg
writes) gives the encoder delay and end padding; a gapless decoder drops delay + 529 samples
(1105 here) at the start and padding - 529 at the end, which is how ffmpeg gets exactly N.
A decoder that ignores the tag (for example symphonia without \`enable_gapless\`) returns the
extra ~1105 leading samples (about 25 ms at 44.1 kHz, 50 ms at 22.05 kHz) and the trailing
padding, so compare MP3 lengths with a tolerance of about two frames (2 x 1152 samples at
44.1 kHz, 2 x 576 at 22.05 kHz) and align before comparing waveforms. Vorbis files end exactly at
N (the last page's granule position); their \`duration_s\` equals the source's.

## Tools
$(versions)
EOF
} >"$OUT/README.md"

echo "wrote $OUT:" >&2
(cd "$OUT" && ls -l "${FILES[@]}" fixtures.tsv README.md | awk '{ printf "  %8d  %s\n", $5, $9 }') >&2
column -t -s $'\t' "$OUT/fixtures.tsv" >&2 2>/dev/null || cat "$OUT/fixtures.tsv" >&2
