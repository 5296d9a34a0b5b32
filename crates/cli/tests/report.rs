//! `greenwatch report quarterly` over a generated quarter: the report's numbers equal the
//! query commands' over the same range, and the page draws every chart with data in headless
//! Chromium (over chromedriver; Debian packages `chromium` and `chromium-driver`).

mod common;
#[path = "../../portal/tests/common/webdriver.rs"]
mod webdriver;

use common::serve::{http_get, ServeProcess};
use common::*;
use serde_json::Value;
use webdriver::Browser;

const QUARTER: &str = "2026-Q4";
const FROM: &str = "2026-10-01";
const TO: &str = "2027-01-01";
const CHARTS: [&str; 5] = [
    "chart-daily",
    "chart-ports",
    "chart-countries",
    "chart-dos",
    "chart-movers",
];

/// (key, packets, sources) of a `query top --json` answer, keyed like the report's rows.
fn query_top(env: &Env, by: &str) -> Vec<(String, u64, u64)> {
    let rows = env.json(&[
        "query", "top", "--by", by, "--class", "scan", "--limit", "10", "--from", FROM, "--to", TO,
        "--json",
    ]);
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let key = match by {
                "port" => format!("{}/{}", r["port"], r["protocol"].as_str().unwrap()),
                _ => r["country"].as_str().unwrap().to_string(),
            };
            (
                key,
                r["packets"].as_u64().unwrap(),
                r["sources"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn report_rows(section: &Value) -> Vec<(String, u64, u64)> {
    section
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["key"].as_str().unwrap().to_string(),
                r["packets"].as_u64().unwrap(),
                r["sources"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn a_generated_quarter_reports_the_query_numbers_and_draws_every_chart() {
    let env = Env::with_fixture_netdb();
    // 80 days from 2026-10-05 (most of the fourth quarter), and one busier day whose DoS
    // attacks are dense enough to clear the RS-DoS thresholds.
    let (quarter, _) = env.generate(17, 300_000, 80 * 24);
    let (busy_day, _) = env.generate(18, 200_000, 24);
    let (out, _) = env.ingest(&[&quarter, &busy_day]);
    assert_success(&out);

    let dir = env.path("q4");
    let out = env.run(&[
        "report",
        "quarterly",
        "--at",
        QUARTER,
        "--out",
        dir.to_str().unwrap(),
        "--pdf",
    ]);
    assert_success(&out);
    let report: Value =
        serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["period"], QUARTER);
    assert_eq!(report["previous_period"], "2026-Q3");
    assert_eq!(
        report["daily"].as_array().unwrap().len(),
        92,
        "one point per day of Q4"
    );

    let ports = report_rows(&report["top_ports"]);
    assert_eq!(ports, query_top(&env, "port"));
    assert!(
        ports.len() >= 5,
        "generated scans hit several ports: {ports:?}"
    );
    let countries = report_rows(&report["top_countries"]);
    assert_eq!(countries, query_top(&env, "country"));

    let attacks = env.json(&["query", "dos", "--from", FROM, "--to", TO, "--json"]);
    let attacks = attacks.as_array().unwrap();
    assert!(!attacks.is_empty(), "the generator injects DoS backscatter");
    assert_eq!(
        report["dos"]["attacks"].as_u64().unwrap(),
        attacks.len() as u64
    );
    let in_country = |cc: &str| attacks.iter().filter(|a| a["country"] == cc).count() as u64;
    for row in report["dos"]["by_country"].as_array().unwrap() {
        assert_eq!(
            row["attacks"].as_u64().unwrap(),
            in_country(row["key"].as_str().unwrap())
        );
    }
    let daily_total: u64 = report["daily"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["packets"].as_u64().unwrap())
        .sum();
    assert_eq!(daily_total, report["totals"]["packets"].as_u64().unwrap());
    assert!(
        !report["movers"].as_array().unwrap().is_empty(),
        "observed risks (mirai, scanner) rise from an empty Q3"
    );

    let pdf = std::fs::read(dir.join("report.pdf")).unwrap();
    assert!(pdf.starts_with(b"%PDF-"), "report.pdf is a PDF");

    let browser = Browser::start();
    browser.open(&format!("file://{}", dir.join("report.html").display()));
    let drawn = browser.charts_drawn(&CHARTS);
    // Bars of this quarter and the previous one per ranked row.
    assert_eq!(drawn[1], 2 * ports.len() as u64);
    assert_eq!(drawn[2], 2 * countries.len() as u64);
    assert_eq!(drawn[0], 3 * 92, "all, scan and backscatter per day");
    let labels = browser.script(
        "return echarts.getInstanceByDom(document.getElementById('chart-ports')).getOption().xAxis[0].data;",
    );
    let keys: Vec<&str> = ports.iter().map(|p| p.0.as_str()).collect();
    assert_eq!(labels, serde_json::json!(keys));
    let shown = browser.script("return document.getElementById('total-packets').textContent;");
    // Written with thousands separators, as the portal writes counts.
    let total = report["totals"]["packets"].as_u64().unwrap();
    assert!(total >= 1_000, "{total}");
    assert_eq!(shown, greenwatch_report::int(total));

    browser.open(&format!(
        "file://{}",
        dir.join("report-print.html").display()
    ));
    assert_eq!(browser.charts_drawn(&CHARTS).len(), CHARTS.len());
}

/// Ingests the generated capture `pcap` as `org`'s data under `tlp`.
fn ingest_as(env: &Env, pcap: &std::path::Path, org: &str, tlp: &str) {
    env.add_org(org);
    assert_success(&env.run(&[
        "ingest",
        "pcap",
        "--sensor",
        org,
        "--org",
        org,
        "--tlp",
        tlp,
        pcap.to_str().unwrap(),
    ]));
}

#[test]
fn serve_writes_the_public_report_of_each_finished_week_from_clear_data_only() {
    // Nine days from Monday 2026-10-05: week 41 is over, week 42 still running.
    let public = Env::with_fixture_netdb();
    let (clear, _) = public.generate(21, 60_000, 9 * 24);
    let (amber, _) = public.generate(22, 20_000, 7 * 24);
    ingest_as(&public, &clear, "cert-a", "clear");
    ingest_as(&public, &amber, "cert-b", "amber");
    // The same public capture alone, for the report the public should get.
    let alone = Env::with_fixture_netdb();
    ingest_as(&alone, &clear, "cert-a", "clear");
    let expected = alone.json(&[
        "report",
        "weekly",
        "--at",
        "2026-W41",
        "--out",
        alone.path("w41").to_str().unwrap(),
        "--json",
    ]);

    let port = sensors::free_port();
    let _serve = ServeProcess::start(&public, port);
    let written = public.data().join("reports/2026-W41/report.json");
    sensors::wait_until(
        "the scheduled report of 2026-W41",
        std::time::Duration::from_secs(120),
        || written.exists(),
    );
    let mut scheduled: Value = serde_json::from_slice(&std::fs::read(&written).unwrap()).unwrap();
    assert_eq!(scheduled["audience"], "public");
    scheduled["audience"] = expected["audience"].clone();
    assert_eq!(
        scheduled, expected,
        "the public report holds the TLP:CLEAR capture's numbers and nothing of the AMBER one"
    );
    assert!(expected["totals"]["packets"].as_u64().unwrap() > 0);

    let (status, page) = http_get(port, "/reports");
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("aria-current=\"page\">Reports</a>"),
        "the list is a portal page with its navigation: {page}"
    );
    assert!(page.contains("href=\"/reports/2026-W41/report.html\""));
    let row = &page[page.find(">2026-W41</a>").expect("a row of week 41")..];
    let cell = row.split("<td class=\"num\">").nth(1).unwrap();
    let shown: u64 = cell[..cell.find('<').unwrap()]
        .replace(',', "")
        .parse()
        .unwrap();
    assert_eq!(shown, expected["totals"]["packets"].as_u64().unwrap());
    assert!(
        !page.contains("2026-W42") && !public.data().join("reports/2026-W42").exists(),
        "week 42 is still running"
    );
    let (status, html) = http_get(port, "/reports/2026-W41/report.html");
    assert_eq!(status, 200);
    assert!(html.contains("2026-W41"));
}
