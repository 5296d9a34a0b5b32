//! Reporting periods for metrics: day, ISO week, month, quarter, year, all in UTC.
//! A period is a half-open range of dates `[start, end)`; an address counts once per period.

use chrono::{Datelike, Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PeriodKind {
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

impl PeriodKind {
    pub const ALL: [PeriodKind; 5] = [
        PeriodKind::Day,
        PeriodKind::Week,
        PeriodKind::Month,
        PeriodKind::Quarter,
        PeriodKind::Year,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PeriodKind::Day => "day",
            PeriodKind::Week => "week",
            PeriodKind::Month => "month",
            PeriodKind::Quarter => "quarter",
            PeriodKind::Year => "year",
        }
    }
}

impl FromStr for PeriodKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PeriodKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!("unknown period {s:?}: expected day, week, month, quarter or year")
            })
    }
}

impl fmt::Display for PeriodKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One period: its kind and first date.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Period {
    pub kind: PeriodKind,
    pub start: NaiveDate,
}

impl Period {
    /// The period of `kind` that contains `date`.
    pub fn containing(kind: PeriodKind, date: NaiveDate) -> Period {
        let start = match kind {
            PeriodKind::Day => date,
            PeriodKind::Week => date - Days::new(u64::from(date.weekday().num_days_from_monday())),
            PeriodKind::Month => date.with_day(1).expect("day 1 exists"),
            PeriodKind::Quarter => {
                NaiveDate::from_ymd_opt(date.year(), (date.month0() / 3) * 3 + 1, 1)
                    .expect("first day of a quarter exists")
            }
            PeriodKind::Year => {
                NaiveDate::from_ymd_opt(date.year(), 1, 1).expect("1 January exists")
            }
        };
        Period { kind, start }
    }

    /// The first date after the period.
    pub fn end(self) -> NaiveDate {
        match self.kind {
            PeriodKind::Day => self.start + Days::new(1),
            PeriodKind::Week => self.start + Days::new(7),
            PeriodKind::Month => self.start + Months::new(1),
            PeriodKind::Quarter => self.start + Months::new(3),
            PeriodKind::Year => self.start + Months::new(12),
        }
    }

    /// Whether `date` falls inside the period.
    pub fn contains(self, date: NaiveDate) -> bool {
        self.start <= date && date < self.end()
    }

    /// The period just before this one.
    pub fn previous(self) -> Period {
        Period::containing(self.kind, self.start - Days::new(1))
    }

    /// The period just after this one.
    pub fn next(self) -> Period {
        Period {
            kind: self.kind,
            start: self.end(),
        }
    }

    /// Number of days in the period.
    pub fn days(self) -> u32 {
        (self.end() - self.start).num_days() as u32
    }

    /// `2026-10-23`, `2026-W41` (ISO week), `2026-10`, `2026-Q4` or `2026`.
    pub fn label(self) -> String {
        self.to_string()
    }

    /// Parses a label written by [`Period::label`], or a plain date (taken as its day).
    pub fn parse(kind: PeriodKind, text: &str) -> Result<Period, String> {
        let text = text.trim();
        if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            return Ok(Period::containing(kind, date));
        }
        let parsed = match kind {
            PeriodKind::Week => text.split_once("-W").and_then(|(y, w)| {
                NaiveDate::from_isoywd_opt(y.parse().ok()?, w.parse().ok()?, chrono::Weekday::Mon)
            }),
            PeriodKind::Month => text
                .split_once('-')
                .and_then(|(y, m)| NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, 1)),
            PeriodKind::Quarter => text.split_once("-Q").and_then(|(y, q)| {
                let q: u32 = q.parse().ok()?;
                if !(1..=4).contains(&q) {
                    return None;
                }
                NaiveDate::from_ymd_opt(y.parse().ok()?, (q - 1) * 3 + 1, 1)
            }),
            PeriodKind::Year => text
                .parse()
                .ok()
                .and_then(|y| NaiveDate::from_ymd_opt(y, 1, 1)),
            PeriodKind::Day => None,
        };
        parsed.map(|d| Period::containing(kind, d)).ok_or_else(|| {
            format!(
                "cannot read {text:?} as a {kind}: expected a date (YYYY-MM-DD) or a label like {}",
                Period::containing(kind, NaiveDate::from_ymd_opt(2026, 10, 5).expect("valid"))
            )
        })
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.start;
        match self.kind {
            PeriodKind::Day => write!(f, "{}", d.format("%Y-%m-%d")),
            PeriodKind::Week => {
                let w = d.iso_week();
                write!(f, "{}-W{:02}", w.year(), w.week())
            }
            PeriodKind::Month => write!(f, "{}-{:02}", d.year(), d.month()),
            PeriodKind::Quarter => write!(f, "{}-Q{}", d.year(), d.month0() / 3 + 1),
            PeriodKind::Year => write!(f, "{}", d.year()),
        }
    }
}

impl Serialize for Period {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn labels_follow_iso_weeks_months_and_quarters() {
        let d = date("2026-10-08");
        assert_eq!(Period::containing(PeriodKind::Day, d).label(), "2026-10-08");
        assert_eq!(Period::containing(PeriodKind::Week, d).label(), "2026-W41");
        assert_eq!(
            Period::containing(PeriodKind::Week, d).start,
            date("2026-10-05")
        );
        assert_eq!(Period::containing(PeriodKind::Month, d).label(), "2026-10");
        assert_eq!(
            Period::containing(PeriodKind::Quarter, d).label(),
            "2026-Q4"
        );
        assert_eq!(Period::containing(PeriodKind::Year, d).label(), "2026");
        // 2027-01-01 is a Friday: it belongs to ISO week 53 of 2026.
        let w = Period::containing(PeriodKind::Week, date("2027-01-01"));
        assert_eq!(w.label(), "2026-W53");
        assert_eq!(w.start, date("2026-12-28"));
    }

    #[test]
    fn periods_tile_the_calendar() {
        for kind in PeriodKind::ALL {
            let mut p = Period::containing(kind, date("2023-11-15"));
            for _ in 0..30 {
                let next = p.next();
                assert_eq!(next.previous(), p, "{kind}");
                assert_eq!(next.start, p.end());
                assert!(p.contains(p.start) && !p.contains(p.end()));
                assert_eq!(Period::parse(kind, &p.label()).unwrap(), p, "{kind} {p}");
                p = next;
            }
        }
        assert_eq!(
            Period::containing(PeriodKind::Month, date("2024-02-10")).days(),
            29
        );
        assert_eq!(
            Period::containing(PeriodKind::Quarter, date("2026-05-10")).days(),
            91
        );
    }

    #[test]
    fn bad_labels_are_explained() {
        let e = Period::parse(PeriodKind::Quarter, "2026-Q5").unwrap_err();
        assert!(e.contains("2026-Q4"), "{e}");
        assert!(Period::parse(PeriodKind::Week, "2026-W60").is_err());
        assert_eq!(
            Period::parse(PeriodKind::Week, "2026-10-08")
                .unwrap()
                .label(),
            "2026-W41"
        );
    }
}
