#!/usr/bin/env bash
# Store backends side by side: the same capture and risk feed ingested into the embedded
# SQLite store and into PostgreSQL 15 (a throw-away server on loopback from
# scripts/services.sh), then the same questions asked of both with the CLI, each timed over
# REPEAT runs (median). Prints a markdown table with the PostgreSQL / SQLite ratio per step,
# and the size each store takes on disk.
#
#   bench/store/run.sh [PACKETS] [FEED_ROWS]       (default 5000000 and 500000)
# env: BENCH_DIR (default .cache/bench-store), REPEAT (default 3), GREENWATCH_BIN,
#      GREENWATCH_TEST_POSTGRES (use this server instead of starting one)
set -euo pipefail
cd "$(dirname "$0")/../.."
packets="${1:-5000000}"
feed_rows="${2:-500000}"
work="${BENCH_DIR:-$PWD/.cache/bench-store}"
repeat="${REPEAT:-3}"
hours=720                        # 30 days of hourly buckets
start=2026-09-01T00:00:00Z
rm -rf "$work/sqlite" "$work/services"; mkdir -p "$work/sqlite"

if [ -n "${GREENWATCH_BIN:-}" ]; then
  gw="$(realpath "$GREENWATCH_BIN")"
else
  cargo build --release -q -p greenwatch
  gw="$PWD/target/release/greenwatch"
fi

services=""
cleanup() { [ -n "$services" ] && scripts/services.sh stop "$services"; true; }
trap cleanup EXIT INT TERM
if [ -n "${GREENWATCH_TEST_POSTGRES:-}" ]; then
  base=$GREENWATCH_TEST_POSTGRES
else
  services="$work/services"
  base=$(scripts/services.sh start "$services" --clickhouse-shards 0)
fi
schema="bench_$$"
export PGOPTIONS="--client-min-messages=warning"   # no NOTICE per dropped table
psql "$base" -qc "DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema" >/dev/null
sep='?'; case $base in *\?*) sep='&' ;; esac
postgres="$base${sep}options=-c%20search_path%3D$schema"
sqlite="sqlite:$work/sqlite/greenwatch.sqlite"

ip_data=$(scripts/fetch-ip-data.sh)
"$gw" --data "$work/sqlite" netdb import "$ip_data"/asn-ipv4.csv "$ip_data"/geo-whois-asn-country-ipv4.csv \
  --as-of "${start%%T*}" >/dev/null
pcap="$work/month-$packets.pcap"
feed="$work/2026-09-01-scan_dns-bench-asn.csv"
[ -f "$pcap" ] || "$gw" --data "$work/sqlite" generate traffic --out "$pcap" --truth "$pcap.truth.json" \
  --seed 5 --packets "$packets" --hours "$hours" --start "$start" >&2
[ -f "$feed" ] || "$gw" --data "$work/sqlite" generate feed --report scan_dns --rows "$feed_rows" \
  --days 30 --start "${start%%T*}" --seed 7 --no-truth --out "$feed" >&2

results="$work/results.tsv"; : > "$results"
# step NAME COMMAND... : median seconds of REPEAT runs on each store ({store} is replaced).
timed() { # store args... -> seconds
  local t0 t1; t0=$(date +%s.%N); "$gw" --data "$work/sqlite" --store "$@" >/dev/null; t1=$(date +%s.%N)
  python3 -c "print($t1 - $t0)"
}
median() { python3 -c 'import statistics,sys; print(statistics.median(map(float, sys.argv[1:])))' "$@"; }
step() {
  local name=$1 runs=$2; shift 2
  local s=() p=()
  for _ in $(seq "$runs"); do s+=("$(timed "$sqlite" "$@")"); p+=("$(timed "$postgres" "$@")"); done
  printf '%s\t%s\t%s\n' "$name" "$(median "${s[@]}")" "$(median "${p[@]}")" | tee -a "$results" >&2
}

for store in "$sqlite" "$postgres"; do
  "$gw" --data "$work/sqlite" --store "$store" org add bench --name Bench >/dev/null
done
step "ingest pcap ($packets packets)" 1 ingest pcap "$pcap" --org bench --tlp clear --json
step "ingest feed ($feed_rows rows)" 1 ingest feed "$feed" --org bench --tlp clear --json
step "query top --by port (30 days)" "$repeat" query top --by port --json
step "query top --by source (30 days)" "$repeat" query top --by source --json
step "query dos (30 days)" "$repeat" query dos --json
step "metrics scan_dns by country, month" "$repeat" metrics --risk openrecursivedns --period month --at 2026-09 --json
step "metrics scan_dns by asn, month" "$repeat" metrics --risk openrecursivedns --by asn --period month --at 2026-09 --json

sqlite_size=$(du -sb "$work/sqlite/greenwatch.sqlite" | cut -f1)
pg_size=$(psql "$base" -tAc "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '$schema' AND c.relkind = 'r'")
psql "$base" -qc "DROP SCHEMA $schema CASCADE" >/dev/null
python3 - "$results" "$packets" "$sqlite_size" "$pg_size" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
packets, sq, pg = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4] or 0)
print("| step | SQLite s | PostgreSQL s | PostgreSQL / SQLite |")
print("|---|---:|---:|---:|")
for name, s, p in rows:
    s, p = float(s), float(p)
    print(f"| {name} | {s:.2f} | {p:.2f} | {p / s:.2f} |")
ingest = rows[0]
print(f"\ningest rate: SQLite {packets / float(ingest[1]):,.0f} packets/s, "
      f"PostgreSQL {packets / float(ingest[2]):,.0f} packets/s")
print(f"on disk: SQLite {sq / 2**20:,.0f} MiB, PostgreSQL {pg / 2**20:,.0f} MiB (tables and indexes)")
PY
