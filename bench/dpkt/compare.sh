#!/usr/bin/env bash
# Compares the Rust classifier (crates/packet) with the dpkt reference, frame by frame, and
# times both. Usage: bench/dpkt/compare.sh [CAPTURE.pcap]
# Without an argument, a mixed capture of 200k frames exercising every rule is generated.
set -euo pipefail
cd "$(dirname "$0")/../.."
python3 -c "import dpkt" 2>/dev/null || pip install -q -r bench/dpkt/requirements.txt
cargo build -q --release -p greenwatch-packet --examples
ex="${CARGO_TARGET_DIR:-target}/release/examples"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cap="${1:-}"
if [ -z "$cap" ]; then
    cap="$tmp/mixed.pcap"
    "$ex/mixed_pcap" "$cap" 200000 1
fi
echo "rust: $("$ex/summarize" "$cap" --per-packet "$tmp/rust.txt")"
echo "dpkt: $(python3 bench/dpkt/ingest_dpkt.py "$cap" --per-packet "$tmp/dpkt.txt")"
if diff -q "$tmp/rust.txt" "$tmp/dpkt.txt" >/dev/null; then
    echo "agree on every frame ($(wc -l < "$tmp/rust.txt") frames)"
else
    echo "DISAGREE on $(diff "$tmp/rust.txt" "$tmp/dpkt.txt" | grep -c '^<') frames; first ones:"
    diff "$tmp/rust.txt" "$tmp/dpkt.txt" | head -20
    exit 1
fi
