#!/usr/bin/env bash
# IPv4 enrichment throughput on the full real ip-location-db table, side by side:
#   greenwatch-netdb `Snapshot::enrich_v4` (release build, one core) and the Python lookup users
#   would write (bisect over sorted starts, bench/netdb/lookup_bisect.py), on the same random
#   routed addresses. Both print the sum of the ASNs they found, which must agree.
#
# usage: bench/netdb/run.sh [CSV_DIR]   (default: $GREENWATCH_NETDB_SAMPLE_DIR, else fetched)
# env:   PY_LOOKUPS (default 1000000), RUST_LOOKUPS (default 50000000)
set -euo pipefail
cd "$(dirname "$0")/../.."
dir="${1:-${GREENWATCH_NETDB_SAMPLE_DIR:-$(scripts/fetch-ip-data.sh)}}"
py_n="${PY_LOOKUPS:-1000000}"
rs_n="${RUST_LOOKUPS:-50000000}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "tables: $dir"
cargo build --release --quiet -p greenwatch-netdb --example lookup_throughput
python3 bench/netdb/lookup_bisect.py "$dir" --lookups "$py_n" --write-addrs "$tmp/addrs.txt" | tee "$tmp/py.txt"
target/release/examples/lookup_throughput "$dir" "$rs_n" "$tmp/addrs.txt" | tee "$tmp/rs.txt"

get() { sed -n "s/.*\b$2=\([0-9.]*\).*/\1/p" "$1" | head -1; }
py=$(get "$tmp/py.txt" py_lookups_per_sec)
rs=$(get "$tmp/rs.txt" rust_lookups_per_sec)
py_sum=$(get "$tmp/py.txt" asn_sum)
rs_sum=$(get "$tmp/rs.txt" asn_sum)
echo
printf '%-42s %14s\n' "lookup (ASN + country per address)" "lookups/s"
printf '%-42s %14.0f\n' "greenwatch-netdb enrich_v4 (Rust)" "$rs"
printf '%-42s %14.0f\n' "Python bisect over sorted starts" "$py"
awk -v r="$rs" -v p="$py" 'BEGIN { printf "ratio: Rust is %.0fx the Python reference\n", r / p }'
if [ "$py_sum" = "$rs_sum" ]; then
  echo "answers agree (ASN sum $rs_sum over the same addresses)"
else
  echo "answers differ: ASN sum Rust $rs_sum vs Python $py_sum (overlapping rows: Rust resolves" \
       "them to the most specific range, the plain bisect takes the nearest start)"
fi
