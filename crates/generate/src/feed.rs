//! Risk-feed files with exact ground truth: Shadowserver report CSV or IntelMQ JSON lines whose
//! distinct hosts per risk, period (day, ISO week, month), country and ASN are known, so the
//! metric engine can be tested and benchmarked against an oracle.
//!
//! Host model: a persistent population (about 1.25 x the daily rows) of which ~75% appears on
//! any given day, so a week's distinct hosts are far fewer than the sum of its days'; plus
//! one-day hosts (churn, 4% of a day's hosts) and duplicate rows (3%: the same host seen twice
//! in a day). Rows are time-ordered; several days go into one file, as a concatenated export.
//!
//! The feed's own ASN and country columns are `info.enrich(ip)` except for a chosen share of
//! hosts whose feed view deliberately differs (counted per row in the truth). Broken rows are
//! interleaved on top of the good rows and listed with their line numbers; they are not hosts.
//! Host truth is counted with plain hash sets, independently of the file's formatting.
//!
//! ```
//! use greenwatch_generate::{generate_feed, FeedOutput, FeedSpec, SourcePool};
//! use greenwatch_model::{CountryCode, Enrichment};
//! use std::net::IpAddr;
//!
//! let pool = SourcePool::new(vec![(0x0100_0000, 0x01ff_ffff)], vec![]);
//! let start = chrono::NaiveDate::from_ymd_opt(2026, 10, 5).unwrap();
//! let spec = FeedSpec::new(7, "scan_dns", FeedOutput::Shadowserver, start, 7, 5_000);
//! let jp = |_: IpAddr| Enrichment { asn: 2497, country: CountryCode(*b"JP") };
//! let mut csv = Vec::new();
//! let truth = generate_feed(&spec, &pool, &jp, &mut csv, &mut |_| {}).unwrap();
//! let week = &truth.week["2026-W41"];
//! assert!(week.hosts < truth.day.values().map(|d| d.hosts).sum());
//! assert_eq!(week.by_country["JP"], week.hosts);
//! ```

mod columns;
mod population;
mod report;
mod tables;
mod text;
mod truth;
mod values;
mod writer;

#[cfg(test)]
mod tests;

use crate::{GenerateError, SourcePool};
use chrono::NaiveDate;
use greenwatch_model::Enrichment;
use population::Population;
use report::Report;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::net::IpAddr;
use truth::HostTally;
use writer::FeedWriter;

/// What to generate.
#[derive(Clone, Debug)]
pub struct FeedSpec {
    pub seed: u64,
    /// Shadowserver report type: `scan_dns`, `scan6_dns`, `scan_ntp`, `scan_ntpmonitor`,
    /// `scan_ssdp`, `scan_snmp`, `scan_chargen`, `scan_memcached`, `event4_sinkhole`, ... (see
    /// [`feed_report_types`]).
    pub report_type: String,
    pub format: FeedOutput,
    /// First day (UTC).
    pub start: NaiveDate,
    pub days: u32,
    /// Good rows in the whole file, spread over the days.
    pub rows: u64,
    /// Broken rows interleaved, per thousand good rows (on top of `rows`).
    pub bad_rows_per_mille: u32,
    /// Hosts whose feed ASN and/or country differs from `info.enrich(ip)`, per thousand hosts.
    pub disagree_per_mille: u32,
    /// Hosts with an IPv6 address, per thousand; only for report types whose name contains
    /// `6` (`scan6_dns`, `event6_sinkhole`) or for IntelMQ output, else ignored.
    pub ipv6_per_mille: u32,
    /// Count distinct hosts per period (the `day`/`week`/`month` maps of the truth); off leaves
    /// them empty, for big benchmark files whose truth is not needed.
    pub host_truth: bool,
}

impl FeedSpec {
    /// A spec without bad rows, disagreements or IPv6, with host truth.
    pub fn new(
        seed: u64,
        report_type: &str,
        format: FeedOutput,
        start: NaiveDate,
        days: u32,
        rows: u64,
    ) -> FeedSpec {
        FeedSpec {
            seed,
            report_type: report_type.to_string(),
            format,
            start,
            days,
            rows,
            bad_rows_per_mille: 0,
            disagree_per_mille: 0,
            ipv6_per_mille: 0,
            host_truth: true,
        }
    }

    /// The IPv6 share that applies (see [`FeedSpec::ipv6_per_mille`]).
    fn effective_ipv6_per_mille(&self) -> u32 {
        if self.format == FeedOutput::Intelmq || self.report_type.contains('6') {
            self.ipv6_per_mille
        } else {
            0
        }
    }

    fn validate(&self) -> Result<(), GenerateError> {
        let spec_error = |m: String| Err(GenerateError::Spec(m));
        if self.days == 0 {
            return spec_error("days must be at least 1".into());
        }
        if self
            .start
            .checked_add_days(chrono::Days::new(self.days as u64 + 1))
            .is_none()
        {
            return spec_error(format!(
                "{} days from {} is out of range",
                self.days, self.start
            ));
        }
        for (name, v) in [
            ("bad rows", self.bad_rows_per_mille),
            ("disagreements", self.disagree_per_mille),
            ("IPv6", self.ipv6_per_mille),
        ] {
            if v > 1000 {
                return spec_error(format!("{name} per mille must be at most 1000, not {v}"));
            }
        }
        Ok(())
    }
}

/// The file format written.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedOutput {
    /// The report's CSV: its published header, then one row per event.
    Shadowserver,
    /// IntelMQ events as JSON lines with flat harmonization keys (IntelMQ's file output).
    Intelmq,
}

/// What the generator needs to know about an address: the attribution the metric engine will
/// use (normally a netdb snapshot). A closure `Fn(IpAddr) -> Enrichment` is one (without AS
/// names).
pub trait AddressInfo {
    fn enrich(&self, ip: IpAddr) -> Enrichment;
    /// The AS name written to IntelMQ's `source.as_name`, if known.
    fn as_name(&self, _asn: u32) -> Option<&str> {
        None
    }
}

impl<F: Fn(IpAddr) -> Enrichment> AddressInfo for F {
    fn enrich(&self, ip: IpAddr) -> Enrichment {
        self(ip)
    }
}

/// Why a line of the file is broken.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BadRowKind {
    /// CSV: the address column holds `300.x.y.z`.
    InvalidIp,
    /// CSV: the timestamp is not a time (`25:` hours).
    InvalidTimestamp,
    /// CSV: fewer columns than the header.
    ShortRow,
    /// IntelMQ: the line is cut in the middle of the object.
    InvalidJson,
    /// IntelMQ: valid JSON without `source.ip`.
    MissingIp,
}

/// One broken line: `line` is 1-based, the CSV header being line 1.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BadRowTruth {
    pub line: u64,
    pub kind: BadRowKind,
}

/// Distinct hosts of one period, attributed with `info.enrich(ip)`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodHosts {
    pub hosts: u64,
    /// Country code → distinct hosts; an unknown country is `ZZ`.
    pub by_country: BTreeMap<String, u64>,
    /// ASN → distinct hosts; an unknown ASN is 0.
    pub by_asn: BTreeMap<u32, u64>,
}

/// What a generated feed file contains, by construction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedTruth {
    pub seed: u64,
    pub report_type: String,
    pub format: FeedOutput,
    /// Good rows (every one a host observation).
    pub rows_written: u64,
    /// Broken lines, in file order.
    pub bad_rows: Vec<BadRowTruth>,
    /// Good rows with an IPv6 address.
    pub ipv6_rows: u64,
    /// Good rows whose written country differs from `info.enrich(ip)`'s.
    pub feed_country_disagreements: u64,
    /// Good rows whose written ASN differs from `info.enrich(ip)`'s.
    pub feed_asn_disagreements: u64,
    /// Period label (`2026-10-05`, `2026-W41`, `2026-10`) → distinct hosts, for every period
    /// with rows in the file; empty when the spec turned host truth off.
    pub day: BTreeMap<String, PeriodHosts>,
    pub week: BTreeMap<String, PeriodHosts>,
    pub month: BTreeMap<String, PeriodHosts>,
}

/// Report types [`generate_feed`] can write (each has a published column list).
pub fn feed_report_types() -> impl Iterator<Item = &'static str> {
    report::SUPPORTED.iter().copied()
}

/// Writes the feed file to `out` (buffer it) and returns its truth. `progress` is called now
/// and then with the number of good rows written so far.
pub fn generate_feed<W: Write>(
    spec: &FeedSpec,
    pool: &SourcePool,
    info: &dyn AddressInfo,
    out: W,
    progress: &mut dyn FnMut(u64),
) -> Result<FeedTruth, GenerateError> {
    spec.validate()?;
    let report = Report::new(&spec.report_type, spec.format)?;
    let mut population =
        Population::new(spec, pool, info, &report, spec.effective_ipv6_per_mille())?;
    let sinkholes = population.sinkholes(&report, info);
    let mut writer = FeedWriter::new(spec, &report, info, sinkholes, out)?;
    let mut tally = HostTally::new(spec.start, spec.days, spec.host_truth);
    for day in 0..spec.days {
        let today = population.day(day, info);
        writer.start_day(day);
        for (i, row) in today.rows.iter().enumerate() {
            let (key, enrichment) = (
                today.hosts[row.host as usize],
                today.enrichments[row.host as usize],
            );
            writer.good_row(row, key, enrichment)?;
            tally.add(day, key, enrichment);
            if i % 65_536 == 65_535 {
                progress(writer.rows_written());
            }
        }
        progress(writer.rows_written());
    }
    let counts = writer.finish()?;
    let (day, week, month) = tally.finish();
    Ok(FeedTruth {
        seed: spec.seed,
        report_type: spec.report_type.clone(),
        format: spec.format,
        rows_written: counts.rows,
        bad_rows: counts.bad_rows,
        ipv6_rows: counts.ipv6_rows,
        feed_country_disagreements: counts.country_disagreements,
        feed_asn_disagreements: counts.asn_disagreements,
        day,
        week,
        month,
    })
}
