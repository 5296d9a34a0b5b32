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
    /// Manages their organisation's users and reads its audit log; in the operator's
    /// organisation, manages organisations ([`may_administer`]).
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Member, Role::Analyst, Role::Admin];

    /// The role's name, as stored and typed (`member`, `analyst`, `admin`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Analyst => "analyst",
            Role::Admin => "admin",
        }
    }

    /// Whether this role may add data and alerts (upload files, write alerts): analysts and
    /// admins; members only read.
    pub fn may_contribute(self) -> bool {
        matches!(self, Role::Analyst | Role::Admin)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role {s:?}: expected member, analyst or admin"))
    }
}

/// The organisation of the deployment's operator. Its admins manage organisations (create
/// them, set their constituency networks) but, like every role, see no more data than their
/// own organisation's: they administer other organisations' accounts only where that reads
/// nothing of theirs ([`may_administer`]).
pub const OPERATOR_ORG: &str = "operator";

/// Something done in the portal to an organisation's accounts, constituency, sensors or audit
/// log, and the organisation it is done to. [`may_administer`] decides who may do it; the
/// table is in `docs/access-control.md`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum AdminAction<'a> {
    /// Add an organisation.
    CreateOrganisation,
    /// Replace an organisation's constituency networks (sensor blocks are checked against
    /// them, so they grant trust).
    SetConstituency { org: &'a str },
    /// See an organisation's accounts: its constituency networks and its users (logins, roles,
    /// status).
    ViewAccounts { org: &'a str },
    /// Add a user to `org`; `org_has_admin`: whether `org` has an admin user, enabled or not.
    CreateUser { org: &'a str, org_has_admin: bool },
    /// Give a user of `org` a new password, shown to whoever resets it.
    ResetPassword { org: &'a str },
    /// Disable a user of `org`: sessions end, API tokens stop.
    DisableUser { org: &'a str },
    /// Enable a disabled user of `org` again.
    EnableUser { org: &'a str },
    /// Read the audit entries concerning `org`.
    ReadAudit { org: &'a str },
    /// Read the audit entries concerning no organisation (failed logins of unknown logins,
    /// the command line's own changes).
    ReadDeploymentAudit,
    /// Register a sensor of `org`, on a block within its constituency or not.
    RegisterSensor {
        org: &'a str,
        outside_constituency: bool,
    },
    /// Revoke the token of a sensor of `org`.
    RevokeSensor { org: &'a str },
}

impl fmt::Display for AdminAction<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AdminAction::CreateOrganisation => write!(f, "add organisations"),
            AdminAction::SetConstituency { org } => {
                write!(f, "set the constituency networks of {org}")
            }
            AdminAction::ViewAccounts { org } => write!(f, "see the accounts of {org}"),
            AdminAction::CreateUser { org, .. } => write!(f, "add users to {org}"),
            AdminAction::ResetPassword { org } => {
                write!(f, "reset passwords of users of {org}")
            }
            AdminAction::DisableUser { org } => write!(f, "disable users of {org}"),
            AdminAction::EnableUser { org } => write!(f, "enable users of {org}"),
            AdminAction::ReadAudit { org } => write!(f, "read the audit log of {org}"),
            AdminAction::ReadDeploymentAudit => write!(f, "read the deployment's audit log"),
            AdminAction::RegisterSensor {
                org,
                outside_constituency: false,
            } => write!(f, "register sensors of {org}"),
            AdminAction::RegisterSensor {
                org,
                outside_constituency: true,
            } => write!(f, "register sensors of {org} outside its constituency"),
            AdminAction::RevokeSensor { org } => write!(f, "revoke sensors of {org}"),
        }
    }
}

/// Whether a user of `actor_org` with `actor_role` may do `action`: the one rule of who
/// administers what in the portal (the command line on the machine is not asked: it is the
/// operator and may do everything).
///
/// - An organisation's admins manage their own organisation: its users (add, disable, enable,
///   reset passwords) and its audit entries. Its members, analysts and admins register (within
///   the constituency) and revoke its sensors.
/// - The operator's admins ([`OPERATOR_ORG`]) add organisations and set constituencies (trust
///   only the operator grants), see every organisation's accounts and audit entries, disable any
///   user (stopping a compromised account reads nothing), register and revoke any sensor.
///   They add users to an organisation only while it has no admin at all (its first admin):
///   afterwards an admin of the operator in that organisation would read its data. They never
///   reset another organisation's passwords (the new password is shown to them: impersonation)
///   nor enable its users again (that is the organisation's decision).
/// - Nobody else administers anything.
pub fn may_administer(actor_org: &str, actor_role: Role, action: &AdminAction<'_>) -> bool {
    let operator = actor_org == OPERATOR_ORG && actor_role == Role::Admin;
    let own_admin = |org: &str| actor_org == org && actor_role == Role::Admin;
    match *action {
        AdminAction::CreateOrganisation
        | AdminAction::SetConstituency { .. }
        | AdminAction::ReadDeploymentAudit => operator,
        AdminAction::ViewAccounts { org }
        | AdminAction::DisableUser { org }
        | AdminAction::ReadAudit { org } => own_admin(org) || operator,
        AdminAction::CreateUser { org, org_has_admin } => {
            own_admin(org) || (operator && !org_has_admin)
        }
        AdminAction::ResetPassword { org } | AdminAction::EnableUser { org } => own_admin(org),
        AdminAction::RegisterSensor {
            org,
            outside_constituency,
        } => operator || (actor_org == org && !outside_constituency),
        AdminAction::RevokeSensor { org } => operator || actor_org == org,
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
    /// An organisation's own datasets only, whatever their TLP: the early-warning pass over
    /// one organisation's data, whose alerts must carry nothing of anyone else's (its members
    /// see their own sources in clear, so another organisation's GREEN sources must not be in
    /// them). No person ever views as this.
    OwnData { org: String },
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
            (Viewer::OwnData { org }, _) => *org == label.owner,
            (_, Tlp::Clear) => true,
            (Viewer::Anonymous, _) => false,
            (Viewer::User { .. }, Tlp::Green) => true,
            (Viewer::User { org, .. }, Tlp::Amber | Tlp::AmberStrict | Tlp::Red) => {
                *org == label.owner
            }
        }
    }

    /// Whether this viewer may change the state of (acknowledge, resolve, reopen) an alert
    /// labelled `label`: the state is the owner organisation's queue, so only its analysts
    /// and admins (and the command line) move it. Others who may read the alert (GREEN and
    /// CLEAR alerts reach the whole community) do not change it for its owner.
    pub fn may_triage(&self, label: &Label) -> bool {
        match self {
            Viewer::Local => true,
            Viewer::User { org, role } => role.may_contribute() && *org == label.owner,
            Viewer::Anonymous | Viewer::OwnData { .. } => false,
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
            Viewer::OwnData { org } => ViewScope::OwnData(org.clone()),
        }
    }
}

/// The classes of viewers that see the same data; see [`Viewer::scope`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ViewScope {
    Public,
    Organisation(String),
    Everything,
    OwnData(String),
}

#[cfg(test)]
mod tests {

    #[test]
    fn roles_read_back_from_their_names_and_refuse_others() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
            assert_eq!(role.to_string(), role.as_str());
        }
        let err = "Admin".parse::<Role>().unwrap_err();
        assert_eq!(
            err,
            "unknown role \"Admin\": expected member, analyst or admin"
        );
    }

    #[test]
    fn only_the_owners_analysts_and_admins_triage_an_alert() {
        let label = Label {
            owner: "cert-a".into(),
            tlp: Tlp::Green,
        };
        let user = |org: &str, role| Viewer::User {
            org: org.into(),
            role,
        };
        assert!(user("cert-a", Role::Analyst).may_triage(&label));
        assert!(user("cert-a", Role::Admin).may_triage(&label));
        assert!(!user("cert-a", Role::Member).may_triage(&label));
        assert!(!user("cert-b", Role::Admin).may_triage(&label));
        assert!(!user(OPERATOR_ORG, Role::Admin).may_triage(&label));
        assert!(!Viewer::Anonymous.may_triage(&label));
        assert!(Viewer::Local.may_triage(&label));
    }

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
    fn the_own_data_view_sees_one_organisations_datasets_of_every_tlp_and_nothing_else() {
        let own = Viewer::OwnData {
            org: "cert-a".into(),
        };
        for tlp in Tlp::ALL {
            let label = |owner: &str| Label {
                owner: owner.into(),
                tlp,
            };
            assert!(own.can_see(&label("cert-a")), "{tlp}");
            assert!(
                !own.can_see(&label("cert-b")),
                "{tlp}: another's, even CLEAR"
            );
        }
        assert_ne!(
            own.scope(),
            Viewer::User {
                org: "cert-a".into(),
                role: Role::Member
            }
            .scope(),
            "never shares a cached answer with the organisation's members"
        );
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

    /// The administration table of `docs/access-control.md`: every action, by every kind of
    /// actor, on their own organisation and on another.
    #[test]
    fn administration_table() {
        use AdminAction::*;
        // Columns: the operator's admin on another organisation, on the operator's own; an
        // organisation's admin on their own, on another; a member or analyst on their own, on
        // another.
        let table: [(AdminAction<'static>, [bool; 6]); 13] = [
            (CreateOrganisation, [true, true, false, false, false, false]),
            (
                SetConstituency { org: "" },
                [true, true, false, false, false, false],
            ),
            (
                ViewAccounts { org: "" },
                [true, true, true, false, false, false],
            ),
            (
                CreateUser {
                    org: "",
                    org_has_admin: false,
                },
                [true, true, true, false, false, false],
            ),
            (
                CreateUser {
                    org: "",
                    org_has_admin: true,
                },
                [false, true, true, false, false, false],
            ),
            (
                ResetPassword { org: "" },
                [false, true, true, false, false, false],
            ),
            (
                DisableUser { org: "" },
                [true, true, true, false, false, false],
            ),
            (
                EnableUser { org: "" },
                [false, true, true, false, false, false],
            ),
            (
                ReadAudit { org: "" },
                [true, true, true, false, false, false],
            ),
            (
                ReadDeploymentAudit,
                [true, true, false, false, false, false],
            ),
            (
                RegisterSensor {
                    org: "",
                    outside_constituency: false,
                },
                [true, true, true, false, true, false],
            ),
            (
                RegisterSensor {
                    org: "",
                    outside_constituency: true,
                },
                [true, true, false, false, false, false],
            ),
            (
                RevokeSensor { org: "" },
                [true, true, true, false, true, false],
            ),
        ];
        let with_org = |action: AdminAction<'static>, target: &'static str| match action {
            SetConstituency { .. } => SetConstituency { org: target },
            ViewAccounts { .. } => ViewAccounts { org: target },
            CreateUser { org_has_admin, .. } => CreateUser {
                org: target,
                org_has_admin,
            },
            ResetPassword { .. } => ResetPassword { org: target },
            DisableUser { .. } => DisableUser { org: target },
            EnableUser { .. } => EnableUser { org: target },
            ReadAudit { .. } => ReadAudit { org: target },
            RegisterSensor {
                outside_constituency,
                ..
            } => RegisterSensor {
                org: target,
                outside_constituency,
            },
            RevokeSensor { .. } => RevokeSensor { org: target },
            CreateOrganisation | ReadDeploymentAudit => action,
        };
        for (action, allowed) in table {
            let cases = [
                (OPERATOR_ORG, Role::Admin, "cert-a"),
                (OPERATOR_ORG, Role::Admin, OPERATOR_ORG),
                ("cert-a", Role::Admin, "cert-a"),
                ("cert-b", Role::Admin, "cert-a"),
                ("cert-a", Role::Member, "cert-a"),
                ("cert-b", Role::Member, "cert-a"),
            ];
            for ((actor_org, role, target), expected) in cases.into_iter().zip(allowed) {
                let action = with_org(action, target);
                assert_eq!(
                    may_administer(actor_org, role, &action),
                    expected,
                    "{actor_org} {role:?}: {action}"
                );
            }
            // Analysts act as members do; the operator's members and analysts are no operator.
            let on_a = with_org(action, "cert-a");
            assert_eq!(
                may_administer("cert-a", Role::Analyst, &on_a),
                may_administer("cert-a", Role::Member, &on_a),
                "{on_a}"
            );
            for role in [Role::Member, Role::Analyst] {
                assert_eq!(
                    may_administer(OPERATOR_ORG, role, &on_a),
                    may_administer("cert-b", Role::Member, &on_a),
                    "{role:?} of the operator: {on_a}"
                );
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
