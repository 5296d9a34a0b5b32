#!/usr/bin/env bash
# The main job (README): fetches the real IP data, builds Greenwatch and runs the demo into
# ./greenwatch-data (generate a darknet capture, ingest it, show top ports, countries, DoS).
set -euo pipefail
cd "$(dirname "$0")/.."
ip_data=$(scripts/fetch-ip-data.sh)
cargo run --release -p greenwatch -- demo --ip-data "$ip_data" "$@"
