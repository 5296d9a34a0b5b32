//! A report as files: `report.html` (screen), `report-print.html` (print-ready, the page a PDF
//! is made from), `report.json`, and what the pages load: `report.js` draws the charts from the
//! page's JSON data island with the vendored ECharts, `report.css` styles screen and print.
//! No inline script or style and no network access, so a report directory opens offline and
//! can be served under the portal's CSP as it is.

use crate::{RankedRow, Report, ReportError};
use greenwatch_analytics::countries;
use greenwatch_model::escape_markup;
use std::fmt::Write as _;
use std::path::Path;

const ECHARTS: &[u8] = include_bytes!("../../portal/assets/vendor/echarts.min.js");
const VENDOR_LICENSES: &str = include_str!("../../portal/assets/vendor/LICENSES.md");
const REPORT_JS: &str = include_str!("../assets/report.js");
const REPORT_CSS: &str = include_str!("../assets/report.css");

/// The files of a report directory, in the order they are written.
pub struct ReportFiles;

impl ReportFiles {
    pub const HTML: &'static str = "report.html";
    pub const PRINT: &'static str = "report-print.html";
    pub const JSON: &'static str = "report.json";
    pub const ALL: [&'static str; 7] = [
        "report.html",
        "report-print.html",
        "report.json",
        "report.js",
        "report.css",
        "echarts.min.js",
        "LICENSES.md",
    ];
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Variant {
    Screen,
    Print,
}

/// Writes every file of the report into `dir` (created if needed).
pub fn write_report_dir(report: &Report, dir: &Path) -> Result<(), ReportError> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(
        dir.join(ReportFiles::HTML),
        render_html(report, Variant::Screen),
    )?;
    std::fs::write(
        dir.join(ReportFiles::PRINT),
        render_html(report, Variant::Print),
    )?;
    let json = serde_json::to_vec_pretty(report).map_err(std::io::Error::other)?;
    std::fs::write(dir.join(ReportFiles::JSON), json)?;
    std::fs::write(dir.join("report.js"), REPORT_JS)?;
    std::fs::write(dir.join("report.css"), REPORT_CSS)?;
    std::fs::write(dir.join("echarts.min.js"), ECHARTS)?;
    std::fs::write(dir.join("LICENSES.md"), VENDOR_LICENSES)?;
    Ok(())
}

/// A count with thousands separators, `1,234,567`, as the portal writes them.
pub fn int(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// A signed difference with thousands separators and its sign, `+1,234` or `-56`.
fn signed(n: i64) -> String {
    let sign = if n < 0 { '-' } else { '+' };
    format!("{sign}{}", int(n.unsigned_abs()))
}

fn percent(change: Option<f64>) -> String {
    change.map_or("new".into(), |c| format!("{:+.1} %", c * 100.0))
}

/// The report as JSON safe inside a `<script type="application/json">` element: `<` only
/// occurs inside JSON strings, where `\u003c` means the same.
fn data_island(report: &Report) -> String {
    serde_json::to_string(report)
        .expect("a report serialises")
        .replace('<', "\\u003c")
}

/// A ranked section's table; `label` shows each key (a country with its name).
fn ranked_table(out: &mut String, what: &str, rows: &[RankedRow], label: fn(&str) -> String) {
    let _ = write!(
        out,
        "<table><thead><tr><th>Rank</th><th>{what}</th><th>Packets</th><th>Sources</th>\
         <th>Previous rank</th><th>Previous packets</th><th>Change</th></tr></thead><tbody>"
    );
    for r in rows {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            r.rank,
            escape_markup(&label(&r.key)),
            int(r.packets),
            int(r.sources),
            r.previous_rank.map_or("-".into(), |p| p.to_string()),
            int(r.previous_packets),
            percent(r.change)
        );
    }
    out.push_str("</tbody></table>");
}

/// A chart container when there is something to draw, else a sentence saying there is not.
fn chart(out: &mut String, id: &str, has_data: bool, empty: &str) {
    if has_data {
        let _ = write!(out, "<div class=\"chart\" id=\"{id}\"></div>");
    } else {
        let _ = write!(out, "<p class=\"empty\">{}</p>", escape_markup(empty));
    }
}

pub fn render_html(report: &Report, variant: Variant) -> String {
    let title = format!(
        "Greenwatch {} report {}",
        report.kind.as_str(),
        report.period
    );
    let mut out = String::new();
    let body_class = match variant {
        Variant::Screen => "screen",
        Variant::Print => "print",
    };
    let _ = write!(
        out,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{t}</title><link rel=\"stylesheet\" href=\"report.css\"></head>\
         <body class=\"{body_class}\"><header><h1>{t}</h1>\
         <p class=\"meta\">{first} to {last} (UTC), compared with {prev}. Audience: {aud}.</p>",
        t = escape_markup(&title),
        first = report.first_day,
        last = report.end_day.pred_opt().unwrap_or(report.end_day),
        prev = escape_markup(&report.previous_period),
        aud = escape_markup(&report.audience),
    );
    if variant == Variant::Screen {
        out.push_str(
            "<p class=\"links\"><a href=\"report-print.html\">Print version</a> · \
             <a href=\"report.json\">JSON</a></p>",
        );
    }
    let t = &report.totals;
    let _ = write!(
        out,
        "</header><main><section id=\"summary\"><h2>Summary</h2><dl>\
         <dt>Packets</dt><dd id=\"total-packets\">{}</dd>\
         <dt>Distinct sources</dt><dd>{}</dd>\
         <dt>Packets in {}</dt><dd>{} ({})</dd>\
         <dt>DoS attacks</dt><dd>{}</dd><dt>Notable anomalies</dt><dd>{}</dd></dl>",
        int(t.packets),
        int(t.sources),
        escape_markup(&report.previous_period),
        int(t.previous_packets),
        percent(t.change),
        int(report.dos.attacks),
        int(report.anomalies.len() as u64)
    );
    chart(
        &mut out,
        "chart-daily",
        t.packets > 0,
        "No packets were observed in this period.",
    );
    out.push_str("</section><section id=\"ports\"><h2>Top destination ports (scan traffic)</h2>");
    chart(
        &mut out,
        "chart-ports",
        !report.top_ports.is_empty(),
        "No scan traffic in this period.",
    );
    ranked_table(&mut out, "Port", &report.top_ports, str::to_string);
    out.push_str("</section><section id=\"countries\"><h2>Scanning sources by country</h2>");
    chart(
        &mut out,
        "chart-countries",
        !report.top_countries.is_empty(),
        "No scan traffic in this period.",
    );
    ranked_table(
        &mut out,
        "Country",
        &report.top_countries,
        countries::labelled,
    );
    let d = &report.dos;
    let _ = write!(
        out,
        "</section><section id=\"dos\"><h2>DoS activity (inferred from backscatter)</h2>\
         <p>{} attacks on {} victims ({} backscatter packets); {} in {} ({}).</p>",
        int(d.attacks),
        int(d.victims),
        int(d.backscatter_packets),
        int(d.previous_attacks),
        escape_markup(&report.previous_period),
        percent(d.change)
    );
    chart(
        &mut out,
        "chart-dos",
        !d.by_country.is_empty(),
        "No DoS attacks in this period.",
    );
    out.push_str("<table><thead><tr><th>Victims' AS</th><th>Attacks</th></tr></thead><tbody>");
    for r in &d.by_asn {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td></tr>",
            escape_markup(&r.key),
            int(r.attacks)
        );
    }
    out.push_str("</tbody></table></section><section id=\"anomalies\"><h2>Notable anomalies</h2>");
    if report.anomalies.is_empty() {
        out.push_str("<p class=\"empty\">No alerts were raised in this period.</p>");
    } else {
        out.push_str("<table><thead><tr><th>First seen</th><th>Severity</th><th>TLP</th><th>Alert</th></tr></thead><tbody>");
        for a in &report.anomalies {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td><strong>{}</strong><br>{}</td></tr>",
                a.first_seen.to_rfc3339(),
                escape_markup(&a.severity),
                escape_markup(&a.tlp),
                escape_markup(&a.title),
                escape_markup(&a.summary)
            );
        }
        out.push_str("</tbody></table>");
    }
    out.push_str(
        "</section><section id=\"movers\"><h2>Risk-metric movers (distinct hosts per country)</h2>",
    );
    chart(
        &mut out,
        "chart-movers",
        !report.movers.is_empty(),
        "No risk metric changed in this period.",
    );
    out.push_str("<table><thead><tr><th>Risk</th><th>Country</th><th>Hosts</th><th>Previous</th><th>Change</th></tr></thead><tbody>");
    for m in &report.movers {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} ({})</td></tr>",
            escape_markup(&m.risk),
            escape_markup(&countries::labelled(&m.country)),
            int(m.hosts),
            int(m.previous_hosts),
            signed(m.delta),
            percent(m.change)
        );
    }
    out.push_str("</tbody></table></section>");
    if !report.sensors.is_empty() {
        out.push_str("<section id=\"sensors\"><h2>Observation by sensor</h2><table><thead><tr><th>Sensor</th><th>Packets</th><th>Sources</th><th>Top ports</th></tr></thead><tbody>");
        for s in &report.sensors {
            let ports: Vec<String> = s
                .top_ports
                .iter()
                .map(|p| format!("{} ({})", escape_markup(&p.key), int(p.packets)))
                .collect();
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape_markup(&s.sensor),
                int(s.packets),
                int(s.sources),
                ports.join(", ")
            );
        }
        out.push_str("</tbody></table></section>");
    }
    let _ = write!(
        out,
        "</main><footer>Generated by Greenwatch from the stored observations, alerts and risk metrics.</footer>\
         <script type=\"application/json\" id=\"report-data\">{}</script>\
         <script src=\"echarts.min.js\"></script><script src=\"report.js\"></script></body></html>",
        data_island(report)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Anomaly, DosSection, ReportKind, Totals};
    use greenwatch_model::Timestamp;

    fn report_with_alert(title: &str) -> Report {
        let period = ReportKind::Weekly.period("2026-W41").unwrap();
        Report {
            kind: ReportKind::Weekly,
            period: period.label(),
            previous_period: period.previous().label(),
            first_day: period.start,
            end_day: period.end(),
            audience: "public".into(),
            totals: Totals {
                packets: 0,
                sources: 0,
                previous_packets: 0,
                previous_sources: 0,
                change: None,
            },
            daily: Vec::new(),
            top_ports: Vec::new(),
            top_countries: Vec::new(),
            dos: DosSection {
                attacks: 0,
                previous_attacks: 0,
                change: None,
                victims: 0,
                backscatter_packets: 0,
                by_country: Vec::new(),
                by_asn: Vec::new(),
            },
            anomalies: vec![Anomaly {
                id: 1,
                severity: "high".into(),
                title: title.into(),
                summary: "s".into(),
                first_seen: Timestamp::from_secs(1_791_000_000),
                tlp: "CLEAR".into(),
            }],
            movers: Vec::new(),
            sensors: Vec::new(),
        }
    }

    #[test]
    fn text_from_the_stores_cannot_break_out_of_the_page_or_its_data_island() {
        let title = "</script><script>alert(1)</script>";
        let html = render_html(&report_with_alert(title), Variant::Screen);
        assert!(!html.contains("<script>alert"), "{html}");
        let start = html.find("id=\"report-data\">").unwrap() + "id=\"report-data\">".len();
        let end = start + html[start..].find("</script>").unwrap();
        let island: Report = serde_json::from_str(&html[start..end]).unwrap();
        assert_eq!(island.anomalies[0].title, title);
    }

    #[test]
    fn counts_are_written_with_thousands_separators() {
        assert_eq!(int(0), "0");
        assert_eq!(int(999), "999");
        assert_eq!(int(1_000), "1,000");
        assert_eq!(int(1_234_567), "1,234,567");
        assert_eq!(int(u64::MAX), "18,446,744,073,709,551,615");
        assert_eq!(signed(-1_234), "-1,234");
        assert_eq!(signed(0), "+0");
        assert_eq!(signed(56_000), "+56,000");
        let mut report = report_with_alert("t");
        report.totals.packets = 1_234_567;
        report.totals.sources = 45_678;
        report.totals.previous_packets = 2_000;
        report.dos.attacks = 1_500;
        report.dos.backscatter_packets = 9_876_543;
        report.top_ports = vec![RankedRow {
            rank: 1,
            key: "23/tcp".into(),
            packets: 654_321,
            sources: 12_345,
            previous_packets: 100_000,
            previous_rank: Some(2),
            change: Some(5.5),
        }];
        report.movers = vec![crate::Mover {
            risk: "openrecursivedns".into(),
            country: "DE".into(),
            hosts: 12_000,
            previous_hosts: 13_500,
            delta: -1_500,
            change: Some(-0.111),
        }];
        for variant in [Variant::Screen, Variant::Print] {
            let html = render_html(&report, variant);
            for shown in [
                "<dd id=\"total-packets\">1,234,567</dd>",
                "<dd>45,678</dd>",
                "<dd>2,000 (",
                "<dd>1,500</dd>",
                "1,500 attacks",
                "9,876,543 backscatter packets",
                "<td>654,321</td><td>12,345</td><td>2</td><td>100,000</td>",
                "<td>12,000</td><td>13,500</td><td>-1,500 (",
            ] {
                assert!(html.contains(shown), "{shown} in {html}");
            }
        }
    }

    #[test]
    fn empty_sections_say_so_instead_of_drawing_an_empty_chart() {
        let html = render_html(&report_with_alert("t"), Variant::Print);
        assert!(!html.contains("class=\"chart\""));
        assert!(html.contains("No DoS attacks in this period."));
        assert!(html.contains("<body class=\"print\">"));
        assert!(
            !html.contains("report-print.html"),
            "the print page does not link to itself"
        );
    }

    #[test]
    fn countries_are_named_beside_their_codes_and_ports_are_not() {
        let mut report = report_with_alert("t");
        let row = |key: &str| RankedRow {
            rank: 1,
            key: key.into(),
            packets: 10,
            sources: 2,
            previous_packets: 0,
            previous_rank: None,
            change: None,
        };
        report.top_countries = vec![row("DE"), row("-")];
        report.top_ports = vec![row("23/tcp")];
        report.movers = vec![crate::Mover {
            risk: "openrecursivedns".into(),
            country: "JP".into(),
            hosts: 5,
            previous_hosts: 1,
            delta: 4,
            change: Some(4.0),
        }];
        let html = render_html(&report, Variant::Screen);
        assert!(html.contains("<td>DE Germany</td>"), "{html}");
        assert!(html.contains("<td>JP Japan</td>"));
        assert!(html.contains("<td>-</td>"));
        assert!(html.contains("<td>23/tcp</td>"));
    }
}
