//! A gzip'ed feed holding one enormous line is read with bounded memory: the line is a bad
//! row with its line number, the rows around it are read. One test in its own binary, so that
//! the process's peak resident size (VmHWM) is this test's alone.

use greenwatch_feeds::{open_feed, BadRows, Catalogue, FeedFormat, FeedRow};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// Bytes of the enormous line: far more than any limit, and than the memory allowed below.
const ENORMOUS: usize = 160 << 20;

/// Writes `before`, a line of `ENORMOUS` bytes of `a` (its line feed included) and `after`,
/// gzip-compressed, without holding the line in memory.
fn write_gz(path: &Path, before: &str, after: &str) {
    let file = BufWriter::new(File::create(path).unwrap());
    let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    gz.write_all(before.as_bytes()).unwrap();
    let chunk = vec![b'a'; 1 << 16];
    for _ in 0..ENORMOUS / chunk.len() {
        gz.write_all(&chunk).unwrap();
    }
    gz.write_all(b"\n").unwrap();
    gz.write_all(after.as_bytes()).unwrap();
    gz.finish().unwrap().flush().unwrap();
}

fn read(path: &Path) -> (Vec<FeedRow>, BadRows) {
    let catalogue = Catalogue::shipped();
    let mut source = open_feed(path, FeedFormat::Auto, None, None, &catalogue).unwrap();
    let (mut rows, mut bad) = (Vec::new(), BadRows::default());
    while source.read_batch(&mut rows, &mut bad, 1000).unwrap() {}
    (rows, bad)
}

/// Peak resident size of this process so far, bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

fn scan_dns_row(ip: &str) -> String {
    format!(
        "\"2026-10-05 00:00:03\",\"high\",\"{ip}\",\"udp\",53,\"\",\"openresolver\",64496,\"NL\",\"\",\"\",0,\"\",\"\",\"\",\"\"\n"
    )
}

fn intelmq_event(ip: &str) -> String {
    format!(
        "{{\"classification.identifier\": \"open-ssdp\", \"source.ip\": \"{ip}\", \"time.source\": \"2026-10-05T00:00:19+00:00\"}}\n"
    )
}

#[test]
fn an_enormous_line_is_a_bad_row_and_memory_stays_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let header = greenwatch_feeds::report_columns("scan_dns")
        .unwrap()
        .join(",")
        + "\n";
    let csv = dir.path().join("2026-10-05-scan_dns-enormous.csv.gz");
    write_gz(
        &csv,
        &(header + &scan_dns_row("192.0.2.1")),
        &(scan_dns_row("192.0.2.2") + &scan_dns_row("192.0.2.3")),
    );
    let jsonl = dir.path().join("events.jsonl.gz");
    write_gz(
        &jsonl,
        &intelmq_event("192.0.2.4"),
        &intelmq_event("192.0.2.5"),
    );

    let before = peak_rss();
    let (csv_rows, csv_bad) = read(&csv);
    let (jsonl_rows, jsonl_bad) = read(&jsonl);
    let grown = peak_rss().saturating_sub(before);
    assert!(
        grown < 64 << 20,
        "reading the enormous lines raised the peak resident size by {grown} bytes"
    );

    let lines_and_ips = |rows: &[FeedRow]| -> Vec<(u64, String)> {
        rows.iter().map(|r| (r.line, r.ip.to_string())).collect()
    };
    let expected = |pairs: &[(u64, &str)]| -> Vec<(u64, String)> {
        pairs.iter().map(|(l, ip)| (*l, ip.to_string())).collect()
    };
    assert_eq!(
        lines_and_ips(&csv_rows),
        expected(&[(2, "192.0.2.1"), (4, "192.0.2.2"), (5, "192.0.2.3")])
    );
    assert_eq!(
        lines_and_ips(&jsonl_rows),
        expected(&[(1, "192.0.2.4"), (3, "192.0.2.5")])
    );
    for (bad, line) in [(csv_bad, 3), (jsonl_bad, 2)] {
        assert_eq!(bad.total, 1, "{bad:?}");
        assert_eq!(bad.examples[0].line, line);
        assert_eq!(
            bad.examples[0].reason,
            "too long: line longer than 1048576 bytes"
        );
    }
}
