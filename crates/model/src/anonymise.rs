//! Prefix-preserving address anonymisation (Crypto-PAn, Xu, Fan, Ammar and Moon, ICNP 2002),
//! keyed per deployment: two addresses sharing a k-bit prefix map to two addresses sharing a
//! k-bit prefix, so network structure survives while the networks themselves do not.
//! `docs/anonymisation.md` says what is anonymised for whom, and why.
//!
//! This module only computes; the key comes from the caller (the data directory holds it).

use crate::access::{Label, Tlp, Viewer};
use crate::alert::{Alert, NewAlert};
use crate::sensor::AddressBlock;
use aes::cipher::{BlockEncrypt, KeyInit};
use aes::Aes128;
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;

/// A Crypto-PAn key: 16 bytes of AES-128 key, then 16 bytes from which the pad is made.
pub const KEY_LEN: usize = 32;

/// The keyed anonymiser. IPv4 maps to IPv4, IPv6 to IPv6, one to one.
#[derive(Clone)]
pub struct CryptoPan {
    cipher: Aes128,
    /// AES of the key's second half: the bits that fill each block after the address prefix.
    pad: u128,
}

impl CryptoPan {
    pub fn new(key: &[u8; KEY_LEN]) -> CryptoPan {
        let cipher = Aes128::new(key[..16].into());
        let mut pad = aes::Block::clone_from_slice(&key[16..]);
        cipher.encrypt_block(&mut pad);
        CryptoPan {
            cipher,
            pad: u128::from_be_bytes(pad.into()),
        }
    }

    pub fn anonymise(&self, addr: IpAddr) -> IpAddr {
        match addr {
            IpAddr::V4(a) => {
                let bits = (u32::from(a) as u128) << 96;
                IpAddr::V4(((self.flip_mask(bits, 32) >> 96) as u32 ^ u32::from(a)).into())
            }
            IpAddr::V6(a) => {
                let bits = u128::from(a);
                IpAddr::V6((self.flip_mask(bits, 128) ^ bits).into())
            }
        }
    }

    /// The block's network anonymised, with the same prefix length: every address of the
    /// block anonymises into the anonymised block.
    pub fn anonymise_block(&self, block: AddressBlock) -> AddressBlock {
        AddressBlock::containing(self.anonymise(block.network), block.prefix_len)
            .expect("the prefix length was valid for this address family")
    }

    /// The address whose image is `image`: the mapping is one to one, and bit i of the mask
    /// depends only on the bits before it, so the original is recovered bit by bit. The
    /// portal uses it to find the source a viewer sees as an anonymised address (whoever
    /// holds the key can reverse the mapping anyway: `docs/anonymisation.md`).
    pub fn deanonymise(&self, image: IpAddr) -> IpAddr {
        match image {
            IpAddr::V4(a) => {
                let bits = (u32::from(a) as u128) << 96;
                IpAddr::V4(((self.invert(bits, 32) >> 96) as u32).into())
            }
            IpAddr::V6(a) => IpAddr::V6(self.invert(u128::from(a), 128).into()),
        }
    }

    /// Bit i of the mask (from the top): the first bit of AES(first i bits of `addr`, then
    /// the pad's bits from i on); `addr` is left-aligned in 128 bits.
    fn mask_bit(&self, addr: u128, i: u32) -> u128 {
        let keep = if i == 0 { 0 } else { !0u128 << (128 - i) };
        let mut block = aes::Block::from((addr & keep | self.pad & !keep).to_be_bytes());
        self.cipher.encrypt_block(&mut block);
        ((block[0] >> 7) as u128) << (127 - i)
    }

    /// The mask of `addr`, `len` bits long: the image is `addr` XOR the mask.
    fn flip_mask(&self, addr: u128, len: u32) -> u128 {
        (0..len).fold(0, |mask, i| mask | self.mask_bit(addr, i))
    }

    /// The inverse of XOR with [`CryptoPan::flip_mask`].
    fn invert(&self, image: u128, len: u32) -> u128 {
        (0..len).fold(0, |addr, i| {
            addr | (image ^ self.mask_bit(addr, i)) & (1u128 << (127 - i))
        })
    }
}

/// Which addresses of a dataset a viewer sees anonymised. Made only by
/// [`Disclosure::for_viewer`] (and combined with [`Disclosure::strictest`]), and the only
/// maker of [`Shown`] addresses: whatever holds a `Shown` address has applied the rule.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Disclosure {
    /// The sensor's own address block (where the darknet is).
    sensor: bool,
    /// The sources it observed (scanners, DoS victims).
    sources: bool,
}

impl Disclosure {
    /// The owner organisation and the local operator see everything. Anyone else sees the
    /// sensor's block anonymised (a known darknet is a darknet scanners avoid), and the
    /// sources anonymised when the data's TLP lets it travel widely (CLEAR, GREEN): addresses
    /// of hosts are personal data in many jurisdictions and the wide audience does not need
    /// them to act.
    pub fn for_viewer(viewer: &Viewer, label: &Label) -> Disclosure {
        let outsider = match viewer {
            Viewer::Local => false,
            Viewer::User { org, .. } | Viewer::OwnData { org } => *org != label.owner,
            Viewer::Anonymous => true,
        };
        Disclosure {
            sensor: outsider,
            sources: outsider && matches!(label.tlp, Tlp::Clear | Tlp::Green),
        }
    }

    /// For a row merged from several datasets (one DoS victim seen in two captures): what
    /// either would anonymise, so merging never shows what one of them hides.
    pub fn strictest(self, other: Disclosure) -> Disclosure {
        Disclosure {
            sensor: self.sensor || other.sensor,
            sources: self.sources || other.sources,
        }
    }

    pub fn anonymises_sensor(self) -> bool {
        self.sensor
    }

    pub fn anonymises_sources(self) -> bool {
        self.sources
    }

    /// An observed source (scanner, DoS victim) as this viewer may see it.
    pub fn source(self, pan: &CryptoPan, addr: IpAddr) -> Shown<IpAddr> {
        Shown {
            value: if self.sources {
                pan.anonymise(addr)
            } else {
                addr
            },
            anonymised: self.sources,
        }
    }

    /// A sensor's address block as this viewer may see it.
    pub fn sensor_block(self, pan: &CryptoPan, block: AddressBlock) -> Shown<AddressBlock> {
        Shown {
            value: if self.sensor {
                pan.anonymise_block(block)
            } else {
                block
            },
            anonymised: self.sensor,
        }
    }

    /// `alert` as this viewer may see it: when sources are anonymised, every source its
    /// evidence names is, wherever the alert names it (contributors, title, summary). The
    /// text of an alert written by hand (no evidence) is its author's and stays as written.
    pub fn alert(self, pan: &CryptoPan, mut alert: NewAlert) -> NewAlert {
        let Some(evidence) = alert.evidence.as_mut().filter(|_| self.sources) else {
            return alert;
        };
        let mut images = HashMap::new();
        for source in &mut evidence.explanation.sources {
            if let Ok(addr) = source.name.parse::<IpAddr>() {
                let image = pan.anonymise(addr);
                images.insert(addr, image);
                source.name = image.to_string();
            }
        }
        alert.title = replace_addresses(&alert.title, &images);
        alert.summary = replace_addresses(&alert.summary, &images);
        alert
    }
}

/// A stored alert as `viewer` may see it: the sources it names shown as
/// [`Disclosure::for_viewer`] says for its label (pages, feeds, deliveries and reports alike).
pub fn alert_as_seen(viewer: &Viewer, pan: &CryptoPan, stored: Alert) -> Alert {
    let disclosure = Disclosure::for_viewer(viewer, &stored.alert.label);
    Alert {
        id: stored.id,
        alert: disclosure.alert(pan, stored.alert),
        triage: stored.triage,
    }
}

/// `text` with every address literal that `images` maps replaced by its image. A literal is
/// a run of hex digits, `.` and `:` that parses as an address once a sentence's trailing `.`
/// or `:` is left off.
fn replace_addresses(text: &str, images: &HashMap<IpAddr, IpAddr>) -> String {
    let is_part = |c: char| c.is_ascii_hexdigit() || c == '.' || c == ':';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(is_part) {
        out.push_str(&rest[..start]);
        let run = &rest[start..];
        let end = run.find(|c: char| !is_part(c)).unwrap_or(run.len());
        let token = &run[..end];
        let literal = token.trim_end_matches(['.', ':']);
        match literal.parse::<IpAddr>().ok().and_then(|a| images.get(&a)) {
            Some(image) => {
                out.push_str(&image.to_string());
                out.push_str(&token[literal.len()..]);
            }
            None => out.push_str(token),
        }
        rest = &run[end..];
    }
    out.push_str(rest);
    out
}

/// An address (or address block) as one viewer may see it: the stored one, or its
/// anonymised image where the viewer's [`Disclosure`] says so. Only a `Disclosure` makes one;
/// it serialises and displays as the address alone.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Shown<T> {
    value: T,
    anonymised: bool,
}

impl<T> Shown<T> {
    pub fn value(&self) -> &T {
        &self.value
    }

    pub fn anonymised(&self) -> bool {
        self.anonymised
    }
}

impl<T: Serialize> Serialize for Shown<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(s)
    }
}

impl<T: fmt::Display> fmt::Display for Shown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Role;

    fn key(text: &[u8; 32]) -> CryptoPan {
        CryptoPan::new(text)
    }

    #[test]
    fn deanonymise_inverts_anonymise() {
        let pan = key(b"32-char-str-for-AES-key-and-pad.");
        for text in [
            "192.0.2.1",
            "0.0.0.0",
            "255.255.255.255",
            "2001:db8::7",
            "::1",
        ] {
            let addr: IpAddr = text.parse().unwrap();
            assert_eq!(pan.deanonymise(pan.anonymise(addr)), addr, "{text}");
            assert_eq!(pan.anonymise(pan.deanonymise(addr)), addr, "{text}");
        }
        assert_eq!(
            pan.deanonymise("192.0.125.244".parse().unwrap()),
            "192.0.2.1".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn matches_the_published_example_of_another_implementation() {
        // yacryptopan's documented example (same algorithm, independent code).
        let pan = key(b"32-char-str-for-AES-key-and-pad.");
        assert_eq!(
            pan.anonymise("192.0.2.1".parse().unwrap()),
            "192.0.125.244".parse::<IpAddr>().unwrap()
        );
    }

    fn common_prefix(a: u128, b: u128) -> u32 {
        (a ^ b).leading_zeros()
    }

    fn bits(addr: IpAddr) -> u128 {
        match addr {
            IpAddr::V4(a) => (u32::from(a) as u128) << 96,
            IpAddr::V6(a) => u128::from(a),
        }
    }

    #[test]
    fn shared_prefixes_are_preserved_exactly_and_the_mapping_is_one_to_one() {
        let pan = key(b"another deployment key, 32 bytes");
        let addrs: Vec<IpAddr> = (0..400u32)
            .map(|i| IpAddr::V4((0xC633_6400 ^ i.wrapping_mul(0x9E37_79B9) >> (i % 24)).into()))
            .chain((0..100u128).map(|i| IpAddr::V6(((0x2001_0db8u128 << 96) | (i * 7919)).into())))
            .collect();
        let anon: Vec<IpAddr> = addrs.iter().map(|a| pan.anonymise(*a)).collect();
        for (i, (a, x)) in addrs.iter().zip(&anon).enumerate() {
            assert_eq!(a.is_ipv4(), x.is_ipv4());
            for (b, y) in addrs.iter().zip(&anon).skip(i + 1) {
                if a.is_ipv4() != b.is_ipv4() {
                    continue;
                }
                assert_eq!(
                    common_prefix(bits(*a), bits(*b)),
                    common_prefix(bits(*x), bits(*y)),
                    "{a} {b} -> {x} {y}"
                );
            }
        }
        let distinct: std::collections::HashSet<_> = anon.iter().collect();
        let originals: std::collections::HashSet<_> = addrs.iter().collect();
        assert_eq!(distinct.len(), originals.len());
        assert_ne!(anon[0], addrs[0]);
    }

    #[test]
    fn a_block_anonymises_to_the_block_of_its_anonymised_addresses() {
        let pan = key(b"another deployment key, 32 bytes");
        let block: AddressBlock = "198.51.100.0/24".parse().unwrap();
        let anon = pan.anonymise_block(block);
        let host = pan.anonymise("198.51.100.77".parse().unwrap());
        assert_eq!(AddressBlock::containing(host, 24).unwrap(), anon);
        assert_ne!(anon, block);
        let other_key = key(b"a different deployment's key....");
        assert_ne!(other_key.anonymise_block(block), anon);
    }

    #[test]
    fn only_outsiders_see_anonymised_addresses_and_sources_only_when_widely_shared() {
        let label = |tlp| Label {
            owner: "cert-jp".into(),
            tlp,
        };
        let member = |org: &str| Viewer::User {
            org: org.into(),
            role: Role::Analyst,
        };
        for tlp in Tlp::ALL {
            let owner = Disclosure::for_viewer(&member("cert-jp"), &label(tlp));
            assert!(!owner.anonymises_sensor() && !owner.anonymises_sources());
            let local = Disclosure::for_viewer(&Viewer::Local, &label(tlp));
            assert!(!local.anonymises_sensor() && !local.anonymises_sources());
            for outsider in [member("cert-kr"), Viewer::Anonymous] {
                let d = Disclosure::for_viewer(&outsider, &label(tlp));
                assert!(d.anonymises_sensor());
                assert_eq!(
                    d.anonymises_sources(),
                    matches!(tlp, Tlp::Clear | Tlp::Green)
                );
            }
        }
    }

    #[test]
    fn shown_addresses_are_anonymised_exactly_as_the_disclosure_says() {
        let pan = key(b"another deployment key, 32 bytes");
        let clear = Label {
            owner: "cert-jp".into(),
            tlp: Tlp::Clear,
        };
        let addr: IpAddr = "198.51.100.7".parse().unwrap();
        let outsider = Disclosure::for_viewer(&Viewer::Anonymous, &clear);
        let shown = outsider.source(&pan, addr);
        assert!(shown.anonymised());
        assert_eq!(*shown.value(), pan.anonymise(addr));
        assert_eq!(
            serde_json::to_string(&shown).unwrap(),
            format!("\"{}\"", pan.anonymise(addr))
        );
        let local = Disclosure::for_viewer(&Viewer::Local, &clear);
        assert_eq!(*local.source(&pan, addr).value(), addr);
        assert_eq!(local.strictest(outsider), outsider);
        assert_eq!(outsider.strictest(local), outsider);
    }

    #[test]
    fn an_alert_names_its_anonymised_sources_everywhere_it_named_the_real_ones() {
        use crate::alert::{Contributor, Evidence, Explanation, Severity};
        use crate::Timestamp;
        let pan = key(b"another deployment key, 32 bytes");
        let source = |name: &str| Contributor {
            name: name.into(),
            packets: 1,
            share: 0.5,
            first_seen: None,
        };
        let alert = NewAlert {
            key: None,
            severity: Severity::Low,
            title: "Surge from 203.0.113.7".into(),
            summary: "top sources: 203.0.113.7 (50 %), 2001:db8::1 (50 %). Not 203.0.113.70 nor 10.0.0.1.".into(),
            affected: vec![],
            first_seen: Timestamp(0),
            last_seen: Timestamp(0),
            author: "detector".into(),
            label: Label {
                owner: "cert-jp".into(),
                tlp: Tlp::Green,
            },
            evidence: Some(Evidence {
                series: vec![],
                explanation: Explanation {
                    sources: vec![source("203.0.113.7"), source("2001:db8::1")],
                    ..Explanation::default()
                },
            }),
            created_at: Timestamp(0),
        };
        let a = pan.anonymise("203.0.113.7".parse().unwrap()).to_string();
        let b = pan.anonymise("2001:db8::1".parse().unwrap()).to_string();
        let outsider = Disclosure::for_viewer(&Viewer::Anonymous, &alert.label);
        let shown = outsider.alert(&pan, alert.clone());
        assert_eq!(shown.title, format!("Surge from {a}"));
        assert_eq!(
            shown.summary,
            format!("top sources: {a} (50 %), {b} (50 %). Not 203.0.113.70 nor 10.0.0.1.")
        );
        let names: Vec<&str> = shown
            .evidence
            .as_ref()
            .unwrap()
            .explanation
            .sources
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(names, [a.as_str(), b.as_str()]);
        let owner = Viewer::User {
            org: "cert-jp".into(),
            role: Role::Member,
        };
        assert_eq!(
            Disclosure::for_viewer(&owner, &alert.label).alert(&pan, alert.clone()),
            alert
        );
    }
}
