#!/usr/bin/env python3
"""Rebuilds crates/feeds/data/shadowserver-reports.json (report type -> columns and IntelMQ
classification) from Shadowserver's published report schema (report_schema's reports.json).

Usage: scripts/update-shadowserver-schema.py PATH/TO/shadowserver-reports.json
"""
import json
import sys

src = json.load(open(sys.argv[1]))
out = {
    name: {
        "fields": v["fields"],
        "type": v.get("classification.type"),
        "taxonomy": v.get("classification.taxonomy"),
    }
    for name, v in sorted(src.items())
}
text = json.dumps(out, separators=(",", ":")).replace('},"', '},\n"')
open("crates/feeds/data/shadowserver-reports.json", "w").write(text)
print(f"{len(out)} report types")
