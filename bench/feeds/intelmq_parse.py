#!/usr/bin/env python3
"""Runs IntelMQ's own Shadowserver parser bot (intelmq.bots.parsers.shadowserver.parser,
ShadowserverParserBot) over a Shadowserver report CSV, without Redis, and prints rows/s.

usage: intelmq_parse.py FEED.csv [--limit N] [--chunk ROWS] [--report TYPE] [--show-event]

How the real bot is driven: IntelMQ's library mode (docs.intelmq.org, "dev/library"; intelmq
>= 3.2). The bot is instantiated with `intelmq.lib.bot.BotLibSettings`, which swaps the Redis
pipelines for in-memory Python lists (`Pythonlistsimple`), and `bot.process_message(report)`
runs the bot's normal `process()` on one Report: `parse()` -> `parse_csv_dict()` -> `parse_line()`
per row -> `send_message()`. Every field goes through `Event.add()`, i.e. IntelMQ's
harmonization validation and sanitation; the events come back in the `output` queue, rows that
failed in the `error` queue. Nothing of the bot is patched.

Reports are built as the Shadowserver collector (collectors/shadowserver/collector_reports_api)
builds them: `new_report()`, `extra.file_name` = the report's file name (the bot derives the
report type from it, e.g. `2026-10-01-scan_dns-bench.csv` -> `scan_dns`), `raw` = the CSV text
(base64-encoded by the harmonization), plus `feed.name` as a collector's `name` parameter sets
it. A real feed arrives as one report per day; the file is cut into reports of --chunk rows,
each with the header line, so memory stays bounded.

The schema: the parser reads Shadowserver's IntelMQ mapping from
`$VAR_STATE_PATH/shadowserver-schema.json` (intelmq/bots/parsers/shadowserver/_config.py), where
VAR_STATE_PATH = `$INTELMQ_ROOT_DIR/var/lib/bots/` (default root /opt/intelmq/). IntelMQ
downloads that file from Shadowserver at install/update time (`--update-schema`), which this
machine cannot do. This script sets INTELMQ_ROOT_DIR to a temporary directory before importing
intelmq and copies the repository's copy of exactly that file,
/work/shared/reference/shadowserver-intelmq.json (override: --schema or $SHADOWSERVER_SCHEMA),
to `<tmp>/var/lib/bots/shadowserver-schema.json`. With no runtime.yaml / harmonization.conf in
that root, library mode falls back to the harmonization.conf shipped in the intelmq package.

--limit N parses only the first N data rows: rows/s is measured on that subset, and the
benchmark extrapolates the full file's time from it (said so in its output).

Prints `intelmq_rows=... intelmq_events=... intelmq_seconds=... intelmq_rows_per_sec=...` on
stderr; the seconds cover the parsing (process_message over all reports), not the Python start,
imports and bot initialisation, which are printed separately.
"""
import argparse
import os
import re
import shutil
import sys
import tempfile
import time

DEFAULT_SCHEMA = "/work/shared/reference/shadowserver-intelmq.json"
FILE_NAME_RE = re.compile(r"^(?:\d{4}-\d{2}-\d{2}-)?(\w+)(-\w+)*\.csv$")  # the bot's own


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("feed")
    ap.add_argument("--limit", type=int, help="parse only the first N data rows")
    ap.add_argument("--chunk", type=int, default=20000, help="data rows per report")
    ap.add_argument("--report", help="report type when the file name does not tell it")
    ap.add_argument("--schema", default=os.environ.get("SHADOWSERVER_SCHEMA", DEFAULT_SCHEMA))
    ap.add_argument("--show-event", action="store_true", help="print the first event (JSON)")
    a = ap.parse_args()
    t_start = time.perf_counter()

    # Schema and paths: must be set before intelmq is imported (it reads the env at import).
    root = tempfile.mkdtemp(prefix="intelmq-root-")
    state = os.path.join(root, "var", "lib", "bots")
    os.makedirs(state)
    os.makedirs(os.path.join(root, "var", "log"))
    shutil.copyfile(a.schema, os.path.join(state, "shadowserver-schema.json"))
    os.environ["INTELMQ_ROOT_DIR"] = root

    file_name = os.path.basename(a.feed)
    if a.report:
        file_name = f"2026-01-01-{a.report}-bench.csv"
    elif not FILE_NAME_RE.match(file_name):
        sys.exit(f"{file_name!r} is not a Shadowserver report file name "
                 "(YYYY-MM-DD-<type>-....csv): pass --report TYPE")

    import intelmq
    from intelmq.lib.bot import BotLibSettings
    from intelmq.lib.message import Report
    from intelmq.bots.parsers.shadowserver.parser import ShadowserverParserBot
    import intelmq.bots.parsers.shadowserver._config as ss_config
    assert ss_config.__dict__["__config"].schema_file.startswith(root), "schema path not redirected"

    settings = BotLibSettings | {"logging_level": "WARNING"}
    bot = ShadowserverParserBot("shadowserver-parser", settings=settings)
    t_ready = time.perf_counter()

    with open(a.feed, encoding="utf-8", newline="") as f:
        header = f.readline()
        rows = events = failed = 0
        parse_secs = 0.0
        first = None
        while a.limit is None or rows < a.limit:
            want = a.chunk if a.limit is None else min(a.chunk, a.limit - rows)
            lines = []
            for line in f:
                lines.append(line)
                if len(lines) == want:
                    break
            if not lines:
                break
            rows += len(lines)
            t0 = time.perf_counter()
            report = Report(harmonization=bot.harmonization)  # adds time.observation
            report.add("feed.name", "Shadowserver Reports")
            report.add("extra.file_name", file_name)
            report.add("raw", header + "".join(lines))
            out = bot.process_message(report)
            parse_secs += time.perf_counter() - t0
            events += len(out.get("output", []))
            failed += len(out.get("error", []))
            if a.show_event and first is None and out.get("output"):
                first = out["output"][0]
    t_end = time.perf_counter()

    err = sys.stderr
    if first is not None:
        print(first.to_json(hierarchical=False, with_type=True), file=err)
    print(f"intelmq {intelmq.__version__}: {rows} rows in {-(-rows // a.chunk)} reports -> "
          f"{events} events, {failed} failed rows; schema {a.schema} (as {state}/"
          "shadowserver-schema.json)", file=err)
    print(f"timings: start+import+bot init {t_ready - t_start:.3f}s, parsing {parse_secs:.3f}s, "
          f"total {t_end - t_start:.3f}s", file=err)
    if a.limit is not None:
        print(f"limited to the first {a.limit} rows: rows/s measured on {rows} rows", file=err)
    print(f"intelmq_rows={rows} intelmq_events={events} intelmq_failed={failed} "
          f"intelmq_seconds={parse_secs:.3f} intelmq_rows_per_sec={rows / parse_secs:.0f}",
          file=err)
    shutil.rmtree(root, ignore_errors=True)
    code = 0
    if events != rows:
        print(f"IntelMQ produced {events} events for {rows} rows", file=err)
        code = 1
    # Leave without the bot's atexit shutdown: it only flushes statistics to Redis
    # (statistics_host, 127.0.0.1:6379), and with no Redis here its retries take ~8 s.
    sys.stdout.flush()
    err.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
