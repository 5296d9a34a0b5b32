//! Webhooks: the alert as JSON, POSTed with an HMAC-SHA256 signature of the exact body bytes
//! so the receiver can check it came from us and was not altered.

use crate::Channel;
use greenwatch_model::alert::Alert;
use hmac::{KeyInit, Mac};
use std::net::{IpAddr, ToSocketAddrs};

/// The header carrying `sha256=<hex HMAC-SHA256 of the body under the shared secret>`.
pub const SIGNATURE_HEADER: &str = "X-Greenwatch-Signature";

pub struct Webhook {
    pub url: String,
    /// Shared with the receiver; never logged.
    pub secret: String,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// `sha256=<hex>` of `body` under `secret`.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

impl Channel for Webhook {
    fn name(&self) -> String {
        format!("webhook:{}", self.url)
    }

    fn send(&self, alert: &Alert) -> Result<(), String> {
        let body = serde_json::to_vec(alert).map_err(|e| e.to_string())?;
        let response = ureq::post(&self.url)
            .header("Content-Type", "application/json")
            .header(SIGNATURE_HEADER, &signature(self.secret.as_bytes(), &body))
            .config()
            .http_status_as_error(false)
            .timeout_global(Some(std::time::Duration::from_secs(10)))
            .build()
            .send(&body[..])
            .map_err(|e| format!("POST {}: {e}", self.url))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("POST {}: HTTP {status}", self.url))
        }
    }
}

/// Whether `ip` is an address of the server's own networks rather than of the Internet:
/// loopback, private (RFC 1918, unique local), shared (RFC 6598), link-local, unspecified,
/// broadcast or multicast.
fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || (a == 100 && (64..128).contains(&b))
                || a == 0
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_internal(IpAddr::V4(v4)),
            None => {
                let first = v6.segments()[0];
                v6.is_loopback()
                    || v6.is_unspecified()
                    || v6.is_multicast()
                    || (first & 0xfe00) == 0xfc00
                    || (first & 0xffc0) == 0xfe80
            }
        },
    }
}

/// Why a webhook destination is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DestinationError {
    #[error("{url}: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("{url}: resolving {host}: {reason}")]
    Unresolved {
        url: String,
        host: String,
        reason: String,
    },
    #[error(
        "{url}: {host} is the internal address {ip}; webhooks go to Internet addresses only \
         unless serve runs with --webhooks-to-internal"
    )]
    Internal {
        url: String,
        host: String,
        ip: IpAddr,
    },
}

/// The host and port of an `http://` or `https://` URL.
fn host_and_port(url: &str) -> Result<(String, u16), DestinationError> {
    let bad = |reason: &str| DestinationError::BadUrl {
        url: url.to_string(),
        reason: reason.to_string(),
    };
    let (rest, default_port) = if let Some(rest) = url.strip_prefix("https://") {
        (rest, 443)
    } else if let Some(rest) = url.strip_prefix("http://") {
        (rest, 80)
    } else {
        return Err(bad("not an http:// or https:// URL"));
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority.rsplit('@').next().unwrap_or_default();
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (host, after) = v6
                .split_once(']')
                .ok_or_else(|| bad("unclosed [ in the host"))?;
            (host, after.strip_prefix(':'))
        }
        None => match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    if host.is_empty() {
        return Err(bad("no host"));
    }
    let port = match port {
        Some(p) => p.parse().map_err(|_| bad(&format!("bad port {p}")))?,
        None => default_port,
    };
    Ok((host.to_string(), port))
}

/// Refuses a webhook URL whose host is, or resolves to, an internal address, so that a
/// member's subscription cannot make the server POST into the networks it stands in
/// (server-side request forgery). Runs before every POST, when the name is resolved anew.
pub fn check_internet_destination(url: &str) -> Result<(), DestinationError> {
    let (host, port) = host_and_port(url)?;
    let unresolved = |reason: String| DestinationError::Unresolved {
        url: url.to_string(),
        host: host.clone(),
        reason,
    };
    let addrs: Vec<IpAddr> = (host.as_str(), port)
        .to_socket_addrs()
        .map_err(|e| unresolved(e.to_string()))?
        .map(|a| a.ip())
        .collect();
    match addrs.iter().find(|ip| is_internal(**ip)) {
        Some(&ip) => Err(DestinationError::Internal {
            url: url.to_string(),
            host,
            ip,
        }),
        None if addrs.is_empty() => Err(unresolved("no address".into())),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_destinations_are_refused_by_address_and_by_name() {
        for url in [
            "http://127.0.0.1:8080/hook",
            "http://localhost/hook",
            "https://10.1.2.3/x",
            "http://172.16.0.1/",
            "http://192.168.1.1",
            "http://169.254.169.254/latest/meta-data",
            "http://100.64.0.1/",
            "http://0.0.0.0/",
            "http://[::1]:9000/hook",
            "http://[fd00::1]/",
            "http://[fe80::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://user@127.0.0.1/",
        ] {
            let refused = check_internet_destination(url).unwrap_err();
            assert!(
                matches!(refused, DestinationError::Internal { .. }),
                "{url}: {refused}"
            );
        }
        for url in [
            "ftp://example.org/",
            "http://[::1/",
            "http://1.1.1.1:99999/",
            "http:///x",
        ] {
            assert!(
                matches!(
                    check_internet_destination(url),
                    Err(DestinationError::BadUrl { .. })
                ),
                "{url}"
            );
        }
    }

    #[test]
    fn internet_addresses_pass() {
        for url in [
            "https://8.8.8.8/hook",
            "http://[2001:4860:4860::8888]:8443/x?y",
            "https://93.184.216.34",
        ] {
            assert_eq!(check_internet_destination(url), Ok(()), "{url}");
        }
    }

    #[test]
    fn signature_is_rfc_4231_hmac_sha256() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let hook = Webhook {
            url: "http://127.0.0.1:9/hook".into(),
            secret: "s3cret-value".into(),
        };
        assert!(!format!("{hook:?}").contains("s3cret"));
        assert!(!hook.name().contains("s3cret"));
    }
}
