//! The risk catalogue: which risks exist, their amplification factors, and which feed records
//! (Shadowserver report types, IntelMQ classifications) or observations count as each.

use greenwatch_model::Fingerprint;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

/// The catalogue shipped with Greenwatch (`crates/feeds/data/risks.toml`).
pub const DEFAULT_CATALOGUE: &str = include_str!("../data/risks.toml");

/// Index of a risk in its [`Catalogue`]; small and `Copy` for per-row use.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RiskIndex(pub u16);

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Amplification {
    /// The factor used for DDoS potential (bandwidth of the reply / bandwidth of the request).
    pub factor: f64,
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub source: String,
}

/// Where an observed risk comes from in our own sensor data.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ObservedRule {
    /// Distinct sources of packets with this scanner fingerprint.
    Fingerprint(Fingerprint),
    /// Distinct sources of TCP scans and UDP probes.
    ScanSources,
}

impl ObservedRule {
    fn parse(text: &str) -> Result<ObservedRule, String> {
        if text == "scan-sources" {
            return Ok(ObservedRule::ScanSources);
        }
        match text.strip_prefix("fingerprint:") {
            Some(f) => f.parse().map(ObservedRule::Fingerprint),
            None => Err(format!(
                "unknown observed rule {text:?}: expected \"scan-sources\" or \"fingerprint:<mirai|masscan|zmap>\""
            )),
        }
    }

    pub fn as_string(&self) -> String {
        match self {
            ObservedRule::Fingerprint(f) => format!("fingerprint:{f}"),
            ObservedRule::ScanSources => "scan-sources".to_string(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RiskToml {
    slug: String,
    title: String,
    id: Option<u32>,
    amplification: Option<Amplification>,
    #[serde(default)]
    shadowserver: Vec<String>,
    #[serde(default)]
    intelmq_identifiers: Vec<String>,
    #[serde(default)]
    intelmq_types: Vec<String>,
    observed: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueToml {
    #[serde(default)]
    risk: Vec<RiskToml>,
}

/// One risk of the catalogue.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Risk {
    pub slug: String,
    pub title: String,
    /// CyberGreen's risk id, where it had one.
    pub id: Option<u32>,
    pub amplification: Option<Amplification>,
    pub shadowserver: Vec<String>,
    pub intelmq_identifiers: Vec<String>,
    pub intelmq_types: Vec<String>,
    #[serde(serialize_with = "serialize_observed")]
    pub observed: Option<ObservedRule>,
}

fn serialize_observed<S: serde::Serializer>(
    rule: &Option<ObservedRule>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match rule {
        Some(r) => s.serialize_str(&r.as_string()),
        None => s.serialize_none(),
    }
}

#[derive(Debug, thiserror::Error)]
#[error("risk catalogue {origin}: {reason}")]
pub struct CatalogueError {
    origin: String,
    reason: String,
}

/// Every known risk, with lookups from feed vocabulary to risk.
#[derive(Clone, Debug)]
pub struct Catalogue {
    risks: Vec<Risk>,
    by_slug: HashMap<String, RiskIndex>,
    by_report: HashMap<String, RiskIndex>,
    by_identifier: HashMap<String, RiskIndex>,
    by_type: HashMap<String, RiskIndex>,
}

impl Catalogue {
    /// The shipped catalogue.
    pub fn shipped() -> Catalogue {
        Catalogue::from_toml("(shipped)", DEFAULT_CATALOGUE)
            .expect("the shipped catalogue is valid")
    }

    /// The shipped catalogue with the operator's file laid over it, when `path` exists: a risk
    /// with a shipped slug replaces it, others are added.
    pub fn shipped_with_overrides(path: &Path) -> Result<Catalogue, CatalogueError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Catalogue::shipped()),
            Err(e) => {
                return Err(CatalogueError {
                    origin: path.display().to_string(),
                    reason: format!("cannot read: {e}"),
                })
            }
        };
        let mut risks = parse_toml("(shipped)", DEFAULT_CATALOGUE)?;
        for extra in parse_toml(&path.display().to_string(), &text)? {
            match risks.iter_mut().find(|r| r.slug == extra.slug) {
                Some(existing) => *existing = extra,
                None => risks.push(extra),
            }
        }
        Catalogue::build(&path.display().to_string(), risks)
    }

    /// A catalogue from TOML text; `origin` names it in errors.
    pub fn from_toml(origin: &str, text: &str) -> Result<Catalogue, CatalogueError> {
        Catalogue::build(origin, parse_toml(origin, text)?)
    }

    fn build(origin: &str, raw: Vec<RiskToml>) -> Result<Catalogue, CatalogueError> {
        let err = |reason: String| CatalogueError {
            origin: origin.to_string(),
            reason,
        };
        if raw.len() > usize::from(u16::MAX) {
            return Err(err("too many risks".into()));
        }
        let mut catalogue = Catalogue {
            risks: Vec::new(),
            by_slug: HashMap::new(),
            by_report: HashMap::new(),
            by_identifier: HashMap::new(),
            by_type: HashMap::new(),
        };
        for r in raw {
            let index = RiskIndex(catalogue.risks.len() as u16);
            let valid_slug = !r.slug.is_empty()
                && r.slug.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'
                });
            if !valid_slug {
                return Err(err(format!(
                    "risk slug {:?} must be lower-case letters, digits, '-' or '_'",
                    r.slug
                )));
            }
            if catalogue.by_slug.insert(r.slug.clone(), index).is_some() {
                return Err(err(format!("risk {:?} is listed twice", r.slug)));
            }
            if let Some(a) = &r.amplification {
                if !(a.factor.is_finite() && a.factor > 0.0) {
                    return Err(err(format!(
                        "risk {:?}: amplification factor must be positive",
                        r.slug
                    )));
                }
            }
            let observed = r
                .observed
                .as_deref()
                .map(ObservedRule::parse)
                .transpose()
                .map_err(|e| err(format!("risk {:?}: {e}", r.slug)))?;
            let feeds = !(r.shadowserver.is_empty()
                && r.intelmq_identifiers.is_empty()
                && r.intelmq_types.is_empty());
            if observed.is_some() && feeds {
                return Err(err(format!(
                    "risk {:?} is both observed and fed: give it either `observed` or feed mappings",
                    r.slug
                )));
            }
            for (map, keys, what) in [
                (
                    &mut catalogue.by_report,
                    &r.shadowserver,
                    "Shadowserver report type",
                ),
                (
                    &mut catalogue.by_identifier,
                    &r.intelmq_identifiers,
                    "IntelMQ identifier",
                ),
                (&mut catalogue.by_type, &r.intelmq_types, "IntelMQ type"),
            ] {
                for key in keys {
                    if let Some(other) = map.insert(key.clone(), index) {
                        return Err(err(format!(
                            "{what} {key:?} is mapped to both {:?} and {:?}",
                            catalogue.risks[usize::from(other.0)].slug,
                            r.slug
                        )));
                    }
                }
            }
            catalogue.risks.push(Risk {
                slug: r.slug,
                title: r.title,
                id: r.id,
                amplification: r.amplification,
                shadowserver: r.shadowserver,
                intelmq_identifiers: r.intelmq_identifiers,
                intelmq_types: r.intelmq_types,
                observed,
            });
        }
        Ok(catalogue)
    }

    pub fn risks(&self) -> &[Risk] {
        &self.risks
    }

    pub fn get(&self, index: RiskIndex) -> &Risk {
        &self.risks[usize::from(index.0)]
    }

    pub fn by_slug(&self, slug: &str) -> Option<RiskIndex> {
        self.by_slug.get(slug).copied()
    }

    /// The risk a Shadowserver report type counts as.
    pub fn for_report(&self, report_type: &str) -> Option<RiskIndex> {
        self.by_report.get(report_type).copied()
    }

    /// The risk an IntelMQ event counts as: by `classification.identifier` first, then by
    /// `classification.type`.
    pub fn for_intelmq(&self, identifier: Option<&str>, kind: Option<&str>) -> Option<RiskIndex> {
        identifier
            .and_then(|i| self.by_identifier.get(i))
            .or_else(|| kind.and_then(|t| self.by_type.get(t)))
            .copied()
    }
}

fn parse_toml(origin: &str, text: &str) -> Result<Vec<RiskToml>, CatalogueError> {
    toml::from_str::<CatalogueToml>(text)
        .map(|c| c.risk)
        .map_err(|e| CatalogueError {
            origin: origin.to_string(),
            reason: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_catalogue_has_the_cybergreen_risks_and_factors() {
        let c = Catalogue::shipped();
        let dns = c.get(c.by_slug("openrecursivedns").unwrap());
        assert_eq!(dns.id, Some(1));
        assert_eq!(dns.amplification.as_ref().unwrap().factor, 41.0);
        assert_eq!(c.for_report("scan_dns"), c.by_slug("openrecursivedns"));
        assert_eq!(c.for_report("scan_ntpmonitor"), c.by_slug("openntp"));
        assert_eq!(
            c.get(c.by_slug("openntp").unwrap())
                .amplification
                .as_ref()
                .unwrap()
                .factor,
            556.9
        );
        assert_eq!(c.for_report("event4_sinkhole"), c.by_slug("infected"));
        assert_eq!(
            c.get(c.by_slug("mirai").unwrap()).observed,
            Some(ObservedRule::Fingerprint(Fingerprint::Mirai))
        );
    }

    #[test]
    fn intelmq_identifier_wins_over_type() {
        let c = Catalogue::shipped();
        assert_eq!(
            c.for_intelmq(Some("open-ssdp"), Some("vulnerable-system")),
            c.by_slug("openssdp")
        );
        assert_eq!(
            c.for_intelmq(Some("mirai"), Some("infected-system")),
            c.by_slug("infected")
        );
        assert_eq!(c.for_intelmq(None, Some("phishing")), None);
    }

    #[test]
    fn operator_file_adds_and_replaces_risks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("risks.toml");
        std::fs::write(
            &path,
            r#"
[[risk]]
slug = "openrdp"
title = "Exposed RDP"
shadowserver = ["scan_rdp"]

[[risk]]
slug = "openntp"
title = "Open NTP, our factor"
amplification = { factor = 500.0, source = "local measurement" }
shadowserver = ["scan_ntpmonitor"]
"#,
        )
        .unwrap();
        let c = Catalogue::shipped_with_overrides(&path).unwrap();
        assert_eq!(c.for_report("scan_rdp"), c.by_slug("openrdp"));
        let ntp = c.get(c.by_slug("openntp").unwrap());
        assert_eq!(ntp.amplification.as_ref().unwrap().factor, 500.0);
        // The replaced risk no longer claims the IPv6 report.
        assert_eq!(c.for_report("scan6_ntpmonitor"), None);
        // A missing operator file is the shipped catalogue.
        let c = Catalogue::shipped_with_overrides(&dir.path().join("none.toml")).unwrap();
        assert_eq!(c.risks().len(), Catalogue::shipped().risks().len());
    }

    #[test]
    fn conflicting_or_malformed_catalogues_are_rejected_with_the_reason() {
        let twice = r#"
[[risk]]
slug = "a"
title = "A"
shadowserver = ["scan_dns"]
[[risk]]
slug = "b"
title = "B"
shadowserver = ["scan_dns"]
"#;
        let e = Catalogue::from_toml("t.toml", twice)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("t.toml") && e.contains("scan_dns") && e.contains("\"b\""),
            "{e}"
        );
        let e = Catalogue::from_toml("t.toml", "[[risk]]\nslug = \"Bad Slug\"\ntitle = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("lower-case"), "{e}");
        let e = Catalogue::from_toml(
            "t.toml",
            "[[risk]]\nslug = \"x\"\ntitle = \"x\"\nobserved = \"ports\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("scan-sources"), "{e}");
        assert!(Catalogue::from_toml("t.toml", "[[risk]]\nslug = \"x\"\n").is_err());
    }
}
