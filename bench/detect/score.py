"""Scores one seed's findings against its ground truth; prints one markdown row."""
import json
import sys
from datetime import datetime

seed, truth, findings = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))


def secs(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def matches(f, s):
    subject = f["subject"]
    return (subject["dimension"] == "port" and subject["port"] == s["port"]
            and abs(secs(f["first"]) - secs(s["start"])) <= 3600)


surges = truth["surges"]
big = [s for s in surges if s["factor"] >= 3]
small = [s for s in surges if s["factor"] < 3]
found = lambda group: sum(any(matches(f, s) for f in findings) for s in group)
tp = sum(any(matches(f, s) for s in surges) for f in findings)
precision = tp / len(findings) if findings else 1.0
print(f"| {seed} | {found(big)}/{len(big)} | {found(small)}/{len(small)} | {len(findings)} | {tp} | {precision:.2f} |")
