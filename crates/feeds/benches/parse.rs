//! Feed reader throughput: rows/s (items/s) reading a 200k-row file from the page cache.
//!
//! `cargo bench -p greenwatch-feeds --bench parse`

use greenwatch_feeds::{open_feed, report_columns, BadRows, Catalogue, FeedFormat};
use std::io::Write;
use std::path::Path;
use std::sync::OnceLock;

fn main() {
    divan::main();
}

const ROWS: usize = 200_000;

/// The temporary directory holding the generated feeds, made once.
fn feeds() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let csv = scan_dns(ROWS);
        std::fs::write(dir.path().join(SCAN_DNS), &csv).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&csv).unwrap();
        std::fs::write(dir.path().join(SCAN_DNS_GZ), gz.finish().unwrap()).unwrap();
        std::fs::write(dir.path().join(INTELMQ), intelmq(ROWS)).unwrap();
        dir
    })
    .path()
}

const SCAN_DNS: &str = "2026-10-05-scan_dns-bench-asn.csv";
const SCAN_DNS_GZ: &str = "2026-10-05-scan_dns-bench-asn.csv.gz";
const INTELMQ: &str = "intelmq-bench.jsonl";

/// A scan_dns report as Shadowserver writes it (about 200 bytes a row).
fn scan_dns(rows: usize) -> Vec<u8> {
    let mut out = report_columns("scan_dns").unwrap().join(",").into_bytes();
    out.push(b'\n');
    for i in 0..rows {
        let s = i * 86_400 / rows;
        writeln!(
            out,
            "\"2026-10-05 {:02}:{:02}:{:02}\",\"high\",\"{}.{}.{}.{}\",\"udp\",53,\"\",\"openresolver\",{},\"{}\",\"NOORD-HOLLAND\",\"AMSTERDAM\",517311,\"\",\"Communications, Service Provider, and Hosting Service\",\"dnsmasq-2.80\",\"{}.{:02}\"",
            s / 3600,
            s / 60 % 60,
            s % 60,
            [192, 198, 203][i % 3],
            (i >> 16) & 255,
            (i >> 8) & 255,
            i & 255,
            64_496 + i % 16,
            ["NL", "DE", "BR", "US"][i % 4],
            1 + i % 40,
            i % 100,
        )
        .unwrap();
    }
    out
}

/// IntelMQ events in the flat form the file output bot writes.
fn intelmq(rows: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..rows {
        let s = i * 86_400 / rows;
        writeln!(
            out,
            "{{\"classification.identifier\": \"dns-open-resolver\", \"classification.taxonomy\": \"vulnerable\", \"classification.type\": \"vulnerable-system\", \"extra.dns_version\": \"dnsmasq-2.80\", \"feed.accuracy\": 100.0, \"feed.name\": \"Open-Resolvers\", \"feed.provider\": \"Shadowserver\", \"protocol.application\": \"dns\", \"protocol.transport\": \"udp\", \"source.asn\": {}, \"source.geolocation.cc\": \"NL\", \"source.ip\": \"192.{}.{}.{}\", \"source.port\": 53, \"time.observation\": \"2026-10-05T06:12:44+00:00\", \"time.source\": \"2026-10-05T{:02}:{:02}:{:02}+00:00\"}}",
            64_496 + i % 16,
            (i >> 16) & 255,
            (i >> 8) & 255,
            i & 255,
            s / 3600,
            s / 60 % 60,
            s % 60,
        )
        .unwrap();
    }
    out
}

/// Opens and reads the whole file in batches of 4096 rows.
fn read_all(path: &Path, catalogue: &Catalogue) -> usize {
    let mut source = open_feed(path, FeedFormat::Auto, None, None, catalogue).unwrap();
    let (mut rows, mut bad) = (Vec::with_capacity(4096), BadRows::default());
    let mut total = 0;
    loop {
        let more = source.read_batch(&mut rows, &mut bad, 4096).unwrap();
        total += rows.len();
        rows.clear();
        if !more {
            break;
        }
    }
    assert_eq!((total, bad.total), (ROWS, 0));
    total
}

fn bench_file(b: divan::Bencher, name: &str) {
    let path = feeds().join(name);
    let catalogue = Catalogue::shipped();
    b.counter(divan::counter::ItemsCount::new(ROWS))
        .bench(|| read_all(&path, &catalogue));
}

/// Shadowserver scan_dns CSV, plain.
#[divan::bench(sample_count = 20)]
fn shadowserver_csv(b: divan::Bencher) {
    bench_file(b, SCAN_DNS);
}

/// The same report gzip-compressed.
#[divan::bench(sample_count = 20)]
fn shadowserver_csv_gz(b: divan::Bencher) {
    bench_file(b, SCAN_DNS_GZ);
}

/// IntelMQ JSON lines, flat form.
#[divan::bench(sample_count = 20)]
fn intelmq_jsonl(b: divan::Bencher) {
    bench_file(b, INTELMQ);
}
