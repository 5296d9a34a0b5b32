//! Webhooks: the alert as JSON, POSTed with an HMAC-SHA256 signature of the exact body bytes
//! so the receiver can check it came from us and was not altered.

use crate::Channel;
use greenwatch_model::alert::Alert;
use hmac::{KeyInit, Mac};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::time::Duration;
use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

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

/// How long connecting to a receiver may take: a black-holed address fails fast instead of
/// holding its subscription's round.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one POST may take in all, from resolving the name to the end of the answer.
const POST_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether a webhook may go to an internal address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Destinations {
    /// Internet addresses only: a subscription a member made.
    InternetOnly,
    /// Any address: the operator's own webhook, or `serve --webhooks-to-internal`.
    Any,
}

impl Webhook {
    /// POSTs `alert` once. The name is resolved once, every address it resolves to is checked
    /// (unless `destinations` allows internal ones), and the connection goes to one of those
    /// very addresses, so a second, different answer of DNS (rebinding) is never asked for.
    /// A redirect is not followed: it would lead to an address nobody checked.
    pub(crate) fn post(&self, alert: &Alert, destinations: Destinations) -> Result<(), String> {
        let body = serde_json::to_vec(alert).map_err(|e| e.to_string())?;
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            // A proxy would resolve the name itself, after our check.
            .proxy(None)
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_global(Some(POST_TIMEOUT))
            .build();
        let agent = ureq::Agent::with_parts(
            config,
            DefaultConnector::new(),
            CheckedResolver { destinations },
        );
        let response = agent
            .post(&self.url)
            .header("Content-Type", "application/json")
            .header(SIGNATURE_HEADER, &signature(self.secret.as_bytes(), &body))
            .send(&body[..])
            .map_err(|e| match refusal(&e) {
                Some(refused) => refused.to_string(),
                None => format!("POST {}: {e}", self.url),
            })?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else if status.is_redirection() {
            let location = response
                .headers()
                .get("location")
                .map_or("nowhere".into(), |l| {
                    String::from_utf8_lossy(l.as_bytes()).into_owned()
                });
            Err(format!(
                "POST {}: HTTP {status}, a redirect to {location}; webhooks do not follow redirects",
                self.url
            ))
        } else {
            Err(format!("POST {}: HTTP {status}", self.url))
        }
    }
}

impl Channel for Webhook {
    fn name(&self) -> String {
        format!("webhook:{}", self.url)
    }

    /// The operator's own webhook (`alert deliver --webhook`): any address.
    fn send(&self, alert: &Alert) -> Result<(), String> {
        self.post(alert, Destinations::Any)
    }
}

/// ureq's name resolution for webhooks: resolves once, refuses the name if any of its
/// addresses is internal (when only Internet destinations are allowed), and hands ureq the
/// addresses it checked, which are the ones it connects to. TLS SNI and the Host header still
/// come from the URL.
#[derive(Debug)]
struct CheckedResolver {
    destinations: Destinations,
}

impl Resolver for CheckedResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        _config: &ureq::config::Config,
        _timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let url = uri.to_string();
        let (Some(authority), Some(scheme)) = (uri.authority(), uri.scheme_str()) else {
            return Err(ureq::Error::BadUri(format!("{url}: no host")));
        };
        let port = match (authority.port_u16(), scheme) {
            (Some(port), _) => port,
            (None, "https") => 443,
            (None, _) => 80,
        };
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        let addrs = resolve_checked(&url, host, port, self.destinations)
            .map_err(|e| ureq::Error::Io(std::io::Error::other(e)))?;
        let mut resolved = self.empty();
        // ureq keeps at most 16 addresses; all of them were checked.
        for addr in addrs {
            if resolved.try_push(addr).is_err() {
                break;
            }
        }
        Ok(resolved)
    }
}

/// The destination refusal inside a ureq error, if that is what stopped the POST.
fn refusal(error: &ureq::Error) -> Option<&DestinationError> {
    match error {
        ureq::Error::Io(e) => e.get_ref()?.downcast_ref(),
        _ => None,
    }
}

/// The IPv4 address an IPv6 address carries where it is only a way of reaching that IPv4
/// address: IPv4-mapped (`::ffff:0:0/96`), IPv4-compatible (`::/96`, deprecated), NAT64
/// (`64:ff9b::/96`, RFC 6052) and 6to4 (`2002::/16`, RFC 3056).
fn embedded_ipv4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = v6.segments();
    let low = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, ..] | [0, 0, 0, 0, 0, 0, ..] => Some(low),
        [0x64, 0xff9b, 0, 0, 0, 0, ..] => Some(low),
        [0x2002, hi, lo, ..] => Some(Ipv4Addr::new(
            (hi >> 8) as u8,
            hi as u8,
            (lo >> 8) as u8,
            lo as u8,
        )),
        _ => None,
    }
}

/// Whether `ip` is an address of the server's own networks rather than of the Internet:
/// loopback, private (RFC 1918, unique local, the deprecated IPv6 site-local), shared
/// (RFC 6598), link-local, unspecified, broadcast, multicast, IETF protocol assignments
/// (192.0.0.0/24) and benchmarking (198.18.0.0/15), also when written inside an IPv6 address
/// that leads to it ([`embedded_ipv4`]).
fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || (a == 100 && (64..128).contains(&b))
                || a == 0
                || (a, b, c) == (192, 0, 0)
                || (a == 198 && (b & 0xfe) == 18)
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || (first & 0xffc0) == 0xfec0
                // Local-use NAT64 (RFC 8215) translates into the operator's own networks.
                || v6.segments()[..3] == [0x64, 0xff9b, 1]
                || embedded_ipv4(v6).is_some_and(|v4| is_internal(IpAddr::V4(v4)))
        }
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

/// Resolves `host` once and returns its addresses, refused if any of them is internal and
/// `destinations` allows Internet addresses only (one internal answer among public ones is
/// enough for a name to be refused: the connection may go to any of them).
fn resolve_checked(
    url: &str,
    host: &str,
    port: u16,
    destinations: Destinations,
) -> Result<Vec<SocketAddr>, DestinationError> {
    let unresolved = |reason: String| DestinationError::Unresolved {
        url: url.to_string(),
        host: host.to_string(),
        reason,
    };
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| unresolved(e.to_string()))?
        .collect();
    if addrs.is_empty() {
        return Err(unresolved("no address".into()));
    }
    if destinations == Destinations::InternetOnly {
        if let Some(addr) = addrs.iter().find(|a| is_internal(a.ip())) {
            return Err(DestinationError::Internal {
                url: url.to_string(),
                host: host.to_string(),
                ip: addr.ip(),
            });
        }
    }
    Ok(addrs)
}

/// Refuses a webhook URL whose host is, or resolves to, an internal address, so that a
/// member's subscription cannot make the server POST into the networks it stands in
/// (server-side request forgery). The subscription form asks when it is made; each POST
/// checks again, on the addresses it then connects to ([`Webhook::post`]).
pub fn check_internet_destination(url: &str) -> Result<(), DestinationError> {
    let (host, port) = host_and_port(url)?;
    resolve_checked(url, &host, port, Destinations::InternetOnly).map(drop)
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
            // IPv4-compatible, NAT64 and 6to4 forms of loopback and private addresses.
            "http://[::127.0.0.1]/",
            "http://[64:ff9b::7f00:1]/",
            "http://[64:ff9b::a00:1]/",
            "http://[64:ff9b:1::1]/",
            "http://[2002:7f00:1::1]/",
            "http://[2002:c0a8:101::1]/",
            "http://[fec0::1]/",
            "http://192.0.0.8/",
            "http://198.18.0.1/",
            "http://198.19.255.254/",
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
            // NAT64 and 6to4 forms of 8.8.8.8; the neighbours of the refused IPv4 ranges.
            "http://[64:ff9b::808:808]/",
            "http://[2002:808:808::1]/",
            "http://192.0.1.1/",
            "http://198.20.0.1/",
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
