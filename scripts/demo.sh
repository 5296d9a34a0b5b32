#!/usr/bin/env bash
# The main job (README): fetches the real IP data, builds Greenwatch, builds the demo data in
# ./greenwatch-data (organisations, users, sensors, their darknet traffic, a month of risk feeds
# for every risk, alerts, metrics, open-data export) and serves the portal on
# http://127.0.0.1:8080 (the first run prints every login's password, once).
set -euo pipefail
cd "$(dirname "$0")/.."
ip_data=$(scripts/fetch-ip-data.sh)
cargo run --release -p greenwatch -- demo --ip-data "$ip_data" "$@"
