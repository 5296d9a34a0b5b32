#!/usr/bin/env bash
# The one test command (README): unit, property and end-to-end tests of the whole workspace.
# End-to-end tests use the real IP data, fetched once into .cache/ip-data.
set -euo pipefail
cd "$(dirname "$0")/.."
export GREENWATCH_NETDB_SAMPLE_DIR="${GREENWATCH_NETDB_SAMPLE_DIR:-$(scripts/fetch-ip-data.sh)}"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
else
  cargo test --workspace --no-fail-fast
fi
