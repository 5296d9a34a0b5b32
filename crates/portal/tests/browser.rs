//! The portal in a real browser: headless Chromium driven over WebDriver by chromedriver
//! (Debian packages `chromium` and `chromium-driver`; `.ci/run` installs them). Logs in through
//! the form, checks that every overview chart is drawn with data and that the analyst sees their
//! organisation's AMBER capture, uploads a capture through the upload form and sees it in the
//! charts, then opens a risk page's map and a country page; and draws an alert's chart with its band.

mod common;

use common::*;
use greenwatch_auth::hash_password;
use greenwatch_model::access::Role;
use greenwatch_model::account::Organisation;
use greenwatch_model::Timestamp;
use greenwatch_store::{AccountStore, NewUser};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const LOGIN: &str = "ana@cert-b.example";
const PASSWORD: &str = "a long enough password";
const CHARTS: [&str; 5] = [
    "chart-series",
    "chart-ports",
    "chart-countries",
    "chart-map",
    "chart-heatmap",
];

/// A chromedriver process and one browser session, ended on drop.
struct Browser {
    driver: Child,
    port: u16,
    session: String,
}

/// One WebDriver call (HTTP/1.1 over loopback, JSON in and out).
fn call(port: u16, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .map_err(|e| e.to_string())?;
    // chromedriver keeps connections open whatever the request says: read the headers, then
    // exactly Content-Length bytes.
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    let (head, mut payload) = loop {
        let n = stream.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection closed before the headers".into());
        }
        raw.extend_from_slice(&buf[..n]);
        if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&raw[..end]).into_owned();
            break (head, raw[end + 4..].to_vec());
        }
    };
    let length = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().to_string())
        })
        .and_then(|v| v.parse::<usize>().ok())
        .ok_or_else(|| format!("no Content-Length in {head}"))?;
    while payload.len() < length {
        let n = stream.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection closed inside the body".into());
        }
        payload.extend_from_slice(&buf[..n]);
    }
    let payload = String::from_utf8_lossy(&payload[..length]).into_owned();
    let value: Value = serde_json::from_str(&payload).map_err(|e| format!("{e}: {payload}"))?;
    if !head.starts_with("HTTP/1.1 200") {
        return Err(format!("{method} {path}: {head}: {value}"));
    }
    Ok(value["value"].clone())
}

impl Browser {
    fn start() -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver runs (Debian: apt-get install chromium chromium-driver; .ci/run installs them)");
        let deadline = Instant::now() + Duration::from_secs(20);
        while call(port, "GET", "/status", None).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1800"]}
        }}});
        let session = call(port, "POST", "/session", Some(caps)).expect("a browser session");
        Browser {
            driver,
            port,
            session: session["sessionId"].as_str().unwrap().to_string(),
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let path = format!("/session/{}{path}", self.session);
        call(self.port, method, &path, body).unwrap_or_else(|e| panic!("{e}"))
    }

    fn open(&self, url: &str) {
        self.call("POST", "/url", Some(json!({"url": url})));
    }

    fn url(&self) -> String {
        self.call("GET", "/url", None).as_str().unwrap().to_string()
    }

    fn script(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
    }

    fn element(&self, css: &str) -> String {
        let e = self.call(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        e.as_object()
            .unwrap()
            .values()
            .next()
            .unwrap()
            .as_str()
            .unwrap()
            .to_string()
    }

    fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css);
        self.call(
            "POST",
            &format!("/element/{id}/value"),
            Some(json!({"text": text})),
        );
    }

    fn click(&self, css: &str) {
        let id = self.element(css);
        self.call("POST", &format!("/element/{id}/click"), Some(json!({})));
    }

    /// Polls `script` until it returns something other than `null` (10 s at most).
    fn wait_for(&self, script: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let v = self.script(script);
            if !v.is_null() {
                return v;
            }
            assert!(Instant::now() < deadline, "timed out waiting for: {script}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Data points drawn per overview chart, once every chart has some.
    fn chart_points(&self) -> Vec<u64> {
        let ids = serde_json::to_string(&CHARTS).unwrap();
        let script = format!(
            "const counts = {ids}.map(id => {{
               const el = document.getElementById(id);
               const chart = el && window.echarts && echarts.getInstanceByDom(el);
               if (!chart || !el.querySelector('canvas')) return 0;
               return chart.getOption().series.reduce((n, s) => n + (s.data || []).length, 0);
             }});
             return counts.every(n => n > 0) ? counts : null;"
        );
        serde_json::from_value(self.wait_for(&script)).unwrap()
    }

    fn island_packets(&self) -> u64 {
        let v = self.script("return JSON.parse(document.getElementById('overview-data').textContent).totals.packets;");
        v.as_u64().unwrap()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = call(
            self.port,
            "DELETE",
            &format!("/session/{}", self.session),
            None,
        );
        let _ = self.driver.kill();
        let _ = self.driver.wait();
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

        // Upload a capture through the form: the script shows the upload, then the job page
        // reloads itself until the ingest is done.
        browser.open(&format!("{base}/upload"));
        browser.type_into("input[name=file]", upload_path.to_str().unwrap());
        browser.click("button[type=submit]");
        let state = browser.wait_for(
            "const job = document.getElementById('upload-job');
             return job && job.dataset.state !== 'ingesting' ? job.dataset.state : null;",
        );
        assert_eq!(state, "ingested");
        browser.open(&format!("{base}/"));
        browser.chart_points();
        assert_eq!(browser.island_packets(), public + amber + uploaded, "the upload is in the charts");

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
        &mut f.store,
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
    })
    .await
    .unwrap();
}
