//! Writes rows as Shadowserver CSV or IntelMQ JSON lines, decides each host's feed view of
//! its ASN and country (agreeing or deliberately not), interleaves broken rows, and counts
//! what it wrote.

use super::population::{key_ip, RowDesc};
use super::report::{Family, JsonValue, Report};
use super::tables;
use super::text::{push_base64, push_csv_field, push_date_time, push_json_str};
use super::values::RowView;
use super::{AddressInfo, BadRowKind, BadRowTruth, FeedOutput, FeedSpec};
use crate::rng::{hash2, Rng};
use greenwatch_model::{CountryCode, Enrichment};
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr};

const CSV_BAD_KINDS: &[BadRowKind] = &[
    BadRowKind::InvalidIp,
    BadRowKind::InvalidTimestamp,
    BadRowKind::ShortRow,
];
const JSON_BAD_KINDS: &[BadRowKind] = &[BadRowKind::InvalidJson, BadRowKind::MissingIp];
const SINKHOLE_PORTS: &[u16] = &[80, 80, 80, 443, 8080];

/// What was written, for the truth.
#[derive(Default)]
pub(crate) struct WriteCounts {
    pub rows: u64,
    pub ipv6_rows: u64,
    pub country_disagreements: u64,
    pub asn_disagreements: u64,
    pub bad_rows: Vec<BadRowTruth>,
}

pub(crate) struct FeedWriter<'a, W: Write> {
    out: W,
    report: &'a Report,
    info: &'a dyn AddressInfo,
    format: FeedOutput,
    seed: u64,
    bad_per_mille: u64,
    disagree_per_mille: u64,
    start: chrono::NaiveDate,
    sinkholes: Vec<(IpAddr, Enrichment)>,
    /// Lines written so far (the header included).
    lines: u64,
    date: String,
    day_secs: i64,
    observation: String,
    /// The ASN the current row writes.
    row_asn: u32,
    /// The current row's cells, its CSV line and its JSON line.
    cells: Vec<String>,
    csv: String,
    json: String,
    counts: WriteCounts,
}

impl<'a, W: Write> FeedWriter<'a, W> {
    pub(crate) fn new(
        spec: &FeedSpec,
        report: &'a Report,
        info: &'a dyn AddressInfo,
        sinkholes: Vec<(IpAddr, Enrichment)>,
        mut out: W,
    ) -> io::Result<Self> {
        let mut lines = 0;
        if spec.format == FeedOutput::Shadowserver {
            let mut header = String::new();
            for (i, c) in report.header.iter().enumerate() {
                if i > 0 {
                    header.push(',');
                }
                push_csv_field(&mut header, c);
            }
            header.push('\n');
            out.write_all(header.as_bytes())?;
            lines = 1;
        }
        Ok(FeedWriter {
            out,
            report,
            info,
            format: spec.format,
            seed: spec.seed,
            bad_per_mille: spec.bad_rows_per_mille as u64,
            disagree_per_mille: spec.disagree_per_mille as u64,
            start: spec.start,
            sinkholes,
            lines,
            date: String::new(),
            day_secs: 0,
            observation: String::new(),
            row_asn: 0,
            cells: vec![String::new(); report.header.len()],
            csv: String::new(),
            json: String::new(),
            counts: WriteCounts::default(),
        })
    }

    pub(crate) fn start_day(&mut self, day: u32) {
        let date = self.start + chrono::Days::new(day as u64);
        self.date = date.format("%Y-%m-%d").to_string();
        self.day_secs = date
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists")
            .and_utc()
            .timestamp();
        self.observation.clear();
        let next = (date + chrono::Days::new(1)).format("%Y-%m-%d").to_string();
        push_date_time(&mut self.observation, &next, 'T', 2 * 3600);
        self.observation.push_str("+00:00");
    }

    pub(crate) fn rows_written(&self) -> u64 {
        self.counts.rows
    }

    /// Writes one good row for the host with address key `key` and enrichment `truth` (then
    /// maybe a broken row).
    pub(crate) fn good_row(
        &mut self,
        row: &RowDesc,
        key: u128,
        truth: Enrichment,
    ) -> io::Result<()> {
        let ip = key_ip(key);
        let host = hash2(
            hash2(self.seed ^ 0x484F_5354, (key >> 64) as u64),
            key as u64,
        );
        let feed = self.feed_view(host, truth);
        let mut rng = Rng::new(row.seed);
        self.fill_cells(ip, host, feed, row.secs, &mut rng);
        self.emit(None)?;

        let c = &mut self.counts;
        c.rows += 1;
        c.ipv6_rows += ip.is_ipv6() as u64;
        c.country_disagreements += (feed.country != truth.country) as u64;
        c.asn_disagreements += (feed.asn != truth.asn) as u64;
        if hash2(self.seed ^ 0xBAD, c.rows) % 1000 < self.bad_per_mille {
            self.bad_row(row.secs, &mut rng)?;
        }
        Ok(())
    }

    pub(crate) fn finish(mut self) -> io::Result<WriteCounts> {
        self.out.flush()?;
        Ok(self.counts)
    }

    /// The ASN and country the feed writes for a host: its enrichment, except for the chosen
    /// share of hosts whose feed says another country (half of them), another ASN (a quarter)
    /// or both (a quarter).
    fn feed_view(&self, host: u64, truth: Enrichment) -> Enrichment {
        let h = hash2(host, 0x4449_5341);
        if h % 1000 >= self.disagree_per_mille {
            return truth;
        }
        let mode = (h >> 16) % 4;
        let mut feed = truth;
        let pick = (h >> 32) as usize;
        if mode != 2 {
            let others = tables::OTHER_COUNTRIES;
            let mut cc: CountryCode = others[pick % others.len()].parse().expect("valid code");
            if cc == truth.country {
                cc = others[(pick + 1) % others.len()]
                    .parse()
                    .expect("valid code");
            }
            feed.country = cc;
        }
        if mode >= 2 {
            let others = tables::OTHER_ASNS;
            let mut asn = others[pick % others.len()];
            if asn == truth.asn {
                asn = others[(pick + 1) % others.len()];
            }
            feed.asn = asn;
        }
        feed
    }

    fn fill_cells(&mut self, ip: IpAddr, host: u64, feed: Enrichment, secs: u32, rng: &mut Rng) {
        let report = self.report;
        self.row_asn = feed.asn;
        let (lo, hi) = report.response;
        let response_size = if hi > 0 { rng.range(lo, hi) } else { 0 };
        let response_size = match report.family {
            Family::NtpMonitor => response_size / 468 * 468,
            _ => response_size,
        };
        let sinkhole = (!self.sinkholes.is_empty()).then(|| {
            let (dst, e) = self.sinkholes[rng.below(self.sinkholes.len() as u64) as usize];
            (
                dst,
                e,
                SINKHOLE_PORTS[rng.below(SINKHOLE_PORTS.len() as u64) as usize],
            )
        });
        let view = RowView {
            report,
            date: &self.date,
            day_secs: self.day_secs,
            secs,
            ip,
            host,
            feed,
            response_size,
            sinkhole,
            src_port: rng.range(1024, 65535) as u16,
        };
        for (cell, &col) in self.cells.iter_mut().zip(&report.columns) {
            cell.clear();
            view.write(col, rng, cell);
        }
    }

    /// Writes the current cells as one line; `broken` corrupts them first.
    fn emit(&mut self, broken: Option<BadRowKind>) -> io::Result<()> {
        let columns = match broken {
            Some(BadRowKind::ShortRow) => 2 + self.cells.len() / 4,
            _ => self.cells.len(),
        };
        self.csv.clear();
        for (i, cell) in self.cells[..columns].iter().enumerate() {
            if i > 0 {
                self.csv.push(',');
            }
            push_csv_field(&mut self.csv, cell);
        }
        self.lines += 1;
        match self.format {
            FeedOutput::Shadowserver => {
                self.csv.push('\n');
                self.out.write_all(self.csv.as_bytes())
            }
            FeedOutput::Intelmq => {
                self.json_line(broken == Some(BadRowKind::MissingIp));
                if broken == Some(BadRowKind::InvalidJson) {
                    let mut cut = self.json.len() / 2;
                    while !self.json.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    self.json.truncate(cut);
                }
                self.json.push('\n');
                self.out.write_all(self.json.as_bytes())
            }
        }
    }

    /// IntelMQ's JSON for the current cells (and `self.csv` as `raw`), keys sorted.
    fn json_line(&mut self, without_ip: bool) {
        let json = &mut self.json;
        json.clear();
        json.push('{');
        let mut first = true;
        for (key, value) in &self.report.intelmq {
            if without_ip && key == "source.ip" {
                continue;
            }
            let start = json.len();
            if !first {
                json.push_str(", ");
            }
            // Keys are dotted lower-case names: nothing to escape.
            json.push('"');
            json.push_str(key);
            json.push_str("\": ");
            let written = match value {
                JsonValue::Cell { column, number } => {
                    let cell = &self.cells[*column];
                    if *number {
                        json.push_str(cell);
                    } else {
                        push_json_str(json, cell);
                    }
                    !cell.is_empty()
                }
                JsonValue::Text(s) => {
                    push_json_str(json, s);
                    true
                }
                JsonValue::Owned(s) => {
                    push_json_str(json, s);
                    true
                }
                JsonValue::TimeSource => {
                    json.push('"');
                    json.push_str(&self.cells[self.report.timestamp_column].replacen(' ', "T", 1));
                    json.push_str("+00:00\"");
                    true
                }
                JsonValue::TimeObservation => {
                    push_json_str(json, &self.observation);
                    true
                }
                JsonValue::Raw => {
                    json.push('"');
                    push_base64(json, self.csv.as_bytes());
                    json.push('"');
                    true
                }
                JsonValue::AsName => match (self.row_asn, self.info) {
                    (0, _) => false,
                    (asn, info) => match info.as_name(asn) {
                        Some(name) => {
                            push_json_str(json, name);
                            true
                        }
                        None => false,
                    },
                },
            };
            if written {
                first = false;
            } else {
                json.truncate(start);
            }
        }
        json.push('}');
    }

    /// Writes one broken line after the row just written, of the next kind in turn; its host
    /// is a fresh address that is in no truth.
    fn bad_row(&mut self, secs: u32, rng: &mut Rng) -> io::Result<()> {
        let kinds = match self.format {
            FeedOutput::Shadowserver => CSV_BAD_KINDS,
            FeedOutput::Intelmq => JSON_BAD_KINDS,
        };
        let kind = kinds[self.counts.bad_rows.len() % kinds.len()];
        let ip = IpAddr::V4(Ipv4Addr::from(rng.next_u32() | 0x0100_0001));
        let e = self.info.enrich(ip);
        self.fill_cells(ip, rng.next_u64(), e, secs, rng);
        match kind {
            BadRowKind::InvalidIp => {
                let [_, b, c, d] = rng.next_u32().to_be_bytes();
                self.cells[self.report.ip_column] = format!("300.{b}.{c}.{d}");
            }
            BadRowKind::InvalidTimestamp => {
                let t = &mut self.cells[self.report.timestamp_column];
                t.clear();
                push_date_time(t, &self.date, ' ', 25 * 3600 + secs % 3600);
            }
            _ => {}
        }
        self.emit(Some(kind))?;
        self.counts.bad_rows.push(BadRowTruth {
            line: self.lines,
            kind,
        });
        Ok(())
    }
}
