#!/usr/bin/env bash
# Set up (packages, build, models) and run the whole test suite: formatting, clippy, unit tests
# and the end-to-end tests, which run the real models on the bundled real speech.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

for component in rustfmt clippy; do
  if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1 && command -v rustup >/dev/null; then
    rustup component add "$component"
  fi
done
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy -D warnings"
cargo clippy --release --locked --workspace --all-targets -- -D warnings
echo "== cargo test"
# One test at a time: each end-to-end test runs whisper.cpp on all cores.
cargo test --release --locked --workspace -- --test-threads=1
