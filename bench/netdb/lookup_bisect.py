#!/usr/bin/env python3
"""The lookup a user would write in Python: load the ip-location-db IPv4 CSVs, sort the ranges by
start, and answer each address with bisect over the starts (one search for the ASN table, one
for the country table), as greenwatch-netdb's enrich_v4 answers both.

usage: lookup_bisect.py CSV_DIR [--lookups N] [--seed S] [--write-addrs FILE] [--read-addrs FILE]

Addresses are random routed ones: a uniformly random ASN range, then a uniformly random address
in it. --write-addrs saves them (one integer per line) so the Rust side looks up the same ones.
Prints key=value lines.
"""
import argparse
import bisect
import csv
import ipaddress
import os
import random
import sys
import time


def to_int(text):
    text = text.strip()
    return int(text) if text.isdigit() else int(ipaddress.IPv4Address(text))


def load(path, value_col):
    rows = []
    with open(path, newline="", encoding="utf-8") as f:
        for r in csv.reader(f):
            try:
                rows.append((to_int(r[0]), to_int(r[1]), r[value_col]))
            except (ValueError, IndexError):
                pass  # bad row: skipped, as greenwatch does
    rows.sort()
    return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]


def lookup(table, ip):
    starts, ends, values = table
    i = bisect.bisect_right(starts, ip) - 1
    if i >= 0 and ip <= ends[i]:
        return values[i]
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("csv_dir")
    ap.add_argument("--lookups", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--write-addrs")
    ap.add_argument("--read-addrs")
    a = ap.parse_args()

    t = time.perf_counter()
    asn = load(os.path.join(a.csv_dir, "asn-ipv4.csv"), 2)
    cc = load(os.path.join(a.csv_dir, "geo-whois-asn-country-ipv4.csv"), 2)
    print(f"py_load_seconds={time.perf_counter() - t:.3f}")

    if a.read_addrs:
        with open(a.read_addrs) as f:
            addrs = [int(line) for line in f]
    else:
        rng = random.Random(a.seed)
        starts, ends, _ = asn
        addrs = []
        for _ in range(a.lookups):
            i = rng.randrange(len(starts))
            addrs.append(rng.randint(starts[i], ends[i]))
    if a.write_addrs:
        with open(a.write_addrs, "w") as f:
            f.write("\n".join(map(str, addrs)) + "\n")

    t = time.perf_counter()
    out = [(lookup(asn, ip), lookup(cc, ip)) for ip in addrs]
    secs = time.perf_counter() - t
    asn_sum = sum(int(x) for x, _ in out if x)
    cc_known = sum(1 for _, c in out if c)
    print(f"addresses={len(addrs)} asn_sum={asn_sum} country_known={cc_known}")
    print(f"py_lookups_per_sec={len(addrs) / secs:.0f}")


if __name__ == "__main__":
    sys.exit(main())
