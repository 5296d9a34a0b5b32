#!/usr/bin/env bash
# Early-warning benchmark, two parts:
#  1. Precision and recall: for each seed, generate 28 days of darknet traffic (diurnal and
#     weekly cycles, six injected surges of 2x-10x on different ports and hours, real IP data),
#     ingest it, run `greenwatch detect --json` and match findings with the ground truth (a
#     port finding starting within one hour of a surge's start is a true positive).
#  2. Speed of the detector's hot path against what an analyst would run instead, on the same
#     series: pandas seasonal rolling median + MAD and statsmodels' robust STL
#     (bench/detect/reference.py), over SERIES synthetic four-week hourly series.
#
#   bench/detect/run.sh [SEEDS] [PACKETS]     (default "1 2 3 4 5", 6000000)
# env: SERIES (default 500), BENCH_DIR (default .cache/bench), GREENWATCH_BIN (skip the build)
set -euo pipefail
cd "$(dirname "$0")/../.."
seeds="${1:-1 2 3 4 5}"
packets="${2:-6000000}"
work="${BENCH_DIR:-$PWD/.cache/bench}/detect"
venv="$PWD/.cache/bench-venv"
rm -rf "$work"
mkdir -p "$work"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c 'import pandas, statsmodels' 2>/dev/null ||
  "$venv/bin/pip" install -q -r bench/detect/requirements.txt

if [ -n "${GREENWATCH_BIN:-}" ]; then
  gw="$(realpath "$GREENWATCH_BIN")"
else
  cargo build --release -q -p greenwatch
  gw="$PWD/target/release/greenwatch"
fi
ip_data=$(scripts/fetch-ip-data.sh)

echo "| seed | surges >= 3x found | smaller surges found | findings | true positives | precision |"
echo "|---|---|---|---|---|---|"
for seed in $seeds; do
  data="$work/data-$seed"
  "$gw" --data "$data" netdb import "$ip_data"/asn-ipv4.csv "$ip_data"/geo-whois-asn-country-ipv4.csv \
    --as-of 2026-06-17 >/dev/null
  "$gw" --data "$data" generate traffic --out "$work/$seed.pcap" --truth "$work/$seed.truth.json" \
    --seed "$seed" --packets "$packets" --hours 672 --start 2026-10-05T00:00:00Z 2>/dev/null
  "$gw" --data "$data" ingest pcap "$work/$seed.pcap" --sensor bench >/dev/null 2>&1
  rm "$work/$seed.pcap"
  "$gw" --data "$data" detect --json 2>/dev/null >"$work/$seed.findings.json"
  "$venv/bin/python" bench/detect/score.py "$seed" "$work/$seed.truth.json" "$work/$seed.findings.json"
done

series="$work/series.csv"
"$venv/bin/python" bench/detect/series.py "${SERIES:-500}" >"$series"
cargo build --release -q -p greenwatch-detect --example detect_csv
ours=$(target/release/examples/detect_csv "$series")
theirs=$("$venv/bin/python" bench/detect/reference.py "$series")
"$venv/bin/python" - "$ours" "$theirs" <<'PY'
import json, sys
ours, theirs = json.loads(sys.argv[1]), json.loads(sys.argv[2])
n = ours["series"]
print(f"\n{n} series x {theirs['points']} hourly points")
print("| method | seconds | series/s | greenwatch faster by |")
print("|---|---|---|---|")
print(f"| greenwatch detect | {ours['seconds']:.3f} | {n / ours['seconds']:.0f} | 1 |")
for name in ("pandas_rolling_median", "statsmodels_stl"):
    s = theirs[name]["seconds"]
    print(f"| {name} | {s:.3f} | {n / s:.0f} | {s / ours['seconds']:.0f}x |")
PY
