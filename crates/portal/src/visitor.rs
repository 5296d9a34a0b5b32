//! Who is asking. Every handler takes a [`Visitor`]: the name the navigation bar shows and
//! the [`Viewer`] whose rights decide what data they see. Handlers that limit by client
//! address (logins) take a [`ClientAddress`].
//!
//! Hook for the members area (`crates/portal/src/auth/`, not built yet): its middleware checks
//! the session cookie or API token and inserts a `Visitor` into the request's extensions;
//! without one a request is anonymous (the public, TLP:CLEAR only). Nothing else changes in
//! the handlers.

use crate::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use greenwatch_model::access::{Tlp, Viewer};
use greenwatch_model::sensor::AddressBlock;
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Visitor {
    /// Shown in the navigation bar; `None` shows the "Log in" link.
    pub name: Option<String>,
    pub viewer: Viewer,
    /// A member looking at the public view (`/view`): `viewer` is the public's, the name and
    /// the way back stay.
    pub public_view: bool,
    /// The strictest TLP of the data this request's page shows (`marking.rs`), for its banner.
    pub marking: Option<Tlp>,
    /// The session's CSRF token, for the view switch in every page's header.
    pub csrf: Option<String>,
}

impl Visitor {
    pub fn anonymous() -> Visitor {
        Visitor {
            name: None,
            viewer: Viewer::Anonymous,
            public_view: false,
            marking: None,
            csrf: None,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Visitor {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Visitor>()
            .cloned()
            .unwrap_or_else(Visitor::anonymous))
    }
}

/// The address a request came from: the connection's peer or, when the peer is a trusted
/// reverse proxy, the address that proxy says it forwarded for (see [`TrustedProxies`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // Without connection info (a router called in process) every request is one client.
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
        Ok(ClientAddress(
            state.trusted_proxies().client_of(peer, &parts.headers),
        ))
    }
}

/// The reverse proxies whose `X-Forwarded-For` is believed (`serve --trusted-proxy`). Without
/// any, the header is ignored: anyone can write it. Behind them, the client is the right-most
/// address of the header that is not itself a trusted proxy: each proxy appends the address it
/// received from, so entries left of that are whatever the client chose to send.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Vec<AddressBlock>);

impl TrustedProxies {
    pub fn new(proxies: Vec<AddressBlock>) -> TrustedProxies {
        TrustedProxies(proxies)
    }

    fn trusts(&self, address: IpAddr) -> bool {
        self.0.iter().any(|block| {
            AddressBlock::containing(address, block.prefix_len).is_ok_and(|b| b == *block)
        })
    }

    /// The client behind a connection from `peer` with these headers.
    fn client_of(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.trusts(peer) {
            return peer;
        }
        let forwarded: Vec<&[u8]> = headers
            .get_all("x-forwarded-for")
            .iter()
            .flat_map(|value| value.as_bytes().split(|&b| b == b','))
            .collect();
        let mut client = peer;
        for entry in forwarded.iter().rev() {
            // An entry no proxy of ours would write: the nearest hop read is all we know.
            let Some(hop) = forwarded_address(entry) else {
                break;
            };
            client = hop;
            if !self.trusts(hop) {
                break;
            }
        }
        client
    }
}

/// One `X-Forwarded-For` entry: an address, perhaps with a port (`192.0.2.1:443`,
/// `[2001:db8::1]:443`).
fn forwarded_address(entry: &[u8]) -> Option<IpAddr> {
    let text = std::str::from_utf8(entry).ok()?.trim();
    let address = text
        .parse::<IpAddr>()
        .or_else(|_| text.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()?;
    Some(address.to_canonical())
}

/// A trusted proxy as `serve --trusted-proxy` takes it: an address (`192.0.2.10`) or a block
/// (`10.0.0.0/8`, `2001:db8::/32`).
pub fn trusted_proxy(text: &str) -> Result<AddressBlock, String> {
    if text.contains('/') {
        return text.parse();
    }
    let address: IpAddr = text
        .parse()
        .map_err(|_| format!("trusted proxy {text:?} is neither an IP address nor a block"))?;
    let full = if address.is_ipv4() { 32 } else { 128 };
    AddressBlock::containing(address, full)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::new(list.iter().map(|p| trusted_proxy(p).unwrap()).collect())
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        headers
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_counts_only_from_a_trusted_proxy() {
        let headers = forwarded(&["198.51.100.7"]);
        let peer = ip("203.0.113.9");
        assert_eq!(TrustedProxies::default().client_of(peer, &headers), peer);
        assert_eq!(proxies(&["10.0.0.0/8"]).client_of(peer, &headers), peer);
        let proxy = ip("10.1.2.3");
        assert_eq!(
            proxies(&["10.0.0.0/8"]).client_of(proxy, &headers),
            ip("198.51.100.7")
        );
        // No header from a trusted proxy: the proxy itself is the client.
        assert_eq!(
            proxies(&["10.0.0.0/8"]).client_of(proxy, &HeaderMap::new()),
            proxy
        );
    }

    #[test]
    fn the_client_is_the_right_most_entry_that_is_no_trusted_proxy() {
        let chain = proxies(&["10.0.0.1", "192.0.2.0/24", "2001:db8::/32"]);
        let proxy = ip("10.0.0.1");
        // The client wrote the left-most entries itself; the proxies appended the rest.
        let spoofed = forwarded(&["1.1.1.1, 198.51.100.7", "192.0.2.5"]);
        assert_eq!(chain.client_of(proxy, &spoofed), ip("198.51.100.7"));
        let v6 = forwarded(&["[2001:db9::1]:4711, 2001:db8::2"]);
        assert_eq!(chain.client_of(proxy, &v6), ip("2001:db9::1"));
        // Every hop trusted: the left-most is the client.
        assert_eq!(
            chain.client_of(proxy, &forwarded(&["192.0.2.1, 192.0.2.2"])),
            ip("192.0.2.1")
        );
        // Garbage stops the walk at the nearest hop read.
        let garbage = forwarded(&["198.51.100.7, unknown, 192.0.2.5"]);
        assert_eq!(chain.client_of(proxy, &garbage), ip("192.0.2.5"));
        // An IPv4 peer of an IPv6 listener is an IPv4 address.
        assert_eq!(
            chain.client_of(ip("::ffff:10.0.0.1"), &forwarded(&["198.51.100.7"])),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn trusted_proxies_are_addresses_or_blocks() {
        assert_eq!(
            trusted_proxy("10.0.0.1").unwrap().to_string(),
            "10.0.0.1/32"
        );
        assert_eq!(trusted_proxy("::1").unwrap().to_string(), "::1/128");
        assert_eq!(
            trusted_proxy("10.0.0.0/8").unwrap().to_string(),
            "10.0.0.0/8"
        );
        assert!(trusted_proxy("10.0.0.1/8").is_err(), "host bits set");
        assert!(trusted_proxy("proxy.example").is_err());
    }
}
