//! Portal accounts: organisations, users, sessions, API tokens and the audit log. Secrets are
//! never held here in clear: sessions and tokens are stored by hash, passwords as argon2id
//! PHC strings.

use crate::access::Role;
use crate::sensor::AddressBlock;
use crate::Timestamp;
use serde::{Deserialize, Serialize};

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
