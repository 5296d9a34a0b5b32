#!/usr/bin/env python3
"""Development-only stand-in for `greenwatch generate feed`: writes a Shadowserver `scan_dns`
(open resolver) report CSV with the published columns.

usage: make_feed.py OUT.csv IPDATA_DIR [--rows N] [--days D] [--start YYYY-MM-DD] [--seed S]
                    [--hosts H] [--ipv6-share F] [--junk-share F]

Hosts are real routed addresses: a uniformly random range of the ip-location-db ASN table, then
a uniformly random address inside it (as bench/netdb does). A pool of H hosts (default rows / 6)
is drawn once; every row picks a host from the pool and a random second of one of the D days, so
an address appears on several days and several times within a period. Rows are sorted by time.
The feed's own `asn` / `geo` columns are filled from a coarse, sometimes wrong guess on purpose:
metrics must come from the IP-range data, not from them. `--ipv6-share` mixes IPv6 hosts in
(a real scan_dns report has none; scan6_dns has them) to exercise IPv6 enrichment;
`--junk-share` adds rows with an unparseable address.

bench/feeds/run.sh uses `greenwatch generate feed` instead; this script is only a fallback.
"""
import argparse
import csv
import datetime as dt
import ipaddress
import os
import random

COLUMNS = ["timestamp", "severity", "ip", "protocol", "port", "hostname", "tag", "asn", "geo",
           "region", "city", "naics", "hostname_source", "sector", "dns_version",
           "min_amplification"]


def load_ranges(path):
    starts, ends, asns = [], [], []
    with open(path, newline="", encoding="utf-8") as f:
        for r in csv.reader(f):
            starts.append(int(r[0]))
            ends.append(int(r[1]))
            asns.append(int(r[2]))
    return starts, ends, asns


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("ipdata")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--start", default="2026-10-01")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--hosts", type=int)
    ap.add_argument("--ipv6-share", type=float, default=0.0)
    ap.add_argument("--junk-share", type=float, default=0.0)
    a = ap.parse_args()

    rng = random.Random(a.seed)
    v4 = load_ranges(os.path.join(a.ipdata, "asn-ipv4-num.csv"))
    v6 = load_ranges(os.path.join(a.ipdata, "asn-ipv6-num.csv")) if a.ipv6_share > 0 else None
    n_hosts = a.hosts or max(1, a.rows // 6)
    pool = []
    for _ in range(n_hosts):
        if v6 and rng.random() < a.ipv6_share:
            s, e, asn = v6
            i = rng.randrange(len(s))
            ip = str(ipaddress.IPv6Address(rng.randint(s[i], min(e[i], s[i] + 2**20))))
        else:
            s, e, asn = v4
            i = rng.randrange(len(s))
            ip = str(ipaddress.IPv4Address(rng.randint(s[i], e[i])))
        feed_asn = asn[i] if rng.random() > 0.05 else rng.choice(asn)  # feed data is not truth
        pool.append((ip, feed_asn, rng.choice(["US", "CN", "DE", "JP", "BR", "XX"])))

    start = dt.datetime.fromisoformat(a.start)
    secs = sorted(rng.randrange(a.days * 86400) for _ in range(a.rows))
    with open(a.out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
        w.writerow(COLUMNS)
        for sec in secs:
            ts = (start + dt.timedelta(seconds=sec)).strftime("%Y-%m-%d %H:%M:%S")
            ip, feed_asn, geo = rng.choice(pool)
            if a.junk_share and rng.random() < a.junk_share:
                ip = "not-an-ip"
            w.writerow([ts, "high", ip, "udp", 53, "", "openresolver", feed_asn, geo, "", "",
                        0, "", "", "", 1.5])
    print(f"wrote {a.rows} rows, {n_hosts} hosts, to {a.out}")


if __name__ == "__main__":
    main()
