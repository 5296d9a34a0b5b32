#!/usr/bin/env bash
# The one test command (README): unit, property, end-to-end and browser tests of the whole
# workspace. Does its own set-up on a fresh machine (Rust toolchain, Python, Node/npm and
# Debian's package manager): installs cargo-nextest, headless Chromium and chromedriver (the
# portal's browser tests) and iproute2 + procps (the live-capture test makes a veth pair in a
# network namespace) when they are missing, and fetches the real IP data once into
# .cache/ip-data.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium chromium-driver)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v sysctl >/dev/null 2>&1 || missing+=(procps)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "installing ${missing[*]} (apt)" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! cargo nextest --version >/dev/null 2>&1; then
  echo "installing cargo-nextest" >&2
  cargo install --locked cargo-nextest
fi

export GREENWATCH_NETDB_SAMPLE_DIR="${GREENWATCH_NETDB_SAMPLE_DIR:-$(scripts/fetch-ip-data.sh)}"
cargo nextest run --workspace --no-fail-fast
