#!/usr/bin/env bash
# The one test command (README): unit, property, end-to-end and browser tests of the whole
# workspace. Does its own set-up on a fresh machine (Rust toolchain, Python, Node/npm and
# Debian's package manager): installs cargo-nextest, headless Chromium and chromedriver (the
# portal's browser tests) and iproute2 + procps (the live-capture test makes a veth pair in a
# network namespace) when they are missing, and fetches the real IP data once into
# .cache/ip-data. The PostgreSQL backend's tests run against a throw-away PostgreSQL 15 on
# loopback that scripts/services.sh installs and starts here and stops at the end (unless
# GREENWATCH_TEST_POSTGRES already names a server); the end-to-end truth checks then run a
# second time with the binary on that PostgreSQL store.
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

if [ -z "${GREENWATCH_TEST_POSTGRES:-}" ]; then
  services=$(mktemp -d /tmp/greenwatch-test-services.XXXXXX)
  trap 'scripts/services.sh stop "$services"; rm -rf "$services"' EXIT
  GREENWATCH_TEST_POSTGRES=$(scripts/services.sh start "$services" --clickhouse-shards 0)
  export GREENWATCH_TEST_POSTGRES
fi
export GREENWATCH_NETDB_SAMPLE_DIR="${GREENWATCH_NETDB_SAMPLE_DIR:-$(scripts/fetch-ip-data.sh)}"
status=0
cargo nextest run --workspace --no-fail-fast || status=$?
# The end-to-end truth checks (ingest = ground truth, metrics = feed truth, accounts, sensors
# and collectors, detection and delivery, two serve processes on one store) once more with the
# binary on the PostgreSQL store.
# (--workspace and a filter, not -p: the same feature set as above, so nothing is rebuilt.)
GREENWATCH_E2E_STORE=postgres cargo nextest run --workspace --no-fail-fast -E \
  'package(greenwatch) & (binary(e2e) | binary(feeds) | binary(sensor) | binary(accounts) | binary(detect) | binary(warn) | binary(serve_shared))' \
  || status=$?
exit $status
