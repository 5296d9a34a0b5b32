#!/usr/bin/env bash
# Ingest benchmark: times, on the same generated capture, `greenwatch ingest pcap` (every
# stage: hash, read, decode, classify, enrich, aggregate, store) against
# `tcpdump -r FILE -w /dev/null` (libpcap reading and writing every packet), tshark
# dissecting every packet (protocol hierarchy statistics), and a Python dpkt script doing the
# same classification and aggregation. The other tools are single-threaded and run pinned to
# one core (taskset -c 0); greenwatch runs twice: pinned to one core, and free to use its two
# pipeline threads. Prints packets/s and ratios.
#
#   bench/ingest/run.sh [PACKETS]     (default 5000000)
set -euo pipefail
cd "$(dirname "$0")/../.."
packets="${1:-5000000}"
work="${BENCH_DIR:-$PWD/.cache/bench}"
mkdir -p "$work"

source bench/lib/capture.sh
pcap=$(capture "$packets")
size=$(stat -c %s "$pcap")
echo "capture: $pcap ($packets packets, $((size / 1048576)) MiB)"

now() { date +%s.%N; }
declare -A secs
time_it() { # name, command...
  local name="$1"; shift
  cat "$pcap" >/dev/null  # same warm page cache for everyone
  local t0 t1; t0=$(now); "$@" >/dev/null 2>"$work/$name.stderr" || { echo "$name failed:"; cat "$work/$name.stderr"; exit 1; }; t1=$(now)
  secs[$name]=$(echo "$t1 - $t0" | bc -l)
}

run_greenwatch() { # cpus
  local data="$work/ingest-data"
  rm -rf "$data"; mkdir -p "$data"; cp -r "$netdb_data/netdb" "$data/"
  taskset -c "$1" "$gw" --data "$data" ingest pcap "$pcap" --json > "$work/greenwatch-$1.json"
}
time_it greenwatch1 run_greenwatch 0
time_it greenwatch2 run_greenwatch 0-1
time_it tcpdump taskset -c 0 tcpdump -r "$pcap" -w /dev/null
time_it tshark taskset -c 0 tshark -r "$pcap" -n -q -z io,phs
time_it dpkt taskset -c 0 python3 bench/dpkt/ingest_dpkt.py "$pcap"

python3 - "$packets" "$work/greenwatch-0.json" "$pcap.truth.json" "${secs[greenwatch1]}" \
  "${secs[greenwatch2]}" "${secs[tcpdump]}" "${secs[tshark]}" "${secs[dpkt]}" <<'PY'
import json, sys
packets = int(sys.argv[1])
summary, truth = json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
g1, g2, tcpdump, tshark, dpkt = map(float, sys.argv[4:9])
ok = all(summary[k] == truth[k] for k in ("packets", "by_class", "by_fingerprint"))
print(f"greenwatch summary matches ground truth: {ok}; {summary['flows']:,} flow tuples stored")
print(f"{'tool':<40}{'seconds':>9}{'packets/s':>14}{'1-core greenwatch':>19}{'2-core greenwatch':>19}")
rows = [("greenwatch ingest pcap, 1 core", g1), ("greenwatch ingest pcap, 2 cores", g2),
        ("tcpdump -r -w /dev/null", tcpdump), ("tshark -r -q -z io,phs", tshark),
        ("python dpkt classify+aggregate", dpkt)]
for name, s in rows:
    r1 = "" if s in (g1, g2) else f"{s / g1:,.2f}x"
    r2 = "" if s in (g1, g2) else f"{s / g2:,.2f}x"
    print(f"{name:<40}{s:>9.2f}{packets / s:>14,.0f}{r1:>19}{r2:>19}")
print("(ratio = their seconds / our seconds: above 1 means greenwatch is faster)")
PY
