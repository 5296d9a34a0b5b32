#!/usr/bin/env python3
"""Reference darknet ingest written the way a CSIRT analyst would, with dpkt.

Reads a pcap or pcapng capture of Ethernet frames, decodes IPv4/IPv6, classifies every packet
with the rules of docs/classification.md (fingerprint, likely spoofed, backscatter, scan, other),
aggregates packets/bytes per (hour, dst port, protocol, class) and per (hour, source IP), and
prints a JSON summary:

    {"packets": N, "by_class": {...}, "by_fingerprint": {...}, "seconds": S, ...}

It is the baseline the Rust ingest (crates/packet) is compared with, both for agreement of
the counts and for speed. Usage:

    pip install dpkt
    python3 bench/dpkt/ingest_dpkt.py capture.pcap [--aggregates out.json]

Notes on dpkt:
- dpkt's pcap readers yield (timestamp, captured bytes) only, without the original length,
  so "bytes" here are captured bytes (equal to wire bytes when nothing was cut by a snaplen).
- dpkt's own IPv6 extension-header walk also treats AH/ESP as extension headers and, when a
  Fragment header is not the first extension header, parses fragment payload as headers (and
  can raise AttributeError on such packets). The spec walks only hop-by-hop (0), routing (43),
  fragment (44) and destination options (60), so IPv6 is decoded by dpkt up to the fixed
  header and the extension headers are walked here; transports are still dpkt's classes.
"""

import argparse
import json
import socket
import sys
import time
from collections import defaultdict

import dpkt

TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK = 0x01, 0x02, 0x04, 0x08, 0x10
RULE_MASK = TCP_FIN | TCP_SYN | TCP_RST | TCP_PSH | TCP_ACK  # URG, ECE, CWR ignored

NORMAL_TCP_FLAGS = {
    TCP_SYN, TCP_ACK, TCP_RST, TCP_FIN,
    TCP_SYN | TCP_FIN, TCP_SYN | TCP_ACK, TCP_FIN | TCP_ACK, TCP_ACK | TCP_PSH,
    TCP_FIN | TCP_ACK | TCP_PSH, TCP_RST | TCP_ACK,
}
TCP_BACKSCATTER = {TCP_SYN | TCP_ACK, TCP_RST, TCP_RST | TCP_ACK}
ICMP4_BACKSCATTER = {0, 3, 4, 5, 11, 12, 14, 16, 18}
ICMP6_BACKSCATTER = {1, 2, 3, 4, 129}
IPV6_EXT = {0, 43, 44, 60}

PROTO_TCP, PROTO_UDP, PROTO_ICMP, PROTO_ICMP6 = 6, 17, 1, 58
PROTO_NAMES = {PROTO_TCP: "tcp", PROTO_UDP: "udp", PROTO_ICMP: "icmp", PROTO_ICMP6: "icmp6"}


class IP6Fixed(dpkt.ip6.IP6):
    """dpkt's IPv6 header without dpkt's extension-header walk (see the module notes)."""

    def unpack(self, buf):
        dpkt.Packet.unpack(self, buf)
        if self.plen:
            self.data = self.data[:self.plen]


dpkt.ethernet.Ethernet.set_type(dpkt.ethernet.ETH_TYPE_IP6, IP6Fixed)

L4_CLASSES = {PROTO_TCP: dpkt.tcp.TCP, PROTO_UDP: dpkt.udp.UDP}


def parse_l4(proto, buf):
    """dpkt's transport object for TCP/UDP, raw bytes otherwise or when it does not parse."""
    cls = L4_CLASSES.get(proto)
    if cls is None:
        return buf
    try:
        return cls(buf)
    except dpkt.UnpackError:
        return buf


def walk_ipv6(nxt, buf):
    """Walks hop-by-hop, routing, fragment and destination-options headers.
    Returns (transport protocol, transport bytes or None for a non-first fragment, fragment)."""
    fragment = False
    while nxt in IPV6_EXT:
        if nxt == 44:
            if len(buf) < 8:
                raise Skip("truncated")
            fragment = True
            offset = int.from_bytes(buf[2:4], "big") >> 3
            nxt, buf = buf[0], buf[8:]
            if offset:
                return nxt, None, True
        else:
            if len(buf) < 2 or len(buf) < (buf[1] + 1) * 8:
                raise Skip("truncated")
            nxt, buf = buf[0], buf[(buf[1] + 1) * 8:]
    return nxt, buf, fragment


class Skip(Exception):
    """A frame that is not a packet for Greenwatch: reason is 'not_ip' or 'truncated'."""


def transport_fields(proto, l4, lenient):
    """(sport, dport, tcp_flags, seq) from dpkt's parsed transport object (or raw bytes when
    dpkt could not parse it). For ICMP/ICMPv6 the "ports" are type and code."""
    try:
        if proto == PROTO_TCP:
            if not isinstance(l4, dpkt.tcp.TCP):
                raise Skip("truncated")
            doff = l4.off * 4
            if len(l4.opts) != doff - 20:  # options cut by the snap length
                raise Skip("truncated")
            return l4.sport, l4.dport, l4.flags, l4.seq
        if proto == PROTO_UDP:
            if not isinstance(l4, dpkt.udp.UDP):
                raise Skip("truncated")
            return l4.sport, l4.dport, 0, 0
        if proto in (PROTO_ICMP, PROTO_ICMP6):
            raw = bytes(l4) if not isinstance(l4, (bytes, bytearray)) else l4
            if len(raw) < 8:
                raise Skip("truncated")
            return raw[0], raw[1], 0, 0
        return 0, 0, 0, 0
    except Skip:
        if lenient:  # first fragment: the header may legitimately be incomplete
            return 0, 0, 0, 0
        raise


def decode(buf):
    """Returns a tuple of the header fields the rules read, or raises Skip."""
    try:
        eth = dpkt.ethernet.Ethernet(buf)
    except dpkt.UnpackError:
        raise Skip("truncated")
    ip = eth.data
    if isinstance(ip, dpkt.ip.IP):
        if ip.v != 4:
            raise Skip("not_ip")
        if len(ip.opts) != ip.hl * 4 - 20:  # options cut by the snap length
            raise Skip("truncated")
        mf = bool(ip.mf)
        offset = ip.offset
        fragment = mf or offset != 0
        if offset != 0:
            sport = dport = flags = seq = 0
        else:
            sport, dport, flags, seq = transport_fields(ip.p, ip.data, lenient=mf)
        return (4, ip.src, ip.dst, ip.p, sport, dport, ip.ttl, ip.id, flags, seq, fragment)
    if isinstance(ip, IP6Fixed):
        if ip.v != 6:
            raise Skip("not_ip")
        nxt, l4, fragment = walk_ipv6(ip.nxt, ip.data)
        if l4 is None:  # non-first fragment: no transport header
            sport = dport = flags = seq = 0
        else:
            sport, dport, flags, seq = transport_fields(nxt, parse_l4(nxt, l4), lenient=fragment)
        return (6, ip.src, ip.dst, nxt, sport, dport, ip.hlim, 0, flags, seq, fragment)
    ethertype = eth.vlan_tags[-1].type if getattr(eth, "vlan_tags", None) else eth.type
    if ethertype in (dpkt.ethernet.ETH_TYPE_IP, dpkt.ethernet.ETH_TYPE_IP6):
        # dpkt could not parse the IP header: cut short, unless its version nibble says it
        # is not the IP version the Ethernet type announced.
        raw = eth.data if isinstance(eth.data, bytes) else bytes(eth.data)
        want = 4 if ethertype == dpkt.ethernet.ETH_TYPE_IP else 6
        if raw and raw[0] >> 4 != want:
            raise Skip("not_ip")
        raise Skip("truncated")
    raise Skip("not_ip")


def classify(version, src, dst, proto, sport, dport, ttl, ip_id, flags, seq, fragment):
    """(class, fingerprint or None) per docs/classification.md."""
    f = flags & RULE_MASK
    fingerprint = None
    if version == 4 and proto == PROTO_TCP and f == TCP_SYN:
        dst32 = int.from_bytes(dst, "big")
        if seq == dst32:
            fingerprint = "mirai"
        elif ip_id == (dst32 ^ dport ^ seq) & 0xFFFF:
            fingerprint = "masscan"
        elif ip_id == 54321:
            fingerprint = "zmap"

    icmp = proto in (PROTO_ICMP, PROTO_ICMP6)
    if (
        fragment
        or src == dst
        or (version == 4 and src[3] in (0, 255))
        or (proto in (PROTO_TCP, PROTO_UDP) and (sport == 0 or dport == 0))
        or (proto == PROTO_TCP and f not in NORMAL_TCP_FLAGS)
        or (ttl >= 200 and not icmp and fingerprint not in ("masscan", "zmap"))
    ):
        return "spoofed", None

    if proto == PROTO_TCP:
        if f in TCP_BACKSCATTER:
            return "backscatter", fingerprint
        if f == TCP_SYN:
            return "scan", fingerprint
        return "other", fingerprint
    if proto == PROTO_UDP:
        return "scan", None
    if proto == PROTO_ICMP:
        if sport in ICMP4_BACKSCATTER:
            return "backscatter", None
        return ("scan" if sport == 8 else "other"), None
    if proto == PROTO_ICMP6:
        if sport in ICMP6_BACKSCATTER:
            return "backscatter", None
        return ("scan" if sport == 128 else "other"), None
    return "other", None


def ip_text(version, addr):
    return socket.inet_ntop(socket.AF_INET if version == 4 else socket.AF_INET6, addr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("capture", help="pcap or pcapng file of Ethernet frames")
    ap.add_argument("--aggregates", help="also write the aggregate tables to this JSON file")
    ap.add_argument("--per-packet", help="also write one line per frame (index, verdict) here")
    args = ap.parse_args()

    start = time.perf_counter()
    by_class = {"scan": 0, "backscatter": 0, "spoofed": 0, "other": 0}
    by_fingerprint = {"mirai": 0, "masscan": 0, "zmap": 0}
    errors = {"not_ip": 0, "truncated": 0}
    # (hour, dst port, proto, class) -> [packets, bytes]; (hour, src) -> [packets, bytes]
    per_port = defaultdict(lambda: [0, 0])
    per_source = defaultdict(lambda: [0, 0])
    packets = ipv6 = total_bytes = frames = 0

    verdicts = open(args.per_packet, "w") if args.per_packet else None
    with open(args.capture, "rb") as f:
        reader = dpkt.pcap.UniversalReader(f)
        if reader.datalink() != dpkt.pcap.DLT_EN10MB:
            sys.exit(f"{args.capture}: link type {reader.datalink()} is not Ethernet")
        for ts, buf in reader:
            frames += 1
            try:
                fields = decode(buf)
            except Skip as e:
                errors[str(e)] += 1
                if verdicts:
                    verdicts.write(f"{frames - 1} error:{e}\n")
                continue
            cls, fp = classify(*fields)
            if verdicts:
                verdicts.write(f"{frames - 1} {cls} {fp or '-'} {fields[4]} {fields[5]}\n")
            version, src, proto, dport = fields[0], fields[1], fields[3], fields[5]
            hour = int(ts // 3600) * 3600
            size = len(buf)
            packets += 1
            ipv6 += version == 6
            total_bytes += size
            by_class[cls] += 1
            if fp is not None:
                by_fingerprint[fp] += 1
            row = per_port[(hour, dport, proto, cls)]
            row[0] += 1
            row[1] += size
            row = per_source[(hour, src)]
            row[0] += 1
            row[1] += size

    seconds = time.perf_counter() - start
    if verdicts:
        verdicts.close()
    summary = {
        "packets": packets,
        "by_class": by_class,
        "by_fingerprint": by_fingerprint,
        "seconds": round(seconds, 3),
        "frames": frames,
        "ipv6_packets": ipv6,
        "bytes": total_bytes,
        "errors": errors,
        "port_groups": len(per_port),
        "source_groups": len(per_source),
        "packets_per_second": round(frames / seconds) if seconds > 0 else None,
    }
    if args.aggregates:
        with open(args.aggregates, "w") as out:
            json.dump(
                {
                    "per_port": [
                        {"hour": h, "dst_port": p, "proto": PROTO_NAMES.get(pr, str(pr)),
                         "class": c, "packets": n, "bytes": b}
                        for (h, p, pr, c), (n, b) in sorted(per_port.items())
                    ],
                    "per_source": [
                        {"hour": h, "src": ip_text(4 if len(s) == 4 else 6, s),
                         "packets": n, "bytes": b}
                        for (h, s), (n, b) in sorted(per_source.items())
                    ],
                },
                out,
            )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
