//! Decompression bombs in sensor batches are refused before they take memory. One test in
//! its own binary, so that the process's peak resident size (VmHWM) is this test's alone.

use greenwatch_model::TrafficClass;
use greenwatch_observe::IngestCounts;
use greenwatch_sensor::{Batch, BatchHeader};
use greenwatch_store::segment;

/// One IPv4 flow tuple of one packet as a segment record (44 bytes).
fn flow_record() -> Vec<u8> {
    let mut r = vec![4, 192, 0, 2, 1, 4, 198, 51, 100, 0];
    r.extend_from_slice(&23u16.to_le_bytes()); // port
    r.extend_from_slice(&[6, TrafficClass::Scan.code(), 0]); // TCP, class, no fingerprint
    r.extend_from_slice(&0u32.to_le_bytes()); // ASN
    r.extend_from_slice(&[0, 0]); // country
    r.extend_from_slice(&1u64.to_le_bytes()); // packets
    r.extend_from_slice(&60u64.to_le_bytes()); // bytes
    r.extend_from_slice(&1u16.to_le_bytes()); // unique destinations
    r.push(51); // TTL
    r.extend_from_slice(&1024u16.to_le_bytes()); // TCP window
    r.extend_from_slice(&60u16.to_le_bytes()); // length
    assert_eq!(r.len(), 44);
    r
}

/// An LZ4 segment of `records` copies of `record`, written by hand as one literal record, one
/// match repeating it (about 255 bytes of output per byte of input: the bomb), and a last
/// literal record. Valid data, so code without a limit would decode all of it.
fn bomb(record: &[u8], records: usize) -> Vec<u8> {
    let len = record.len();
    let mut out = ((records * len) as u32).to_le_bytes().to_vec();
    let literals = |out: &mut Vec<u8>, match_nibble: u8| {
        out.push(0xf0 | match_nibble);
        out.push((len - 15) as u8);
        out.extend_from_slice(record);
    };
    literals(&mut out, 15);
    out.extend_from_slice(&(len as u16).to_le_bytes());
    let mut extra = (records - 2) * len - 4 - 15;
    while extra >= 255 {
        out.push(255);
        extra -= 255;
    }
    out.push(extra as u8);
    literals(&mut out, 0);
    out
}

fn batch(packets: u64, buckets: &[Vec<u8>]) -> Vec<u8> {
    let header = BatchHeader {
        stream: "0123456789abcdef0123456789abcdef".into(),
        seq: 0,
        bucket_secs: 3600,
        counts: IngestCounts {
            packets,
            ..IngestCounts::default()
        },
    };
    let header = serde_json::to_vec(&header).unwrap();
    let mut out = b"GWB1".to_vec();
    out.extend_from_slice(&(header.len() as u32).to_le_bytes());
    out.extend_from_slice(&header);
    out.extend_from_slice(&(buckets.len() as u32).to_le_bytes());
    for (i, data) in buckets.iter().enumerate() {
        out.extend_from_slice(&(1_790_000_000 + 3600 * i as i64).to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(data);
    }
    let backscatter = segment::encode_backscatter(&[]);
    out.extend_from_slice(&(backscatter.len() as u32).to_le_bytes());
    out.extend_from_slice(&backscatter);
    out
}

/// Peak resident size of this process so far, bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

#[test]
fn bombs_are_refused_before_they_decompress() {
    let record = flow_record();
    // The records really are flow tuples: a small bomb decodes.
    let small = bomb(&record, 1000);
    let flows = segment::decode_flows(0, &small, 1 << 20).unwrap();
    assert_eq!(flows.len(), 1000);
    assert!(flows.iter().all(|f| f.packets == 1));

    // About 1 MiB that decompresses to 255 MiB (5.8 million flow tuples).
    let big = bomb(&record, 6_000_000);
    assert!(big.len() < 1_100_000, "{}", big.len());
    let few_packets = batch(1000, std::slice::from_ref(&big));
    let huge_counts = batch(u64::MAX, std::slice::from_ref(&big));
    // 64 segments of 16 KiB, each 4 MiB decompressed: none large, all together 256 MiB.
    let many = batch(100_000, &vec![bomb(&record, 95_000); 64]);
    assert!(many.len() < 1_100_000, "{}", many.len());

    let before = peak_rss();
    let refusal = |bytes: &[u8]| Batch::decode(bytes).unwrap_err().to_string();
    let errors = [refusal(&few_packets), refusal(&huge_counts), refusal(&many)];
    let grown = peak_rss().saturating_sub(before);
    assert!(
        grown < 64 << 20,
        "decoding the bombs raised the peak resident size by {grown} bytes"
    );

    let [few_packets, huge_counts, many] = errors;
    assert!(
        few_packets.contains("flow segment 0 (bucket 1790000000) claims to decompress to 264000000 bytes")
            && few_packets.contains("68000 bytes of its flow tuples' limit of 68 bytes per decoded packet, 1000 decoded"),
        "{few_packets}"
    );
    assert!(
        huge_counts
            .contains("flow segment 0 (bucket 1790000000) claims to decompress to 264000000 bytes")
            && huge_counts
                .contains("67108864 bytes of the limit of 67108864 bytes for all segments"),
        "{huge_counts}"
    );
    // The first segment fits the 6.8 MB that 100 000 packets allow; the second no longer does.
    assert!(
        many.contains("flow segment 1 (bucket 1790003600) claims to decompress to 4180000 bytes"),
        "{many}"
    );
}
