//! Exact distinct-source counts over a window, cheaply. The pages rank countries and ports
//! by packets (plain sums) and show each row's distinct sources over the whole window, which no
//! sum of per-hour counts gives: they need the sources themselves. Counting them with one hash
//! set per table (`observe::Top`) costs a set insert per flow tuple and table; here each
//! (row, IPv4 source) pair is packed into one integer, appended (a repeat of the previous pair
//! is skipped: a segment's flows come by source) and sorted once at the end, so the pass over
//! millions of flow tuples makes no hash lookup for them. IPv6 sources, rare on a darknet, go
//! to hash sets. Every count stays exact.

use crate::PortKey;
use greenwatch_model::{CountryCode, TrafficClass};
use greenwatch_observe::{rank_by_packets, TopRow};
use rustc_hash::{FxHashMap, FxHashSet};
use std::net::IpAddr;

/// Which sources were seen with which country and class, and which sources scanned which
/// port, over a window. IPv4 sources (nearly all) are kept as packed integers, appended in the
/// pass and sorted once at the end (a radix sort), so the pass makes no hash-table lookup per
/// flow; IPv6 sources go to hash sets.
#[derive(Default)]
pub(crate) struct SourceBook {
    /// `src << 32 | country << 8 | class`.
    v4_countries: Vec<u64>,
    /// `src << 24 | transport << 16 | port`.
    v4_ports: Vec<u64>,
    v6_countries: FxHashSet<(CountryCode, TrafficClass, IpAddr)>,
    v6_ports: FxHashSet<(PortKey, IpAddr)>,
}

/// Distinct sources per row, from a [`SourceBook`].
#[derive(Debug, Default, PartialEq)]
pub(crate) struct SourceCounts {
    /// Per country, any class.
    pub by_country: FxHashMap<CountryCode, u64>,
    pub by_class_country: FxHashMap<(TrafficClass, CountryCode), u64>,
    /// Per scanned port.
    pub by_port: FxHashMap<PortKey, u64>,
}

fn country_bits(c: CountryCode) -> u64 {
    u64::from(c.0[0]) << 8 | u64::from(c.0[1])
}

fn country_of(bits: u64) -> CountryCode {
    CountryCode([(bits >> 8) as u8, bits as u8])
}

impl SourceBook {
    /// `src` sent `class` traffic from `country`, scanning `port` (`None`: no scan port).
    pub fn add(
        &mut self,
        src: IpAddr,
        country: CountryCode,
        class: TrafficClass,
        port: Option<PortKey>,
    ) {
        match src {
            IpAddr::V4(a) => {
                let a = u64::from(u32::from(a));
                let c = a << 32 | country_bits(country) << 8 | u64::from(class.code());
                // A segment's flows come by source: most repeats are the previous record.
                if self.v4_countries.last() != Some(&c) {
                    self.v4_countries.push(c);
                }
                if let Some(p) = port {
                    let p = a << 24 | u64::from(p.protocol.0) << 16 | u64::from(p.port);
                    if self.v4_ports.last() != Some(&p) {
                        self.v4_ports.push(p);
                    }
                }
            }
            IpAddr::V6(_) => {
                self.v6_countries.insert((country, class, src));
                if let Some(p) = port {
                    self.v6_ports.insert((p, src));
                }
            }
        }
    }

    /// The distinct sources of every row.
    pub fn counts(mut self) -> SourceCounts {
        let mut out = SourceCounts::default();
        radix_sort(&mut self.v4_countries);
        let mut previous: Option<u64> = None;
        for &c in &self.v4_countries {
            if previous == Some(c) {
                continue;
            }
            let country = country_of(c >> 8);
            let class = TrafficClass::from_code((c & 0xFF) as u8).expect("a stored class");
            *out.by_class_country.entry((class, country)).or_default() += 1;
            // Sorted by source, then country: a new (source, country) starts here.
            if previous.is_none_or(|p| p >> 8 != c >> 8) {
                *out.by_country.entry(country).or_default() += 1;
            }
            previous = Some(c);
        }
        radix_sort(&mut self.v4_ports);
        let mut previous: Option<u64> = None;
        for &p in &self.v4_ports {
            if previous != Some(p) {
                let key = PortKey {
                    port: p as u16,
                    protocol: greenwatch_model::Transport((p >> 16) as u8),
                };
                *out.by_port.entry(key).or_default() += 1;
            }
            previous = Some(p);
        }
        let mut v6_country: FxHashSet<(CountryCode, IpAddr)> = FxHashSet::default();
        for &(country, class, src) in &self.v6_countries {
            *out.by_class_country.entry((class, country)).or_default() += 1;
            if v6_country.insert((country, src)) {
                *out.by_country.entry(country).or_default() += 1;
            }
        }
        for (port, _) in &self.v6_ports {
            *out.by_port.entry(*port).or_default() += 1;
        }
        out
    }
}

/// Sorts by a least-significant-digit radix sort, a byte per pass, skipping bytes all values
/// share: packed keys of millions of flows sort several times faster than by comparison.
fn radix_sort(values: &mut Vec<u64>) {
    if values.len() < 256 {
        values.sort_unstable();
        return;
    }
    let mut counts = [[0usize; 256]; 8];
    for v in values.iter() {
        for (byte, count) in counts.iter_mut().enumerate() {
            count[(v >> (byte * 8)) as usize & 0xFF] += 1;
        }
    }
    let mut other = vec![0u64; values.len()];
    for (byte, count) in counts.iter().enumerate() {
        if count.contains(&values.len()) {
            continue; // every value has the same digit here
        }
        let mut next = [0usize; 256];
        let mut at = 0;
        for (digit, n) in count.iter().enumerate() {
            next[digit] = at;
            at += n;
        }
        for &v in values.iter() {
            let digit = (v >> (byte * 8)) as usize & 0xFF;
            other[next[digit]] = v;
            next[digit] += 1;
        }
        std::mem::swap(values, &mut other);
    }
}

/// Packets, bytes and distinct sources per hour and class: sums per hour, sources counted
/// per hour as the flows of each hour pass (flows come in bucket order), so the set of one
/// hour's sources is all that is kept.
pub(crate) struct HourlyClasses {
    from: i64,
    /// `[hour][class]`: packets, bytes, sources.
    hours: Vec<[[u64; 3]; 4]>,
    current: Option<i64>,
    /// This hour's sources: IPv4 as `class << 32 | address`, IPv6 apart.
    seen_v4: FxHashSet<u64>,
    seen_v6: FxHashSet<(TrafficClass, IpAddr)>,
    /// The last source added (flows come by source within a segment).
    last: Option<(TrafficClass, IpAddr)>,
}

const HOUR: i64 = crate::SERIES_SECS;

impl HourlyClasses {
    /// Every hour of `[from, to)`, aligned to whole hours.
    pub fn new(from: i64, to: i64) -> HourlyClasses {
        let first = from.div_euclid(HOUR) * HOUR;
        let last = (to - 1).div_euclid(HOUR) * HOUR;
        let len = ((last - first) / HOUR + 1).max(0) as usize;
        HourlyClasses {
            from: first,
            hours: vec![[[0; 3]; 4]; len],
            current: None,
            seen_v4: FxHashSet::default(),
            seen_v6: FxHashSet::default(),
            last: None,
        }
    }

    /// One flow of hour `bucket` (bucket starts never decrease from one call to the next).
    pub fn add(&mut self, bucket: i64, class: TrafficClass, src: IpAddr, packets: u64, bytes: u64) {
        let hour = bucket.div_euclid(HOUR) * HOUR;
        if self.current != Some(hour) {
            self.flush();
            self.current = Some(hour);
        }
        let Some(slot) = self.slot(hour) else {
            return;
        };
        let cell = &mut self.hours[slot][class.code() as usize];
        cell[0] += packets;
        cell[1] += bytes;
        if self.last != Some((class, src)) {
            match src {
                IpAddr::V4(a) => {
                    self.seen_v4
                        .insert(u64::from(class.code()) << 32 | u64::from(u32::from(a)));
                }
                IpAddr::V6(_) => {
                    self.seen_v6.insert((class, src));
                }
            }
            self.last = Some((class, src));
        }
    }

    fn slot(&self, hour: i64) -> Option<usize> {
        let i = (hour - self.from).div_euclid(HOUR);
        (i >= 0 && (i as usize) < self.hours.len()).then_some(i as usize)
    }

    fn flush(&mut self) {
        if let Some(slot) = self.current.and_then(|h| self.slot(h)) {
            for v in self.seen_v4.drain() {
                self.hours[slot][(v >> 32) as usize][2] += 1;
            }
            for (class, _) in self.seen_v6.drain() {
                self.hours[slot][class.code() as usize][2] += 1;
            }
        }
        self.seen_v4.clear();
        self.seen_v6.clear();
        self.last = None;
    }

    /// One series per class, every hour of the window.
    pub fn finish(mut self) -> Vec<crate::ClassSeries> {
        self.flush();
        TrafficClass::ALL
            .into_iter()
            .map(|class| crate::ClassSeries {
                class,
                points: self
                    .hours
                    .iter()
                    .enumerate()
                    .map(|(i, cells)| {
                        let [packets, bytes, sources] = cells[class.code() as usize];
                        greenwatch_observe::SeriesPoint {
                            bucket: greenwatch_model::Timestamp::from_secs(
                                self.from + i as i64 * HOUR,
                            ),
                            packets,
                            bytes,
                            sources,
                        }
                    })
                    .collect(),
            })
            .collect()
    }
}

/// Distinct sources per small key (a country, an AS number, a packed port, a tool), counted
/// as [`SourceBook`] counts: IPv4 pairs packed as `key << 32 | address` and sorted once.
#[derive(Default)]
pub(crate) struct PairCounter {
    v4: Vec<u64>,
    v6: FxHashSet<(u32, IpAddr)>,
}

impl PairCounter {
    pub fn add(&mut self, key: u32, src: IpAddr) {
        match src {
            IpAddr::V4(a) => {
                let v = u64::from(key) << 32 | u64::from(u32::from(a));
                if self.v4.last() != Some(&v) {
                    self.v4.push(v);
                }
            }
            IpAddr::V6(_) => {
                self.v6.insert((key, src));
            }
        }
    }

    /// Distinct sources per key.
    pub fn counts(mut self) -> FxHashMap<u32, u64> {
        radix_sort(&mut self.v4);
        let mut out: FxHashMap<u32, u64> = FxHashMap::default();
        let mut previous = None;
        for &v in &self.v4 {
            if previous != Some(v) {
                *out.entry((v >> 32) as u32).or_default() += 1;
            }
            previous = Some(v);
        }
        for (key, _) in self.v6 {
            *out.entry(key).or_default() += 1;
        }
        out
    }
}

/// A port as a [`PairCounter`] key.
pub(crate) fn port_key(p: PortKey) -> u32 {
    u32::from(p.protocol.0) << 16 | u32::from(p.port)
}

/// A country as a [`PairCounter`] key.
pub(crate) fn country_key(c: CountryCode) -> u32 {
    country_bits(c) as u32
}

/// Distinct destination networks (IPv4 /24, IPv6 /64).
#[derive(Default)]
pub(crate) struct Networks {
    v4: FxHashSet<u32>,
    v6: FxHashSet<IpAddr>,
}

impl Networks {
    pub fn add(&mut self, net: IpAddr) {
        match net {
            IpAddr::V4(a) => {
                self.v4.insert(u32::from(a) >> 8);
            }
            IpAddr::V6(_) => {
                self.v6.insert(net);
            }
        }
    }

    /// IPv4 /24s and IPv6 /64s.
    pub fn counts(&self) -> (u64, u64) {
        (self.v4.len() as u64, self.v6.len() as u64)
    }
}

/// Top rows ranked as `observe::Top` ranks them (`rank_by_packets`), `limit` rows. `keyed`
/// fills in the row's key (port, country, AS) and `sources` gives its distinct sources.
pub(crate) fn ranked<K: Ord + Copy>(
    totals: FxHashMap<K, (u64, u64)>,
    limit: usize,
    sources: impl Fn(K) -> u64,
    keyed: impl Fn(TopRow, K) -> TopRow,
) -> Vec<TopRow> {
    rank_by_packets(totals.into_iter().collect(), |t| t.0, limit)
        .map(|(rank, key, (packets, bytes))| {
            keyed(TopRow::unkeyed(rank, packets, bytes, sources(key)), key)
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::window::Window;
    use crate::{self as data, DataAccess, Overview};
    use greenwatch_feeds::Catalogue;
    use greenwatch_generate::{generate, SourcePool, TrafficSpec};
    use greenwatch_model::access::{Label, Role, Tlp, Viewer};
    use greenwatch_model::anonymise::CryptoPan;
    use greenwatch_model::{BucketWidth, Timestamp};
    use greenwatch_netdb::{NetDb, SnapshotBuilder};
    use greenwatch_observe::{Aggregator, FlowFilter, FlowTuple, Series, Top, TopBy, TopRow};
    use greenwatch_packet::{decode, CaptureReader};
    use greenwatch_store::{CaptureRecord, CaptureStatus, Store, StoreLocation, TimeRange};
    use std::net::Ipv4Addr;

    pub const START: i64 = 1_791_158_400; // 2026-10-05T00:00:00Z
    pub const HOURS: u32 = 6;

    fn netdb() -> NetDb {
        let v4 = |s: &str| u32::from(s.parse::<Ipv4Addr>().unwrap());
        let mut b = SnapshotBuilder::new("2026-09-01".parse().unwrap());
        for (first, last, asn, country) in [
            ("1.0.0.0", "1.255.255.255", 64500, "CN"),
            ("2.0.0.0", "2.255.255.255", 64501, "FR"),
            ("3.0.0.0", "3.255.255.255", 64502, "US"),
            ("5.0.0.0", "5.255.255.255", 64503, "NL"),
        ] {
            b.asn_v4(v4(first), v4(last), asn).country_v4(
                v4(first),
                v4(last),
                country.parse().unwrap(),
            );
        }
        NetDb::from_snapshots(vec![b.build()])
    }

    /// A store holding generated traffic of three sensors over the same hours: cert-a's public
    /// capture, cert-b's public capture of the same traffic (every source recurs across the two)
    /// and cert-a's AMBER one.
    pub fn store(dir: &std::path::Path) -> (Box<dyn Store>, NetDb) {
        let netdb = netdb();
        let snapshot = &netdb.snapshots()[0];
        let pool = SourcePool::new(snapshot.routed_v4(), snapshot.routed_v6());
        let mut store =
            greenwatch_store_open::open(&StoreLocation::Sqlite(dir.join("greenwatch.sqlite")))
                .unwrap();
        for (i, (seed, owner, sensor, tlp, packets)) in [
            (1, "cert-a", "tokyo", Tlp::Clear, 20_000),
            (1, "cert-b", "berlin", Tlp::Clear, 20_000),
            (3, "cert-a", "lab", Tlp::Amber, 8_000),
        ]
        .into_iter()
        .enumerate()
        {
            let spec = TrafficSpec::new(seed, packets, Timestamp::from_secs(START), HOURS);
            let mut pcap = Vec::new();
            generate(&spec, &pool, &mut pcap).unwrap();
            let enrich = |ip, _| snapshot.enrich(ip);
            let mut aggregator = Aggregator::new(BucketWidth::HOUR, enrich);
            for frame in CaptureReader::new(&pcap).unwrap() {
                let frame = frame.unwrap();
                match decode(&frame) {
                    Ok(packet) => aggregator.add(&packet),
                    Err(e) => aggregator.add_error(e.key(), frame.wire_len),
                }
            }
            let obs = aggregator.finish();
            let record = CaptureRecord {
                content_hash: format!("h{i}"),
                path: String::new(),
                sensor: sensor.into(),
                label: Label {
                    owner: owner.into(),
                    tlp,
                },
                status: CaptureStatus::Complete,
                counts: obs.counts.clone(),
                ingested_at: Timestamp(0),
            };
            store.write_capture(&record, &obs).unwrap();
        }
        (store, netdb)
    }

    pub fn viewers() -> Vec<Viewer> {
        vec![
            Viewer::Anonymous,
            Viewer::User {
                org: "cert-a".into(),
                role: Role::Member,
            },
            Viewer::User {
                org: "cert-b".into(),
                role: Role::Member,
            },
            Viewer::OwnData {
                org: "cert-a".into(),
            },
            Viewer::Local,
        ]
    }

    /// The overview's tables as `observe::Top` and `Series` compute them, one hash set per
    /// table: what the overview showed before [`SourceBook`], and must still show.
    fn reference(store: &dyn Store, viewer: &Viewer, window: Window, o: &mut Overview) {
        let all = FlowFilter {
            from: Some(window.from),
            to: Some(window.to),
            ..FlowFilter::default()
        };
        let with_class = |class| FlowFilter {
            class: Some(class),
            ..all.clone()
        };
        let mut series: Vec<_> = TrafficClass::ALL
            .into_iter()
            .map(|c| (c, Series::new(with_class(c), 3600)))
            .collect();
        let mut ports = Top::new(TopBy::Port, with_class(TrafficClass::Scan));
        let mut countries = Top::new(TopBy::Country, all.clone());
        let mut by_class: Vec<_> = TrafficClass::ALL
            .into_iter()
            .map(|c| (c, Top::new(TopBy::Country, with_class(c))))
            .collect();
        let range = TimeRange {
            from: Some(window.from),
            to: Some(window.to),
        };
        let mut networks = std::collections::HashSet::new();
        store
            .scan_flows(viewer, range, None, &mut |f| {
                networks.insert(f.dst_net);
                series.iter_mut().for_each(|(_, s)| s.add(f));
                ports.add(f);
                countries.add(f);
                by_class.iter_mut().for_each(|(_, t)| t.add(f));
            })
            .unwrap();
        o.darknet_v4_24s = networks.iter().filter(|n| n.is_ipv4()).count() as u64;
        o.darknet_v6_64s = networks.iter().filter(|n| n.is_ipv6()).count() as u64;
        o.series = series
            .into_iter()
            .map(|(class, s)| data::ClassSeries {
                class,
                points: s.finish(),
            })
            .collect();
        o.top_ports = ports.finish(data::TOP_PORTS);
        o.countries = data::country_rows(countries.finish(usize::MAX));
        o.countries_by_class = by_class
            .into_iter()
            .map(|(class, t)| data::ClassCountries {
                class,
                countries: data::country_rows(t.finish(usize::MAX)),
            })
            .collect();
    }

    /// The generated store and what the data functions read beside it.
    struct World {
        _dir: tempfile::TempDir,
        store: Box<dyn Store>,
        netdb: NetDb,
        catalogue: Catalogue,
        pan: CryptoPan,
    }

    impl World {
        fn generated() -> World {
            let dir = tempfile::tempdir().unwrap();
            let (store, netdb) = store(dir.path());
            World {
                _dir: dir,
                store,
                netdb,
                catalogue: Catalogue::shipped(),
                pan: CryptoPan::new(&[7; 32]),
            }
        }

        fn sources(&self) -> DataAccess<'_> {
            DataAccess {
                store: &*self.store,
                netdb: &self.netdb,
                catalogue: &self.catalogue,
                pan: &self.pan,
            }
        }
    }

    #[test]
    fn the_overview_counts_what_one_set_per_table_counts() {
        let world = World::generated();
        let (store, sources) = (&*world.store, world.sources());
        for window in [
            Window {
                from: START,
                to: START + HOURS as i64 * 3600,
            },
            // Partial hours at both ends and an hour past the data.
            Window {
                from: START + 3600,
                to: START + 8 * 3600,
            },
        ] {
            for viewer in viewers() {
                let fast = data::overview(&sources, &viewer, Some(window), None).unwrap();
                assert!(fast.totals.packets > 0, "{viewer:?}");
                let mut slow = fast.clone();
                reference(store, &viewer, window, &mut slow);
                assert_eq!(fast.series, slow.series, "{viewer:?} {window:?}");
                assert_eq!(fast.top_ports, slow.top_ports, "{viewer:?}");
                assert_eq!(fast.countries, slow.countries, "{viewer:?}");
                assert_eq!(
                    fast.countries_by_class, slow.countries_by_class,
                    "{viewer:?}"
                );
                assert_eq!(fast, slow, "{viewer:?}: and everything else");
            }
        }
    }

    /// Every flow of `window` that `viewer` sees.
    fn flows(store: &dyn Store, viewer: &Viewer, window: Window) -> Vec<FlowTuple> {
        let mut out = Vec::new();
        let range = TimeRange {
            from: Some(window.from),
            to: Some(window.to),
        };
        store
            .scan_flows(viewer, range, None, &mut |f| out.push(f.clone()))
            .unwrap();
        out
    }

    fn series_of(flows: &[&FlowTuple], window: Window) -> Vec<data::ClassSeries> {
        TrafficClass::ALL
            .into_iter()
            .map(|class| {
                let filter = FlowFilter {
                    from: Some(window.from),
                    to: Some(window.to),
                    class: Some(class),
                    ..FlowFilter::default()
                };
                let mut s = Series::new(filter, 3600);
                flows.iter().for_each(|f| s.add(f));
                data::ClassSeries {
                    class,
                    points: s.finish(),
                }
            })
            .collect()
    }

    fn top(by: TopBy, class: Option<TrafficClass>, flows: &[&FlowTuple], n: usize) -> Vec<TopRow> {
        let mut top = Top::new(
            by,
            FlowFilter {
                class,
                ..FlowFilter::default()
            },
        );
        flows.iter().for_each(|f| top.add(f));
        top.finish(n)
    }

    #[test]
    fn slices_the_country_page_and_the_indexes_count_what_one_set_per_table_counts() {
        let world = World::generated();
        let (store, sources) = (&*world.store, world.sources());
        let window = Window {
            from: START + 1800,
            to: START + 5 * 3600,
        };
        let scan = Some(TrafficClass::Scan);
        for viewer in viewers() {
            let all = flows(store, &viewer, window);
            let all: Vec<&FlowTuple> = all.iter().collect();
            // The indexes.
            for by in [TopBy::Port, TopBy::Asn] {
                let fast = data::scan_index(&sources, &viewer, Some(window), by).unwrap();
                assert_eq!(
                    fast,
                    top(by, scan, &all, data::PORT_INDEX_ROWS),
                    "{viewer:?}"
                );
            }
            // The busiest port's and AS's slices.
            let busiest = &top(TopBy::Port, scan, &all, 1)[0];
            let port = PortKey {
                port: busiest.port.unwrap(),
                protocol: busiest.protocol.unwrap(),
            };
            let asn = top(TopBy::Asn, None, &all, 1)[0].asn.unwrap();
            for slice in [data::Slice::Port(port), data::Slice::Asn(asn)] {
                let fast = data::slice(&sources, &viewer, slice, Some(window), &[]).unwrap();
                let mine: Vec<&FlowTuple> = all
                    .iter()
                    .copied()
                    .filter(|f| match slice {
                        data::Slice::Port(p) => f.dst_port == p.port && f.transport == p.protocol,
                        data::Slice::Asn(a) => f.src_asn == a,
                    })
                    .collect();
                assert!(!mine.is_empty());
                let distinct = |f: &dyn Fn(&FlowTuple) -> bool| {
                    let set: std::collections::HashSet<IpAddr> =
                        mine.iter().filter(|x| f(x)).map(|x| x.src).collect();
                    set.len() as u64
                };
                assert_eq!(fast.sources, distinct(&|_| true), "{viewer:?} {slice:?}");
                assert_eq!(
                    fast.series,
                    series_of(&mine, window),
                    "{viewer:?} {slice:?}"
                );
                assert_eq!(
                    fast.countries,
                    data::country_rows(top(TopBy::Country, None, &mine, 25)),
                    "{viewer:?} {slice:?}"
                );
                match slice {
                    data::Slice::Port(_) => {
                        let asns: Vec<TopRow> = fast.asns.iter().map(|r| r.row.clone()).collect();
                        assert_eq!(asns, top(TopBy::Asn, None, &mine, 25), "{viewer:?}");
                    }
                    data::Slice::Asn(_) => {
                        let ports = top(TopBy::Port, scan, &mine, data::TOP_PORTS);
                        assert_eq!(fast.top_ports, ports, "{viewer:?}");
                    }
                }
                for tool in &fast.tools {
                    let of_tool = |x: &FlowTuple| x.fingerprint == Some(tool.fingerprint);
                    assert_eq!(tool.sources, distinct(&of_tool), "{viewer:?} {slice:?}");
                }
            }
            // A country page.
            let cn: CountryCode = "CN".parse().unwrap();
            let us: CountryCode = "US".parse().unwrap();
            let fast = data::country(&sources, &viewer, cn, &[us], Some(window), &[]).unwrap();
            let mine: Vec<&FlowTuple> = all
                .iter()
                .copied()
                .filter(|f| f.src_country == cn)
                .collect();
            assert_eq!(fast.series, series_of(&mine, window), "{viewer:?}");
            let ports = top(TopBy::Port, scan, &mine, data::TOP_PORTS);
            assert_eq!(fast.top_ports, ports, "{viewer:?}");
            let packets = |f: &dyn Fn(&FlowTuple) -> bool| -> u64 {
                all.iter().filter(|x| f(x)).map(|x| x.packets).sum()
            };
            assert_eq!(fast.totals.packets, packets(&|f| f.src_country == cn));
            assert_eq!(
                fast.packets[1].totals.packets,
                packets(&|f| f.src_country == us)
            );
            assert_eq!(fast.packets[2].totals.packets, packets(&|_| true));
            let scans = packets(&|f| f.src_country == cn && f.class == TrafficClass::Scan);
            assert_eq!(fast.totals.by_class[&TrafficClass::Scan], scans);
        }
    }

    #[test]
    fn a_source_of_two_countries_ports_and_classes_counts_once_per_row() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let cn: CountryCode = "CN".parse().unwrap();
        let us: CountryCode = "US".parse().unwrap();
        let port = |port| PortKey {
            port,
            protocol: greenwatch_model::Transport::TCP,
        };
        let mut book = SourceBook::default();
        let a = ip("1.2.3.4");
        // a: CN scan 23 twice, CN backscatter, US scan 23 and 80 (its IP data changed).
        book.add(a, cn, TrafficClass::Scan, Some(port(23)));
        book.add(a, cn, TrafficClass::Scan, Some(port(23)));
        book.add(a, cn, TrafficClass::Backscatter, None);
        book.add(a, us, TrafficClass::Scan, Some(port(23)));
        book.add(a, us, TrafficClass::Scan, Some(port(80)));
        book.add(a, us, TrafficClass::Scan, Some(port(80)));
        book.add(ip("2001:db8::1"), us, TrafficClass::Scan, Some(port(80)));
        let counts = book.counts();
        assert_eq!(counts.by_country, [(cn, 1), (us, 2)].into_iter().collect());
        assert_eq!(
            counts.by_class_country,
            [
                ((TrafficClass::Scan, cn), 1),
                ((TrafficClass::Backscatter, cn), 1),
                ((TrafficClass::Scan, us), 2),
            ]
            .into_iter()
            .collect()
        );
        assert_eq!(
            counts.by_port,
            [(port(23), 1), (port(80), 2)].into_iter().collect()
        );
        let mut values: Vec<u64> = (0..5000u64)
            .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (i % 40))
            .collect();
        let mut sorted = values.clone();
        sorted.sort_unstable();
        radix_sort(&mut values);
        assert_eq!(values, sorted);
    }
}
