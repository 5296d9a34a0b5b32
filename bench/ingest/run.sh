#!/usr/bin/env bash
# Ingest benchmark: times, on the same generated capture, `greenwatch ingest pcap` against
# `tcpdump -r FILE -w /dev/null` (libpcap reading and writing every packet), tshark reading
# every packet, and a Python dpkt script doing the same classification and aggregation.
# Every tool runs pinned to one core (taskset -c 0). Prints packets/s and ratios.
#
#   bench/ingest/run.sh [PACKETS]     (default 5000000)
set -euo pipefail
cd "$(dirname "$0")/../.."
packets="${1:-5000000}"
work="${BENCH_DIR:-$PWD/.cache/bench}"
mkdir -p "$work"

need() { command -v "$1" >/dev/null 2>&1 || { echo "installing $2" >&2; apt-get install -y -qq "$2" >/dev/null; }; }
need tcpdump tcpdump
need tshark tshark
python3 -c 'import dpkt' 2>/dev/null || pip install -q dpkt

cargo build --release -q -p greenwatch
gw="$PWD/target/release/greenwatch"
ip_data=$(scripts/fetch-ip-data.sh)
netdb_data="$work/netdb-data"
if [ ! -d "$netdb_data/netdb" ]; then
  "$gw" --data "$netdb_data" netdb import "$ip_data"/asn-ipv4.csv "$ip_data"/asn-ipv6.csv \
    "$ip_data"/geo-whois-asn-country-ipv4.csv "$ip_data"/geo-whois-asn-country-ipv6.csv --as-of 2026-01-01 >/dev/null
fi
pcap="$work/bench-$packets.pcap"
if [ ! -s "$pcap" ]; then
  "$gw" --data "$netdb_data" generate traffic --out "$pcap" --truth "$pcap.truth.json" \
    --seed 42 --packets "$packets" --hours 24 --start 2026-10-05T00:00:00Z
fi
size=$(stat -c %s "$pcap")
echo "capture: $pcap ($packets packets, $((size / 1048576)) MiB); one core each (taskset -c 0)"

now() { date +%s.%N; }
declare -A secs
time_it() { # name, command...
  local name="$1"; shift
  cat "$pcap" >/dev/null  # same warm page cache for everyone
  local t0 t1; t0=$(now); "$@" >/dev/null 2>"$work/$name.stderr" || { echo "$name failed:"; cat "$work/$name.stderr"; exit 1; }; t1=$(now)
  secs[$name]=$(echo "$t1 - $t0" | bc -l)
}

run_greenwatch() {
  local data="$work/ingest-data"
  rm -rf "$data"; mkdir -p "$data"; cp -r "$netdb_data/netdb" "$data/"
  taskset -c 0 "$gw" --data "$data" ingest pcap "$pcap" --json > "$work/greenwatch.json"
}
time_it greenwatch run_greenwatch
time_it tcpdump taskset -c 0 tcpdump -r "$pcap" -w /dev/null
time_it tshark taskset -c 0 tshark -r "$pcap" -n -q
time_it dpkt taskset -c 0 python3 bench/dpkt/ingest_dpkt.py "$pcap"

python3 - "$packets" "$work/greenwatch.json" "$pcap.truth.json" \
  "${secs[greenwatch]}" "${secs[tcpdump]}" "${secs[tshark]}" "${secs[dpkt]}" <<'PY'
import json, sys
packets = int(sys.argv[1])
summary, truth = json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
g, tcpdump, tshark, dpkt = map(float, sys.argv[4:8])
ok = all(summary[k] == truth[k] for k in ("packets", "by_class", "by_fingerprint"))
print(f"greenwatch summary matches ground truth: {ok}")
print(f"{'tool':<34}{'seconds':>9}{'packets/s':>14}{'greenwatch is':>16}")
for name, s in [("greenwatch ingest pcap (all stages)", g), ("tcpdump -r -w /dev/null", tcpdump),
                ("tshark -r -q", tshark), ("python dpkt classify+aggregate", dpkt)]:
    ratio = "" if s == g else f"{s / g:,.1f}x faster"
    print(f"{name:<34}{s:>9.2f}{packets / s:>14,.0f}{ratio:>16}")
print(f"greenwatch internal time (excl. process start): {summary['seconds']:.2f} s, {summary['packets_per_second']:,.0f} packets/s")
PY
