//! Portal accounts: organisations, users, sessions, API tokens and the audit log. Secrets are
//! never held here in clear: sessions and tokens are stored by hash, passwords as argon2id
//! PHC strings.

use crate::access::Role;
use crate::sensor::AddressBlock;
use crate::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A member organisation (a CSIRT, an ISP, a vendor).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    /// Stable short name used in labels (`Label::owner`): lower-case letters, digits, `-`.
    pub slug: String,
    pub name: String,
    pub created_at: Timestamp,
}

impl Organisation {
    /// Whether `slug` is a valid organisation slug (1-64 of `a-z`, `0-9`, `-`, not starting
    /// with `-`).
    pub fn valid_slug(slug: &str) -> bool {
        (1..=64).contains(&slug.len())
            && !slug.starts_with('-')
            && slug
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    }
}

/// The networks an organisation is responsible for: its constituency (brief C2), as address
/// blocks. A member registers sensors only on address space of its own constituency.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Constituency {
    pub networks: Vec<AddressBlock>,
}

impl Constituency {
    /// Whether `block` lies within one of the networks; the error names the block, the
    /// organisation and what its constituency holds.
    pub fn admit(&self, org: &str, block: AddressBlock) -> Result<(), String> {
        if self.networks.iter().any(|n| n.contains(&block)) {
            return Ok(());
        }
        let held = if self.networks.is_empty() {
            "no networks yet".to_string()
        } else {
            let list: Vec<String> = self.networks.iter().map(|n| n.to_string()).collect();
            list.join(", ")
        };
        Err(format!(
            "address block {block} is outside the constituency of {org} ({held}); an \
             administrator adds networks with `greenwatch org networks {org} --network ...`"
        ))
    }
}

/// A person who logs in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: i64,
    /// Login name (an e-mail address in practice), unique, compared case-insensitively.
    pub login: String,
    pub org: String,
    pub role: Role,
    /// argon2id PHC string; never serialised.
    #[serde(skip)]
    pub password_hash: String,
    pub disabled: bool,
    pub created_at: Timestamp,
}

/// A logged-in browser session, found by the hash of its cookie value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub token_hash: String,
    pub user_id: i64,
    /// The anti-CSRF token every form of this session must echo.
    pub csrf_token: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// What a new password does to the user's API tokens. A password is changed because it may be
/// known to someone else, and a token made with it is as good as it: by default they end with
/// it; a user may keep them on purpose (a nightly export that must not stop).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum TokensOnNewPassword {
    Revoke,
    Keep,
}

/// What an API token may be used for. A token acts as its user, but only within its scopes:
/// a nightly export needs `read`, an upload script `upload`, sensor provisioning `sensor`,
/// a SOAR playbook that acknowledges alerts `triage`. A leaked token does no more than its
/// scopes allow.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenScope {
    /// Every `GET` of the API and the pages, as the user may see them.
    Read,
    /// Uploads of captures and feed files (`POST /api/v1/uploads`).
    Upload,
    /// Registering and revoking the organisation's sensors (`POST /api/v1/sensors…`).
    Sensor,
    /// Changing alert states (`POST /api/v1/alerts/triage`).
    Triage,
}

impl TokenScope {
    pub const ALL: [TokenScope; 4] = [
        TokenScope::Read,
        TokenScope::Upload,
        TokenScope::Sensor,
        TokenScope::Triage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::Read => "read",
            TokenScope::Upload => "upload",
            TokenScope::Sensor => "sensor",
            TokenScope::Triage => "triage",
        }
    }

    /// Scopes from a comma-separated list (`read,upload`), sorted and without duplicates.
    pub fn parse_list(list: &str) -> Result<Vec<TokenScope>, String> {
        let mut scopes: Vec<TokenScope> = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::parse)
            .collect::<Result<_, _>>()?;
        scopes.sort_unstable();
        scopes.dedup();
        if scopes.is_empty() {
            return Err("a token needs at least one scope (read, upload, sensor, triage)".into());
        }
        Ok(scopes)
    }

    /// `scopes` as the comma-separated list [`TokenScope::parse_list`] reads.
    pub fn list(scopes: &[TokenScope]) -> String {
        scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl fmt::Display for TokenScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TokenScope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TokenScope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| format!("unknown token scope {s:?} (read, upload, sensor, triage)"))
    }
}

/// The longest an API token may live, and how long one lives unless asked otherwise.
pub const TOKEN_MAX_LIFETIME_DAYS: i64 = 366;
pub const TOKEN_DEFAULT_LIFETIME_DAYS: i64 = 90;

/// A token lifetime as people write it: `90d`, `12w`, `6m` (30-day months), `1y`, or
/// `never`: the number of days, `None` for `never`. Longer than [`TOKEN_MAX_LIFETIME_DAYS`] is refused, so a
/// forgotten token ends by itself unless someone chose otherwise on purpose.
pub fn parse_token_lifetime(text: &str) -> Result<Option<i64>, String> {
    let text = text.trim();
    if text == "never" {
        return Ok(None);
    }
    let (digits, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let days_per = match unit {
        "d" => 1,
        "w" => 7,
        "m" => 30,
        "y" => 365,
        _ => {
            return Err(format!(
                "a token lifetime is a number of days, weeks, months or years (90d, 12w, 6m, 1y) or never, not {text:?}"
            ))
        }
    };
    let n: i64 = digits
        .parse()
        .map_err(|_| format!("a token lifetime needs a number before its unit, not {text:?}"))?;
    let days = n.saturating_mul(days_per);
    if !(1..=TOKEN_MAX_LIFETIME_DAYS).contains(&days) {
        return Err(format!(
            "a token lifetime is 1 to {TOKEN_MAX_LIFETIME_DAYS} days (or never), not {text:?}"
        ));
    }
    Ok(Some(days))
}

/// When a token created at `now` to live `days` (`None`: forever) expires.
pub fn token_expiry(now: Timestamp, days: Option<i64>) -> Option<Timestamp> {
    days.map(|d| Timestamp(now.0 + d * 86_400 * 1_000_000))
}

/// A token about to be created: its name, scopes and expiry (`None`: never).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewApiToken {
    pub name: String,
    pub scopes: Vec<TokenScope>,
    pub expires_at: Option<Timestamp>,
}

impl NewApiToken {
    pub fn new(name: &str, scopes: &[TokenScope], expires_at: Option<Timestamp>) -> NewApiToken {
        NewApiToken {
            name: name.to_string(),
            scopes: scopes.to_vec(),
            expires_at,
        }
    }
}

/// An API token for scripts, found by the hash of its secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    #[serde(skip)]
    pub token_hash: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked: bool,
    pub scopes: Vec<TokenScope>,
    /// The instant it stops working; `None`: never.
    pub expires_at: Option<Timestamp>,
}

impl ApiToken {
    pub fn allows(&self, scope: TokenScope) -> bool {
        self.scopes.contains(&scope)
    }

    pub fn expired(&self, now: Timestamp) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}

/// One write, as the audit log keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: Timestamp,
    /// Login of the user (or `cli` / `system`) who did it.
    pub actor: String,
    /// What was done, e.g. `user.create`, `capture.upload`, `token.revoke`.
    pub action: String,
    /// What it was done to, e.g. a login, a file name, a token id.
    pub target: String,
    /// Free-form details; never secrets.
    pub detail: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_scopes_parse_sorted_once_and_refuse_unknown_or_none() {
        assert_eq!(
            TokenScope::parse_list("upload, read,upload").unwrap(),
            vec![TokenScope::Read, TokenScope::Upload]
        );
        assert_eq!(
            TokenScope::list(&[TokenScope::Read, TokenScope::Triage]),
            "read,triage"
        );
        assert!(TokenScope::parse_list("read,admin")
            .unwrap_err()
            .contains("\"admin\""));
        assert!(TokenScope::parse_list(" , ").is_err());
    }

    #[test]
    fn token_lifetimes_are_bounded_and_expiry_is_exclusive_of_nothing_after_it() {
        assert_eq!(parse_token_lifetime("90d"), Ok(Some(90)));
        assert_eq!(parse_token_lifetime("12w"), Ok(Some(84)));
        assert_eq!(parse_token_lifetime("1y"), Ok(Some(365)));
        assert_eq!(parse_token_lifetime("never"), Ok(None));
        for bad in ["0d", "2y", "90", "d", "-3d", "90 days"] {
            assert!(parse_token_lifetime(bad).is_err(), "{bad} accepted");
        }
        let now = Timestamp::from_secs(1_700_000_000);
        let token = ApiToken {
            id: 1,
            user_id: 1,
            name: "t".into(),
            token_hash: String::new(),
            created_at: now,
            last_used_at: None,
            revoked: false,
            scopes: vec![TokenScope::Read],
            expires_at: token_expiry(now, Some(1)),
        };
        assert!(!token.expired(Timestamp::from_secs(1_700_000_000 + 86_399)));
        assert!(token.expired(Timestamp::from_secs(1_700_000_000 + 86_400)));
        assert!(token.allows(TokenScope::Read) && !token.allows(TokenScope::Upload));
    }

    #[test]
    fn a_constituency_admits_blocks_inside_its_networks_and_names_the_one_outside() {
        let block = |s: &str| s.parse::<AddressBlock>().unwrap();
        let c = Constituency {
            networks: vec![block("198.51.100.0/22"), block("2001:db8::/32")],
        };
        assert!(c.admit("cert-jp", block("198.51.101.0/24")).is_ok());
        assert!(c.admit("cert-jp", block("2001:db8:40::/48")).is_ok());
        let err = c.admit("cert-jp", block("203.0.113.0/24")).unwrap_err();
        assert!(
            err.contains("203.0.113.0/24") && err.contains("cert-jp"),
            "{err}"
        );
        assert!(err.contains("198.51.100.0/22"), "{err}");
        let none = Constituency::default().admit("cert-kr", block("198.51.100.0/24"));
        assert!(none.unwrap_err().contains("no networks yet"));
    }

    #[test]
    fn organisation_slugs_are_restricted() {
        assert!(Organisation::valid_slug("cert-jp"));
        assert!(Organisation::valid_slug("isp42"));
        for bad in ["", "-x", "CERT", "cert jp", "cert_jp", &"a".repeat(65)] {
            assert!(!Organisation::valid_slug(bad), "{bad:?}");
        }
    }
}
