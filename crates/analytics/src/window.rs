//! The time window a page or API call is about: `?from=&to=` (RFC 3339 or dates, UTC), by
//! default the last 7 days of stored data. As in `greenwatch query`, `from` is inclusive and
//! `to` exclusive, both on bucket starts.

use crate::AnalyticsError;
use greenwatch_model::Timestamp;
use serde::Deserialize;

/// Length of the default window.
pub const DEFAULT_SECS: i64 = 7 * 86_400;
/// Longest window one request may ask for (hourly series stay a few thousand points).
pub const MAX_SECS: i64 = 366 * 86_400;
const HOUR: i64 = 3600;
/// Longest window a sensor page, a sensor comparison or an address's history reads: their
/// tables are counted per source from flow tuples.
pub const SENSOR_WINDOW_MAX_SECS: i64 = 31 * 86_400;

/// The query parameters as sent; an empty field (a GET form left blank) means "default".
#[derive(Clone, Debug, Default, Deserialize)]
pub struct WindowQuery {
    pub from: Option<String>,
    pub to: Option<String>,
}

/// A resolved window, seconds since the epoch, `from` inclusive, `to` exclusive.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Window {
    pub from: i64,
    pub to: i64,
}

fn parse(name: &str, value: &Option<String>) -> Result<Option<i64>, AnalyticsError> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => Timestamp::parse(text)
            .map(|t| Some(t.secs()))
            .map_err(|e| AnalyticsError::Query(format!("{name}: {e}"))),
    }
}

impl WindowQuery {
    /// The window asked for, with defaults taken from `stored` (the first and last stored
    /// bucket starts). `None` when nothing is stored and no bound was given.
    pub fn resolve(&self, stored: Option<(i64, i64)>) -> Result<Option<Window>, AnalyticsError> {
        let from = parse("from", &self.from)?;
        let to = parse("to", &self.to)?;
        let stored_end = stored.map(|(_, last)| last.div_euclid(HOUR) * HOUR + HOUR);
        let to = match (to, from, stored_end) {
            (Some(to), _, _) => to,
            (None, Some(from), Some(end)) if end > from => end.min(from + DEFAULT_SECS),
            (None, Some(from), _) => from + DEFAULT_SECS,
            (None, None, Some(end)) => end,
            (None, None, None) => return Ok(None),
        };
        let from = match (from, stored) {
            (Some(from), _) => from,
            (None, Some((first, _))) if first < to => {
                (to - DEFAULT_SECS).max(first.div_euclid(HOUR) * HOUR)
            }
            (None, _) => to - DEFAULT_SECS,
        };
        if from >= to {
            return Err(AnalyticsError::Query(format!(
                "empty time range: from {} is not before to {}",
                Timestamp::from_secs(from),
                Timestamp::from_secs(to)
            )));
        }
        if to - from > MAX_SECS {
            return Err(AnalyticsError::Query(format!(
                "time range of {} days is too long: at most {} days per request",
                (to - from) / 86_400,
                MAX_SECS / 86_400
            )));
        }
        Ok(Some(Window { from, to }))
    }
}

/// The windows of the range picker's presets, relative to the stored range (first and last
/// bucket start): the last 24 hours, 7 days (the default window) and 30 days, and all data
/// when it fits one request. The public's first views: `warm.rs` computes them ahead.
pub fn presets(stored: Option<(i64, i64)>) -> Vec<(&'static str, Window)> {
    let Some((first, last)) = stored else {
        return Vec::new();
    };
    let end = last.div_euclid(3600) * 3600 + 3600;
    let start = first.div_euclid(3600) * 3600;
    let mut windows = vec![
        ("Last 24 hours", end - 86_400),
        ("Last 7 days", end - 7 * 86_400),
        ("Last 30 days", end - 30 * 86_400),
    ];
    if end - start <= MAX_SECS {
        windows.push(("All data", start));
    }
    windows
        .into_iter()
        .map(|(label, from)| (label, Window { from, to: end }))
        .collect()
}

/// How a bound is shown in the range picker: a bare date at midnight, RFC 3339 otherwise.
pub fn display(secs: i64) -> String {
    let t = Timestamp::from_secs(secs);
    if secs.rem_euclid(86_400) == 0 {
        t.to_datetime().format("%Y-%m-%d").to_string()
    } else {
        t.to_rfc3339()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(from: &str, to: &str) -> WindowQuery {
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
        WindowQuery {
            from: opt(from),
            to: opt(to),
        }
    }

    const DAY: i64 = 86_400;

    #[test]
    fn default_is_the_last_seven_days_of_stored_data() {
        let stored = Some((0, 30 * DAY + 5 * HOUR));
        let w = q("", "").resolve(stored).unwrap().unwrap();
        assert_eq!(w.to, 30 * DAY + 6 * HOUR);
        assert_eq!(w.from, w.to - 7 * DAY);
    }

    #[test]
    fn default_never_starts_before_the_first_stored_bucket() {
        let w = q("", "").resolve(Some((DAY, 2 * DAY))).unwrap().unwrap();
        assert_eq!((w.from, w.to), (DAY, 2 * DAY + HOUR));
    }

    #[test]
    fn nothing_stored_and_nothing_asked_is_no_window() {
        assert_eq!(q("", "").resolve(None).unwrap(), None);
    }

    #[test]
    fn dates_and_rfc3339_bounds_are_taken_as_given() {
        let w = q("1970-01-02", "1970-01-03T12:00:00Z")
            .resolve(None)
            .unwrap()
            .unwrap();
        assert_eq!((w.from, w.to), (DAY, 2 * DAY + 12 * HOUR));
    }

    #[test]
    fn backwards_too_long_or_unparsable_ranges_are_bad_requests() {
        for (from, to) in [
            ("1970-01-03", "1970-01-02"),
            ("1970-01-01", "1972-01-01"),
            ("yesterday", ""),
        ] {
            assert!(matches!(
                q(from, to).resolve(None),
                Err(AnalyticsError::Query(_))
            ));
        }
    }

    #[test]
    fn midnight_bounds_display_as_dates() {
        assert_eq!(display(DAY), "1970-01-02");
        assert_eq!(display(DAY + HOUR), "1970-01-02T01:00:00Z");
    }
}
