//! The risk-metric pass over a real store: six weeks of infected hosts in three countries,
//! one of which doubles; only that country raises alerts, from the day it doubled, once.

use chrono::NaiveDate;
use greenwatch_early_warning::{watch_recent_risks, RecentPass};
use greenwatch_feeds::Catalogue;
use greenwatch_model::access::{Label, Tlp, Viewer};
use greenwatch_model::{CountryCode, Enrichment, FeedCounts, RiskEvent, Timestamp};
use greenwatch_netdb::NetDb;
use greenwatch_store::{FeedFileRecord, StoreLocation};
use std::net::{IpAddr, Ipv4Addr};

const DAYS: u32 = 42;
const DOUBLES_ON: u32 = 35;

/// `n` infected hosts of `country` on `day`: addresses `10.<c>.x.y`, the same population
/// every day.
fn hosts(country: &str, c: u8, day: NaiveDate, n: u32) -> Vec<RiskEvent> {
    let midnight = day.and_hms_opt(12, 0, 0).unwrap().and_utc().timestamp();
    (0..n)
        .map(|i| RiskEvent {
            ip: IpAddr::V4(Ipv4Addr::new(10, c, (i / 250) as u8, (i % 250) as u8 + 1)),
            port: 0,
            time: Timestamp::from_secs(midnight),
            line: i as u64 + 2,
            feed_asn: 0,
            feed_country: CountryCode::default(),
            enrichment: Enrichment {
                asn: 64_500,
                country: country.parse().unwrap(),
            },
        })
        .collect()
}

#[test]
fn a_country_whose_infected_hosts_double_is_alerted_from_that_day_and_steady_ones_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let mut store =
        greenwatch_store_open::open(&StoreLocation::Sqlite(dir.path().join("gw.sqlite"))).unwrap();
    let start = NaiveDate::from_ymd_opt(2026, 9, 1).unwrap();
    let mut writer = store.begin_feed_file("cert-a", "feed-1").unwrap();
    for d in 0..DAYS {
        let day = start + chrono::Days::new(d.into());
        let weekend = matches!(d % 7, 5 | 6);
        let base = if weekend { 180 } else { 200 };
        let doubled = if d >= DOUBLES_ON { 2 * base } else { base };
        for (country, c, n) in [("DE", 1, doubled), ("FR", 2, base), ("JP", 3, base + d % 3)] {
            writer
                .write_events("infected", day, &hosts(country, c, day, n))
                .unwrap();
        }
    }
    writer
        .commit(&FeedFileRecord {
            content_hash: "feed-1".into(),
            path: "infected.csv".into(),
            format: "shadowserver".into(),
            report_type: None,
            label: Label {
                owner: "cert-a".into(),
                tlp: Tlp::Amber,
            },
            counts: FeedCounts::default(),
            ingested_at: Timestamp(0),
        })
        .unwrap();

    let pass = RecentPass::hourly(
        greenwatch_detect::Allowlist::parse("").unwrap(),
        Label {
            owner: "cert-a".into(),
            tlp: Tlp::Amber,
        },
    );
    let (catalogue, netdb) = (Catalogue::shipped(), NetDb::from_snapshots(Vec::new()));
    let now = Timestamp::from_secs(0);
    let first = watch_recent_risks(&mut *store, &catalogue, &netdb, &pass, now).unwrap();
    assert!(first.raised >= 1, "{first:?}");
    let alerts = store.alerts(&Viewer::Local, 100).unwrap();
    assert!(alerts
        .iter()
        .all(|a| a.alert.title.contains("infected hosts in DE")));
    let doubled_on = (start + chrono::Days::new(DOUBLES_ON.into()))
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp();
    assert_eq!(
        alerts.iter().map(|a| a.alert.first_seen.secs()).min(),
        Some(doubled_on),
        "found on the day it doubled"
    );
    let again = watch_recent_risks(&mut *store, &catalogue, &netdb, &pass, now).unwrap();
    assert_eq!(again.raised, 0, "raised once");
}
