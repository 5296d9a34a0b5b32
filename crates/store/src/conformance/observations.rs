//! Captures: reading back, idempotence, the data generation, rollups, visibility.

use super::*;
use greenwatch_model::access::{Role, Tlp};
use greenwatch_model::{BucketWidth, Enrichment, TrafficClass, Transport};
use greenwatch_observe::RollupDim;
use greenwatch_observe::{Aggregator, IngestCounts, Observations};
use greenwatch_packet::Packet;
use std::net::IpAddr;

/// A TCP SYN from `src` to `dst:port` at `secs`, classified as a scan.
pub fn scan(src: &str, dst: &str, port: u16, secs: i64) -> Packet {
    Packet {
        ts: Timestamp::from_secs(secs),
        src: src.parse().unwrap(),
        dst: dst.parse().unwrap(),
        transport: Transport::TCP,
        src_port: 40000,
        dst_port: port,
        wire_len: 60,
        ttl: 50,
        ip_id: 1,
        tcp_flags: 0x02,
        tcp_window: 1024,
        tcp_seq: 7,
        class: TrafficClass::Scan,
        fingerprint: None,
        spoof_reason: None,
    }
}

/// Hourly observations of `packets`, every address in AS64500, NL.
pub fn observe(packets: &[Packet]) -> Observations {
    let enrich = |_: IpAddr, _: Timestamp| Enrichment {
        asn: 64500,
        country: "NL".parse().unwrap(),
    };
    let mut agg = Aggregator::new(BucketWidth::HOUR, enrich);
    for p in packets {
        agg.add(p);
    }
    agg.finish()
}

/// cert-a's CLEAR capture `hash` from sensor tokyo-1.
pub fn record(hash: &str, counts: IngestCounts, status: CaptureStatus) -> CaptureRecord {
    CaptureRecord {
        content_hash: hash.into(),
        path: format!("/captures/{hash}.pcap"),
        sensor: "tokyo-1".into(),
        label: Label {
            owner: "cert-a".into(),
            tlp: Tlp::Clear,
        },
        status,
        counts,
        ingested_at: Timestamp::from_secs(1_800_000_000),
    }
}

/// Every flow tuple the local operator sees (of `sensor`'s captures, when given).
pub fn all_flows(store: &dyn Store, sensor: Option<&SensorRef>) -> Vec<FlowTuple> {
    let mut out = Vec::new();
    store
        .scan_flows(&Viewer::Local, TimeRange::default(), sensor, &mut |f| {
            out.push(f.clone())
        })
        .unwrap();
    out
}

pub fn written_capture_reads_back_identically_and_survives_reopen(backend: &dyn Backend) {
    let mut packets: Vec<Packet> = (0..300)
        .map(|i| {
            scan(
                "1.2.3.4",
                &format!("198.18.{}.{}", i % 7, i % 250),
                23,
                i * 30,
            )
        })
        .collect();
    packets.push(scan("2001:db8::1", "2001:db8:5e::9", 445, 50));
    let obs = observe(&packets);
    let flows: Vec<FlowTuple> = obs.flows().cloned().collect();
    // The late IPv6 packet reopened bucket 0: two parts, whose rollups the store merges.
    assert_eq!(obs.buckets.iter().filter(|b| b.bucket == 0).count(), 2);
    let rollups = build_rollups(&flows);
    let rec = record(
        "h1",
        obs.counts.clone(),
        CaptureStatus::Partial("at byte offset 9: cut".into()),
    );
    {
        let mut store = backend.connect();
        store.write_capture(&rec, &obs).unwrap();
    }
    let store = backend.connect();
    assert_eq!(
        store.find_capture("cert-a", "h1").unwrap(),
        Some(rec.clone())
    );
    assert_eq!(store.find_capture("cert-a", "other").unwrap(), None);
    assert_eq!(all_flows(&*store, None), flows);
    assert!(all_flows(&*store, Some(&SensorRef::new("cert-a", "elsewhere"))).is_empty());
    assert_eq!(
        all_flows(&*store, Some(&SensorRef::new("cert-a", "tokyo-1"))),
        flows
    );
    // The same name in another organisation is another sensor.
    assert!(all_flows(&*store, Some(&SensorRef::new("cert-b", "tokyo-1"))).is_empty());
    assert_eq!(
        store.rollups(&Viewer::Local, TimeRange::default()).unwrap(),
        rollups
    );
    let mut first_hour = Vec::new();
    store
        .scan_flows(
            &Viewer::Local,
            TimeRange {
                from: Some(0),
                to: Some(3600),
            },
            None,
            &mut |f| first_hour.push(f.bucket),
        )
        .unwrap();
    assert!(!first_hour.is_empty() && first_hour.iter().all(|b| *b == 0));
}

pub fn same_content_hash_cannot_be_stored_twice(backend: &dyn Backend) {
    let mut store = backend.connect();
    let obs = observe(&[scan("1.2.3.4", "198.18.0.1", 23, 0)]);
    let rec = record("h1", obs.counts.clone(), CaptureStatus::Complete);
    store.write_capture(&rec, &obs).unwrap();
    assert!(store.write_capture(&rec, &obs).is_err());
    // The failed second write rolled back entirely: still one capture, one flow.
    assert_eq!(store.captures().unwrap().len(), 1);
    assert_eq!(all_flows(&*store, None).len(), 1);
    // Another organisation's copy of the same bytes is its own dataset; the first
    // organisation's lookup does not find it, and its stored hash reads back plain.
    let mut theirs = rec.clone();
    theirs.label.owner = "cert-b".into();
    store.write_capture(&theirs, &obs).unwrap();
    assert_eq!(store.captures().unwrap().len(), 2);
    assert!(store.find_capture("cert-c", "h1").unwrap().is_none());
    assert_eq!(store.find_capture("cert-b", "h1").unwrap(), Some(theirs));
    // A stored dataset is not begun again: the store says so, whoever asks.
    assert!(matches!(
        store.begin_capture("cert-a", "h1", "s").map(|_| ()),
        Err(StoreError::AlreadyStored { ref owner, ref content_hash })
            if owner == "cert-a" && content_hash == "h1"
    ));
    // A writer's label must name the owner it began with.
    let mut writer = store.begin_capture("cert-c", "h2", "s").unwrap();
    writer.write_bucket(&obs.buckets[0]).unwrap();
    assert!(writer.commit(&rec, &[]).is_err());
}

pub fn data_generation_moves_with_committed_facts_only(backend: &dyn Backend) {
    let mut store = backend.connect();
    let start = store.data_generation().unwrap();
    let obs = observe(&[scan("1.2.3.4", "198.18.0.1", 23, 0)]);
    // A capture that is never committed leaves the generation alone.
    {
        let mut writer = store.begin_capture("cert-a", "dropped", "s1").unwrap();
        for bucket in &obs.buckets {
            writer.write_bucket(bucket).unwrap();
        }
    }
    assert_eq!(store.data_generation().unwrap(), start);
    let rec = record("h1", obs.counts.clone(), CaptureStatus::Complete);
    store.write_capture(&rec, &obs).unwrap();
    let after_capture = store.data_generation().unwrap();
    assert!(after_capture > start);
    // Another connection sees the same committed number; reopening keeps it.
    assert_eq!(backend.connect().data_generation().unwrap(), after_capture);
    // A failed duplicate write rolls its bump back with everything else.
    assert!(store.write_capture(&rec, &obs).is_err());
    assert_eq!(store.data_generation().unwrap(), after_capture);
    // Account changes are not facts.
    let org = greenwatch_model::account::Organisation {
        slug: "cert-x".into(),
        name: "CERT X".into(),
        created_at: Timestamp(0),
    };
    store.create_org(&org, "test").unwrap();
    assert_eq!(store.data_generation().unwrap(), after_capture);
}

pub fn rollups_stay_exact_when_two_captures_share_a_bucket(backend: &dyn Backend) {
    let mut store = backend.connect();
    let a = observe(&[
        scan("1.2.3.4", "198.18.0.1", 23, 10),
        scan("5.6.7.8", "198.18.0.1", 23, 20),
    ]);
    let b = observe(&[
        scan("1.2.3.4", "198.18.0.2", 23, 30),
        scan("9.9.9.9", "198.18.0.3", 23, 40),
    ]);
    store
        .write_capture(&record("a", a.counts.clone(), CaptureStatus::Complete), &a)
        .unwrap();
    store
        .write_capture(&record("b", b.counts.clone(), CaptureStatus::Complete), &b)
        .unwrap();
    let rollups = store.rollups(&Viewer::Local, TimeRange::default()).unwrap();
    let port = rollups
        .iter()
        .find(|r| matches!(r.dim, RollupDim::Port { port: 23, .. }))
        .unwrap();
    // 1.2.3.4 appears in both captures but is one source.
    assert_eq!((port.packets, port.sources), (4, 3));
    assert_eq!(rollups, build_rollups(&all_flows(&*store, None)));
}

pub fn rollups_of_shared_and_unshared_buckets_read_back_exact_and_in_bucket_order(
    backend: &dyn Backend,
) {
    let mut store = backend.connect();
    // Bucket 3600 is written by one capture, buckets 0 and 7200 by several (as a
    // collector writes batch after batch into the hour at hand).
    let batches = [
        observe(&[
            scan("1.2.3.4", "198.18.0.1", 23, 10),
            scan("5.6.7.8", "198.18.0.1", 80, 3_700),
        ]),
        observe(&[
            scan("1.2.3.4", "198.18.0.2", 23, 30),
            scan("2001:db8::1", "2001:db8:5e::9", 23, 7_300),
        ]),
        observe(&[
            scan("9.9.9.9", "198.18.0.3", 23, 40),
            scan("2001:db8::1", "2001:db8:5e::9", 445, 7_400),
        ]),
    ];
    for (i, b) in batches.iter().enumerate() {
        let rec = record(&format!("b{i}"), b.counts.clone(), CaptureStatus::Complete);
        store.write_capture(&rec, b).unwrap();
    }
    let rollups = store.rollups(&Viewer::Local, TimeRange::default()).unwrap();
    let mut by_bucket = all_flows(&*store, None);
    by_bucket.sort_by_key(|f| (f.bucket, f.src));
    assert_eq!(rollups, build_rollups(&by_bucket));
    let port23 = rollups
        .iter()
        .find(|r| r.bucket == 0 && matches!(r.dim, RollupDim::Port { port: 23, .. }))
        .unwrap();
    assert_eq!((port23.packets, port23.sources), (3, 2));
    let later = TimeRange {
        from: Some(3_600),
        to: None,
    };
    assert_eq!(
        store.rollups(&Viewer::Local, later).unwrap(),
        build_rollups(&by_bucket[3..])
    );
}

pub fn readers_see_only_the_captures_their_labels_allow(backend: &dyn Backend) {
    let mut store = backend.connect();
    let public = observe(&[
        scan("1.2.3.4", "198.18.0.1", 23, 10),
        scan("5.6.7.8", "198.18.0.1", 23, 20),
    ]);
    let amber = observe(&[
        scan("1.2.3.4", "198.18.0.2", 23, 30),
        scan("9.9.9.9", "198.18.0.3", 445, 4000),
    ]);
    store
        .write_capture(
            &record("a", public.counts.clone(), CaptureStatus::Complete),
            &public,
        )
        .unwrap();
    let mut restricted = record("b", amber.counts.clone(), CaptureStatus::Complete);
    restricted.label.tlp = Tlp::Amber;
    store.write_capture(&restricted, &amber).unwrap();
    assert_eq!(
        store.find_capture("cert-a", "b").unwrap().unwrap().label,
        restricted.label
    );

    let outsider = Viewer::User {
        org: "cert-b".into(),
        role: Role::Admin,
    };
    let owner = Viewer::User {
        org: "cert-a".into(),
        role: Role::Member,
    };
    for (viewer, flows, last_bucket) in [
        (Viewer::Anonymous, 2, 0),
        (outsider, 2, 0),
        (owner, 4, 3600),
        (Viewer::Local, 4, 3600),
    ] {
        let mut seen = Vec::new();
        store
            .scan_flows(&viewer, TimeRange::default(), None, &mut |f| {
                seen.push(f.clone())
            })
            .unwrap();
        assert_eq!(seen.len(), flows, "{viewer:?}");
        let rollups = store.rollups(&viewer, TimeRange::default()).unwrap();
        assert_eq!(
            rollups,
            build_rollups(&seen),
            "{viewer:?}: rollups of what it sees"
        );
        let range = store.flow_bucket_range(&viewer).unwrap().unwrap();
        assert_eq!(range.1, last_bucket, "{viewer:?}");
    }
}

pub fn backscatter_slots_round_trip_with_victim_enrichment(backend: &dyn Backend) {
    let mut store = backend.connect();
    let mut packets = Vec::new();
    for i in 0..40 {
        let mut p = scan("203.0.113.9", "198.18.0.1", 40000, 100 + i * 2);
        p.class = TrafficClass::Backscatter;
        p.tcp_flags = 0x12;
        packets.push(p);
    }
    let obs = observe(&packets);
    store
        .write_capture(
            &record("a", obs.counts.clone(), CaptureStatus::Complete),
            &obs,
        )
        .unwrap();
    let slots = store
        .backscatter_slots(&Viewer::Local, TimeRange::default(), None)
        .unwrap();
    let mut sorted = slots.clone();
    sorted.sort_by_key(|s| s.slot);
    assert_eq!(sorted, obs.backscatter);
    assert_eq!(slots[0].victim_country.as_str(), Some("NL"));
    assert!(store
        .backscatter_slots(
            &Viewer::Local,
            TimeRange {
                from: Some(10_000),
                to: None
            },
            None
        )
        .unwrap()
        .is_empty());
}
