//! The metric engine against a store whose truth is known by construction.

use chrono::NaiveDate;
use greenwatch_feeds::Catalogue;
use greenwatch_metrics::{export, Engine, GroupBy, MetricRow};
use greenwatch_model::access::{Label, Role, Tlp, Viewer};
use greenwatch_model::{CountryCode, Enrichment, Period, PeriodKind, RiskEvent, Timestamp};
use greenwatch_netdb::{NetDb, SnapshotBuilder};
use greenwatch_store::{FeedFileRecord, Store, StoreLocation};
use std::net::{IpAddr, Ipv4Addr};

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn cc(s: &str) -> CountryCode {
    s.parse().unwrap()
}

/// 10.0.0.0/16 is JP (AS 64500), 10.1.0.0/16 is KR (AS 64501), 10.2.0.0/24 is DE (AS 64502).
fn netdb() -> NetDb {
    let v4 = |s: &str| u32::from(s.parse::<Ipv4Addr>().unwrap());
    let mut b = SnapshotBuilder::new(date("2026-09-01"));
    b.asn_v4(v4("10.0.0.0"), v4("10.0.255.255"), 64500)
        .asn_v4(v4("10.1.0.0"), v4("10.1.255.255"), 64501)
        .asn_v4(v4("10.2.0.0"), v4("10.2.0.255"), 64502)
        .country_v4(v4("10.0.0.0"), v4("10.0.255.255"), cc("JP"))
        .country_v4(v4("10.1.0.0"), v4("10.1.255.255"), cc("KR"))
        .country_v4(v4("10.2.0.0"), v4("10.2.0.255"), cc("DE"))
        .as_name(64500, "JP-NET");
    NetDb::from_snapshots(vec![b.build()])
}

fn enrich(netdb: &NetDb, ip: IpAddr) -> Enrichment {
    netdb.snapshots()[0].enrich(ip)
}

fn event(netdb: &NetDb, ip: &str, day: &str, line: u64) -> RiskEvent {
    let ip: IpAddr = ip.parse().unwrap();
    RiskEvent {
        ip,
        port: 53,
        time: Timestamp(Timestamp::parse(day).unwrap().0 + line as i64 * 1_000_000),
        line,
        feed_asn: 0,
        feed_country: CountryCode::UNKNOWN,
        enrichment: enrich(netdb, ip),
    }
}

fn store_events(store: &mut dyn Store, hash: &str, tlp: Tlp, risk: &str, events: &[RiskEvent]) {
    let mut w = store.begin_feed_file("cert-a", hash).unwrap();
    for e in events {
        w.write_events(
            risk,
            e.time.to_datetime().date_naive(),
            std::slice::from_ref(e),
        )
        .unwrap();
    }
    w.commit(&FeedFileRecord {
        content_hash: hash.into(),
        path: hash.into(),
        format: "shadowserver".into(),
        report_type: None,
        label: Label {
            owner: "cert-a".into(),
            tlp,
        },
        counts: Default::default(),
        ingested_at: Timestamp(1),
    })
    .unwrap();
}

fn row<'a>(rows: &'a [MetricRow], country: &str) -> &'a MetricRow {
    rows.iter()
        .find(|r| r.country.as_deref() == Some(country))
        .unwrap_or_else(|| panic!("no row {country}"))
}

/// Week 2026-W41 is 2026-10-05 .. 2026-10-11; the week before is W40.
fn fixture(dir: &std::path::Path) -> (Box<dyn Store>, NetDb) {
    let netdb = netdb();
    let mut store =
        greenwatch_store_open::open(&StoreLocation::Sqlite(dir.join("s.sqlite"))).unwrap();
    let mut events = Vec::new();
    let mut line = 2;
    let mut push = |ip: &str, day: &str| {
        events.push(event(&netdb, ip, day, line));
        line += 1;
    };
    // W40: 2 JP hosts.
    push("10.0.0.1", "2026-09-28");
    push("10.0.0.2", "2026-09-30");
    // W41: 10.0.0.1 on three days (counts once), 3 more JP, 2 KR, 2 DE, 1 IPv6 (unknown
    // country), and 10.1.0.1 twice on one day.
    for day in ["2026-10-05", "2026-10-07", "2026-10-11"] {
        push("10.0.0.1", day);
    }
    for ip in ["10.0.0.2", "10.0.0.3", "10.0.0.4"] {
        push(ip, "2026-10-06");
    }
    push("10.1.0.1", "2026-10-08");
    push("10.1.0.1", "2026-10-08");
    push("10.1.0.2", "2026-10-09");
    push("10.2.0.1", "2026-10-10");
    push("10.2.0.2", "2026-10-10");
    push("2001:db8::1", "2026-10-10");
    // The next Monday belongs to W42.
    push("10.0.0.9", "2026-10-12");
    // Split over two files: distinct counting must merge across files.
    let (a, b) = events.split_at(6);
    store_events(&mut *store, "a", Tlp::Clear, "openrecursivedns", a);
    store_events(&mut *store, "b", Tlp::Amber, "openrecursivedns", b);
    (store, netdb)
}

#[test]
fn weekly_counts_are_distinct_with_share_rank_density_trend_and_change() {
    let dir = tempfile::tempdir().unwrap();
    let (store, netdb) = fixture(dir.path());
    let catalogue = Catalogue::shipped();
    let engine = Engine::new(&catalogue, &*store, &*store, &netdb, Viewer::Local);
    let dns = catalogue.by_slug("openrecursivedns").unwrap();
    let week = Period::parse(PeriodKind::Week, "2026-W41").unwrap();
    let t = engine.table(dns, GroupBy::Country, week, None).unwrap();
    assert_eq!(t.base, "2026-W40", "the base is the first week with data");
    let world = &t.rows[0];
    assert!(world.is_world());
    assert_eq!((world.hosts, world.hosts_ipv6), (9, 1));
    assert_eq!(world.previous_hosts, 2);
    assert_eq!(world.change, Some(3.5));
    assert_eq!(world.trend, Some(450.0));
    assert_eq!(world.ddos_potential, Some(9.0 * 41.0));
    let jp = row(&t.rows, "JP");
    assert_eq!((jp.hosts, jp.rank), (4, Some(1)));
    assert!((jp.share - 4.0 / 9.0).abs() < 1e-12);
    // 4 hosts in a /16 = 4 per 65,536 addresses.
    assert!((jp.density.unwrap() - 4e6 / 65_536.0).abs() < 1e-9);
    assert_eq!(jp.change, Some(1.0));
    assert_eq!(jp.trend, Some(200.0));
    let (kr, de) = (row(&t.rows, "KR"), row(&t.rows, "DE"));
    assert_eq!((kr.hosts, kr.rank), (2, Some(2)));
    assert_eq!((de.hosts, de.rank), (2, Some(2)), "ties share a rank");
    assert_eq!(kr.change, None, "no hosts in the previous week");
    assert!((de.density.unwrap() - 2e6 / 256.0).abs() < 1e-9);
    let unknown = row(&t.rows, "ZZ");
    assert_eq!(
        (unknown.hosts, unknown.hosts_ipv6, unknown.rank),
        (1, 1, None)
    );
    assert_eq!(unknown.density, None);
    assert_eq!(
        t.rows.last().unwrap().country.as_deref(),
        Some("ZZ"),
        "unknown last"
    );

    // The month holds every host of both weeks once.
    let month = Period::parse(PeriodKind::Month, "2026-10").unwrap();
    let t = engine.table(dns, GroupBy::Country, month, None).unwrap();
    assert_eq!(t.rows[0].hosts, 10);
    assert_eq!(row(&t.rows, "JP").hosts, 5);
    assert_eq!(
        t.rows[0].previous_hosts, 2,
        "September had 10.0.0.1 and 10.0.0.2"
    );
    // Days: 2026-10-08 has 10.1.0.1 twice: one host.
    let day = Period::parse(PeriodKind::Day, "2026-10-08").unwrap();
    assert_eq!(
        engine.table(dns, GroupBy::Country, day, None).unwrap().rows[0].hosts,
        1
    );
}

#[test]
fn asn_tables_name_networks_and_the_threshold_hides_rows_not_totals() {
    let dir = tempfile::tempdir().unwrap();
    let (store, netdb) = fixture(dir.path());
    let catalogue = Catalogue::shipped();
    let engine = Engine::new(&catalogue, &*store, &*store, &netdb, Viewer::Local);
    let dns = catalogue.by_slug("openrecursivedns").unwrap();
    let week = Period::parse(PeriodKind::Week, "2026-W41").unwrap();
    let t = engine.table(dns, GroupBy::Asn, week, None).unwrap();
    let jp = t.rows.iter().find(|r| r.asn == Some(64500)).unwrap();
    assert_eq!(
        (jp.hosts, jp.rank, jp.as_name.as_deref()),
        (4, Some(1), Some("JP-NET"))
    );
    assert_eq!(t.rows[0].country.as_deref(), Some("WORLD"));
    let (shown, hidden) = t.publishable(3);
    assert_eq!(
        hidden, 3,
        "AS64501, AS64502 and AS0 have fewer than 3 hosts"
    );
    assert_eq!(shown.len(), 2);
    assert_eq!(shown[0].hosts, 9, "the world total keeps the hidden rows");
}

#[test]
fn export_writes_a_frictionless_package_matching_the_tables() {
    let dir = tempfile::tempdir().unwrap();
    let (store, netdb) = fixture(dir.path());
    let catalogue = Catalogue::shipped();
    let engine = Engine::new(&catalogue, &*store, &*store, &netdb, Viewer::Local);
    let out = dir.path().join("export");
    let report = export::export(
        &engine,
        &out,
        &export::ExportOptions {
            kinds: vec![PeriodKind::Week, PeriodKind::Month],
            min_hosts: 0,
            created: Timestamp::from_secs(1_800_000_000),
        },
    )
    .unwrap();
    assert!(report
        .files
        .contains(&"openrecursivedns-week-country.csv".to_string()));
    let package: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("datapackage.json")).unwrap())
            .unwrap();
    let resources = package["resources"].as_array().unwrap();
    assert_eq!(resources.len(), 4, "week and month, by country and by ASN");
    for r in resources {
        let path = out.join(r["path"].as_str().unwrap());
        let text = std::fs::read_to_string(&path).unwrap();
        let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
        let fields: Vec<&str> = r["schema"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap())
            .collect();
        assert_eq!(header, fields, "{}", path.display());
    }
    let csv = std::fs::read_to_string(out.join("openrecursivedns-week-country.csv")).unwrap();
    // W40, W41 and W42, each with a world row.
    assert_eq!(csv.lines().filter(|l| l.contains(",WORLD,")).count(), 3);
    let w41 = csv
        .lines()
        .find(|l| l.contains("2026-W41,") && l.contains(",JP,"))
        .unwrap();
    assert!(w41.contains(",4,0,"), "{w41}");
    let method = std::fs::read_to_string(out.join("METHOD.md")).unwrap();
    assert!(method.contains("first sighting") && method.contains("| openntp |"));
}

#[test]
fn each_viewer_counts_only_the_files_it_may_see() {
    let dir = tempfile::tempdir().unwrap();
    let (store, netdb) = fixture(dir.path());
    let catalogue = Catalogue::shipped();
    let dns = catalogue.by_slug("openrecursivedns").unwrap();
    let week = Period::parse(PeriodKind::Week, "2026-W41").unwrap();
    let user = |org: &str| Viewer::User {
        org: org.into(),
        role: Role::Member,
    };
    // File "a" (CLEAR) has 10.0.0.1 and 10.0.0.2 in W41; file "b" (AMBER of cert-a) the rest.
    for (viewer, hosts) in [
        (Viewer::Anonymous, 2),
        (user("cert-b"), 2),
        (user("cert-a"), 9),
        (Viewer::Local, 9),
    ] {
        let engine = Engine::new(&catalogue, &*store, &*store, &netdb, viewer.clone());
        let t = engine.table(dns, GroupBy::Country, week, None).unwrap();
        assert_eq!(t.rows[0].hosts, hosts, "{viewer:?}");
        if hosts == 2 {
            assert_eq!(t.rows.len(), 2, "{viewer:?} sees no KR, DE or IPv6 row");
            // The AMBER file's last day (2026-10-12) is not even visible as coverage.
            assert_eq!(engine.coverage(dns).unwrap().unwrap().1, date("2026-10-11"));
        }
    }
}

#[test]
fn partial_periods_are_marked_and_never_compared_with_full_ones() {
    // Daily reports from Thursday 2026-10-01 to Thursday 2026-10-15: ISO week 40 has four
    // days of data, week 41 all seven, week 42 four; October is still running.
    let netdb = netdb();
    let dir = tempfile::tempdir().unwrap();
    let mut store =
        greenwatch_store_open::open(&StoreLocation::Sqlite(dir.path().join("s.sqlite"))).unwrap();
    let mut events = Vec::new();
    let start = date("2026-10-01");
    for d in 0..15u64 {
        let day = (start + chrono::Days::new(d)).to_string() + "T06:00:00Z";
        // Week 40 has fewer hosts in all than week 41 only because it has fewer days.
        for h in 0..20 + d {
            events.push(event(&netdb, &format!("10.0.{d}.{h}"), &day, d * 100 + h));
        }
    }
    store_events(
        &mut *store,
        "daily",
        Tlp::Clear,
        "openrecursivedns",
        &events,
    );
    let catalogue = Catalogue::shipped();
    let engine = Engine::new(&catalogue, &*store, &*store, &netdb, Viewer::Anonymous);
    let risk = catalogue.by_slug("openrecursivedns").unwrap();
    let week = |label: &str| Period::parse(PeriodKind::Week, label).unwrap();
    let world = |period: Period| {
        let table = engine.table(risk, GroupBy::Country, period, None).unwrap();
        table.rows.into_iter().find(|r| r.is_world()).unwrap()
    };
    let w40 = world(week("2026-W40"));
    assert_eq!(
        (w40.complete, w40.days_with_data, w40.days_in_period),
        (false, 4, 7)
    );
    let w41 = world(week("2026-W41"));
    assert!(w41.complete);
    assert_eq!(w41.days_with_data, 7);
    assert_eq!(w41.previous_hosts, w40.hosts);
    assert_eq!(w41.change, None, "W40 is partial: no change against it");
    let w42 = world(week("2026-W42"));
    assert!(!w42.complete);
    assert_eq!((w42.change, w42.trend), (None, None));
    // The trend's base is the first complete week, W41.
    assert_eq!(w41.trend, Some(100.0));
    let month = world(Period::parse(PeriodKind::Month, "2026-10").unwrap());
    assert!(!month.complete);
    assert_eq!(month.days_with_data, 15);
    assert_eq!(month.change, None);
    // Pages and commands open on the last complete week, never on the running one.
    assert_eq!(
        engine.latest_period(risk, PeriodKind::Week).unwrap(),
        Some(week("2026-W41"))
    );
    // No complete month yet: the running one, which is marked partial.
    assert_eq!(
        engine.latest_period(risk, PeriodKind::Month).unwrap(),
        Some(Period::parse(PeriodKind::Month, "2026-10").unwrap())
    );
    assert_eq!(
        engine.latest_period(risk, PeriodKind::Day).unwrap(),
        Some(Period::parse(PeriodKind::Day, "2026-10-15").unwrap())
    );
}
