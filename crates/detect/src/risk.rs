//! Risk metrics watched like traffic: the daily distinct hosts of one risk in one country
//! (open resolvers, infected hosts ...), so that a country whose hosts jump or double raises a
//! finding with its evidence, as a port's surge does. The caller counts the hosts (the
//! metric engine over the risk store); this module only looks at the numbers.

use crate::watch::{evidence, severity};
use crate::{detect_observed, AnomalyKind, Calendar, DetectorConfig};
use greenwatch_model::access::Label;
use greenwatch_model::alert::{Evidence, NewAlert, SeriesEvidence, Severity};
use greenwatch_model::Timestamp;
use serde::Serialize;

const DAY_SECS: i64 = 86_400;

/// Distinct hosts of `risk` in `country`, one value per UTC day from `first_day` (seconds of
/// its midnight), no gaps; `None` on a day no feed of the risk reported (not a zero).
#[derive(Clone, Debug, PartialEq)]
pub struct RiskSeries {
    /// The risk's slug (`openresolver`).
    pub risk: String,
    /// ISO country code, as the metric tables name it.
    pub country: String,
    pub first_day: i64,
    pub hosts: Vec<Option<f64>>,
}

/// An anomaly of one risk series.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RiskFinding {
    pub risk: String,
    pub country: String,
    pub kind: AnomalyKind,
    /// Start of the first and of the last anomalous day.
    pub first: Timestamp,
    pub last: Timestamp,
    /// Observed / expected hosts.
    pub ratio: f64,
    pub severity: Severity,
    pub series: SeriesEvidence,
}

/// Detects anomalies in each series (daily buckets: the weekday factor is the seasonality).
pub fn watch_risks(series: &[RiskSeries], config: &DetectorConfig) -> Vec<RiskFinding> {
    let mut findings = Vec::new();
    for s in series {
        let calendar = Calendar::of(s.first_day, DAY_SECS);
        let detection = detect_observed(&s.hosts, calendar, config);
        for anomaly in &detection.anomalies {
            let name = format!("risk {} country {} hosts", s.risk, s.country);
            let at = |i: usize| Timestamp::from_secs(s.first_day + i as i64 * DAY_SECS);
            findings.push(RiskFinding {
                risk: s.risk.clone(),
                country: s.country.clone(),
                kind: anomaly.kind,
                first: at(anomaly.first),
                last: at(anomaly.last),
                ratio: anomaly.ratio(),
                severity: severity(anomaly.kind, anomaly.ratio()),
                series: evidence(
                    name,
                    (&s.hosts, s.first_day, DAY_SECS),
                    &detection.bands,
                    anomaly,
                ),
            });
        }
    }
    findings.sort_by(|a, b| (a.first, &a.risk, &a.country).cmp(&(b.first, &b.risk, &b.country)));
    findings
}

impl RiskFinding {
    /// The alert this finding raises; its key makes raising it again a no-op.
    pub fn to_alert(&self, label: Label, created_at: Timestamp) -> NewAlert {
        let what = match self.kind {
            AnomalyKind::Surge => "Jump",
            AnomalyKind::LevelUp => "Rise",
            AnomalyKind::LevelDown => "Fall",
        };
        let s = &self.series;
        NewAlert {
            key: Some(format!(
                "detect:risk {} {}:{}:{}",
                self.risk,
                self.country,
                self.kind.as_str(),
                self.first.secs()
            )),
            severity: self.severity,
            title: format!(
                "{what} of {} hosts in {}: {:.1}x the expected number",
                self.risk, self.country, self.ratio
            ),
            summary: format!(
                "From {} to the day starting {}: {:.0} {} hosts in {} observed (distinct hosts \
                 per day, summed), {:.0} expected; peak day {:.0}, interval {:.0}-{:.0}.",
                self.first.to_rfc3339(),
                self.last.to_rfc3339(),
                s.observed,
                self.risk,
                self.country,
                s.expected,
                s.peak_observed,
                s.peak_lower,
                s.peak_upper
            ),
            affected: vec![s.series.clone()],
            first_seen: self.first,
            last_seen: self.last,
            author: "detector".into(),
            label,
            evidence: Some(Evidence {
                series: vec![s.clone()],
                explanation: Default::default(),
            }),
            created_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Six weeks of a country's daily hosts around `level`, with a weekly rhythm and some
    /// noise (deterministic).
    fn weeks_of(level: f64) -> Vec<f64> {
        (0..42)
            .map(|d| {
                let weekday = if d % 7 >= 5 { 0.9 } else { 1.0 };
                let noise = ((d * 37 % 11) as f64 - 5.0) / 100.0;
                (level * weekday * (1.0 + noise)).round()
            })
            .collect()
    }

    fn series(country: &str, hosts: Vec<f64>) -> RiskSeries {
        RiskSeries {
            risk: "infected".into(),
            country: country.into(),
            first_day: 1_790_000_000 / DAY_SECS * DAY_SECS,
            hosts: hosts.into_iter().map(Some).collect(),
        }
    }

    #[test]
    fn a_country_whose_hosts_double_or_jump_is_found_at_the_start_and_a_steady_one_is_not() {
        let mut doubled = weeks_of(400.0);
        for day in doubled.iter_mut().skip(30) {
            *day *= 2.0;
        }
        let mut jump = weeks_of(200.0);
        jump[25] *= 4.0;
        let found = watch_risks(
            &[
                series("DE", doubled),
                series("JP", jump),
                series("FR", weeks_of(300.0)),
            ],
            &DetectorConfig::default(),
        );
        let day_of =
            |f: &RiskFinding| (f.first.secs() - 1_790_000_000 / DAY_SECS * DAY_SECS) / DAY_SECS;
        let de: Vec<&RiskFinding> = found.iter().filter(|f| f.country == "DE").collect();
        // Found on the day it doubled (then as a level rise); nothing before it, no fall.
        assert_eq!(de.first().map(|f| day_of(f)), Some(30), "{found:?}");
        assert!(de
            .iter()
            .all(|f| f.kind != AnomalyKind::LevelDown && day_of(f) >= 30));
        assert!(de.iter().any(|f| f.kind == AnomalyKind::LevelUp));
        let jp: Vec<&RiskFinding> = found.iter().filter(|f| f.country == "JP").collect();
        assert_eq!(jp.len(), 1, "{found:?}");
        assert_eq!((jp[0].kind, day_of(jp[0])), (AnomalyKind::Surge, 25));
        assert!(jp[0].ratio > 3.0);
        assert!(found.iter().all(|f| f.country != "FR"), "{found:?}");

        let alert = jp[0].to_alert(
            Label {
                owner: "local".into(),
                tlp: greenwatch_model::access::Tlp::Amber,
            },
            Timestamp::from_secs(0),
        );
        assert!(
            alert.title.contains("infected hosts in JP"),
            "{}",
            alert.title
        );
        assert!(alert.summary.contains("expected"));
        assert!(alert
            .key
            .unwrap()
            .starts_with("detect:risk infected JP:surge:"));
    }
}
