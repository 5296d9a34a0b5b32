//! Times `detect` over series read from a CSV file (one series per line, comma-separated
//! hourly counts starting at midnight UTC), for `bench/detect/run.sh`. Prints JSON.

use greenwatch_detect::{detect, Calendar, DetectorConfig};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: detect_csv SERIES.csv")?;
    let series: Vec<Vec<f64>> = std::fs::read_to_string(path)?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split(',').map(str::parse).collect())
        .collect::<Result<_, _>>()?;
    let config = DetectorConfig::default();
    let start = Instant::now();
    let anomalies: usize = series
        .iter()
        .map(|v| detect(v, Calendar::new(0, 24), &config).anomalies.len())
        .sum();
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{{\"series\": {}, \"seconds\": {seconds}, \"anomalies\": {anomalies}}}",
        series.len()
    );
    Ok(())
}
