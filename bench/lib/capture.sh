# Sourced by the capture benchmarks (ingest, sensor), from the repository root with $work set:
# the tools they compare with, a release build ($gw), real IP data imported once
# ($netdb_data), and `capture PACKETS`, which prints the path of a generated capture of that
# many packets over 24 hours (made once, seed 42, its truth beside it).

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

capture() {
  local pcap="$work/bench-$1.pcap"
  if [ ! -s "$pcap" ]; then
    "$gw" --data "$netdb_data" generate traffic --out "$pcap" --truth "$pcap.truth.json" \
      --seed 42 --packets "$1" --hours 24 --start 2026-10-05T00:00:00Z >&2
  fi
  echo "$pcap"
}
