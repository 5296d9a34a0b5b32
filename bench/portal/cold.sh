#!/usr/bin/env bash
# Cold and warm page times on the demo (issue 13: "<= 300 ms cold for any page over 28 days of
# the demo"), for two binaries side by side: the first request of each page after the server
# started and warmed the public's default views (cold: computed from the store), then a second
# one (warm: from the result cache). Prints a markdown table with the ratio of the cold times.
#
#   bench/portal/cold.sh BEFORE_BIN AFTER_BIN [DEMO_DATA]
# DEMO_DATA (default .cache/bench-portal/demo) is built with `AFTER_BIN demo --no-serve` when
# missing. Each binary serves a copy of it, so both start from the same store.
# env: PORT (default 18090)
set -euo pipefail
cd "$(dirname "$0")/../.."
before="$(realpath "$1")"; after="$(realpath "$2")"
demo="${3:-$PWD/.cache/bench-portal/demo}"
port="${PORT:-18090}"
base="http://127.0.0.1:$port"
command -v curl >/dev/null 2>&1 || { echo "curl is needed" >&2; exit 1; }
if [ ! -f "$demo/greenwatch.sqlite" ]; then
  echo "building the demo data in $demo" >&2
  "$after" demo --ip-data "$(scripts/fetch-ip-data.sh)" --data "$demo" --no-serve >/dev/null 2>&1
fi
work=$(mktemp -d)
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT INT TERM

# The demo's 28 days: the stored range as the default overview reports it.
pages() {
  local to from
  to=$(curl -fs "$base/api/v1/overview" | python3 -c 'import json,sys; print(json.load(sys.stdin)["to"][:10])')
  from=$(date -u -d "$to - 28 days" +%Y-%m-%d)
  local w="from=$from&to=$to"
  printf '%s\n' "/?$w" "/api/v1/overview?$w" "/countries/JP?$w" "/countries/US?compare=CN,DE&$w" \
    "/asns/749?$w" "/asns?$w" "/ports?$w" "/ports/tcp/23?$w" "/risks/mirai" "/alerts" "/sensors?$w"
}

# serve BIN NAME: serves a copy of the demo, waits until the public views are warmed, then
# times every page twice into $work/NAME.tsv.
serve() {
  local bin=$1 name=$2 data="$work/data-$2"
  cp -r "$demo" "$data"
  "$bin" --data "$data" serve --listen "127.0.0.1:$port" >"$work/$name.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 600); do
    grep -q "public views warmed" "$work/$name.log" && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/$name.log"; exit 1; }
    sleep 0.1
  done
  : > "$work/$name.tsv"
  while read -r path; do
    cold=$(curl -s -o "$work/out" -w '%{http_code} %{time_total}' "$base$path")
    [ "${cold% *}" = 200 ] || { echo "$name $path answered ${cold% *}" >&2; head -c 400 "$work/out" >&2; exit 1; }
    warm=$(curl -s -o /dev/null -w '%{time_total}' "$base$path")
    printf '%s\t%s\t%s\n' "$path" "${cold#* }" "$warm" >> "$work/$name.tsv"
  done < <(pages)
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
  rm -rf "$data"
}

serve "$before" before
serve "$after" after
python3 - "$work/before.tsv" "$work/after.tsv" <<'PY'
import sys
rows = lambda p: [l.rstrip("\n").split("\t") for l in open(p)]
before, after = rows(sys.argv[1]), rows(sys.argv[2])
print("| page | before cold ms | after cold ms | before / after | after warm ms | cold <= 300 ms |")
print("|---|---:|---:|---:|---:|:---:|")
for (path, bc, _), (_, ac, aw) in zip(before, after):
    bc, ac, aw = float(bc) * 1e3, float(ac) * 1e3, float(aw) * 1e3
    print(f"| `{path}` | {bc:,.0f} | {ac:,.0f} | {bc / ac:.1f} | {aw:,.1f} | {'yes' if ac <= 300 else f'no (+{ac - 300:,.0f} ms)'} |")
PY
