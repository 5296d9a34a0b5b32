#!/usr/bin/env bash
# The main job (README): fetches the real IP data, builds Greenwatch, builds the demo data in
# ./greenwatch-data (a darknet capture, a month of risk feeds, metrics, open-data export) and
# serves the portal on http://127.0.0.1:8080 (first start prints the admin login).
set -euo pipefail
cd "$(dirname "$0")/.."
ip_data=$(scripts/fetch-ip-data.sh)
cargo run --release -p greenwatch -- demo --ip-data "$ip_data" "$@"
