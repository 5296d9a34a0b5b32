//! Sending batches to the collector over HTTPS (rustls with the ring provider, trusting the
//! collector's own certificate or CA when given). Knows HTTP; knows nothing of the spool.

use greenwatch_model::sensor::SensorHealth;
use greenwatch_model::Timestamp;
use serde::Deserialize;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Request header carrying the sensor's health report (JSON) with each batch.
pub const HEALTH_HEADER: &str = "x-greenwatch-sensor-health";

/// The collector's answer to an accepted batch.
#[derive(Clone, Debug, Deserialize)]
pub struct Ack {
    pub batch: String,
    /// `stored`, or `duplicate` when the collector already had it.
    pub status: String,
    /// The collector's clock when it answered.
    pub received_at: Timestamp,
}

/// What went wrong sending one batch.
#[derive(Debug, thiserror::Error)]
pub enum ShipError {
    /// The collector could not be reached or failed: keep the batch and retry later.
    #[error("collector unreachable: {0}")]
    Unreachable(String),
    /// The collector refused the token: retry later (an operator may fix it), but loudly.
    #[error("collector refused the sensor token ({status}): {message}")]
    Unauthorised { status: u16, message: String },
    /// The collector refused this batch for good (malformed, oversized).
    #[error("collector refused the batch ({status}): {message}")]
    Refused { status: u16, message: String },
}

/// One collector endpoint and the sensor's token.
pub struct Collector {
    agent: ureq::Agent,
    url: String,
    authorization: String,
}

impl Collector {
    /// `base_url` is the portal's address (`https://collector.example:8443`); `ca_file` a PEM
    /// certificate (the collector's self-signed one, or its CA) to trust instead of the
    /// public roots.
    /// The address must be `https://`: the token and the batches never travel in clear.
    pub fn new(base_url: &str, token: &str, ca_file: Option<&Path>) -> anyhow::Result<Collector> {
        anyhow::ensure!(
            base_url
                .get(..8)
                .is_some_and(|s| s.eq_ignore_ascii_case("https://")),
            "collector {base_url}: the sensor ships batches and its token only over HTTPS \
             (https://host:port; `greenwatch serve --tls-self-signed` makes a certificate)"
        );
        let mut tls = ureq::tls::TlsConfig::builder();
        if let Some(path) = ca_file {
            let pem = std::fs::read(path)
                .map_err(|e| anyhow::anyhow!("reading CA file {}: {e}", path.display()))?;
            let certs: Vec<ureq::tls::Certificate<'static>> = ureq::tls::parse_pem(&pem)
                .filter_map(|item| match item {
                    Ok(ureq::tls::PemItem::Certificate(c)) => Some(Ok(c)),
                    Ok(_) => None,
                    Err(e) => Some(Err(e)),
                })
                .collect::<Result<_, _>>()
                .map_err(|e| anyhow::anyhow!("CA file {}: {e}", path.display()))?;
            anyhow::ensure!(
                !certs.is_empty(),
                "CA file {} holds no certificate",
                path.display()
            );
            tls = tls.root_certs(ureq::tls::RootCerts::Specific(Arc::new(certs)));
        }
        let config = ureq::Agent::config_builder()
            .tls_config(tls.build())
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(5)))
            .timeout_global(Some(Duration::from_secs(60)))
            .build();
        Ok(Collector {
            agent: config.into(),
            url: format!("{}/api/v1/sensor/batches", base_url.trim_end_matches('/')),
            authorization: format!("Bearer {}", token.trim()),
        })
    }

    /// Sends one encoded batch; returns the acknowledgement and the clock offset
    /// (collector minus sensor, ms) measured on the exchange.
    pub fn send(&self, batch: &[u8], health: &SensorHealth) -> Result<(Ack, i64), ShipError> {
        let health = serde_json::to_string(health).expect("health serialises");
        let sent = SystemTime::now();
        let response = self
            .agent
            .post(&self.url)
            .header("authorization", &self.authorization)
            .header("content-type", "application/octet-stream")
            .header(HEALTH_HEADER, &health)
            .send(batch);
        let mut response = response.map_err(|e| ShipError::Unreachable(e.to_string()))?;
        let received = SystemTime::now();
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .read_to_string()
            .map_err(|e| ShipError::Unreachable(format!("reading the answer: {e}")))?;
        match status {
            200..=299 => {
                let ack: Ack = serde_json::from_str(&body).map_err(|e| {
                    ShipError::Unreachable(format!("unexpected answer {body:?}: {e}"))
                })?;
                Ok((
                    ack.clone(),
                    clock_offset_ms(sent, received, ack.received_at),
                ))
            }
            401 | 403 => Err(ShipError::Unauthorised {
                status,
                message: problem_detail(&body),
            }),
            400 | 413 | 422 => Err(ShipError::Refused {
                status,
                message: problem_detail(&body),
            }),
            _ => Err(ShipError::Unreachable(format!(
                "status {status}: {}",
                problem_detail(&body)
            ))),
        }
    }
}

/// The `detail` of a problem+json answer, or the body itself.
fn problem_detail(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["detail"].as_str().map(str::to_string))
        .unwrap_or_else(|| body.chars().take(200).collect())
}

/// Collector clock minus sensor clock, taking the collector's stamp as made halfway through
/// the exchange.
fn clock_offset_ms(sent: SystemTime, received: SystemTime, collector: Timestamp) -> i64 {
    let micros = |t: SystemTime| {
        t.duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as i64)
    };
    let midpoint = (micros(sent) + micros(received)) / 2;
    (collector.0 - midpoint) / 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_offset_takes_the_midpoint_of_the_exchange() {
        let sent = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        let received = sent + Duration::from_millis(200);
        // The collector stamped 100 ms after the midpoint of its view: 2.5 s ahead.
        let collector = Timestamp((1000_i64 * 1000 + 100 + 2500) * 1000);
        assert_eq!(clock_offset_ms(sent, received, collector), 2500);
    }

    #[test]
    fn a_collector_in_clear_is_refused() {
        for url in [
            "http://collector.example:8080",
            "collector.example",
            "ftp://x",
        ] {
            let refused = Collector::new(url, "token", None).err().expect(url);
            assert!(refused.to_string().contains("only over HTTPS"), "{refused}");
        }
        assert!(Collector::new("HTTPS://collector.example:8443", "token", None).is_ok());
    }

    #[test]
    fn problem_details_are_shown_not_the_whole_json() {
        assert_eq!(
            problem_detail(r#"{"title":"Bad","detail":"bad magic"}"#),
            "bad magic"
        );
        assert_eq!(problem_detail("plain"), "plain");
    }
}
