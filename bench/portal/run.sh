#!/usr/bin/env bash
# Portal load benchmark (issue 4): serves a demo data set covering a year of hourly darknet
# data (8784 hourly buckets, 2025-10-01 to 2026-10-02) plus a year of scan_dns risk-feed rows,
# and loads the main portal endpoints with wrk from loopback (64 connections, 2 threads),
# printing requests/s, p50 and p99 per endpoint as a markdown table against the target
# p99 <= 50 ms. The whole-year overview (which reads every flow tuple of the year) is timed
# separately with one curl request.
#
#   bench/portal/run.sh [PACKETS] [FEED_ROWS]      (default 25000000 and 2000000)
# With ALERTS (default 100000) detector alerts stored beside the data, so the alert list, its
# API and the overview's latest alerts are timed against a store full of alerts.
# env: BENCH_DIR (default .cache/bench-portal; the data dir is reused when it exists: delete
#      it, or change PACKETS/FEED_ROWS, to rebuild), PORT (default 18089), DURATION (wrk
#      seconds per endpoint, default 15), CONNECTIONS (default 64), THREADS (default 2),
#      TIMEOUT (wrk --timeout seconds, default 60),
#      GREENWATCH_BIN (use this binary instead of building target/release/greenwatch)
set -euo pipefail
cd "$(dirname "$0")/../.."
packets="${1:-25000000}"
feed_rows="${2:-2000000}"
work="${BENCH_DIR:-$PWD/.cache/bench-portal}"
port="${PORT:-18089}"
duration="${DURATION:-15}"
conns="${CONNECTIONS:-64}"
threads="${THREADS:-2}"
timeout="${TIMEOUT:-60}"          # wrk's default 2 s would drop (not count) slow requests
hours=8784                       # 366 days: a year of hourly buckets
start=2025-10-01T00:00:00Z
feed_days=365
target_ms=50
mkdir -p "$work"

sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
command -v wrk >/dev/null 2>&1 || { echo "installing wrk" >&2; sudo_ apt-get install -y -qq wrk >/dev/null; }
command -v curl >/dev/null 2>&1 || { echo "installing curl" >&2; sudo_ apt-get install -y -qq curl >/dev/null; }

if [ -n "${GREENWATCH_BIN:-}" ]; then
  gw="$(realpath "$GREENWATCH_BIN")"
else
  cargo build --release -q -p greenwatch
  gw="$PWD/target/release/greenwatch"
fi

# --- the data set (cached: one data dir per size) ---------------------------------------------
data="$work/data-$packets-$feed_rows"
if [ ! -f "$data/.complete" ]; then
  echo "building the data set in $data ($packets packets over $hours hours, $feed_rows feed rows over $feed_days days)"
  rm -rf "$data"; mkdir -p "$data"
  t0=$(date +%s.%N)
  ip_data=$(scripts/fetch-ip-data.sh)
  "$gw" --data "$data" netdb import "$ip_data"/asn-ipv4.csv "$ip_data"/asn-ipv6.csv \
    "$ip_data"/geo-whois-asn-country-ipv4.csv "$ip_data"/geo-whois-asn-country-ipv6.csv \
    --as-of "${start%%T*}" >/dev/null
  pcap="$work/year-$packets.pcap"
  "$gw" --data "$data" generate traffic --out "$pcap" --truth "$pcap.truth.json" --seed 5 \
    --packets "$packets" --hours "$hours" --start "$start" >&2
  t1=$(date +%s.%N)
  "$gw" --data "$data" org add demo-cert --name "Demo CERT" >/dev/null   # data has an existing owner
  "$gw" --data "$data" ingest pcap "$pcap" --org demo-cert --tlp clear --json > "$data/ingest-pcap.json"
  t2=$(date +%s.%N)
  rm -f "$pcap"   # the store holds what the benchmark reads; the capture is big
  feed="$data/2025-10-01-scan_dns-bench-asn.csv"
  "$gw" --data "$data" generate feed --report scan_dns --rows "$feed_rows" --days "$feed_days" \
    --start "${start%%T*}" --seed 7 --no-truth --out "$feed" >&2
  t3=$(date +%s.%N)
  "$gw" --data "$data" ingest feed "$feed" --org demo-cert --tlp clear --json > "$data/ingest-feed.json"
  t4=$(date +%s.%N)
  rm -f "$feed"
  python3 - "$data" "$t0" "$t1" "$t2" "$t3" "$t4" <<'PY' | tee "$data/build.txt"
import json, sys
d, t0, t1, t2, t3, t4 = sys.argv[1], *map(float, sys.argv[2:])
p, f = json.load(open(f"{d}/ingest-pcap.json")), json.load(open(f"{d}/ingest-feed.json"))
print(f"data set: {p['packets']:,} packets, {p['flows']:,} flow tuples, {p['first']} to {p['last']}; "
      f"{f['rows']:,} feed rows ({f['events']:,} risk events)")
print(f"build: {t4 - t0:.1f} s (IP data + generate traffic {t1 - t0:.1f} s, ingest pcap {t2 - t1:.1f} s, "
      f"generate feed {t3 - t2:.1f} s, ingest feed {t4 - t3:.1f} s)")
PY
  touch "$data/.complete"
else
  echo "reusing the data set in $data"
  cat "$data/build.txt"
fi
# --- stored alerts: lists must not slow down as alerts accumulate (issue 13) ----------------
alerts="${ALERTS:-100000}"
python3 - "$data/greenwatch.sqlite" "$alerts" <<'PY'
import json, sqlite3, sys
db, want = sys.argv[1], int(sys.argv[2])
con = sqlite3.connect(db, timeout=60)
have = con.execute("SELECT count(*) FROM alerts WHERE key LIKE 'bench:%'").fetchone()[0]
if have < want:
    kinds = ["surge", "level-up", "level-down"]
    sev = ["low", "medium", "high", "critical"]
    rows = []
    for i in range(have, want):
        port = 1 + i % 5000
        first = 1759276800 + (i % 8760) * 3600
        kind = kinds[i % 3]
        body = {"key": f"bench:{i}", "severity": sev[i % 4], "title": f"Surge on port {port}/tcp: 3.0x the expected traffic",
                "summary": "bench", "affected": [f"port {port}/tcp packets"], "first_seen": first * 1_000_000,
                "last_seen": first * 1_000_000, "author": "detector", "label": {"owner": "demo-cert", "tlp": "CLEAR"},
                "evidence": {"series": [{"series": f"port {port}/tcp packets", "kind": kind, "observed": 300.0, "expected": 100.0,
                             "peak_observed": 300.0, "peak_lower": 80.0, "peak_upper": 120.0, "chart": []}],
                             "explanation": {"packets": 300, "sources": [], "countries": [], "asns": [], "ports": [], "fingerprints": []}},
                "created_at": first * 1_000_000}
        rows.append((body["key"], "demo-cert", "CLEAR", first * 1_000_000, json.dumps(body), i % 4, kind, f"port {port}/tcp packets"))
    con.executemany("INSERT INTO alerts (key, owner, tlp, first_seen, body, severity_rank, kind, subjects) VALUES (?,?,?,?,?,?,?,?)", rows)
    con.commit()
print(f"stored alerts: {con.execute('SELECT count(*) FROM alerts').fetchone()[0]:,}")
PY
echo "data dir size: $(du -sh "$data" | cut -f1)"

# --- the server --------------------------------------------------------------------------------
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null; true; }
trap cleanup EXIT INT TERM
base="http://127.0.0.1:$port"
"$gw" --data "$data" serve --listen "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 300); do
  curl -fs "$base/healthz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { echo "serve exited:"; cat "$work/serve.log"; exit 1; }
  sleep 0.1
done
curl -fs "$base/healthz" >/dev/null || { echo "serve did not answer /healthz"; cat "$work/serve.log"; exit 1; }

# --- the windows -------------------------------------------------------------------------------
end_secs=$(( $(date -u -d "$start" +%s) + hours * 3600 ))
day() { date -u -d "@$1" +%Y-%m-%d; }
end=$(day "$end_secs")                                # 2026-10-02 (exclusive)
last_day=$(day $((end_secs - 86400)))                 # 2026-10-01
month_from=$(day $((end_secs - 30 * 86400)))          # 30 days before the end
year_from=$(day "$(date -u -d "$start" +%s)")         # 2025-10-01
feed_last=$(( $(date -u -d "$start" +%s) + (feed_days - 1) * 86400 ))
last_month=$(date -u -d "@$feed_last" +%Y-%m)         # last month of feed data (2026-09)
a_week=$(date -u -d "@$((feed_last - 14 * 86400))" +%G-W%V)   # a full week inside the feed

endpoints=(
  "/api/v1/overview"
  "/api/v1/overview?from=$last_day&to=$end"
  "/api/v1/overview?from=$month_from&to=$end"
  "/api/v1/metrics?risk=openrecursivedns&period=month&at=$last_month"
  "/api/v1/metrics?risk=openrecursivedns&by=asn&period=week&at=$a_week"
  "/api/v1/risks"
  "/"
  "/risks/openrecursivedns"
  "/api/v1/countries/US?compare=CN,DE"
  "/countries/US?compare=CN,DE"
  "/countries/JP"
  "/asns/4134"
  "/ports/tcp/23"
  "/alerts"
  "/alerts?severity=high&state=open"
  "/api/v1/alerts?limit=5"
)

# Every endpoint must answer 200 before it is loaded. This first request after the start is
# the cold one: the server computes it from the store (later ones come from its result cache).
year_path="/api/v1/overview?from=$year_from&to=$end"
declare -A cold
for path in "${endpoints[@]}" "$year_path"; do
  out=$(curl -s -o "$work/check.out" -w '%{http_code} %{time_total}' "$base$path")
  code=${out% *}; cold[$path]=${out#* }
  [ "$code" = 200 ] || { echo "$path answered $code:"; head -c 600 "$work/check.out"; echo; exit 1; }
done

# --- the load ----------------------------------------------------------------------------------
results="$work/results.tsv"; : > "$results"; : > "$work/wrk-all.out"
ms() { # wrk latency (12.34us, 1.2ms, 1.05s, 2m) -> ms
  python3 -c 'import re,sys; v,u=re.fullmatch(r"([\d.]+)(us|ms|s|m)",sys.argv[1]).groups(); print(float(v)*{"us":1e-3,"ms":1,"s":1e3,"m":6e4}[u])' "$1"
}
# wrk drops its in-flight requests when it stops, but the server finishes them: wait until the
# server is idle (under 5 % of a core over half a second) so no backlog spills into the next run.
quiesce() {
  local t0 t1 ticks
  for _ in $(seq 600); do
    t0=$(awk '{print $14 + $15}' "/proc/$server_pid/stat"); sleep 0.5
    t1=$(awk '{print $14 + $15}' "/proc/$server_pid/stat")
    ticks=$((t1 - t0)); [ "$ticks" -le 2 ] && return 0
  done
  echo "server still busy after 5 minutes" >&2
}
for path in "${endpoints[@]}"; do
  echo "loading $path" >&2
  quiesce
  one=$(curl -fs -o /dev/null -w '%{time_total}' "$base$path")       # one cached request, no load
  wrk -t"$threads" -c"$conns" -d3s --timeout "${timeout}s" "$base$path" >/dev/null   # warm-up
  quiesce
  out="$work/wrk.out"
  wrk -t"$threads" -c"$conns" -d"${duration}s" --timeout "${timeout}s" --latency "$base$path" > "$out"
  cat "$out" >> "$work/wrk-all.out"
  n=$(awk '/requests in/ {print $1}' "$out")
  p50=$(awk '$1 == "50%" {print $2}' "$out")
  p99=$(awk '$1 == "99%" {print $2}' "$out")
  rps=$(awk '$1 == "Requests/sec:" {print $2}' "$out")
  bad=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$out"); bad=${bad:-0}
  errs=$(awk '/Socket errors:/ {sub(/.*Socket errors: /, ""); print}' "$out")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$path" "$rps" "$(ms "$p50")" "$(ms "$p99")" "$bad" "${errs:-}" "$n" "$one" "${cold[$path]}" >> "$results"
done

# The whole year in one request: computing it reads every flow tuple of the year.
year_secs=("${cold[$year_path]}")
quiesce
for _ in 1 2 3; do
  year_secs+=("$(curl -fs -o /dev/null -w '%{time_total}' "$base$year_path")")
done

echo
python3 - "$results" "$target_ms" "$conns" "$threads" "$duration" "$year_path" "${year_secs[@]}" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
target, conns, threads, dur, year_path = float(sys.argv[2]), *sys.argv[3:7]
year = [float(s) * 1000 for s in sys.argv[7:]]
print(f"wrk -t{threads} -c{conns} -d{dur}s --latency, loopback, after a 3 s warm-up; target p99 <= {target:g} ms;")
print("'cold ms': the first request after the server started (computed from the store);")
print("'1 req ms': one request on the idle server before the warm-up (answered from the result cache)")
print()
print("| endpoint | req/s | p50 ms | p99 ms | p99 <= %g ms | requests | cold ms | 1 req ms |" % target)
print("|---|---:|---:|---:|:---:|---:|---:|---:|")
for path, rps, p50, p99, bad, errs, n, one, cold in rows:
    if n == "0":
        print(f"| `{path}` | 0 | - | - | no (no request completed in {dur} s) | 0 | {float(cold) * 1000:.1f} | {float(one) * 1000:.1f} |")
        continue
    met = "yes" if float(p99) <= target else f"no (+{float(p99) - target:.0f} ms)"
    note = f" ({bad} non-2xx)" if bad != "0" else ""
    note += f" (socket errors: {errs})" if errs else ""
    print(f"| `{path}`{note} | {float(rps):,.1f} | {float(p50):.2f} | {float(p99):.2f} | {met} | {n} | {float(cold) * 1000:.1f} | {float(one) * 1000:.1f} |")
print()
print(f"whole year, `{year_path}`: cold {year[0]:,.0f} ms (reads every flow tuple of the year), then "
      + ", ".join(f"{t:,.0f} ms" for t in year[1:]) + " (3 sequential cached requests)")
PY
