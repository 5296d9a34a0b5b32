//! Open-data export: per risk and period kind, one CSV and one JSON file per grouping, a
//! Frictionless `datapackage.json` describing them, and METHOD.md explaining every column.

use crate::{Engine, GroupBy, MetricRow, MetricsError};
use greenwatch_model::{neutralise_csv_formula, Period, PeriodKind, Timestamp};
use serde::Serialize;
use serde_json::json;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The method document shipped as METHOD.md.
pub const METHOD: &str = include_str!("../../../docs/metrics-method.md");

/// Columns of a metrics CSV: name, Frictionless type, description.
fn columns(by: GroupBy) -> Vec<(&'static str, &'static str, &'static str)> {
    let mut c = vec![
        ("risk", "string", "Risk slug from the risk catalogue"),
        (
            "period",
            "string",
            "Period label: YYYY-MM-DD, YYYY-Www (ISO week), YYYY-MM, YYYY-Qn or YYYY",
        ),
        ("first_day", "date", "First day of the period (UTC)"),
        ("last_day", "date", "Last day of the period (UTC)"),
        (
            "country",
            "string",
            "ISO 3166-1 alpha-2 country, ZZ unknown, WORLD for the world row",
        ),
    ];
    if by == GroupBy::Asn {
        c[4].2 = "WORLD on the world row, empty otherwise";
        c.push(("asn", "integer", "Origin AS number (0 unknown)"));
        c.push(("as_name", "string", "AS name from the netdb snapshot"));
    }
    c.extend([
        (
            "hosts",
            "integer",
            "Distinct addresses in the period (IPv4 and IPv6)",
        ),
        ("hosts_ipv6", "integer", "Of which IPv6"),
        ("share", "number", "hosts / world hosts"),
        (
            "density",
            "number",
            "IPv4 hosts per million IPv4 addresses of the group",
        ),
        (
            "ddos_potential",
            "number",
            "hosts x amplification factor (request-bandwidth units)",
        ),
        (
            "trend",
            "number",
            "100 x hosts / hosts in the base period; empty unless both periods are complete",
        ),
        ("rank", "integer", "1 = most hosts; ties share a rank"),
        ("previous_hosts", "integer", "hosts in the previous period"),
        (
            "change",
            "number",
            "(hosts - previous_hosts) / previous_hosts; empty unless both periods are complete",
        ),
        (
            "complete",
            "boolean",
            "Whether the data covers the whole period (false: it starts inside it, or the period is still running)",
        ),
        (
            "days_with_data",
            "integer",
            "Days of the period on which any host of the risk was reported",
        ),
    ]);
    c
}

fn number(v: Option<f64>) -> String {
    v.map(|x| {
        let s = format!("{x:.6}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        s.to_string()
    })
    .unwrap_or_default()
}

fn record(row: &MetricRow, by: GroupBy) -> Vec<String> {
    let opt = |v: Option<String>| v.unwrap_or_default();
    let mut r = vec![
        row.risk.clone(),
        row.period.clone(),
        row.first_day.to_string(),
        row.last_day.to_string(),
        opt(row.country.clone()),
    ];
    if by == GroupBy::Asn {
        r.push(opt(row.asn.map(|a| a.to_string())));
        r.push(opt(row.as_name.clone()));
    }
    r.extend([
        row.hosts.to_string(),
        row.hosts_ipv6.to_string(),
        number(Some(row.share)),
        number(row.density),
        number(row.ddos_potential),
        number(row.trend),
        opt(row.rank.map(|r| r.to_string())),
        row.previous_hosts.to_string(),
        number(row.change),
        row.complete.to_string(),
        row.days_with_data.to_string(),
    ]);
    r
}

/// Writes `rows` as CSV with a header (the same columns as the export).
pub fn write_csv<W: Write>(rows: &[&MetricRow], by: GroupBy, out: W) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(columns(by).iter().map(|c| c.0))?;
    for row in rows {
        let cells = record(row, by);
        w.write_record(cells.iter().map(|c| neutralise_csv_formula(c).into_owned()))?;
    }
    w.flush()
}

/// What to export.
pub struct ExportOptions {
    pub kinds: Vec<PeriodKind>,
    /// Publication threshold for ASN rows.
    pub min_hosts: u64,
    /// When the export was made (written into the data package).
    pub created: Timestamp,
}

#[derive(Debug, Default, Serialize)]
pub struct ExportReport {
    pub directory: PathBuf,
    pub files: Vec<String>,
    pub rows: u64,
    /// ASN rows below the publication threshold, left out of the files (not of the totals).
    pub hidden_rows: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Metrics(#[from] MetricsError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io_at(path: &Path) -> impl FnOnce(std::io::Error) -> ExportError + '_ {
    move |source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Exports every risk with data, for every period kind in `options`, into `dir`.
pub fn export(
    engine: &Engine<'_>,
    dir: &Path,
    options: &ExportOptions,
) -> Result<ExportReport, ExportError> {
    std::fs::create_dir_all(dir).map_err(io_at(dir))?;
    let mut report = ExportReport {
        directory: dir.to_path_buf(),
        ..Default::default()
    };
    let mut resources = Vec::new();
    let mut snapshots = std::collections::BTreeSet::new();
    for risk in engine.risks_with_data()? {
        let Some((first, last)) = engine.coverage(risk)? else {
            continue;
        };
        let slug = engine.risk(risk).slug.clone();
        for &kind in &options.kinds {
            let base = engine
                .default_base(risk, kind)?
                .unwrap_or_else(|| Period::containing(kind, first));
            for by in [GroupBy::Country, GroupBy::Asn] {
                let mut rows = Vec::new();
                let mut period = Period::containing(kind, first);
                while period.start <= last {
                    let table = engine.table(risk, by, period, Some(base))?;
                    snapshots.extend(table.address_space_as_of);
                    let (kept, hidden) = table.publishable(options.min_hosts);
                    report.hidden_rows += hidden as u64;
                    rows.extend(kept.into_iter().cloned());
                    period = period.next();
                }
                let name = format!("{slug}-{kind}-{}", by.as_str());
                let csv_path = dir.join(format!("{name}.csv"));
                let file = std::fs::File::create(&csv_path).map_err(io_at(&csv_path))?;
                let refs: Vec<&MetricRow> = rows.iter().collect();
                write_csv(&refs, by, std::io::BufWriter::new(file)).map_err(io_at(&csv_path))?;
                let json_path = dir.join(format!("{name}.json"));
                let text = serde_json::to_string_pretty(&rows).expect("rows serialise");
                std::fs::write(&json_path, text).map_err(io_at(&json_path))?;
                report.rows += rows.len() as u64;
                report.files.push(format!("{name}.csv"));
                report.files.push(format!("{name}.json"));
                resources.push(resource(&name, &engine.risk(risk).title, kind, by));
            }
        }
    }
    let package = json!({
        "profile": "tabular-data-package",
        "name": "greenwatch-metrics",
        "title": "Greenwatch ecosystem-health metrics",
        "description": "Distinct affected hosts per risk, country / ASN and period, with share, density, DDoS potential, trend, rank and change. See METHOD.md.",
        "created": options.created.to_rfc3339(),
        "licenses": [{"name": "CC-BY-4.0", "path": "https://creativecommons.org/licenses/by/4.0/", "title": "Creative Commons Attribution 4.0"}],
        "sources": [
            {"title": "Risk feeds ingested by this Greenwatch instance (Shadowserver reports, IntelMQ events, mapped feeds) and its own sensors"},
            {"title": "IP to ASN: @ip-location-db/asn (RouteViews, DB-IP), CC BY 4.0"},
            {"title": "IP to country: @ip-location-db/geo-whois-asn-country (RIR delegated statistics)"},
            {"title": "Amplification factors: US-CERT alert TA14-017A"}
        ],
        "greenwatch": {
            "publication_threshold_asn_hosts": options.min_hosts,
            "address_space_snapshots": snapshots.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
            "periods": options.kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
        },
        "resources": resources,
    });
    let package_path = dir.join("datapackage.json");
    std::fs::write(
        &package_path,
        serde_json::to_string_pretty(&package).expect("package serialises"),
    )
    .map_err(io_at(&package_path))?;
    let method_path = dir.join("METHOD.md");
    std::fs::write(&method_path, method_with_catalogue(engine, options))
        .map_err(io_at(&method_path))?;
    report.files.push("datapackage.json".into());
    report.files.push("METHOD.md".into());
    Ok(report)
}

fn resource(name: &str, title: &str, kind: PeriodKind, by: GroupBy) -> serde_json::Value {
    let fields: Vec<serde_json::Value> = columns(by)
        .into_iter()
        .map(
            |(name, ty, description)| json!({"name": name, "type": ty, "description": description}),
        )
        .collect();
    let key = match by {
        GroupBy::Country => json!(["risk", "period", "country"]),
        GroupBy::Asn => json!(["risk", "period", "country", "asn"]),
    };
    json!({
        "name": name,
        "path": format!("{name}.csv"),
        "title": format!("{title}, per {} and {kind}", by.as_str()),
        "profile": "tabular-data-resource",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "schema": {"fields": fields, "missingValues": [""], "primaryKey": key},
    })
}

/// METHOD.md: the method, then the risks and factors this export used.
fn method_with_catalogue(engine: &Engine<'_>, options: &ExportOptions) -> String {
    let mut text = String::from(METHOD);
    text.push_str("\n## This export\n\n");
    text.push_str(&format!(
        "Created {}. ASN rows with fewer than {} hosts are left out of the files (not of any total).\n\n",
        options.created.to_rfc3339(),
        options.min_hosts
    ));
    text.push_str(
        "| risk | title | CyberGreen id | amplification factor | source |\n|---|---|---|---|---|\n",
    );
    for risk in engine.catalogue().risks() {
        let (factor, source) = match &risk.amplification {
            Some(a) => (
                match (a.low, a.high) {
                    (Some(l), Some(h)) => format!("{} ({l}–{h})", a.factor),
                    _ => a.factor.to_string(),
                },
                a.source.clone(),
            ),
            None => (
                "–".into(),
                match risk.observed {
                    Some(rule) => format!("observed: {}", rule.as_string()),
                    None => "–".into(),
                },
            ),
        };
        text.push_str(&format!(
            "| {} | {} | {} | {factor} | {source} |\n",
            risk.slug,
            risk.title,
            risk.id.map(|i| i.to_string()).unwrap_or_else(|| "–".into()),
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn as_names_that_would_run_as_formulas_are_neutralised_in_the_csv() {
        let day = NaiveDate::from_ymd_opt(2026, 10, 5).unwrap();
        let row = MetricRow {
            risk: "openrecursivedns".into(),
            period: "2026-10-05".into(),
            first_day: day,
            last_day: day,
            country: None,
            asn: Some(64500),
            as_name: Some("=HYPERLINK(\"http://evil.example\",\"x\")".into()),
            hosts: 3,
            hosts_ipv6: 0,
            share: 0.5,
            density: None,
            ddos_potential: None,
            trend: None,
            rank: Some(1),
            previous_hosts: 6,
            change: Some(-0.5),
            complete: true,
            days_with_data: 1,
            days_in_period: 1,
        };
        let mut out = Vec::new();
        write_csv(&[&row], GroupBy::Asn, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\""),
            "{text}"
        );
        assert!(
            text.contains(",-0.5"),
            "negative numbers stay numbers: {text}"
        );
    }
}
