//! One detection run over a range of flows: builds the watched series, detects anomalies in
//! each, joins those of one subject that overlap in time (its packets and its sources) into a
//! [`Finding`], and explains every finding from the flows behind it. The caller supplies the
//! flows (a store scan), so this stays free of I/O.

use crate::{
    detect_observed, Allowlist, Anomaly, AnomalyKind, Band, Calendar, Contributors, DetectorConfig,
    SeriesBook, Subject,
};
use greenwatch_model::access::Label;
use greenwatch_model::alert::{
    ChartPoint, Evidence, Explanation, NewAlert, SeriesEvidence, Severity,
};
use greenwatch_model::Timestamp;
use greenwatch_observe::FlowTuple;
use serde::Serialize;

/// Buckets starting in `[from, to)` seconds, `width` seconds wide.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Window {
    pub from: i64,
    pub to: i64,
    pub width: i64,
}

/// How far back an explanation looks for when each top source was first seen.
const LOOK_BACK_SECS: i64 = 7 * 86_400;
/// Days of context the chart of a finding shows before it.
const CHART_DAYS_BEFORE: i64 = 3;
/// Contributors listed per kind.
const TOP_CONTRIBUTORS: usize = 5;

/// One anomaly of one subject, over one or both of its measures.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    pub subject: Subject,
    /// The subject as the CLI and the portal name it (`port 5555/tcp`).
    pub name: String,
    pub kind: AnomalyKind,
    /// Start of the first and of the last anomalous bucket.
    pub first: Timestamp,
    pub last: Timestamp,
    /// Largest observed / expected over its measures.
    pub ratio: f64,
    pub severity: Severity,
    pub series: Vec<SeriesEvidence>,
    pub explanation: Explanation,
}

impl Finding {
    /// The alert this finding raises. Its key makes raising it again a no-op.
    pub fn to_alert(&self, label: Label, created_at: Timestamp) -> NewAlert {
        let kind = self.kind.as_str();
        let what = match self.kind {
            AnomalyKind::Surge => "Surge",
            AnomalyKind::LevelUp => "Level rise",
            AnomalyKind::LevelDown => "Level drop",
        };
        let title = format!(
            "{what} on {}: {:.1}x the expected traffic",
            self.name, self.ratio
        );
        NewAlert {
            key: Some(format!("detect:{}:{kind}:{}", self.name, self.first.secs())),
            severity: self.severity,
            title,
            summary: self.summary(),
            affected: self.series.iter().map(|s| s.series.clone()).collect(),
            first_seen: self.first,
            last_seen: self.last,
            author: "detector".into(),
            label,
            evidence: Some(Evidence {
                series: self.series.clone(),
                explanation: self.explanation.clone(),
            }),
            created_at,
        }
    }

    fn summary(&self) -> String {
        let mut text = format!(
            "From {} to the bucket starting {}:",
            self.first.to_rfc3339(),
            self.last.to_rfc3339()
        );
        for s in &self.series {
            text += &format!(
                " {} {:.0} observed, {:.0} expected (peak bucket {:.0}, interval {:.0}-{:.0});",
                s.series, s.observed, s.expected, s.peak_observed, s.peak_lower, s.peak_upper
            );
        }
        let names = |c: &[greenwatch_model::alert::Contributor]| {
            c.iter()
                .map(|c| format!("{} ({:.0} %)", c.name, 100.0 * c.share))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let e = &self.explanation;
        for (what, list) in [
            ("top sources", &e.sources),
            ("countries", &e.countries),
            ("ASes", &e.asns),
            ("ports", &e.ports),
            ("fingerprints", &e.fingerprints),
        ] {
            if !list.is_empty() {
                text += &format!(" {what}: {}.", names(list));
            }
        }
        text
    }
}

/// How urgent a departure of this size is.
pub(crate) fn severity(kind: AnomalyKind, ratio: f64) -> Severity {
    let ratio = if kind == AnomalyKind::LevelDown {
        1.0 / ratio.max(1e-9)
    } else {
        ratio
    };
    match (kind, ratio) {
        (AnomalyKind::Surge, r) if r >= 10.0 => Severity::Critical,
        (AnomalyKind::Surge, r) if r >= 5.0 => Severity::High,
        (_, r) if r >= 3.0 => Severity::Medium,
        _ => Severity::Low,
    }
}

/// Runs detection over `window`. `scan(from, to, visit)` must visit the flows with a bucket in
/// `[from, to)` in bucket order; it is called twice (series, then explanations).
pub fn watch<E>(
    mut scan: impl FnMut(i64, i64, &mut dyn FnMut(&FlowTuple)) -> Result<(), E>,
    window: Window,
    allowlist: &Allowlist,
    config: &DetectorConfig,
) -> Result<Vec<Finding>, E> {
    let mut book = SeriesBook::new(allowlist, window.from, window.to, window.width);
    scan(window.from, window.to, &mut |f| book.add(f))?;
    let mut drafts: Vec<Draft> = Vec::new();
    for series in book.finish(config.min_excess) {
        let calendar = Calendar::of(series.first_secs, series.width_secs);
        let detection = detect_observed(&series.values, calendar, config);
        for anomaly in detection.anomalies {
            let name = format!("{} {}", series.key.subject, series.key.measure.as_str());
            let evidence = evidence(
                name,
                (&series.values, series.first_secs, series.width_secs),
                &detection.bands,
                &anomaly,
            );
            let at = |i: usize| series.first_secs + i as i64 * series.width_secs;
            let (first, last) = (at(anomaly.first), at(anomaly.last));
            drafts.push(Draft {
                subject: series.key.subject,
                kind: anomaly.kind,
                first,
                last,
                ratio: anomaly.ratio(),
                series: vec![evidence],
            });
        }
    }
    let drafts = merge(drafts, window.width);
    if drafts.is_empty() {
        return Ok(Vec::new());
    }
    let mut explainers: Vec<Contributors> = drafts
        .iter()
        .map(|d| Contributors::new(d.subject, allowlist, d.first, d.last + window.width))
        .collect();
    let from = drafts.iter().map(|d| d.first).min().unwrap_or(window.from) - LOOK_BACK_SECS;
    let to = drafts.iter().map(|d| d.last).max().unwrap_or(window.to) + window.width;
    scan(from.max(window.from), to, &mut |f| {
        for e in explainers.iter_mut() {
            e.add(f);
        }
    })?;
    let mut findings: Vec<Finding> = drafts
        .into_iter()
        .zip(explainers)
        .map(|(d, e)| Finding {
            name: d.subject.to_string(),
            subject: d.subject,
            kind: d.kind,
            first: Timestamp::from_secs(d.first),
            last: Timestamp::from_secs(d.last),
            ratio: d.ratio,
            severity: severity(d.kind, d.ratio),
            series: d.series,
            explanation: e.finish(TOP_CONTRIBUTORS),
        })
        .collect();
    findings.sort_by(|a, b| (a.first, &a.name).cmp(&(b.first, &b.name)));
    Ok(findings)
}

struct Draft {
    subject: Subject,
    kind: AnomalyKind,
    first: i64,
    last: i64,
    ratio: f64,
    series: Vec<SeriesEvidence>,
}

/// Joins drafts of one subject and kind that overlap or are one bucket apart in time:
/// its packets and its sources, or one surge interrupted by a bucket just inside the interval.
fn merge(mut drafts: Vec<Draft>, width: i64) -> Vec<Draft> {
    drafts.sort_by_key(|d| (d.subject, d.kind.as_str(), d.first));
    let mut out: Vec<Draft> = Vec::new();
    for d in drafts {
        match out.last_mut() {
            Some(m)
                if m.subject == d.subject && m.kind == d.kind && d.first <= m.last + 2 * width =>
            {
                m.last = m.last.max(d.last);
                m.ratio = more_extreme(m.kind, m.ratio, d.ratio);
                for series in d.series {
                    match m.series.iter_mut().find(|s| s.series == series.series) {
                        Some(same) => join_evidence(same, series),
                        None => m.series.push(series),
                    }
                }
            }
            _ => out.push(d),
        }
    }
    out
}

/// Two anomalies of one series joined into one piece of evidence: an alert names each
/// affected series once. Totals add up, the higher peak is kept, the charts are joined.
fn join_evidence(into: &mut SeriesEvidence, other: SeriesEvidence) {
    into.observed += other.observed;
    into.expected += other.expected;
    if other.peak_observed - other.peak_upper > into.peak_observed - into.peak_upper {
        into.peak_observed = other.peak_observed;
        into.peak_lower = other.peak_lower;
        into.peak_upper = other.peak_upper;
    }
    into.chart.extend(other.chart);
    into.chart.sort_by_key(|p| p.bucket);
    into.chart.dedup_by_key(|p| p.bucket);
}

fn more_extreme(kind: AnomalyKind, a: f64, b: f64) -> f64 {
    if kind == AnomalyKind::LevelDown {
        a.min(b)
    } else {
        a.max(b)
    }
}

/// The evidence of anomaly `a` of series `name`: its totals, its peak's interval and a chart
/// from a few days before it to a day after.
/// `(values, first_secs, width_secs)` is the series; buckets nobody observed are left out of
/// the chart (a gap, not a zero).
pub(crate) fn evidence(
    name: String,
    (values, first_secs, width_secs): (&[Option<f64>], i64, i64),
    bands: &[Option<Band>],
    a: &Anomaly,
) -> SeriesEvidence {
    let per_day = Calendar::of(first_secs, width_secs).buckets_per_day;
    let from = a.first.saturating_sub(per_day * CHART_DAYS_BEFORE as usize);
    let to = (a.last + per_day).min(values.len() - 1);
    let chart = (from..=to)
        .filter_map(|i| {
            Some(ChartPoint {
                bucket: Timestamp::from_secs(first_secs + i as i64 * width_secs),
                observed: values[i]?,
                expected: bands[i].map(|b| b.expected),
                lower: bands[i].map(|b| b.lower),
                upper: bands[i].map(|b| b.upper),
            })
        })
        .collect();
    SeriesEvidence {
        series: name,
        kind: a.kind.as_str().into(),
        observed: a.observed,
        expected: a.expected,
        peak_observed: a.peak_observed,
        peak_lower: a.peak_band.lower,
        peak_upper: a.peak_band.upper,
        chart,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use greenwatch_model::Transport;

    #[test]
    fn two_surges_of_one_series_joined_name_it_once() {
        let port = Subject::Port {
            transport: Transport::TCP,
            port: 23,
        };
        let evidence = |observed: f64, at: i64| SeriesEvidence {
            series: "port 23/tcp packets".into(),
            kind: "surge".into(),
            observed,
            expected: 10.0,
            peak_observed: observed,
            peak_lower: 2.0,
            peak_upper: 20.0,
            chart: vec![ChartPoint {
                bucket: Timestamp::from_secs(at),
                observed,
                expected: Some(10.0),
                lower: Some(2.0),
                upper: Some(20.0),
            }],
        };
        let draft = |hour: i64, observed| Draft {
            subject: port,
            kind: AnomalyKind::Surge,
            first: hour * 3600,
            last: hour * 3600,
            ratio: observed / 10.0,
            series: vec![evidence(observed, hour * 3600)],
        };
        let merged = merge(vec![draft(18, 80.0), draft(20, 120.0)], 3600);
        assert_eq!(merged.len(), 1);
        let series = &merged[0].series;
        assert_eq!(series.len(), 1, "one series, named once");
        assert_eq!(series[0].observed, 200.0);
        assert_eq!(series[0].peak_observed, 120.0);
        assert_eq!(series[0].chart.len(), 2);
    }

    #[test]
    fn packets_and_sources_of_one_surge_are_one_finding_even_with_a_gap() {
        let port = Subject::Port {
            transport: Transport::TCP,
            port: 9200,
        };
        let draft = |kind, first: i64, last: i64| Draft {
            subject: port,
            kind,
            first: first * 3600,
            last: last * 3600,
            ratio: 3.0,
            series: Vec::new(),
        };
        let merged = merge(
            vec![
                draft(AnomalyKind::Surge, 18, 18),
                draft(AnomalyKind::Surge, 20, 20),
                draft(AnomalyKind::Surge, 18, 20),
                draft(AnomalyKind::Surge, 30, 31),
                draft(AnomalyKind::LevelUp, 19, 25),
            ],
            3600,
        );
        let spans: Vec<_> = merged
            .iter()
            .map(|d| (d.kind, d.first / 3600, d.last / 3600))
            .collect();
        assert_eq!(
            spans,
            [
                (AnomalyKind::LevelUp, 19, 25),
                (AnomalyKind::Surge, 18, 20),
                (AnomalyKind::Surge, 30, 31)
            ]
        );
    }
}
