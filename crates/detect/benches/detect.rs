//! The detector's hot path: one four-week hourly series through the baseline and both tests.

use greenwatch_detect::{detect, Calendar, DetectorConfig};

fn main() {
    divan::main();
}

fn four_weeks() -> Vec<f64> {
    (0..28 * 24)
        .map(|h| {
            let diurnal = 1.0 + 0.3 * (std::f64::consts::TAU * (h % 24) as f64 / 24.0).sin();
            (100.0 * diurnal + (h * 7919 % 13) as f64).round()
        })
        .collect()
}

#[divan::bench]
fn detect_four_weeks_hourly(bencher: divan::Bencher) {
    let values = four_weeks();
    let config = DetectorConfig::default();
    bencher.bench(|| detect(divan::black_box(&values), Calendar::new(0, 24), &config));
}
