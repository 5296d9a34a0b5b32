//! Runs the baseline over a series and turns buckets that leave their prediction interval into
//! surge anomalies (runs of consecutive buckets), and sustained drifts that stay inside it into
//! level shifts (a two-sided CUSUM over the standardised residuals).

use crate::baseline::{count_at, residual, robust_scale, Band, Baseline};
use crate::{Calendar, DetectorConfig};
use serde::Serialize;

/// What kind of departure from the baseline.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AnomalyKind {
    /// Buckets above the prediction interval.
    Surge,
    /// A sustained rise of the level, too gentle for any one bucket to leave the interval.
    LevelUp,
    /// A sustained fall of the level.
    LevelDown,
}

impl AnomalyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AnomalyKind::Surge => "surge",
            AnomalyKind::LevelUp => "level-up",
            AnomalyKind::LevelDown => "level-down",
        }
    }
}

/// One departure from the baseline in one series. Indexes are bucket offsets in the series.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Anomaly {
    pub kind: AnomalyKind,
    /// First bucket of the anomaly (for a level shift: where the CUSUM started to climb).
    pub first: usize,
    /// Last bucket (inclusive).
    pub last: usize,
    /// The bucket furthest from its expectation.
    pub peak: usize,
    /// Observed and expected totals over `first..=last`.
    pub observed: f64,
    pub expected: f64,
    /// The peak bucket's band.
    pub peak_band: Band,
    pub peak_observed: f64,
    /// Standardised residual of the peak bucket (in robust standard deviations).
    pub score: f64,
}

impl Anomaly {
    /// Observed over expected, with the expectation floored at one so that a port that was
    /// silent gives a finite ratio.
    pub fn ratio(&self) -> f64 {
        self.observed / self.expected.max(1.0)
    }
}

/// The baseline band of every bucket (`None` during warm-up) and the anomalies found.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Detection {
    pub bands: Vec<Option<Band>>,
    pub anomalies: Vec<Anomaly>,
}

/// Detects surges and level shifts in `values` (one per bucket, in time order, no gaps, every
/// bucket observed).
pub fn detect(values: &[f64], calendar: Calendar, config: &DetectorConfig) -> Detection {
    let observed: Vec<Option<f64>> = values.iter().copied().map(Some).collect();
    detect_observed(&observed, calendar, config)
}

/// [`detect`] over a series with buckets nobody observed (`None`): a sensor that was down, or
/// time before any data. Such a bucket has no band, is never anomalous, and is left out of
/// the baseline, so the return of traffic after it is judged against the traffic before it,
/// never against zeros.
pub fn detect_observed(
    values: &[Option<f64>],
    calendar: Calendar,
    config: &DetectorConfig,
) -> Detection {
    let mut baseline = Baseline::new(calendar, config);
    let window = calendar.buckets_per_day * config.scale_window_days;
    let mut bands: Vec<Option<Band>> = Vec::with_capacity(values.len());
    let mut flagged = vec![false; values.len()];
    // Standardised residuals of recent unflagged buckets, for the interval's scale.
    let mut recent: Vec<(usize, f64)> = Vec::new();
    let mut scratch: Vec<f64> = Vec::new();
    for (t, &x) in values.iter().enumerate() {
        let (Some(x), Some(expected)) = (x, baseline.expected_next()) else {
            bands.push(None);
            baseline.push(x);
            continue;
        };
        recent.retain(|&(i, _)| i + window > t);
        scratch.clear();
        scratch.extend(recent.iter().map(|&(_, r)| r));
        let scale = if scratch.len() >= calendar.buckets_per_day {
            robust_scale(&mut scratch).max(1.0)
        } else {
            // Too little history for a robust scale: assume half again the Poisson noise.
            1.5
        };
        let half = config.interval_sigmas * scale;
        let band = Band {
            expected,
            lower: count_at(expected, -half),
            upper: count_at(expected, half),
            scale,
        };
        flagged[t] =
            x > band.upper && x - expected >= config.min_excess && x >= config.min_ratio * expected;
        if flagged[t] {
            baseline.push(Some(expected));
        } else {
            recent.push((t, residual(x, expected)));
            baseline.push(Some(x));
        }
        bands.push(Some(band));
    }
    // Only buckets with a band are read from here on, and those were all observed.
    let values: Vec<f64> = values.iter().map(|v| v.unwrap_or(0.0)).collect();
    let mut anomalies = surges(&values, &bands, &flagged);
    anomalies.extend(level_shifts(&values, &bands, &flagged, calendar, config));
    anomalies.sort_by_key(|a| (a.first, a.last));
    Detection { bands, anomalies }
}

/// Runs of consecutive flagged buckets, one anomaly each.
fn surges(values: &[f64], bands: &[Option<Band>], flagged: &[bool]) -> Vec<Anomaly> {
    let mut out = Vec::new();
    let mut t = 0;
    while t < values.len() {
        if !flagged[t] {
            t += 1;
            continue;
        }
        let first = t;
        while t < values.len() && flagged[t] {
            t += 1;
        }
        out.push(summarise(AnomalyKind::Surge, first, t - 1, values, bands));
    }
    out
}

/// Two-sided CUSUM over standardised residuals of unflagged buckets. A crossing of the
/// threshold is one level shift starting where the sum last left zero, if the level stays
/// moved for a quarter of a day after it; crossings in the same direction within the hold-off
/// extend it instead of raising another.
fn level_shifts(
    values: &[f64],
    bands: &[Option<Band>],
    flagged: &[bool],
    calendar: Calendar,
    config: &DetectorConfig,
) -> Vec<Anomaly> {
    let warm_up = calendar.buckets_per_day * config.change_warm_up_days;
    let hold_off = calendar.buckets_per_day * 7;
    let confirm = (calendar.buckets_per_day / 4).max(1);
    let mut out: Vec<Anomaly> = Vec::new();
    let (mut up, mut down) = (Cusum::default(), Cusum::default());
    let mut seen = 0;
    for t in 0..values.len() {
        let Some(band) = bands[t] else { continue };
        seen += 1;
        if seen <= warm_up || flagged[t] {
            continue;
        }
        let z = residual(values[t], band.expected) / band.scale;
        for (cusum, kind, z) in [
            (&mut up, AnomalyKind::LevelUp, z),
            (&mut down, AnomalyKind::LevelDown, -z),
        ] {
            let Some(first) = cusum.step(t, z, config.cusum_slack, config.cusum_threshold) else {
                continue;
            };
            // A level shift must persist: judged over the crossing and the buckets after it,
            // so a dip of an hour or two (or a surge's tail) is not a new level.
            let end = t + confirm;
            if end >= values.len() {
                continue;
            }
            let shift = summarise(kind, first, end, values, bands);
            if (shift.observed - shift.expected).abs() < config.min_excess
                || !departs_enough(&shift, kind, config.min_shift_ratio)
            {
                continue;
            }
            match out.iter_mut().rev().find(|a| a.kind == kind) {
                Some(last) if last.last + hold_off >= first => {
                    *last = summarise(kind, last.first, end, values, bands)
                }
                _ => out.push(shift),
            }
        }
    }
    out
}

fn departs_enough(shift: &Anomaly, kind: AnomalyKind, min_ratio: f64) -> bool {
    let ratio = shift.observed.max(1.0) / shift.expected.max(1.0);
    match kind {
        AnomalyKind::LevelDown => ratio <= 1.0 / min_ratio,
        _ => ratio >= min_ratio,
    }
}

/// One side of a CUSUM: the running sum and where it last left zero.
#[derive(Default)]
struct Cusum {
    sum: f64,
    start: usize,
}

impl Cusum {
    /// Adds one residual; on crossing `threshold` returns where the climb began and resets.
    fn step(&mut self, t: usize, z: f64, slack: f64, threshold: f64) -> Option<usize> {
        if self.sum == 0.0 {
            self.start = t;
        }
        self.sum = (self.sum + z - slack).max(0.0);
        if self.sum > threshold {
            self.sum = 0.0;
            return Some(self.start);
        }
        None
    }
}

fn summarise(
    kind: AnomalyKind,
    first: usize,
    last: usize,
    values: &[f64],
    bands: &[Option<Band>],
) -> Anomaly {
    let mut observed = 0.0;
    let mut expected = 0.0;
    let mut peak = first;
    let mut peak_score = f64::MIN;
    for t in first..=last {
        let Some(band) = bands[t] else { continue };
        observed += values[t];
        expected += band.expected;
        let mut score = residual(values[t], band.expected) / band.scale;
        if kind == AnomalyKind::LevelDown {
            score = -score;
        }
        if score > peak_score {
            (peak, peak_score) = (t, score);
        }
    }
    let peak_band = bands[peak].expect("an anomaly's buckets all have a band");
    Anomaly {
        kind,
        first,
        last,
        peak,
        observed,
        expected,
        peak_band,
        peak_observed: values[peak],
        score: peak_score,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SplitMix64 with a Poisson draw: counts shaped like a darknet port's hourly packets.
    struct Counts(u64);

    impl Counts {
        fn uniform(&mut self) -> f64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
        }

        fn poisson(&mut self, mean: f64) -> f64 {
            if mean > 50.0 {
                let normal = (-2.0 * self.uniform().max(1e-300).ln()).sqrt()
                    * (std::f64::consts::TAU * self.uniform()).cos();
                return (mean + mean.sqrt() * normal).round().max(0.0);
            }
            let (limit, mut k, mut p) = ((-mean).exp(), 0.0, 1.0);
            loop {
                p *= self.uniform();
                if p <= limit {
                    return k;
                }
                k += 1.0;
            }
        }
    }

    /// Four weeks of hourly counts with a diurnal cycle (peak/trough 1.6), quieter weekends
    /// (0.75) and a slow upward trend.
    fn seasonal_mean(h: usize, level: f64) -> f64 {
        let hod = (h % 24) as f64;
        let diurnal = 1.0 + 0.23 * (std::f64::consts::TAU * (hod - 9.0) / 24.0).sin();
        let weekend = if (h / 24) % 7 >= 5 { 0.75 } else { 1.0 };
        let trend = 1.0 + 0.2 * h as f64 / (28.0 * 24.0);
        level * diurnal * weekend * trend
    }

    fn series(seed: u64, level: f64, surges: &[(usize, usize, f64)]) -> Vec<f64> {
        let mut rng = Counts(seed);
        (0..28 * 24)
            .map(|h| {
                let mut mean = seasonal_mean(h, level);
                for &(start, hours, factor) in surges {
                    if (start..start + hours).contains(&h) {
                        mean *= factor;
                    }
                }
                rng.poisson(mean)
            })
            .collect()
    }

    const SURGES: [(usize, usize, f64); 4] = [
        (5 * 24 + 3, 2, 3.0),
        (11 * 24 + 20, 3, 5.0),
        (18 * 24 + 9, 1, 10.0),
        (25 * 24 + 14, 2, 3.0),
    ];

    #[test]
    fn finds_every_injected_surge_at_its_start_and_little_else() {
        let config = DetectorConfig::default();
        for level in [50.0, 200.0, 2000.0] {
            for seed in 1..=5 {
                let values = series(seed, level, &SURGES);
                let found = detect(&values, Calendar::new(0, 24), &config);
                let surges: Vec<&Anomaly> = found
                    .anomalies
                    .iter()
                    .filter(|a| a.kind == AnomalyKind::Surge)
                    .collect();
                for &(start, hours, _) in &SURGES {
                    assert!(
                        surges
                            .iter()
                            .any(|a| a.first.abs_diff(start) <= 1 && a.last < start + hours + 1),
                        "level {level} seed {seed}: surge at {start} missed: {surges:?}"
                    );
                }
                let unexplained = found
                    .anomalies
                    .iter()
                    .filter(|a| {
                        !SURGES
                            .iter()
                            .any(|&(s, h, _)| a.first <= s + h && a.last + 1 >= s)
                    })
                    .count();
                assert!(
                    unexplained <= 1,
                    "level {level} seed {seed}: {unexplained} false alarms: {:?}",
                    found.anomalies
                );
            }
        }
    }

    #[test]
    fn the_baseline_follows_the_daily_and_weekly_cycle() {
        let values = series(7, 400.0, &[]);
        let found = detect(&values, Calendar::new(0, 24), &DetectorConfig::default());
        // In the last week, every expectation is within 10 % of the true mean, weekends included.
        for h in 21 * 24..28 * 24 {
            let band = found.bands[h].expect("a band after warm-up");
            let truth = seasonal_mean(h, 400.0);
            assert!(
                (band.expected / truth - 1.0).abs() < 0.1,
                "hour {h}: expected {} vs true mean {truth}",
                band.expected
            );
            assert!(band.lower < truth && truth < band.upper);
        }
        assert!(found.bands[..3 * 24].iter().all(Option::is_none), "warm-up");
    }

    #[test]
    fn a_sustained_gentle_rise_is_a_level_shift_not_a_surge() {
        let mut rng = Counts(3);
        let values: Vec<f64> = (0..28 * 24)
            .map(|h| rng.poisson(seasonal_mean(h, 200.0) * if h >= 20 * 24 { 1.6 } else { 1.0 }))
            .collect();
        let found = detect(&values, Calendar::new(0, 24), &DetectorConfig::default());
        let shifts: Vec<&Anomaly> = found
            .anomalies
            .iter()
            .filter(|a| a.kind == AnomalyKind::LevelUp)
            .collect();
        assert_eq!(shifts.len(), 1, "{:?}", found.anomalies);
        assert!(
            shifts[0].first.abs_diff(20 * 24) <= 6,
            "change found at {} for a shift at {}",
            shifts[0].first,
            20 * 24
        );
        assert!(found
            .anomalies
            .iter()
            .all(|a| a.kind != AnomalyKind::LevelDown));
    }

    #[test]
    fn a_dip_of_a_few_hours_is_not_a_level_shift() {
        let mut rng = Counts(5);
        let values: Vec<f64> = (0..28 * 24)
            .map(|h| {
                let dip = if (22 * 24 + 6..22 * 24 + 9).contains(&h) {
                    0.5
                } else {
                    1.0
                };
                rng.poisson(seasonal_mean(h, 3000.0) * dip)
            })
            .collect();
        let found = detect(&values, Calendar::new(0, 24), &DetectorConfig::default());
        assert!(found.anomalies.is_empty(), "{:?}", found.anomalies);
    }

    #[test]
    fn a_port_that_was_silent_and_starts_drawing_scans_is_a_surge() {
        let mut values = vec![0.0; 10 * 24];
        values[9 * 24 + 4] = 60.0;
        values[9 * 24 + 5] = 80.0;
        let found = detect(&values, Calendar::new(0, 24), &DetectorConfig::default());
        assert_eq!(found.anomalies.len(), 1);
        let a = &found.anomalies[0];
        assert_eq!(
            (a.kind, a.first, a.last, a.peak),
            (AnomalyKind::Surge, 220, 221, 221)
        );
        assert_eq!(a.observed, 140.0);
    }

    #[test]
    fn traffic_returning_after_unobserved_days_is_no_surge() {
        // A week of steady traffic, nine days nobody observed, then the same traffic again.
        let mut rng = Counts(11);
        let values: Vec<Option<f64>> = (0..28 * 24)
            .map(|h| {
                let down = (7 * 24..16 * 24).contains(&h);
                (!down).then(|| rng.poisson(seasonal_mean(h, 40.0)))
            })
            .collect();
        let found = detect_observed(&values, Calendar::new(0, 24), &DetectorConfig::default());
        assert!(found.anomalies.is_empty(), "{:?}", found.anomalies);
        assert!(found.bands[7 * 24..16 * 24].iter().all(Option::is_none));
        // As zeros, the same hours make every hour of the return a surge.
        let zeros: Vec<f64> = values.iter().map(|v| v.unwrap_or(0.0)).collect();
        let storm = detect(&zeros, Calendar::new(0, 24), &DetectorConfig::default());
        assert!(!storm.anomalies.is_empty());
    }
}
