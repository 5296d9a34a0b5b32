//! The portal in a real browser: headless Chromium driven over WebDriver by chromedriver
//! (Debian packages `chromium` and `chromium-driver`; `.ci/run` installs them). Logs in through
//! the form, checks that every overview chart is drawn with data and that the analyst sees their
//! organisation's AMBER capture, uploads a capture through the upload form and sees it in the
//! charts, sees the TLP:AMBER banner and switches to the public view and back, searches a
//! country from the header, then opens a risk page's map and a country page; and draws an
//! alert's chart with its band.

mod common;
#[path = "common/webdriver.rs"]
mod webdriver;

use common::*;
use greenwatch_auth::hash_password;
use greenwatch_model::access::Role;
use greenwatch_model::account::Organisation;
use greenwatch_model::Timestamp;
use greenwatch_store::NewUser;
use std::net::SocketAddr;
use webdriver::Browser;

const LOGIN: &str = "ana@cert-b.example";
const PASSWORD: &str = "a long enough password";
const CHARTS: [&str; 5] = [
    "chart-series",
    "chart-ports",
    "chart-countries",
    "chart-map",
    "chart-heatmap",
];

impl Browser {
    /// Data points drawn per overview chart, once every chart has some.
    fn chart_points(&self) -> Vec<u64> {
        self.charts_drawn(&CHARTS)
    }

    fn island_packets(&self) -> u64 {
        let v = self.script("return JSON.parse(document.getElementById('overview-data').textContent).totals.packets;");
        v.as_u64().unwrap()
    }
}

fn packets(obs: &greenwatch_observe::Observations) -> u64 {
    obs.flows().map(|f| f.packets).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_analyst_logs_in_uploads_a_capture_and_sees_the_charts_drawn_with_it() {
    let mut f = fixture();
    let org = Organisation {
        slug: "cert-b".into(),
        name: "CERT B".into(),
        created_at: Timestamp(1),
    };
    f.store.create_org(&org, "test").unwrap();
    let user = NewUser {
        login: LOGIN.into(),
        org: "cert-b".into(),
        role: Role::Analyst,
        password_hash: hash_password(PASSWORD).unwrap(),
    };
    f.store.create_user(&user, "test", Timestamp(1)).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = f
        .app
        .clone()
        .into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let (public, amber) = (packets(&f.clear), packets(&f.amber));
    let upload_path = f._dir.path().join("browser-upload.pcap");
    std::fs::write(&upload_path, capture(&f.netdb, 9, 4_000)).unwrap();
    let uploaded = observe(&f.netdb, 9, 4_000).counts.packets;

    tokio::task::spawn_blocking(move || {
        let browser = Browser::start();
        browser.open(&format!("{base}/"));
        let points = browser.chart_points();
        assert_eq!(points.len(), CHARTS.len());
        assert_eq!(browser.island_packets(), public, "the public sees the CLEAR capture only");

        browser.open(&format!("{base}/login"));
        browser.type_into("input[name=login]", LOGIN);
        browser.type_into("input[name=password]", PASSWORD);
        browser.click("button[type=submit]");
        browser.wait_for(&format!("return location.href === '{base}/' ? true : null;"));
        let who = browser.script("return document.querySelector('.account .user').textContent;");
        assert_eq!(who, LOGIN);
        browser.chart_points();
        assert_eq!(browser.island_packets(), public + amber, "the member also sees cert-b's AMBER capture");
        // The page says it shows AMBER data; the public view shows exactly the public's.
        let banner = browser.script("const b = document.getElementById('tlp-banner'); return b ? b.textContent : '';");
        assert!(banner.as_str().unwrap().contains("TLP:AMBER"), "{banner}");
        browser.click("#view-switch");
        browser.wait_for("return document.getElementById('public-view-banner') ? true : null;");
        browser.chart_points();
        assert_eq!(browser.island_packets(), public, "the public view is the public's overview");
        assert!(browser.url().ends_with('/'), "the switch comes back to the page");
        browser.click("#view-switch");
        browser.wait_for("return document.getElementById('public-view-banner') ? null : true;");
        browser.chart_points();
        assert_eq!(browser.island_packets(), public + amber);

        // Upload a capture through the form: the script shows the upload, then the job page
        // reloads itself until the ingest is done.
        browser.open(&format!("{base}/upload"));
        browser.type_into("input[name=file]", upload_path.to_str().unwrap());
        browser.click("main button[type=submit]");
        let state = browser.wait_for(
            "const job = document.getElementById('upload-job');
             return job && job.dataset.state !== 'ingesting' ? job.dataset.state : null;",
        );
        assert_eq!(state, "ingested");
        browser.open(&format!("{base}/"));
        browser.chart_points();
        assert_eq!(browser.island_packets(), public + amber + uploaded, "the upload is in the charts");

        // The header's search box lands on the page that knows what was typed.
        browser.type_into("form.search input[name=q]", "CN");
        browser.script("document.querySelector('form.search').submit(); return true;");
        let landed = browser.wait_for(&format!(
            "return location.href.startsWith('{base}/countries/CN') ? location.href : null;"
        ));
        assert!(landed.as_str().unwrap().ends_with("/countries/CN"), "{landed}");

        browser.open(&format!("{base}/risks/openrecursivedns"));
        let map = browser.wait_for(
            "const el = document.querySelector('.chart.map');
             const chart = el && window.echarts && echarts.getInstanceByDom(el);
             return chart && el.querySelector('canvas') ? chart.getOption().series[0].data.length : null;",
        );
        assert!(map.as_u64().unwrap() >= 3, "CN, US and NL are on the map: {map}");
        assert!(browser.url().ends_with("/risks/openrecursivedns"));

        // The country page draws its three charts; the risk chart has one bar series per
        // country compared (the world is in the table only).
        browser.open(&format!("{base}/countries/CN?compare=US,FR"));
        let drawn = browser.wait_for(
            "const counts = ['chart-series', 'chart-ports', 'chart-risks'].map(id => {
               const el = document.getElementById(id);
               const chart = el && window.echarts && echarts.getInstanceByDom(el);
               if (!chart || !el.querySelector('canvas')) return 0;
               return chart.getOption().series.length;
             });
             return counts.every(n => n > 0) ? counts : null;",
        );
        assert_eq!(drawn, serde_json::json!([4, 1, 3]), "series per chart");
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_page_draws_the_observed_series_over_its_expected_band() {
    let mut f = fixture();
    let id = store_alert(
        &mut *f.store,
        "cert-a",
        greenwatch_model::access::Tlp::Clear,
        "Telnet surge",
        "2026-10-05T03:00:00Z",
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = f
        .app
        .clone()
        .into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    tokio::task::spawn_blocking(move || {
        let browser = Browser::start();
        browser.open(&format!("{base}/alerts/{id}"));
        // (name, points) of every series drawn, once the chart has a canvas.
        let drawn = browser.wait_for(
            "const el = document.getElementById('chart-series-0');
             const chart = el && window.echarts && echarts.getInstanceByDom(el);
             if (!chart || !el.querySelector('canvas')) return null;
             return chart.getOption().series.map(s => [s.name, s.data.map(p => p[1])]);",
        );
        let drawn: Vec<(String, Vec<f64>)> = serde_json::from_value(drawn).unwrap();
        let values = |name: &str| {
            drawn
                .iter()
                .find(|(n, _)| n == name)
                .unwrap_or_else(|| panic!("no {name} series in {drawn:?}"))
                .1
                .clone()
        };
        assert_eq!(values("observed"), [100.0, 100.0, 100.0, 900.0]);
        assert_eq!(values("expected"), [100.0; 4]);
        // The band is stacked: the lower bound, then the interval's width on top of it.
        assert_eq!(values("lower"), [80.0; 4]);
        assert_eq!(values("interval"), [40.0; 4]);
        // The legend has its own space: it overlaps neither axis (with its labels) nor the
        // plotting area.
        let boxes = browser.script(
            "const chart = echarts.getInstanceByDom(document.getElementById('chart-series-0'));
             const model = chart.getModel();
             const box = component => {
               const group = chart.getViewOfComponentModel(component).group;
               const rect = group.getBoundingRect().clone();
               const m = group.getComputedTransform();
               if (m) rect.applyTransform(m);
               return [rect.x, rect.y, rect.x + rect.width, rect.y + rect.height];
             };
             const grid = model.getComponent('grid').coordinateSystem.getRect();
             return {
               legend: box(model.getComponent('legend')),
               x: box(model.getComponent('xAxis')),
               y: box(model.getComponent('yAxis')),
               grid: [grid.x, grid.y, grid.x + grid.width, grid.y + grid.height],
             };",
        );
        let rect =
            |name: &str| -> [f64; 4] { serde_json::from_value(boxes[name].clone()).unwrap() };
        let overlap =
            |a: [f64; 4], b: [f64; 4]| a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];
        let legend = rect("legend");
        for other in ["x", "y", "grid"] {
            assert!(
                !overlap(legend, rect(other)),
                "the legend overlaps {other}: {boxes}"
            );
        }
    })
    .await
    .unwrap();
}

/// The widest element of the page that sticks out of the viewport: (scrollWidth, innerWidth,
/// the tags and classes of elements past the right edge that are not inside a scrolling box).
const OVERFLOW: &str = "const vw = window.innerWidth;
  const scrolls = el => { for (let p = el.parentElement; p; p = p.parentElement) {
    const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll' || o === 'hidden') return true; }
    return false; };
  const out = [...document.querySelectorAll('body *')]
    .filter(el => el.getBoundingClientRect().right > vw + 0.5 && !scrolls(el))
    .slice(0, 12)
    .map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && el.className.baseVal === undefined ? '.' + el.className : '')
      + ' ' + Math.round(el.getBoundingClientRect().right));
  return [document.documentElement.scrollWidth, vw, out];";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_fit_a_phone_screen_without_scrolling_sideways() {
    let f = fixture();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = f
        .app
        .clone()
        .into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    tokio::task::spawn_blocking(move || {
        let browser = Browser::start();
        // A 375 px wide phone (an iPhone's CSS width), through the DevTools protocol: a
        // desktop window cannot be made that narrow.
        browser.call(
            "POST",
            "/goog/cdp/execute",
            Some(serde_json::json!({
                "cmd": "Emulation.setDeviceMetricsOverride",
                "params": {"width": 375, "height": 812, "deviceScaleFactor": 1, "mobile": false}
            })),
        );
        for path in [
            "/",
            "/countries",
            "/countries/CN",
            "/ports",
            "/ports/tcp/23",
            "/asns",
            "/asns/64502",
            "/risks/openrecursivedns",
            "/method",
            "/api/docs",
        ] {
            browser.open(&format!("{base}{path}"));
            if path == "/" {
                browser.chart_points();
            }
            let measured = browser.script(OVERFLOW);
            let (scroll, inner) = (measured[0].as_u64().unwrap(), measured[1].as_u64().unwrap());
            assert_eq!(inner, 375, "the viewport is a phone's");
            assert!(
                scroll <= inner,
                "{path} scrolls sideways at {inner} px: {scroll} px wide, past the edge: {}",
                measured[2]
            );
        }
    })
    .await
    .unwrap();
}
