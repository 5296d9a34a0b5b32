//! Capture reading: real sample captures (counts checked against libpcap) and synthetic
//! captures in every supported container variant, plus corrupt and truncated files.

mod common;

use common::{pcap, pcap_eth, syn_frame, Ng, Rec};
use greenwatch_model::{Timestamp, TrafficClass};
use greenwatch_packet::{decode, CaptureFormat, CaptureReader, DecodeError, LinkType};

fn data(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Reads every frame; returns (frames, error) and decodes each frame (must not panic).
fn read_all(bytes: &[u8]) -> (usize, Option<greenwatch_packet::CaptureError>) {
    let mut n = 0;
    for item in CaptureReader::new(bytes).expect("open") {
        match item {
            Ok(f) => {
                let _ = decode(&f);
                n += 1;
            }
            Err(e) => return (n, Some(e)),
        }
    }
    (n, None)
}

/// (file, frames as libpcap counts them) from `tests/data/frames.txt`.
fn samples() -> Vec<(String, usize)> {
    let list = String::from_utf8(data("frames.txt")).expect("utf-8");
    list.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (name, count) = l.split_once(' ').expect("name count");
            (name.to_string(), count.parse().expect("count"))
        })
        .collect()
}

#[test]
fn real_samples_read_completely_with_libpcap_counts() {
    for (name, expected) in samples() {
        let bytes = data(&name);
        let (n, err) = read_all(&bytes);
        assert_eq!(err, None, "{name}");
        assert_eq!(n, expected, "{name}");
    }
}

#[test]
fn real_samples_decode_like_tcpdump_filters() {
    // `tcpdump --count -r FILE 'ip or ip6'` and `... tcp`
    for (name, ip, tcp) in [
        ("wireshark_samples-test.pcapng", 4088, 15),
        ("err-buffertoosmall.pcapng", 27, 27),
        ("ntp.pcap", 12, 0),
        ("test010-le.pcapng", 4, 0),
    ] {
        let bytes = data(name);
        let (mut ok, mut tcp_n, mut not_ip) = (0, 0, 0);
        for f in CaptureReader::new(&bytes).unwrap() {
            match decode(&f.unwrap()) {
                Ok(p) => {
                    ok += 1;
                    tcp_n += (p.transport.0 == 6) as usize;
                }
                Err(DecodeError::NotIp) => not_ip += 1,
                Err(e) => panic!("{name}: {e}"),
            }
        }
        assert_eq!((ok, tcp_n), (ip, tcp), "{name} ({not_ip} not IP)");
    }
}

#[test]
fn real_sample_timestamps() {
    // `tcpdump -nn --nano -tt -r FILE -c1`
    let first = |name: &str| {
        let b = data(name);
        let f = CaptureReader::new(&b).unwrap().next().unwrap().unwrap();
        f.ts
    };
    assert_eq!(first("ntp.pcap"), Timestamp(1_476_535_656_489_094));
    assert_eq!(
        first("modified-format.pcap"),
        Timestamp(1_712_763_541_734_807)
    );
    // nanosecond if_tsresol, truncated to microseconds
    assert_eq!(
        first("wireshark_samples-test.pcapng"),
        Timestamp(1_506_883_716_995_391)
    );
    assert_eq!(
        first("err-buffertoosmall.pcapng"),
        Timestamp(1_681_769_419_966_695)
    );
}

#[test]
fn formats_are_reported() {
    let b = data("modified-format.pcap");
    assert!(matches!(
        CaptureReader::new(&b).unwrap().format(),
        CaptureFormat::Pcap {
            modified: true,
            big_endian: false,
            nanosecond: false,
            link_type: LinkType::ETHERNET
        }
    ));
    let b = data("test001-be.pcapng");
    assert_eq!(
        CaptureReader::new(&b).unwrap().format(),
        CaptureFormat::PcapNg
    );
}

#[test]
fn legacy_pcap_all_byte_orders_and_precisions() {
    let f0 = syn_frame(1);
    let f1 = syn_frame(2);
    for be in [false, true] {
        for (magic, frac, us) in [
            (0xa1b2_c3d4u32, 250_000u32, 250_000i64),
            (0xa1b2_3c4d, 250_000_999, 250_000),
        ] {
            let recs = [
                Rec {
                    secs: 1_700_000_000,
                    frac,
                    data: &f0,
                    wire_len: 60,
                },
                Rec {
                    secs: 1_700_000_001,
                    frac: 0,
                    data: &f1,
                    wire_len: 54,
                },
            ];
            let bytes = pcap(be, magic, 1, &recs);
            let frames: Vec<_> = CaptureReader::new(&bytes)
                .unwrap()
                .map(|f| f.unwrap())
                .collect();
            assert_eq!(frames.len(), 2);
            assert_eq!(frames[0].ts, Timestamp(1_700_000_000 * 1_000_000 + us));
            assert_eq!(frames[0].wire_len, 60);
            assert_eq!(frames[0].offset, 24);
            assert_eq!(frames[0].data, &f0[..]);
            assert_eq!(frames[0].link_type, LinkType::ETHERNET);
            assert_eq!(frames[1].offset, 24 + 16 + 54);
            assert_eq!(frames[1].ts, Timestamp::from_secs(1_700_000_001));
            assert_eq!(decode(&frames[1]).unwrap().class, TrafficClass::Scan);
        }
    }
}

#[test]
fn pcapng_sections_interfaces_resolutions_and_block_kinds() {
    let a = syn_frame(1);
    let raw = &syn_frame(2)[14..]; // raw IPv4
    for be in [false, true] {
        let mut ng = Ng::new(be);
        ng.other(0x0000_0bad, b"custom block"); // skipped
        ng.idb(1, 65535, None); // micros (default)
        ng.idb(101, 65535, Some(9)); // raw IP, nanoseconds
        ng.idb(1, 65535, Some(0x80 | 20)); // 2^-20 s
        ng.epb(0, 1_700_000_000_123_456, &a, 60);
        ng.epb(1, 1_700_000_000_123_456_789, raw, raw.len() as u32);
        ng.epb(2, (1_700_000_000u64 << 20) | (1 << 19), &a, 54); // .5 s
        ng.other(5, &[0; 8]); // interface statistics: skipped
        ng.spb(&a);
        ng.pb(1, 2_000_000_000, raw);
        ng.new_section(!be); // interfaces reset; other byte order
        ng.idb(113, 0, Some(3)); // SLL, milliseconds
        let mut sll = vec![0u8; 16];
        sll[14..16].copy_from_slice(&0x0800u16.to_be_bytes());
        sll.extend_from_slice(raw);
        ng.epb(0, 1_700_000_000_123, &sll, sll.len() as u32);
        let bytes = ng.out;
        let frames: Vec<_> = CaptureReader::new(&bytes)
            .unwrap()
            .map(|f| f.unwrap())
            .collect();
        let summary: Vec<(i64, u32, u32)> = frames
            .iter()
            .map(|f| (f.ts.0, f.link_type.0, f.wire_len))
            .collect();
        assert_eq!(
            summary,
            vec![
                (1_700_000_000_123_456, 1, 60),
                (1_700_000_000_123_456, 101, 40),
                (1_700_000_000_500_000, 1, 54),
                (0, 1, 54), // simple packet block: no timestamp
                (2_000_000, 101, 40),
                (1_700_000_000_123_000, 113, 56),
            ],
            "be={be}"
        );
        for f in &frames {
            assert_eq!(decode(f).unwrap().class, TrafficClass::Scan);
            assert_eq!(&bytes[f.offset as usize..][..4].len(), &4);
        }
    }
}

#[test]
fn valid_capture_of_n_records_yields_n_frames() {
    for n in [0usize, 1, 2, 1000] {
        let frames: Vec<Vec<u8>> = (0..n as u32).map(syn_frame).collect();
        assert_eq!(read_all(&pcap_eth(&frames)), (n, None));
        let mut ng = Ng::new(false);
        ng.idb(1, 0, None);
        for f in &frames {
            ng.epb(0, 0, f, f.len() as u32);
        }
        assert_eq!(read_all(&ng.out), (n, None));
    }
}

#[test]
fn unknown_and_empty_files_are_rejected_by_new() {
    let e = CaptureReader::new(b"").err().unwrap();
    assert!(e.reason.contains("not a pcap or pcapng file"), "{e}");
    let e = CaptureReader::new(b"GIF89a........................")
        .err()
        .unwrap();
    assert_eq!(e.offset, 0);
    assert_eq!(e.reason, "not a pcap or pcapng file (magic 0x47494638)");
    let e = CaptureReader::new(&0xa1b2_c3d4u32.to_le_bytes())
        .err()
        .unwrap();
    assert!(e.reason.contains("truncated pcap file header"), "{e}");
    let mut ng = Ng::new(false).out;
    ng[8..12].copy_from_slice(&[1, 2, 3, 4]);
    assert!(CaptureReader::new(&ng)
        .err()
        .unwrap()
        .reason
        .contains("byte-order magic"));
}

#[test]
fn truncated_last_record_yields_one_error_with_offset() {
    let frames: Vec<Vec<u8>> = (0..3).map(syn_frame).collect();
    let full = pcap_eth(&frames);
    let last = 24 + 2 * (16 + 54);
    for cut in [1, 10, 16, 30, 69] {
        let bytes = &full[..full.len() - cut];
        let mut r = CaptureReader::new(bytes).unwrap();
        assert!(r.next().unwrap().is_ok());
        assert!(r.next().unwrap().is_ok());
        let e = r.next().unwrap().unwrap_err();
        assert_eq!(e.offset, last as u64, "cut {cut}: {e}");
        assert!(e
            .to_string()
            .starts_with(&format!("at byte offset {last}: truncated pcap record")));
        assert!(r.next().is_none());
        assert!(r.next().is_none());
    }
}

#[test]
fn corrupt_record_header_stops_iteration() {
    let frames: Vec<Vec<u8>> = (0..3).map(syn_frame).collect();
    let mut bytes = pcap_eth(&frames);
    let second = 24 + 16 + 54;
    bytes[second + 8..second + 12].copy_from_slice(&(300_000u32).to_le_bytes());
    let items: Vec<_> = CaptureReader::new(&bytes).unwrap().collect();
    assert_eq!(items.len(), 2);
    assert!(items[0].is_ok());
    let e = items[1].clone().unwrap_err();
    assert_eq!(e.offset, second as u64);
    assert!(e.reason.contains("exceeds 262144"), "{e}");

    // pcapng: a block length running past the end, and a packet block without interface
    let mut ng = Ng::new(true);
    ng.idb(1, 0, None);
    ng.epb(0, 0, &frames[0], 54);
    let at = ng.out.len();
    ng.epb(0, 0, &frames[1], 54);
    let cut = &ng.out[..ng.out.len() - 2];
    let items: Vec<_> = CaptureReader::new(cut).unwrap().collect();
    assert_eq!(items.len(), 2);
    assert_eq!(items[1].clone().unwrap_err().offset, at as u64);

    let mut ng = Ng::new(false);
    ng.idb(1, 0, None);
    ng.epb(3, 0, &frames[0], 54);
    let e = CaptureReader::new(&ng.out)
        .unwrap()
        .next()
        .unwrap()
        .unwrap_err();
    assert!(e.reason.contains("interface 3"), "{e}");
}
