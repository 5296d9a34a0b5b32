//! Who may see what: TLP 2.0 labels on datasets and the viewer's organisation and role. The
//! rules are written down in `docs/access-control.md`; every page, API response and export
//! asks [`Viewer::can_see`] and nothing else.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Traffic Light Protocol 2.0 (FIRST), from least to most restricted.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tlp {
    Clear,
    Green,
    Amber,
    AmberStrict,
    Red,
}

impl Tlp {
    pub const ALL: [Tlp; 5] = [
        Tlp::Clear,
        Tlp::Green,
        Tlp::Amber,
        Tlp::AmberStrict,
        Tlp::Red,
    ];

    /// The label as FIRST writes it, without the `TLP:` prefix: `CLEAR`, `AMBER+STRICT`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Tlp::Clear => "CLEAR",
            Tlp::Green => "GREEN",
            Tlp::Amber => "AMBER",
            Tlp::AmberStrict => "AMBER+STRICT",
            Tlp::Red => "RED",
        }
    }
}

impl fmt::Display for Tlp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TLP:{}", self.as_str())
    }
}

impl FromStr for Tlp {
    type Err = String;
    /// Accepts `TLP:AMBER+STRICT`, `amber+strict`, `amber-strict`; TLP 1.0's `WHITE` is
    /// `CLEAR` (FIRST's mapping).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let t = t
            .strip_prefix("TLP:")
            .or_else(|| t.strip_prefix("tlp:"))
            .unwrap_or(t);
        let upper = t.to_ascii_uppercase().replace(['-', '_'], "+");
        match upper.as_str() {
            "WHITE" => Ok(Tlp::Clear),
            other => Tlp::ALL
                .into_iter()
                .find(|l| l.as_str() == other)
                .ok_or_else(|| {
                    format!("unknown TLP label {s:?}: expected CLEAR, GREEN, AMBER, AMBER+STRICT or RED")
                }),
        }
    }
}

impl Serialize for Tlp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Tlp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// A user's role. Roles grant rights to act (administer, analyse), never to see more data:
/// what data a user sees depends only on the labels and the user's organisation.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A user of a member organisation.
    Member,
    /// An analyst of the operating team: can write alerts, run reports.
    Analyst,
    /// Manages organisations, users and tokens; reads the audit log.
    Admin,
}

impl Role {
    /// Whether this role may add data and alerts (upload files, write alerts): analysts and
    /// admins; members only read.
    pub fn may_contribute(self) -> bool {
        matches!(self, Role::Analyst | Role::Admin)
    }
}

/// Who owns a dataset and how far it may travel.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Label {
    /// Slug of the owner organisation.
    pub owner: String,
    pub tlp: Tlp,
}

/// Who is looking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Viewer {
    /// Not logged in: the public.
    Anonymous,
    /// A logged-in user (or API token) of an organisation.
    User { org: String, role: Role },
    /// The command line on the machine itself: the operator sees everything.
    Local,
}

impl Viewer {
    /// Whether data with `label` may be shown to this viewer.
    ///
    /// - CLEAR: everyone, including the public.
    /// - GREEN: every logged-in user of the community.
    /// - AMBER, AMBER+STRICT, RED: users of the owner organisation only. (Sharing AMBER with
    ///   named organisations comes with sharing groups; until then nothing wider is assumed.)
    pub fn can_see(&self, label: &Label) -> bool {
        match (self, label.tlp) {
            (Viewer::Local, _) => true,
            (_, Tlp::Clear) => true,
            (Viewer::Anonymous, _) => false,
            (Viewer::User { .. }, Tlp::Green) => true,
            (Viewer::User { org, .. }, Tlp::Amber | Tlp::AmberStrict | Tlp::Red) => {
                *org == label.owner
            }
        }
    }

    /// What decides this viewer's view of the data: two viewers with the same scope see
    /// exactly the same datasets (roles never widen it) with the same addresses anonymised
    /// (`Disclosure::for_viewer` also depends only on the organisation), so they may share
    /// query results.
    pub fn scope(&self) -> ViewScope {
        match self {
            Viewer::Anonymous => ViewScope::Public,
            Viewer::User { org, .. } => ViewScope::Organisation(org.clone()),
            Viewer::Local => ViewScope::Everything,
        }
    }
}

/// The classes of viewers that see the same data; see [`Viewer::scope`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ViewScope {
    Public,
    Organisation(String),
    Everything,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_parse_in_every_spelling_and_print_as_first_writes_them() {
        assert_eq!("TLP:AMBER+STRICT".parse::<Tlp>().unwrap(), Tlp::AmberStrict);
        assert_eq!("amber-strict".parse::<Tlp>().unwrap(), Tlp::AmberStrict);
        assert_eq!("white".parse::<Tlp>().unwrap(), Tlp::Clear);
        assert_eq!("Red".parse::<Tlp>().unwrap(), Tlp::Red);
        assert!("orange".parse::<Tlp>().is_err());
        assert_eq!(Tlp::AmberStrict.to_string(), "TLP:AMBER+STRICT");
        assert_eq!(serde_json::to_string(&Tlp::Clear).unwrap(), "\"CLEAR\"");
    }

    #[test]
    fn viewers_of_one_scope_see_the_same_labels_with_the_same_addresses_anonymised() {
        use crate::anonymise::Disclosure;
        let roles = [Role::Member, Role::Analyst, Role::Admin];
        let viewers: Vec<Viewer> = ["cert-a", "cert-b"]
            .into_iter()
            .flat_map(|org| {
                roles.into_iter().map(move |role| Viewer::User {
                    org: org.into(),
                    role,
                })
            })
            .chain([Viewer::Anonymous, Viewer::Local])
            .collect();
        let labels: Vec<Label> = ["cert-a", "cert-b", "cert-c"]
            .into_iter()
            .flat_map(|owner| {
                Tlp::ALL.into_iter().map(move |tlp| Label {
                    owner: owner.into(),
                    tlp,
                })
            })
            .collect();
        for a in &viewers {
            for b in &viewers {
                let same_view = labels.iter().all(|l| {
                    a.can_see(l) == b.can_see(l)
                        && Disclosure::for_viewer(a, l) == Disclosure::for_viewer(b, l)
                });
                assert_eq!(a.scope() == b.scope(), same_view, "{a:?} vs {b:?}");
            }
        }
    }

    /// The whole access table: every viewer kind against every label, own and foreign.
    #[test]
    fn access_table() {
        let own = |tlp| Label {
            owner: "cert-a".into(),
            tlp,
        };
        let foreign = |tlp| Label {
            owner: "cert-b".into(),
            tlp,
        };
        let viewers = [
            ("anonymous", Viewer::Anonymous),
            (
                "member",
                Viewer::User {
                    org: "cert-a".into(),
                    role: Role::Member,
                },
            ),
            (
                "analyst",
                Viewer::User {
                    org: "cert-a".into(),
                    role: Role::Analyst,
                },
            ),
            (
                "admin",
                Viewer::User {
                    org: "cert-a".into(),
                    role: Role::Admin,
                },
            ),
        ];
        // (viewer, tlp) -> (sees own org's data, sees another org's data)
        let expected = |viewer: &str, tlp: Tlp| match (viewer, tlp) {
            (_, Tlp::Clear) => (true, true),
            ("anonymous", _) => (false, false),
            (_, Tlp::Green) => (true, true),
            _ => (true, false),
        };
        for (name, viewer) in &viewers {
            for tlp in Tlp::ALL {
                let (mine, theirs) = expected(name, tlp);
                // The anonymous viewer has no organisation: "own" data is not theirs either.
                let mine = if *name == "anonymous" {
                    tlp == Tlp::Clear
                } else {
                    mine
                };
                assert_eq!(viewer.can_see(&own(tlp)), mine, "{name} own {tlp}");
                assert_eq!(
                    viewer.can_see(&foreign(tlp)),
                    theirs,
                    "{name} foreign {tlp}"
                );
            }
        }
        assert!(Tlp::ALL.iter().all(|&t| Viewer::Local.can_see(&foreign(t))));
    }
}
