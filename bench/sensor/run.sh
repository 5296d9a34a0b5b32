#!/usr/bin/env bash
# Sensor benchmark, two parts on loopback:
# 1. Replay rate on one core: `greenwatch sensor run --pcap` pinned to core 0 (read, decode,
#    classify, aggregate, encode, spool, ship over HTTPS to a collector on the other core),
#    against what people use instead on the same capture, also pinned to core 0:
#    `tcpdump -r FILE -w /dev/null`, tshark (protocol hierarchy statistics) and a Python dpkt
#    loop doing the same classification and aggregation. Prints packets/s and ratios.
# 2. Collector acceptance: 20 sensors replay a capture each, at once, into one collector;
#    prints batches and packets accepted per second and checks every packet is stored once.
#
#   bench/sensor/run.sh [PACKETS] [PACKETS_PER_SENSOR]     (default 2000000 and 200000)
set -euo pipefail
cd "$(dirname "$0")/../.."
packets="${1:-2000000}"
per_sensor="${2:-200000}"
sensors=20
work="${BENCH_DIR:-$PWD/.cache/bench}"
mkdir -p "$work"

source bench/lib/capture.sh
pcap=$(capture "$packets")
small=$(capture "$per_sensor")

# A collector on core 1 with its own data directory.
data="$work/sensor-collector"
rm -rf "$data"; mkdir -p "$data"; cp -r "$netdb_data/netdb" "$data/"
"$gw" --data "$data" org add bench --name Bench >/dev/null
"$gw" --data "$data" org networks bench --network 198.51.100.0/24 >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
taskset -c 1 "$gw" --data "$data" serve --listen "127.0.0.1:$port" --tls-self-signed 127.0.0.1 \
  >"$work/collector.stdout" 2>"$work/collector.stderr" &
collector=$!
trap 'kill $collector 2>/dev/null || true' EXIT
until python3 -c "import socket; socket.create_connection(('127.0.0.1', $port))" 2>/dev/null; do sleep 0.2; done
register() { # name -> token file
  "$gw" --data "$data" sensor add "$1" --org bench --block 198.51.100.0/24 --tlp amber --json \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])' > "$work/$1.token"
  echo "$work/$1.token"
}
sensor() { # name, pcap, packets per batch, command prefix...
  local name="$1" file="$2" batch="$3"; shift 3
  rm -rf "$work/spool-$name"
  "$@" "$gw" sensor run --collector "https://127.0.0.1:$port" --token-file "$work/$name.token" \
    --ca "$data/tls/ca.crt" --pcap "$file" --spool "$work/spool-$name" --batch-packets "$batch" \
    --health-secs 3600 --json
}

now() { date +%s.%N; }
declare -A secs
time_it() { # name, command...
  local name="$1"; shift
  cat "$pcap" >/dev/null  # same warm page cache for everyone
  local t0 t1; t0=$(now); "$@" >"$work/$name.stdout" 2>"$work/$name.stderr" || { echo "$name failed:"; cat "$work/$name.stderr"; exit 1; }; t1=$(now)
  secs[$name]=$(echo "$t1 - $t0" | bc -l)
}

register replay >/dev/null
time_it sensor sensor replay "$pcap" 200000 taskset -c 0
time_it tcpdump taskset -c 0 tcpdump -r "$pcap" -w /dev/null
time_it tshark taskset -c 0 tshark -r "$pcap" -n -q -z io,phs
time_it dpkt taskset -c 0 python3 bench/dpkt/ingest_dpkt.py "$pcap"
"$gw" --data "$data" sensor list --json > "$work/replay-list.json"

# 20 sensors at once, each with its own token, stream and spool, in batches of 10,000 packets.
for i in $(seq 1 $sensors); do register "s$i" >/dev/null; done
pids=()
t0=$(now)
for i in $(seq 1 $sensors); do
  sensor "s$i" "$small" 10000 env >"$work/s$i.json" 2>"$work/s$i.stderr" &
  pids+=($!)
done
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || { echo "sensor s$((i + 1)) failed:"; cat "$work/s$((i + 1)).stderr"; exit 1; }
done
t1=$(now)
"$gw" --data "$data" sensor list --json > "$work/sensors-list.json"

python3 - "$packets" "$pcap.truth.json" "$work/sensor.stdout" "$work/replay-list.json" \
  "${secs[sensor]}" "${secs[tcpdump]}" "${secs[tshark]}" "${secs[dpkt]}" \
  "$per_sensor" "$sensors" "$(echo "$t1 - $t0" | bc -l)" "$work/sensors-list.json" "$work" <<'PY'
import json, sys
packets = int(sys.argv[1])
truth = json.load(open(sys.argv[2]))
run = json.load(open(sys.argv[3]))
stored = {s["name"]: s for s in json.load(open(sys.argv[4]))["sensors"]}["replay"]["stored"]
sensor, tcpdump, tshark, dpkt = map(float, sys.argv[5:9])
ok = all(stored[k] == truth[k] for k in ("packets", "by_class", "by_fingerprint"))
print(f"replay: {packets:,} packets in {run['batches_made']} batches; collector totals match the ground truth: {ok}")
print(f"sensor capture thread alone (decode, aggregate, encode, spool): {run['records_per_sec']:,.0f} packets/s")
print(f"{'tool (pinned to core 0)':<46}{'seconds':>9}{'packets/s':>14}{'ratio':>10}")
for name, s in [("greenwatch sensor run --pcap, shipped over TLS", sensor),
                ("tcpdump -r -w /dev/null", tcpdump), ("tshark -r -q -z io,phs", tshark),
                ("python dpkt classify+aggregate", dpkt)]:
    ratio = "" if s == sensor else f"{s / sensor:,.2f}x"
    print(f"{name:<46}{s:>9.2f}{packets / s:>14,.0f}{ratio:>10}")
print("(ratio = their seconds / ours: above 1 means the sensor is faster)")

per, n, wall, listing, work = int(sys.argv[9]), int(sys.argv[10]), float(sys.argv[11]), sys.argv[12], sys.argv[13]
reports = [s for s in json.load(open(listing))["sensors"] if s["name"] != "replay"]
batches = sum(s["batches_stored"] for s in reports)
total = sum(s["stored"]["packets"] for s in reports)
refused = sum(r["count"] for s in reports for r in s["rejections"])
every = all(s["stored"]["packets"] == per for s in reports) and len(reports) == n
print(f"collector, {n} sensors at once: {batches} batches, {total:,} packets in {wall:.2f} s = "
      f"{batches / wall:,.1f} batches/s, {total / wall:,.0f} packets/s; every packet stored once: {every}; refused: {refused}")
PY
