//! The expected value of every bucket from the buckets before it: a robust multiplicative
//! decomposition `level × trend × day-of-week factor × time-of-day profile`, each part a median,
//! so one surge in the history does not move the baseline. See `docs/detection.md`.

use crate::{Calendar, DetectorConfig};

/// What the baseline expects at one bucket, with its prediction interval.
#[derive(Copy, Clone, Debug, PartialEq, serde::Serialize)]
pub struct Band {
    pub expected: f64,
    pub lower: f64,
    pub upper: f64,
    /// Robust scale of the standardised residuals the interval was drawn with (1 = Poisson).
    pub scale: f64,
}

/// The baseline model of one series, fed bucket by bucket. Buckets found anomalous are fed
/// as their expectation ("cleaned"), so a surge never becomes part of the normal it is judged
/// against; the prediction for a bucket reads only days that ended before its day began.
/// A bucket nobody observed (`None`: the sensor was down, or no data covers it yet) is no
/// value at all, never a zero: a day is a level only when most of it was observed.
pub(crate) struct Baseline<'a> {
    calendar: Calendar,
    config: &'a DetectorConfig,
    cleaned: Vec<Option<f64>>,
    /// Mean per observed bucket of each day fed so far that was observed for at least
    /// [`OBSERVED_SHARE`] of its buckets (`None`: less), from `first_day`.
    day_means: Vec<Option<f64>>,
    first_day: i64,
}

const WEEK_DAYS: i64 = 7;
/// The share of a day's buckets that must have been observed for the day to make a level.
const OBSERVED_SHARE: f64 = 0.75;

impl<'a> Baseline<'a> {
    pub(crate) fn new(calendar: Calendar, config: &'a DetectorConfig) -> Baseline<'a> {
        Baseline {
            calendar,
            config,
            cleaned: Vec::new(),
            day_means: Vec::new(),
            first_day: calendar.day_of(0),
        }
    }

    /// Feeds the next bucket's value (its expectation if it was anomalous; `None` if nobody
    /// observed it).
    pub(crate) fn push(&mut self, cleaned: Option<f64>) {
        self.cleaned.push(cleaned);
        let per_day = self.calendar.buckets_per_day as i64;
        let next = self.cleaned.len() as i64 + self.calendar.first_bucket;
        if next % per_day != 0 {
            return;
        }
        let day = next / per_day - 1;
        let from = day * per_day - self.calendar.first_bucket;
        let mean = (from >= 0)
            .then(|| {
                let observed: Vec<f64> = self.cleaned[from as usize..]
                    .iter()
                    .flatten()
                    .copied()
                    .collect();
                (observed.len() as f64 >= OBSERVED_SHARE * per_day as f64)
                    .then(|| observed.iter().sum::<f64>() / observed.len() as f64)
            })
            .flatten();
        let i = (day - self.first_day) as usize;
        self.day_means.resize(i, None);
        self.day_means.push(mean);
    }

    fn day_mean(&self, day: i64) -> Option<f64> {
        let i = day - self.first_day;
        if i < 0 {
            return None;
        }
        self.day_means.get(i as usize).copied().flatten()
    }

    /// Median day mean of the `days` days before `day`, when at least `min` of them are known.
    fn level_before(&self, day: i64, days: i64, min: usize) -> Option<f64> {
        let mut window: Vec<f64> = (day - days..day).filter_map(|d| self.day_mean(d)).collect();
        (window.len() >= min).then(|| median(&mut window))
    }

    /// The expected value of the next bucket, or `None` while there is too little history.
    pub(crate) fn expected_next(&self) -> Option<f64> {
        let t = self.cleaned.len();
        let day = self.calendar.day_of(t);
        let level = self.level_before(day, WEEK_DAYS, self.config.min_history_days)?;
        if level == 0.0 {
            return Some(0.0);
        }
        Some(level * self.trend(day, level) * self.weekday_factor(day) * self.profile(t, day))
    }

    /// Growth over the last week, carried forward from the middle of the level's window to
    /// today (the median of seven days lags by about four), kept within a plausible range.
    fn trend(&self, day: i64, level: f64) -> f64 {
        match self.level_before(day - WEEK_DAYS, WEEK_DAYS, 5) {
            Some(before) if before > 0.0 && level > 0.0 => {
                (level / before).powf(4.0 / 7.0).clamp(0.67, 1.5)
            }
            _ => 1.0,
        }
    }

    /// How this day of the week compares with the level of the week before it, as a median
    /// over the previous weeks; 1 until two such weeks are known.
    fn weekday_factor(&self, day: i64) -> f64 {
        let mut ratios: Vec<f64> = (1..=self.config.history_weeks as i64)
            .filter_map(|w| {
                let same_weekday = day - w * WEEK_DAYS;
                let mean = self.day_mean(same_weekday)?;
                let level = self.level_before(same_weekday, WEEK_DAYS, 5)?;
                (level > 0.0).then(|| mean / level)
            })
            .collect();
        if ratios.len() < 2 {
            return 1.0;
        }
        median(&mut ratios)
    }

    /// The share of a day's mean that this time of day carries, as a median over the previous
    /// days; flat (1) for daily series and while too few days had any traffic.
    fn profile(&self, t: usize, day: i64) -> f64 {
        let per_day = self.calendar.buckets_per_day as i64;
        if per_day == 1 {
            return 1.0;
        }
        let phase = (self.calendar.first_bucket + t as i64).rem_euclid(per_day);
        let days = self.config.history_weeks as i64 * WEEK_DAYS;
        let mut ratios: Vec<f64> = (day - days..day)
            .filter_map(|d| {
                let mean = self.day_mean(d).filter(|m| *m > 0.0)?;
                let i = d * per_day + phase - self.calendar.first_bucket;
                Some(self.cleaned[i as usize]? / mean)
            })
            .collect();
        if ratios.len() < self.config.min_history_days {
            return 1.0;
        }
        median(&mut ratios)
    }
}

/// Median of a non-empty slice (reorders it).
pub(crate) fn median(values: &mut [f64]) -> f64 {
    let mid = values.len() / 2;
    let (_, m, _) = values.select_nth_unstable_by(mid, f64::total_cmp);
    let m = *m;
    if values.len() % 2 == 1 {
        m
    } else {
        let below = values[..mid].iter().copied().fold(f64::MIN, f64::max);
        (below + m) / 2.0
    }
}

/// How many standard deviations `observed` is above `expected` for Poisson counts, through
/// Anscombe's variance-stabilising transform (2√(x + 3/8) is close to normal with unit variance
/// even for small counts, where a plain (x − λ)/√λ puts far too much weight in the upper tail).
pub(crate) fn residual(observed: f64, expected: f64) -> f64 {
    anscombe(observed) - anscombe(expected)
}

fn anscombe(x: f64) -> f64 {
    2.0 * (x.max(0.0) + 0.375).sqrt()
}

/// The count whose [`residual`] from `expected` is `sigmas` (negative: below).
pub(crate) fn count_at(expected: f64, sigmas: f64) -> f64 {
    let root = (anscombe(expected) + sigmas) / 2.0;
    if root <= 0.0 {
        return 0.0;
    }
    (root * root - 0.375).max(0.0)
}

/// 1.4826 × the median absolute deviation around the median: the standard deviation of normal
/// data, unmoved by a few outliers.
pub(crate) fn robust_scale(residuals: &mut [f64]) -> f64 {
    let centre = median(residuals);
    for r in residuals.iter_mut() {
        *r = (*r - centre).abs();
    }
    1.4826 * median(residuals)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_lengths() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&mut [7.0]), 7.0);
    }

    #[test]
    fn residual_and_count_at_invert_each_other() {
        for expected in [0.0, 3.0, 40.0, 5000.0] {
            for sigmas in [-2.0, 0.0, 4.5] {
                let c = count_at(expected, sigmas);
                if c > 0.0 {
                    assert!((residual(c, expected) - sigmas).abs() < 1e-9);
                }
            }
        }
        // 15 packets where 5 were expected is unusual but not a 4.5-sigma event.
        assert!(residual(15.0, 5.0) < 4.5);
        assert!(residual(120.0, 23.0) > 4.5);
    }

    #[test]
    fn robust_scale_ignores_one_outlier() {
        let mut r = vec![-1.0, 0.0, 1.0, -1.0, 0.0, 1.0, 1000.0];
        let s = robust_scale(&mut r);
        assert!((s - 1.4826).abs() < 1e-9, "{s}");
    }

    #[test]
    fn only_complete_days_make_a_level() {
        // Starts at 22:00: the first day has 2 of 24 buckets and is not a level.
        let config = DetectorConfig::default();
        let mut baseline = Baseline::new(Calendar::new(22, 24), &config);
        for _ in 0..2 + 24 + 5 {
            baseline.push(Some(1.0));
        }
        assert_eq!(baseline.day_mean(0), None);
        assert_eq!(baseline.day_mean(1), Some(1.0));
        assert_eq!(baseline.day_mean(2), None);
    }

    #[test]
    fn a_day_mostly_unobserved_is_no_level_and_a_short_outage_is_left_out_of_the_mean() {
        let config = DetectorConfig::default();
        let mut baseline = Baseline::new(Calendar::new(0, 24), &config);
        // Day 0: observed for 12 hours only. Day 1: down for 2 hours, 4 elsewhere.
        for h in 0..24 {
            baseline.push((h < 12).then_some(4.0));
        }
        for h in 0..24 {
            baseline.push((h >= 2).then_some(4.0));
        }
        assert_eq!(baseline.day_mean(0), None);
        assert_eq!(baseline.day_mean(1), Some(4.0));
    }
}
