#!/usr/bin/env python3
"""Writes the feed samples in this directory, deterministically.

Shadowserver reports follow the published column lists (crates/feeds/data/shadowserver-reports.json)
with values shaped like real reports; addresses and AS numbers come from the documentation ranges
(192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32, AS64496-64511, AS65536-65551).
Also written: a gzip copy of one report, IntelMQ events as the file output bot writes them (flat
keys, sorted), and a semicolon CSV with its mapping. Run: python3 make_samples.py
"""

import base64
import csv
import gzip
import io
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA = os.path.join(HERE, "..", "..", "data", "shadowserver-reports.json")
DAY = "2026-10-05"
SECTOR = "Communications, Service Provider, and Hosting Service"

with open(SCHEMA) as f:
    REPORTS = json.load(f)


def scan(second, ip, asn, geo, region, city, **extra):
    """The columns every scan report shares, then the report's own."""
    row = {
        "timestamp": f"{DAY} {second // 3600:02}:{second // 60 % 60:02}:{second % 60:02}",
        "severity": "high",
        "ip": ip,
        "protocol": "udp",
        "hostname": "",
        "asn": asn,
        "geo": geo,
        "region": region,
        "city": city,
        "naics": 517311,
        "hostname_source": "",
        "sector": SECTOR,
    }
    row.update(extra)
    return row


# Places rows come from: (asn, geo, region, city).
AMS = (64496, "NL", "NOORD-HOLLAND", "AMSTERDAM")
UTR = (64496, "NL", "UTRECHT", "UTRECHT")
FRA = (64497, "DE", "HESSEN", "FRANKFURT AM MAIN")
SAO = (64500, "BR", "SAO PAULO", "SAO PAULO")
MUC = (65536, "DE", "BAYERN", "MUNICH")


def scan_dns():
    versions = ["dnsmasq-2.80", "9.11.4-P2-RedHat-9.11.4-26.P2.el7_9.16", "", "unbound 1.9.0",
                "PowerDNS Recursor 4.1.11", "dnsmasq-2.45", "Microsoft DNS 6.1.7601 (1DB1446A)", ""]
    places = [AMS, AMS, UTR, FRA, FRA, SAO, AMS, MUC]
    for i, (version, place) in enumerate(zip(versions, places)):
        yield scan(3 + i * 431, f"192.0.2.{15 + i * 7}", *place, port=53, tag="openresolver",
                   dns_version=version, min_amplification=f"{1.8 + i * 0.37:.2f}")


def scan6_dns():
    places = [AMS, FRA, FRA, MUC, SAO]
    for i, place in enumerate(places):
        yield scan(11 + i * 977, f"2001:db8:{0x10 + i:x}::{0x53 + i:x}", *place, port=53,
                   tag="openresolver", dns_version="dnsmasq-2.85" if i % 2 else "",
                   min_amplification=f"{2.2 + i * 0.5:.2f}")


def scan_ntp():
    systems = ["Linux/3.10.0-1160.el7.x86_64", "UNIX", "Linux/2.6.32-754.el6.x86_64", "cisco",
               "FreeBSD/12.2-RELEASE-p4", "Linux/4.19.0-18-amd64"]
    places = [UTR, AMS, FRA, SAO, MUC, AMS]
    for i, (system, place) in enumerate(zip(systems, places)):
        yield scan(
            42 + i * 613, f"198.51.100.{20 + i * 11}", *place, port=123, tag="ntpversion",
            severity="medium", version="ntpd 4.2.6p5@1.2349-o Fri Jul 22 17:30:51 UTC 2016 (1)",
            clk_wander="0.002", clock=f"0xe8a1b2{0xd0 + i:02x}.1234567{i}", error="",
            frequency=f"-{12.345 + i:.3f}", jitter="0.456", leap=0, mintc=3, noise="",
            offset=f"-0.{123 + i}", peer=12345 + i, phase="0.011", poll=10, precision=-23,
            processor="x86_64" if "Linux" in system else "", refid="GPS" if i == 3 else "192.0.2.1",
            reftime=f"0xe8a1b2c{i}.4d5e6f70", rootdelay="12.345", rootdispersion="40.123",
            stability="0.012", state=4, stratum=1 if i == 3 else 2, system=system, tai=37, tc=10,
            response_size=468, amplification="9.75")


def scan_ntpmonitor():
    places = [AMS, FRA, SAO, SAO, UTR]
    for i, place in enumerate(places):
        yield scan(7 + i * 1201, f"203.0.113.{40 + i * 3}", *place, port=123, tag="ntpmonitor",
                   packets=100 - i * 17, response_size=(100 - i * 17) * 468,
                   amplification=f"{(100 - i * 17) * 468 / 234:.2f}")


def scan_ssdp():
    servers = ["Linux/2.6.36, UPnP/1.0, Portable SDK for UPnP devices/1.6.19",
               "Linux, UPnP/1.0, DIR-615 Ver 3.11",
               "Ubuntu/7.10 UPnP/1.0 miniupnpd/1.0",
               "Linux/3.14.0 UPnP/1.0 IpBridge/1.26.0",
               "Custom/1.0 UPnP/1.0 Proc/Ver"]
    places = [AMS, UTR, FRA, MUC, SAO]
    for i, (server, place) in enumerate(zip(servers, places)):
        yield scan(
            19 + i * 857, f"192.0.2.{120 + i}", *place, port=1900, tag="ssdp",
            header="HTTP/1.1 200 OK", systime="", cache_control="max-age=1800",
            location=f"http://192.168.{i}.1:49152/rootDesc.xml", server=server,
            search_target="upnp:rootdevice",
            unique_service_name=f"uuid:2d4b8a5e-1dd2-11b2-9a4e-a1b2c3d4e5f{i}::upnp:rootdevice",
            host="", nts="", nt="", content_type="", server_port="", instance="", version="",
            updated_at="", resource_identifier="", amplification="30.8", response_size=323)


def scan_snmp():
    devices = [
        ("RT-AC68U", "Linux RT-AC68U 2.6.36.4brcmarm #1 SMP PREEMPT Fri Apr 8 14:50:43 CST 2016 armv7l"),
        ("core-sw-01", "Cisco IOS Software, C2960 Software (C2960-LANBASEK9-M), Version 12.2(55)SE, "
                       "RELEASE SOFTWARE (fc2)"),
        # A real sysDescr often has CRLF line breaks: the record spans four physical lines.
        ("edge-rtr", "Cisco IOS Software, C880 Software (C880DATA-UNIVERSALK9-M), Version 15.1(4)M4, "
                     "RELEASE SOFTWARE (fc1)\r\nTechnical Support: http://www.cisco.com/techsupport\r\n"
                     "Copyright (c) 1986-2012 by Cisco Systems, Inc.\r\nCompiled Tue 20-Mar-12 23:34 by prod_rel_team"),
        ("WIN-7Q2J4KQ", "Hardware: Intel64 Family 6 Model 85 Stepping 7 AT/AT COMPATIBLE - Software: "
                        "Windows Version 6.3 (Build 17763 Multiprocessor Free)"),
        ("", "ZXHN H108N V2.5.0_EG"),
        ("printer", "HP ETHERNET MULTI-ENVIRONMENT,ROM none,JETDIRECT,JD153,EEPROM JSI24090012"),
    ]
    places = [AMS, FRA, UTR, SAO, MUC, AMS]
    for i, ((sysname, sysdesc), place) in enumerate(zip(devices, places)):
        yield scan(
            23 + i * 719, f"198.51.100.{150 + i * 5}", *place, port=161, tag="snmp",
            severity="medium", device_vendor="Cisco" if "Cisco" in sysdesc else "",
            device_type="router" if "Cisco" in sysdesc else "", device_model="",
            device_version="", device_sector="", version=2, sysname=sysname, sysdesc=sysdesc,
            community="public", response_size=len(sysdesc) + 40,
            amplification=f"{(len(sysdesc) + 40) / 40:.2f}", uptime=86400 * (i + 3) + 17,
            mac_address="", vendor_id="", vendor="")


def scan_chargen():
    places = [SAO, SAO, FRA, AMS, MUC, UTR]
    for i, place in enumerate(places):
        yield scan(31 + i * 523, f"203.0.113.{90 + i * 2}", *place, port=19, tag="chargen",
                   response_size=3540 + i, amplification=f"{(3540 + i) / 1:.2f}")


def scan_memcached():
    places = [FRA, AMS, SAO, MUC, UTR]
    for i, place in enumerate(places):
        yield scan(
            53 + i * 1103, f"192.0.2.{200 + i * 9}", *place, port=11211, tag="memcached",
            severity="critical", version=["1.4.15", "1.4.25", "1.5.6", "1.6.9", "1.4.15"][i],
            pid=1123 + i * 97, pointer_size=64, uptime=8640123 + i * 7777,
            time=1791158403 + i * 1103, curr_connections=10 + i, total_connections=1234 + i * 91,
            response_size=1424 + i * 8, amplification=f"{(1424 + i * 8) / 15:.2f}")


def event4_sinkhole():
    sources = [("203.0.113.7", *SAO), ("203.0.113.9", *SAO), ("198.51.100.77", *FRA),
               ("192.0.2.99", *AMS), ("203.0.113.200", *MUC), ("198.51.100.78", *FRA),
               ("192.0.2.33", *UTR)]
    for i, (ip, asn, geo, region, city) in enumerate(sources):
        second = 5 + i * 607
        yield {
            "timestamp": f"{DAY} {second // 3600:02}:{second // 60 % 60:02}:{second % 60:02}",
            "protocol": "tcp", "src_ip": ip, "src_port": 41234 + i * 1009, "src_asn": asn,
            "src_geo": geo, "src_region": region, "src_city": city, "src_hostname": "",
            "src_naics": 517311, "src_sector": SECTOR, "device_vendor": "", "device_type": "",
            "device_model": "", "severity": "medium", "dst_ip": "198.51.100.10",
            "dst_port": 23 if i % 3 else 2323, "dst_asn": 65551, "dst_geo": "US",
            "dst_region": "CALIFORNIA", "dst_city": "SAN FRANCISCO", "dst_hostname": "",
            "dst_naics": 518210, "dst_sector": "", "public_source": "", "infection": "mirai",
            "family": "mirai", "tag": "mirai", "application": "telnet", "version": "",
            "event_id": "", "ssl_cipher": "", "ssl_servername": "",
        }


REPORT_ROWS = {
    "scan_dns": scan_dns, "scan6_dns": scan6_dns, "scan_ntp": scan_ntp,
    "scan_ntpmonitor": scan_ntpmonitor, "scan_ssdp": scan_ssdp, "scan_snmp": scan_snmp,
    "scan_chargen": scan_chargen, "scan_memcached": scan_memcached,
    "event4_sinkhole": event4_sinkhole,
}


def csv_text(columns, rows):
    """Shadowserver's quoting: strings quoted, numbers bare."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        unknown = set(row) - set(columns)
        assert not unknown, unknown
        writer.writerow([row.get(c, "") for c in columns])
    return out.getvalue()


def write(name, data):
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(os.path.join(HERE, name), mode, **({} if mode == "wb" else {"newline": ""})) as f:
        f.write(data)


def reports():
    texts = {}
    for report, rows in REPORT_ROWS.items():
        text = csv_text(REPORTS[report]["fields"], list(rows()))
        texts[report] = text
        write(f"{DAY}-{report}-example-asn.csv", text)
    write(f"{DAY}-scan_snmp-example-asn.csv.gz",
          gzip.compress(texts["scan_snmp"].encode(), mtime=0))


def raw(report, row):
    """IntelMQ keeps the report line, with its header, base64-encoded in `raw`."""
    return base64.b64encode(csv_text(REPORTS[report]["fields"], [row]).encode()).decode()


def shadowserver_event(report, row, feed, identifier, application, extra_keys):
    event = {
        "classification.identifier": identifier,
        "classification.taxonomy": REPORTS[report]["taxonomy"] or "vulnerable",
        "classification.type": REPORTS[report]["type"] or "vulnerable-system",
        "feed.accuracy": 100.0,
        "feed.name": feed,
        "feed.provider": "Shadowserver",
        "protocol.application": application,
        "protocol.transport": row.get("protocol", "udp"),
        "raw": raw(report, row),
        "source.asn": row["asn"],
        "source.geolocation.cc": row["geo"],
        "source.geolocation.city": row["city"],
        "source.geolocation.region": row["region"],
        "source.ip": row["ip"],
        "source.port": row["port"],
        "time.observation": f"{DAY}T06:12:44+00:00",
        "time.source": row["timestamp"].replace(" ", "T") + "+00:00",
        "extra.tag": row["tag"],
    }
    for key in extra_keys:
        if row.get(key) not in ("", None):
            event[f"extra.{key}"] = row[key]
    return event


def intelmq():
    dns = list(scan_dns())
    events = [
        shadowserver_event("scan_dns", dns[0], "Open-Resolvers", "dns-open-resolver", "dns",
                           ["dns_version", "min_amplification"]),
        shadowserver_event("scan_ntpmonitor", next(scan_ntpmonitor()), "Open-NTP-Monitor",
                           "ntp-monitor", "ntp", ["packets", "response_size", "amplification"]),
        shadowserver_event("scan_ssdp", next(scan_ssdp()), "Open-SSDP", "open-ssdp", "ssdp",
                           ["server", "search_target", "amplification"]),
        shadowserver_event("scan_snmp", list(scan_snmp())[1], "Open-SNMP", "open-snmp", "snmp",
                           ["sysdesc", "sysname", "community", "version"]),
        shadowserver_event("scan_chargen", next(scan_chargen()), "Open-Chargen", "open-chargen",
                           "chargen", ["response_size", "amplification"]),
        shadowserver_event("scan_memcached", next(scan_memcached()), "Open-Memcached",
                           "open-memcached", "memcached", ["version", "uptime"]),
        shadowserver_event("scan6_dns", next(scan6_dns()), "Open-Resolvers", "dns-open-resolver",
                           "dns", ["dns_version", "min_amplification"]),
    ]
    events[3]["source.geolocation.city"] = "Zürich"  # written \u00fc-escaped, as json.dumps does
    sink = next(event4_sinkhole())
    events.append({
        "classification.identifier": "mirai",
        "classification.taxonomy": "malicious-code",
        "classification.type": "infected-system",
        "destination.ip": sink["dst_ip"],
        "destination.port": sink["dst_port"],
        "extra.tag": "mirai",
        "feed.accuracy": 100.0,
        "feed.name": "Sinkhole-Events",
        "feed.provider": "Shadowserver",
        "malware.name": "mirai",
        "protocol.application": "telnet",
        "protocol.transport": "tcp",
        "raw": raw("event4_sinkhole", sink),
        "source.asn": sink["src_asn"],
        "source.geolocation.cc": sink["src_geo"],
        "source.ip": sink["src_ip"],
        "source.port": sink["src_port"],
        "time.observation": f"{DAY}T06:12:44+00:00",
        "time.source": sink["timestamp"].replace(" ", "T") + "+00:00",
    })
    # A phishing URL from another feed: no risk in the catalogue claims it.
    events.append({
        "classification.identifier": "phishing",
        "classification.taxonomy": "fraud",
        "classification.type": "phishing",
        "feed.accuracy": 90.0,
        "feed.name": "Phishing-URLs",
        "feed.provider": "Example CERT",
        "source.fqdn": "login-example.invalid",
        "source.ip": "198.51.100.200",
        "source.url": "http://login-example.invalid/account/verify.php",
        "time.observation": f"{DAY}T06:13:02+00:00",
        "time.source": f"{DAY}T05:58:11+00:00",
    })
    lines = [json.dumps(e, sort_keys=True) for e in events]
    lines.insert(8, "")  # a blank line: skipped, but it still counts for line numbers
    # The same kind of event in IntelMQ's nested (hierarchical) form, NTP version from a scan.
    ntp = next(scan_ntp())
    nested = {
        "classification": {"identifier": "ntp-version", "taxonomy": "vulnerable",
                           "type": "vulnerable-system"},
        "feed": {"accuracy": 100.0, "name": "NTP-Version", "provider": "Shadowserver"},
        "protocol": {"application": "ntp", "transport": "udp"},
        "raw": raw("scan_ntp", ntp),
        "source": {"asn": ntp["asn"], "geolocation": {"cc": ntp["geo"], "city": ntp["city"]},
                   "ip": ntp["ip"], "port": ntp["port"]},
        "time": {"observation": f"{DAY}T06:12:44+00:00",
                 "source": ntp["timestamp"].replace(" ", "T") + "+00:00"},
    }
    lines.append(json.dumps(nested, sort_keys=True))
    write(f"intelmq-events-{DAY}.jsonl", "\n".join(lines) + "\n")


def mapped():
    write("cert-scan.toml", """\
# Our own scan results: semicolon-separated, day-first local times (UTC), a "kind" column.
format = "csv"
delimiter = ";"
ip = "address"
time = "seen"
time_format = "%d/%m/%Y %H:%M"
port = "port"
asn = "asn"
country = "cc"
risk_column = "kind"

[risk_values]
resolver = "openrecursivedns"
ntp-monlist = "openntp"
ssdp = "openssdp"
""")
    rows = [
        ("192.0.2.44", "05/10/2026 08:15", 53, "AS64496", "NL", "resolver", "answers for any domain"),
        ("192.0.2.45", "05/10/2026 08:16", 53, "AS64496", "NL", "resolver", ""),
        ("203.0.113.61", "05/10/2026 08:20", 123, "AS64500", "BR", "ntp-monlist", "600 entries; 48 KB reply"),
        ("2001:db8:44::1", "05/10/2026 08:31", 53, "", "", "resolver", "IPv6"),
        ("198.51.100.9", "05/10/2026 09:02", 23, "AS64497", "DE", "telnet", "not a risk we track"),
        ("192.0.2.180", "05/10/2026 09:40", 1900, "64496", "nl", "ssdp", "miniupnpd 1.0"),
        ("198.51.100.12", "05/10/2026 10:05", 123, "AS64497", "DE", "ntp-monlist", ""),
    ]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["address", "seen", "port", "asn", "cc", "kind", "note"])
    writer.writerows(rows)
    write(f"cert-scan-{DAY}.csv", out.getvalue())


if __name__ == "__main__":
    reports()
    intelmq()
    mapped()
