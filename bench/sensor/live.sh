#!/usr/bin/env bash
# Live capture rate. The frames of a generated capture are injected as fast as tcpreplay can
# send them (--topspeed, preloaded) into one end of a veth pair, inside a network namespace
# made here; on the other end, in turn, capture:
#   - the sensor as it was before issue 14 (libpcap, immediate mode, 32 MiB buffer),
#   - the sensor now (AF_PACKET TPACKET_V3 ring of 32 MiB),
#   - `tcpdump -w /dev/null` (libpcap, snap length 512, 32 MiB buffer), what people use instead.
# Capturers are pinned to core 0; the injector and the collector the sensors ship to, to
# core 1. On two cores the injector is the limit, so besides packets captured per second and
# packets lost (sent but not captured) it prints what a capturer's core would allow: packets
# per CPU-second of the capturer, and its CPU use while idle. Per round and as medians.
#
#   BEFORE=path/to/greenwatch bench/sensor/live.sh [PACKETS] [ROUNDS]  (default 2000000 and 3)
#
# BEFORE is a release build of a commit before issue 14 (default target-before/release/
# greenwatch), e.g.
#   git worktree add /tmp/gw-before <commit> && (cd /tmp/gw-before &&
#     CARGO_TARGET_DIR=<this repository>/target-before cargo build --release -p greenwatch)
# Needs root, iproute2, tcpreplay and tcpdump (installed with apt when missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
packets="${1:-2000000}"
rounds="${2:-3}"
before="${BEFORE:-$PWD/target-before/release/greenwatch}"
work="${BENCH_DIR:-$PWD/.cache/bench}"
mkdir -p "$work"
[ -x "$before" ] || { echo "no libpcap-based build at $before (set BEFORE)" >&2; exit 1; }

source bench/lib/capture.sh
need tcpreplay tcpreplay
pcap=$(capture "$packets")
# The binary under test may be rebuilt while we run: measure copies.
cp "$before" "$work/greenwatch-before"
cp "$gw" "$work/greenwatch-after"

# The veth pair: the inside end in a namespace of its own, no IPv6 (no router solicitations).
ns="gw-live-bench-$$"
inside="gwlbin$$"
outside="gwlbout$$"
cleanup() {
  [ -n "${collector:-}" ] && kill "$collector" 2>/dev/null || true
  ip link del "$outside" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
}
trap cleanup EXIT
ip netns add "$ns"
ip link add "$outside" type veth peer name "$inside"
ip link set "$inside" netns "$ns"
sysctl -q -w "net.ipv6.conf.$outside.disable_ipv6=1"
ip netns exec "$ns" sysctl -q -w "net.ipv6.conf.$inside.disable_ipv6=1"
ip link set "$outside" up
ip -n "$ns" link set "$inside" up

# A collector for the sensors, on core 1.
data="$work/live-collector"
rm -rf "$data"; mkdir -p "$data"; cp -r "$netdb_data/netdb" "$data/"
"$gw" --data "$data" org add bench --name Bench >/dev/null
"$gw" --data "$data" org networks bench --network 198.51.100.0/24 >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
taskset -c 1 "$gw" --data "$data" serve --listen "127.0.0.1:$port" --tls-self-signed 127.0.0.1 \
  >"$work/live-collector.stdout" 2>"$work/live-collector.stderr" &
collector=$!
until python3 -c "import socket; socket.create_connection(('127.0.0.1', $port))" 2>/dev/null; do sleep 0.2; done
"$gw" --data "$data" sensor add live --org bench --block 198.51.100.0/24 --tlp amber --json \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])' > "$work/live.token"

softnet_drops() { # packets the kernel's input queues dropped, all CPUs (seen by no capturer)
  python3 -c 'import sys; print(sum(int(l.split()[1], 16) for l in open("/proc/net/softnet_stat")))'
}
cpu_ticks() { # user + system CPU time of a process so far, in clock ticks
  awk '{print $14 + $15}' "/proc/$1/stat"
}
wait_for() { # file, text: until the capturer says it is listening
  for _ in $(seq 1 300); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "capturer did not start:"; cat "$1"; exit 1
}
inject() { # prints "packets seconds" as tcpreplay reports them
  ip netns exec "$ns" taskset -c 1 tcpreplay -q -K --topspeed -i "$inside" "$pcap" >"$work/live-inject.out" 2>&1 \
    || { cat "$work/live-inject.out"; exit 1; }
  python3 - "$work/live-inject.out" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
m = re.search(r"Actual: (\d+) packets .* sent in ([\d.]+) seconds", text)
failed = re.search(r"Failed packets:\s+(\d+)", text)
print(int(m.group(1)) - (int(failed.group(1)) if failed else 0), m.group(2))
PY
}

# One run of a capturer: "sent seconds idle_ticks busy_ticks queue_drops captured kernel_drops"
# in $work/live-NAME-ROUND.
run_sensor() { # name, binary, round
  local name="$1" bin="$2" round="$3" spool="$work/live-spool-$1"
  rm -rf "$spool"
  taskset -c 0 "$bin" sensor run --collector "https://127.0.0.1:$port" --token-file "$work/live.token" \
    --ca "$data/tls/ca.crt" --interface "$outside" --spool "$spool" --health-secs 3600 --json \
    >"$work/live-$name.json" 2>"$work/live-$name.stderr" &
  local pid=$!
  wait_for "$work/live-$name.stderr" "capturing on"
  local measured; measured=$(measure "$pid")
  kill -TERM "$pid"; wait "$pid" || { echo "$name failed:"; cat "$work/live-$name.stderr"; exit 1; }
  local counts; counts=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["records"], s["health"]["kernel_drops"])' "$work/live-$name.json")
  echo "$measured $counts" > "$work/live-$name-$round"
}
# With the capturer listening: its CPU ticks over 4 idle seconds, then the injection and 2 s
# for the capturer to catch up; prints "sent seconds idle_ticks busy_ticks queue_drops".
measure() { # pid
  local pid="$1"
  local i0; i0=$(cpu_ticks "$pid"); sleep 4
  local c0; c0=$(cpu_ticks "$pid")
  local s0; s0=$(softnet_drops)
  local sent; sent=$(inject)
  sleep 2
  echo "$sent $(( c0 - i0 )) $(( $(cpu_ticks "$pid") - c0 )) $(( $(softnet_drops) - s0 ))"
}
run_tcpdump() { # round
  local round="$1"
  taskset -c 0 tcpdump -i "$outside" -n -s 512 -B 32768 -w /dev/null 2>"$work/live-tcpdump.stderr" &
  local pid=$!
  wait_for "$work/live-tcpdump.stderr" "listening on"
  local measured; measured=$(measure "$pid")
  kill -INT "$pid"; wait "$pid" || true
  local captured dropped
  captured=$(sed -n 's/^\([0-9]*\) packets captured$/\1/p' "$work/live-tcpdump.stderr")
  dropped=$(sed -n 's/^\([0-9]*\) packets dropped by kernel$/\1/p' "$work/live-tcpdump.stderr")
  echo "$measured $captured $dropped" > "$work/live-tcpdump-$round"
}

for round in $(seq 1 "$rounds"); do
  echo "round $round of $rounds" >&2
  run_sensor before "$work/greenwatch-before" "$round"
  run_sensor after "$work/greenwatch-after" "$round"
  run_tcpdump "$round"
done

python3 - "$work" "$rounds" "$packets" "$(getconf CLK_TCK)" <<'PY'
import statistics, sys
work, rounds, packets, tick = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
tools = [("before", "sensor before (libpcap)"), ("after", "sensor now (AF_PACKET ring)"),
         ("tcpdump", "tcpdump -w /dev/null")]
print(f"live capture of {packets:,} injected frames, {rounds} rounds; capturer on core 0, injector on core 1")
print(f"{'capturer':<29}{'round':>6}{'injected/s':>12}{'captured/s':>12}{'lost':>8}{'kern drops':>11}"
      f"{'captured':>9}{'CPU s':>7}{'pkts/CPU s':>12}{'idle CPU':>9}{'q drops':>8}")
medians = {}
for key, label in tools:
    rows = []
    for r in range(1, rounds + 1):
        f = open(f"{work}/live-{key}-{r}").read().split()
        sent, secs, idle, busy, queue, captured, drops = int(f[0]), float(f[1]), *map(int, f[2:])
        cpu = busy / tick
        per_cpu = captured / cpu if cpu else float("inf")
        rows.append((captured / secs, captured / sent, sent - captured, per_cpu, idle / tick / 4))
        print(f"{label:<29}{r:>6}{sent / secs:>12,.0f}{captured / secs:>12,.0f}{sent - captured:>8,}{drops:>11,}"
              f"{captured / sent:>9.1%}{cpu:>7.2f}{per_cpu:>12,.0f}{idle / tick / 4:>9.1%}{queue:>8,}")
    medians[key] = [statistics.median(row[i] for row in rows) for i in range(5)]
print("medians:")
for key, label in tools:
    rate, share, lost, per_cpu, idle = medians[key]
    print(f"  {label:<29}{rate:>10,.0f} captured/s {share:>7.1%} captured {lost:>8,.0f} lost "
          f"{per_cpu:>11,.0f} packets per CPU-second {idle:>6.1%} CPU when idle")
after, before, tcpdump = medians["after"], medians["before"], medians["tcpdump"]
print(f"sensor now / before: {after[0] / before[0]:.2f}x captured/s, {after[3] / before[3]:.2f}x packets per CPU-second; "
      f"sensor now / tcpdump: {after[0] / tcpdump[0]:.2f}x captured/s, {after[3] / tcpdump[3]:.2f}x packets per CPU-second")
print("(lost = sent - captured; kern drops = the capturer's own kernel counters; CPU s = the capturer's user +")
print(" system time from the injection's start to 2 s after its end; q drops = the kernel's input queues,")
print(" before any capturer. Copying into the ring is done by the kernel on the injector's core.)")
PY
