#!/usr/bin/env bash
# Risk-feed benchmark: times, on the same generated Shadowserver scan_dns report (open DNS
# resolvers, 30 days of October 2026), `greenwatch ingest feed` + `greenwatch metrics` (distinct
# resolvers per country for the month, share of world, rank) against
#   - the pandas script an analyst would write for the same metric (bench/feeds/metrics_pandas.py,
#     read_csv with the C engine pinned to one core, and with the multi-threaded pyarrow engine),
#   - IntelMQ's own Shadowserver parser bot (bench/feeds/intelmq_parse.py, library mode, no
#     Redis), on the first INTELMQ_ROWS rows, its rate extrapolated to the whole file.
# Checks greenwatch's numbers against pandas' for every country (hosts, rank, share) and prints
# rows/s and ratios as a markdown table. greenwatch runs twice: pinned to one core, and free.
#
#   bench/feeds/run.sh [ROWS]           (default 1000000)
# env: INTELMQ_ROWS (default 100000; "all" = the whole file), REPEAT (default 3: greenwatch and
#      pandas run that many times, the best run counts), BENCH_DIR (default .cache/bench),
#      GREENWATCH_BIN (use this greenwatch binary instead of building target/release/greenwatch)
set -euo pipefail
cd "$(dirname "$0")/../.."
rows="${1:-1000000}"
intelmq_rows="${INTELMQ_ROWS:-100000}"
repeat="${REPEAT:-3}"
work="${BENCH_DIR:-$PWD/.cache/bench}/feeds"
venv="$PWD/.cache/bench-venv"
rm -rf "$work"
mkdir -p "$work"

# Python side: pandas, numpy, pyarrow, intelmq in a venv (IntelMQ pulls redis, requests, ...).
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
py="$venv/bin/python"
"$py" -c 'import pandas, numpy, pyarrow, intelmq' 2>/dev/null ||
  "$venv/bin/pip" install -q -r bench/feeds/requirements.txt

if [ -n "${GREENWATCH_BIN:-}" ]; then
  gw="$(realpath "$GREENWATCH_BIN")"  # a binary built elsewhere: no build
else
  cargo build --release -q -p greenwatch
  gw="$PWD/target/release/greenwatch"
fi
ip_data=$(scripts/fetch-ip-data.sh)
netdb_data="$work/netdb-data"
"$gw" --data "$netdb_data" netdb import "$ip_data"/asn-ipv4.csv "$ip_data"/asn-ipv6.csv \
  "$ip_data"/geo-whois-asn-country-ipv4.csv "$ip_data"/geo-whois-asn-country-ipv6.csv \
  --as-of 2026-01-01 >/dev/null

# The feed, named as Shadowserver names its files (the report type comes from the name).
feed="$work/2026-10-01-scan_dns-bench.csv"
"$gw" --data "$netdb_data" generate feed --report scan_dns --rows "$rows" --days 30 \
  --start 2026-10-01 --seed 7 --out "$feed" --no-truth >/dev/null
size=$(stat -c %s "$feed")
echo "feed: $feed ($rows rows, $((size / 1048576)) MiB)"

now() { date +%s.%N; }
time_it() { # name, stdout file, command...; stderr of every run appended to NAME.stderr
  local name="$1" out="$2" err="$work/$1.stderr"; shift 2
  cat "$feed" >/dev/null  # same warm page cache for everyone
  local t0 t1; t0=$(now)
  "$@" >"$out" 2>>"$err" || { echo "$name failed:"; cat "$err"; exit 1; }
  t1=$(now)
  echo "$name $(echo "$t1 - $t0" | bc -l)" >> "$work/times.txt"
}

metrics=(metrics --risk openrecursivedns --by country --period month --at 2026-10-15 --json)
for _ in $(seq "$repeat"); do
  for cores in 1 2; do
    cpus=$([ "$cores" = 1 ] && echo 0 || echo 0-1)
    data="$work/data-$cores"  # fresh: only the netdb snapshot
    rm -rf "$data"; mkdir -p "$data"; cp -r "$netdb_data/netdb" "$data/"
    time_it "gw_ingest_$cores" "$work/gw-ingest-$cores.json" \
      taskset -c "$cpus" "$gw" --data "$data" ingest feed "$feed" --json
    time_it "gw_metrics_$cores" "$work/gw-metrics-$cores.json" \
      taskset -c "$cpus" "$gw" --data "$data" "${metrics[@]}"
  done
  for engine in c pyarrow; do
    cpus=$([ "$engine" = c ] && echo 0 || echo 0-1)  # pyarrow reads with a thread per core
    time_it "pandas_$engine" "$work/pandas-$engine.stdout" taskset -c "$cpus" \
      "$py" bench/feeds/metrics_pandas.py "$feed" "$ip_data" --period month --at 2026-10-15 \
      --engine "$engine" --out "$work/pandas-$engine.json"
  done
done

limit=()
if [ "$intelmq_rows" != all ] && [ "$intelmq_rows" -lt "$rows" ]; then
  limit=(--limit "$intelmq_rows")
  echo "IntelMQ parses the first $intelmq_rows rows only; its time for $rows rows is extrapolated"
fi
time_it intelmq "$work/intelmq.stdout" taskset -c 0 \
  "$py" bench/feeds/intelmq_parse.py "$feed" "${limit[@]}"
grep -E '^(intelmq |timings|limited)' "$work/intelmq.stderr" || true

echo
"$py" bench/feeds/compare.py --rows "$rows" --work "$work" --repeat "$repeat"
