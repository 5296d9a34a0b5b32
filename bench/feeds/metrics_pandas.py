#!/usr/bin/env python3
"""The pandas reference for `greenwatch metrics --risk R --by country --period P --at DATE`:
distinct addresses of one Shadowserver report per country in one period, with share of world and
rank, the way a data analyst would compute it.

usage: metrics_pandas.py FEED.csv IPDATA_DIR [--period month] [--at 2026-10-15]
                         [--by country|asn] [--engine c|pyarrow] [--out result.json]

1. `pandas.read_csv(usecols=[timestamp, ip])` (C engine, or --engine pyarrow); timestamps
   parsed as UTC (Shadowserver writes `YYYY-MM-DD HH:MM:SS` in UTC).
   Rows with the wrong number of fields are bad rows for greenwatch: the pyarrow engine skips
   them too (`on_bad_lines="skip"`); the C engine, reading only two columns, cannot see a
   truncated row and keeps it when its timestamp and ip are there (the benchmark's feed has no
   bad rows; run.sh checks that both engines agree).
2. Keep the rows inside the period containing --at: day, ISO week (Monday to Sunday), month,
   quarter or year, half-open `[start, end)` in UTC, as greenwatch's `Period`.
3. Distinct addresses: drop duplicate ip strings, parse them (IPv4 vectorised; IPv6, if any,
   with `ipaddress`), drop unparseable ones (greenwatch counts those as bad rows) and duplicates
   of the parsed value.
4. Enrich from the ip-location-db range CSVs in IPDATA_DIR (`*-num.csv` when present, else the
   text ones): `geo-whois-asn-country-ipv{4,6}` (start,end,cc) or `asn-ipv{4,6}` (start,end,asn,
   org). The feed's own geo / asn columns are not used. Overlapping rows are resolved as
   greenwatch-netdb does (the smallest containing range wins, equal ranges go to the later row;
   AS 0 and unknown countries add nothing), then each address is looked up with
   `numpy.searchsorted` on the range starts and checked against the range end.
5. `groupby(country).ip.nunique()` = hosts; share = hosts / world, where world counts every
   distinct address of the period, including those the range data has no country for (they
   appear as one row with country null and no rank); rank 1 = most hosts, ties share the lowest
   rank (`rank(method="min")`).

Writes a JSON array of {country, hosts, share, rank}, ordered by rank, then a row with country
"WORLD"; with --by asn the key is "asn". Prints timings and rows/s (file rows / total seconds)
to stderr. Only the one period's metric is computed; nothing is stored.
"""
import argparse
import datetime as dt
import ipaddress
import json
import os
import sys
import time

import numpy as np
import pandas as pd


def period_bounds(kind, at):
    """[start, end) of the period of `kind` containing date `at`."""
    if kind == "day":
        start = at
        end = at + dt.timedelta(days=1)
    elif kind == "week":  # ISO week: Monday .. Sunday
        start = at - dt.timedelta(days=at.weekday())
        end = start + dt.timedelta(days=7)
    elif kind in ("month", "quarter", "year"):
        first_month = {"month": at.month, "quarter": (at.month - 1) // 3 * 3 + 1, "year": 1}[kind]
        start = dt.date(at.year, first_month, 1)
        months = {"month": 1, "quarter": 3, "year": 12}[kind]
        m = start.month - 1 + months
        end = dt.date(start.year + m // 12, m % 12 + 1, 1)
    else:
        raise SystemExit(f"unknown period {kind!r}: expected day, week, month, quarter or year")
    return start, end


# --- range tables -------------------------------------------------------------------------------

def read_ranges(ipdata, stem, by):
    """(starts, ends, values) in file order for table `stem` (e.g. geo-whois-asn-country-ipv4):
    numpy arrays, addresses as uint64 (IPv4) or Python ints (IPv6, object arrays). Unknown
    values (AS 0, a country that is not two letters) add nothing."""
    num = os.path.join(ipdata, stem + "-num.csv")
    path = num if os.path.exists(num) else os.path.join(ipdata, stem + ".csv")
    v6 = stem.endswith("6")
    names = ["start", "end", "value"] + (["org"] if by == "asn" else [])
    df = pd.read_csv(path, header=None, names=names, usecols=[0, 1, 2], keep_default_na=False,
                     dtype=str if (v6 or path != num) else {"start": np.uint64, "end": np.uint64,
                                                                "value": str})
    if path != num:  # text addresses
        conv = lambda s: int(ipaddress.ip_address(s))  # noqa: E731
        df["start"] = df["start"].map(conv)
        df["end"] = df["end"].map(conv)
    elif v6:  # 128-bit decimal numbers: Python ints
        df["start"] = df["start"].map(int)
        df["end"] = df["end"].map(int)
    if by == "asn":
        df["value"] = pd.to_numeric(df["value"].str.upper().str.removeprefix("AS"),
                                    errors="coerce")
        df = df[df["value"].notna() & (df["value"] != 0)]
        df["value"] = df["value"].astype(np.int64)
    else:
        df["value"] = df["value"].str.strip().str.upper()
        df = df[df["value"].str.fullmatch(r"[A-Z]{2}")]
    key = object if v6 else np.uint64
    return (df["start"].to_numpy(dtype=key), df["end"].to_numpy(dtype=key),
            df["value"].to_numpy(dtype=object))


def resolve(starts, ends, values):
    """Overlap resolution as greenwatch-netdb: every address gets the value of the smallest
    range containing it (equal ranges: the later row). Ranges that overlap nothing (nearly all)
    pass through, vectorised; each cluster of overlapping ranges is split into elementary
    segments and painted, biggest range first. Returns sorted disjoint (starts, ends, values)."""
    order = np.argsort(starts, kind="stable")  # ties keep file order
    s, e, v = starts[order], ends[order], values[order]
    n = len(s)
    new = np.ones(n, dtype=bool)
    new[1:] = s[1:] > np.maximum.accumulate(e)[:-1]
    cluster = np.cumsum(new) - 1
    alone = np.bincount(cluster)[cluster] == 1
    out_s, out_e, out_v = [s[alone]], [e[alone]], [v[alone]]
    firsts = np.flatnonzero(new & ~alone)
    for k in firsts:  # a few hundred clusters of overlapping ranges
        j = k + 1
        while j < n and cluster[j] == cluster[k]:
            j += 1
        rows = range(k, j)
        lo = [int(s[r]) for r in rows]
        hi = [int(e[r]) for r in rows]
        bounds = sorted(set(lo) | {h + 1 for h in hi})
        pos = {b: m for m, b in enumerate(bounds)}
        winner = [None] * (len(bounds) - 1)
        # biggest first, equal sizes in file order: the smallest (then the later row) paints last
        for r in sorted(range(len(lo)), key=lambda r: (lo[r] - hi[r], int(order[k + r]))):
            for seg in range(pos[lo[r]], pos[hi[r] + 1]):
                winner[seg] = r
        segs = [(bounds[m], bounds[m + 1] - 1, v[k + r]) for m, r in enumerate(winner)
                if r is not None]
        dtype = s.dtype
        out_s.append(np.array([x[0] for x in segs], dtype=dtype))
        out_e.append(np.array([x[1] for x in segs], dtype=dtype))
        out_v.append(np.array([x[2] for x in segs], dtype=object))
    s, e, v = (np.concatenate(x) for x in (out_s, out_e, out_v))
    order = np.argsort(s, kind="stable")
    return s[order], e[order], v[order]


class Table:
    """A resolved range table: keys uint64 for IPv4, 16-byte big-endian strings for IPv6
    (numpy compares those like the 128-bit numbers they encode)."""

    def __init__(self, starts, ends, values, v6):
        self.v6 = v6
        self.starts = self.keys(starts)
        self.ends = self.keys(ends)
        self.values = values

    def keys(self, ints):
        if self.v6:
            return np.array([int(i).to_bytes(16, "big") for i in ints], dtype="S16")
        return np.asarray(ints, dtype=np.uint64)

    def lookup(self, keys):
        """Value per key (None where no range contains it); `keys` as built by `keys()`."""
        i = np.searchsorted(self.starts, keys, side="right") - 1
        ok = i >= 0
        ok[ok] = keys[ok] <= self.ends[i[ok]]
        out = np.full(len(keys), None, dtype=object)
        out[ok] = self.values[i[ok]]
        return out


def load_table(ipdata, by, family):
    stem = {"country": "geo-whois-asn-country", "asn": "asn"}[by] + f"-ipv{family}"
    return Table(*resolve(*read_ranges(ipdata, stem, by)), v6=(family == 6))


# --- addresses ----------------------------------------------------------------------------------

OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"  # no leading zeros, as Rust's parser
V4_RE = rf"{OCTET}(?:\.{OCTET}){{3}}"


def v4_keys(ips):
    """Dotted quads (already validated) to uint64 integers, vectorised."""
    octets = ips.str.split(".", n=3, expand=True).astype(np.uint64).to_numpy()
    return (octets[:, 0] << 24) | (octets[:, 1] << 16) | (octets[:, 2] << 8) | octets[:, 3]


def v6_key(text):
    try:
        a = ipaddress.ip_address(text)
    except ValueError:
        return None
    if a.version == 4:
        return None
    if a.ipv4_mapped is not None:  # ::ffff:a.b.c.d is the IPv4 address (greenwatch's ip_key)
        return ("v4", int(a.ipv4_mapped))
    return ("v6", a.packed)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("feed")
    ap.add_argument("ipdata")
    ap.add_argument("--period", default="month",
                    choices=["day", "week", "month", "quarter", "year"])
    ap.add_argument("--at", default="2026-10-15", type=dt.date.fromisoformat)
    ap.add_argument("--by", default="country", choices=["country", "asn"])
    ap.add_argument("--engine", default="c", choices=["c", "pyarrow"],
                    help="pandas.read_csv engine (pyarrow: multi-threaded, needs pyarrow)")
    ap.add_argument("--out")
    a = ap.parse_args()
    t0 = time.perf_counter()
    laps, last = {}, [t0]

    def lap(name):
        """Records the seconds since the previous lap under `name`."""
        now = time.perf_counter()
        laps[name], last[0] = now - last[0], now

    # 1. read
    df = pd.read_csv(a.feed, usecols=["timestamp", "ip"], dtype={"ip": str, "timestamp": str},
                     keep_default_na=False, engine=a.engine, on_bad_lines="skip")
    rows = len(df)
    lap("read_csv")

    # 2. period
    start, end = period_bounds(a.period, a.at)
    ts = pd.to_datetime(df["timestamp"], format="ISO8601", utc=True, errors="coerce")
    in_period = (ts >= pd.Timestamp(start, tz="UTC")) & (ts < pd.Timestamp(end, tz="UTC"))
    ips = df.loc[in_period, "ip"].str.strip().drop_duplicates()
    lap("timestamps+filter")

    # 3. distinct parsed addresses
    v4 = ips[ips.str.fullmatch(V4_RE)]
    v4_key = pd.unique(v4_keys(v4)) if len(v4) else np.empty(0, np.uint64)
    rest = ips[~ips.index.isin(v4.index)]
    parsed = [k for k in map(v6_key, rest) if k is not None]
    bad = len(rest) - len(parsed)
    mapped = np.array([k for f, k in parsed if f == "v4"], dtype=np.uint64)
    v4_key = pd.unique(np.concatenate([v4_key, mapped]))
    v6_key_ = np.unique(np.array([k for f, k in parsed if f == "v6"], dtype="S16"))
    lap("parse ips")

    # 4. enrich
    frames = []
    if len(v4_key):
        t4 = load_table(a.ipdata, a.by, 4)
        lap("load v4 table")
        frames.append(pd.DataFrame({"ip": v4_key.astype(object), a.by: t4.lookup(v4_key)}))
        lap("lookup v4")
    if len(v6_key_):
        t6 = load_table(a.ipdata, a.by, 6)
        lap("load v6 table")
        v6_ints = [int.from_bytes(k, "big") + (1 << 128) for k in v6_key_]  # disjoint from v4
        frames.append(pd.DataFrame({"ip": v6_ints, a.by: t6.lookup(v6_key_)}))
        lap("lookup v6")
    hosts_df = pd.concat(frames, ignore_index=True) if frames else \
        pd.DataFrame({"ip": [], a.by: []})

    # 5. metric
    world = int(hosts_df["ip"].nunique())
    known = hosts_df[hosts_df[a.by].notna()]
    per = known.groupby(a.by)["ip"].nunique().rename("hosts").reset_index()
    per["share"] = per["hosts"] / world if world else 0.0
    per["rank"] = per["hosts"].rank(method="min", ascending=False).astype(int)
    per = per.sort_values(["rank", a.by], kind="stable")
    lap("groupby+rank")

    result = [{a.by: (int(r[a.by]) if a.by == "asn" else r[a.by]), "hosts": int(r["hosts"]),
               "share": float(r["share"]), "rank": int(r["rank"])}
              for r in per.to_dict("records")]
    unknown = world - int(per["hosts"].sum())
    if unknown:
        result.append({a.by: None, "hosts": unknown, "share": unknown / world, "rank": None})
    result.append({a.by: "WORLD", "hosts": world, "share": 1.0 if world else 0.0, "rank": None})
    text = json.dumps(result, indent=1)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")
    else:
        print(text)
    secs = time.perf_counter() - t0

    err = sys.stderr
    print(f"period {a.period} [{start}, {end}): {int(in_period.sum())} of {rows} rows, "
          f"{world} distinct addresses ({len(v4_key)} IPv4, {len(v6_key_)} IPv6), "
          f"{unknown} without {a.by}, {bad} unparseable, {len(per)} {a.by} groups", file=err)
    print("timings: " + ", ".join(f"{k} {v:.3f}s" for k, v in laps.items()), file=err)
    print(f"pandas_rows={rows} pandas_seconds={secs:.3f} pandas_rows_per_sec={rows / secs:.0f}",
          file=err)


if __name__ == "__main__":
    main()
