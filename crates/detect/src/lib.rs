//! Early warning for Greenwatch: finds surges and level shifts in observation series against a
//! seasonal baseline (daily and weekly cycles, trend), and explains them.
//!
//! [`detect`] takes one series (values per bucket, no gaps; [`detect_observed`] one with
//! buckets nobody observed, which are never zeros) and returns every bucket's expected
//! value with its prediction interval and the anomalies found. [`SeriesBook`] builds the series
//! Greenwatch watches (per destination port, source country, ASN and fingerprint; packets and
//! distinct sources of scan traffic) from flow tuples, leaving out sources on the [`Allowlist`]
//! of research scanners. [`Contributors`] explains an anomaly by its top sources, countries,
//! ASNs and fingerprints. [`watch_risks`] watches risk metrics (daily distinct hosts of a risk
//! per country) the same way. The method is written down in `docs/detection.md`.
//!
//! ```
//! use greenwatch_detect::{detect, Calendar, DetectorConfig};
//! // Three weeks of a flat hourly series at 100 with one hour at 400.
//! let mut values = vec![100.0; 21 * 24];
//! values[20 * 24 + 5] = 400.0;
//! let found = detect(&values, Calendar::new(0, 24), &DetectorConfig::default());
//! assert_eq!(found.anomalies.len(), 1);
//! assert_eq!(found.anomalies[0].first, 20 * 24 + 5);
//! ```
//!
//! Architecture invariant: no I/O and no clock; series in, anomalies out.

mod allowlist;
mod baseline;
mod book;
mod detector;
mod explain;
mod risk;
mod watch;

pub use allowlist::{AllowedNetwork, Allowlist, AllowlistEntry, AllowlistError};
pub use baseline::Band;
pub use book::{Measure, SeriesBook, SeriesKey, Subject, WatchedSeries};
pub use detector::{detect, detect_observed, Anomaly, AnomalyKind, Detection};
pub use explain::Contributors;
pub use risk::{watch_risks, RiskFinding, RiskSeries};
pub use watch::{watch, Finding, Window};

/// Where a series sits in the calendar: the absolute index of its first bucket (bucket start
/// divided by the width, so day boundaries fall on UTC midnight) and buckets per day.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Calendar {
    pub first_bucket: i64,
    pub buckets_per_day: usize,
}

impl Calendar {
    pub fn new(first_bucket: i64, buckets_per_day: usize) -> Calendar {
        Calendar {
            first_bucket,
            buckets_per_day: buckets_per_day.max(1),
        }
    }

    /// The calendar of a series whose first bucket starts at `first_secs`, `width_secs` wide
    /// (a width that does not divide a day is treated as one bucket per day).
    pub fn of(first_secs: i64, width_secs: i64) -> Calendar {
        let per_day = if width_secs > 0 && 86_400 % width_secs == 0 {
            (86_400 / width_secs) as usize
        } else {
            1
        };
        Calendar::new(first_secs.div_euclid(width_secs.max(1)), per_day)
    }

    /// Calendar day (days since 1970-01-01) of bucket `t` of the series.
    pub fn day_of(&self, t: usize) -> i64 {
        (self.first_bucket + t as i64).div_euclid(self.buckets_per_day as i64)
    }
}

/// The detector's knobs; the defaults are the ones `docs/detection.md` justifies and the
/// precision/recall evaluation (`bench/detect/`) measures.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DetectorConfig {
    /// Days of history before the first prediction.
    pub min_history_days: usize,
    /// Weeks of history the daily profile and the weekday factor are medians over.
    pub history_weeks: usize,
    /// Days of residuals the interval's robust scale is measured over.
    pub scale_window_days: usize,
    /// Half-width of the prediction interval in robust standard deviations.
    pub interval_sigmas: f64,
    /// A surge bucket must also exceed its expectation by this much (packets or sources) ...
    pub min_excess: f64,
    /// ... and be at least this multiple of it, so tiny or mild departures stay quiet.
    pub min_ratio: f64,
    /// CUSUM slack and threshold, in robust standard deviations.
    pub cusum_slack: f64,
    pub cusum_threshold: f64,
    /// A level shift must move the level by at least this factor (up or down).
    pub min_shift_ratio: f64,
    /// Days with a baseline before level shifts are looked for (the weekday factor needs two
    /// weeks; before it, weekends look like shifts).
    pub change_warm_up_days: usize,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            min_history_days: 3,
            history_weeks: 4,
            scale_window_days: 7,
            interval_sigmas: 4.5,
            min_excess: 10.0,
            min_ratio: 2.0,
            cusum_slack: 1.0,
            cusum_threshold: 20.0,
            min_shift_ratio: 1.5,
            change_warm_up_days: 14,
        }
    }
}
