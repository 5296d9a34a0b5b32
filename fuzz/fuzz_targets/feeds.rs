//! A risk feed file as an organisation uploads it: the first byte picks the reader
//! (Shadowserver `scan_dns` by its file name, Shadowserver with the report type detected,
//! IntelMQ events, a CSV mapping, a JSON-lines mapping, or auto-detection), the rest is the
//! file, possibly gzip-compressed. Bad rows must be counted, never panic; the reader must end.
#![no_main]

use greenwatch_feeds::{open_feed, BadRows, Catalogue, FeedFormat, Mapping};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

struct Fixed {
    catalogue: Catalogue,
    csv: Mapping,
    jsonl: Mapping,
    dir: tempfile::TempDir,
}

fn fixed() -> &'static Fixed {
    static FIXED: OnceLock<Fixed> = OnceLock::new();
    FIXED.get_or_init(|| Fixed {
        catalogue: Catalogue::shipped(),
        csv: Mapping::from_toml(
            "csv.toml",
            "ip = \"ip\"\ntime = \"seen\"\nport = \"port\"\nasn = \"asn\"\ncountry = \"cc\"\n\
             risk_column = \"kind\"\n[risk_values]\nresolver = \"openrecursivedns\"\nntp = \"openntp\"\n",
        )
        .expect("a valid mapping"),
        jsonl: Mapping::from_toml(
            "jsonl.toml",
            "format = \"jsonl\"\nip = \"src.ip\"\ntime = \"ts\"\nrisk = \"openntp\"\n",
        )
        .expect("a valid mapping"),
        dir: tempfile::tempdir_in(shm()).expect("a temporary directory"),
    })
}

/// Files in memory when /dev/shm exists: a file per execution.
fn shm() -> &'static str {
    if std::path::Path::new("/dev/shm").is_dir() {
        "/dev/shm"
    } else {
        "/tmp"
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&choice, file)) = data.split_first() else {
        return;
    };
    let f = fixed();
    let (name, format, mapping) = match choice % 6 {
        0 => (
            "2026-10-05-scan_dns-example-asn.csv",
            FeedFormat::Shadowserver,
            None,
        ),
        1 => ("report.csv", FeedFormat::Shadowserver, None),
        2 => ("events.jsonl", FeedFormat::Intelmq, None),
        3 => ("list.csv", FeedFormat::Mapped, Some(&f.csv)),
        4 => ("list.jsonl", FeedFormat::Mapped, Some(&f.jsonl)),
        _ => ("2026-10-05-event4_sinkhole-x.csv", FeedFormat::Auto, None),
    };
    let path = f.dir.path().join(name);
    std::fs::write(&path, file).expect("writing the input");
    let Ok(mut feed) = open_feed(&path, format, mapping, None, &f.catalogue) else {
        return;
    };
    let (mut rows, mut bad) = (Vec::new(), BadRows::default());
    while let Ok(true) = feed.read_batch(&mut rows, &mut bad, 1024) {
        rows.clear();
    }
});
