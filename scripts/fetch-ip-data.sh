#!/usr/bin/env bash
# Fetches the real IP→ASN and IP→country tables (npm packages @ip-location-db/asn and
# @ip-location-db/geo-whois-asn-country; attribution: crates/netdb/DATA-LICENSES.md) into a
# cache directory and prints that directory. Fetched once; later runs reuse the cache.
set -euo pipefail
dest="${1:-$(cd "$(dirname "$0")/.." && pwd)/.cache/ip-data}"
if [ -s "$dest/asn-ipv4.csv" ] && [ -s "$dest/geo-whois-asn-country-ipv4.csv" ]; then
  echo "$dest"
  exit 0
fi
mkdir -p "$dest"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent @ip-location-db/asn @ip-location-db/geo-whois-asn-country >/dev/null)
for tgz in "$work"/*.tgz; do
  tar -xzf "$tgz" -C "$work"
  for f in "$work"/package/*.csv "$work"/package/*LICENSE* "$work"/package/README.md; do
    [ -e "$f" ] || continue
    base=$(basename "$f")
    case "$base" in README.md) base="README-$(basename "$tgz" .tgz).md" ;; esac
    mv -f "$f" "$dest/$base"
  done
  rm -rf "$work/package"
done
echo "$dest"
