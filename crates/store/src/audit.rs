//! Policy every backend applies alike, written once: what each audited write records (its
//! action, target and detail), which organisation an entry concerns, what a change to an
//! account ends, and when a session is live. Backends call these and store the outcome in the
//! same transaction as the change; no backend spells an action name or decides these rules in
//! its own query language.

use crate::NewUser;
use greenwatch_model::access::Role;
use greenwatch_model::account::{
    AuditEntry, Constituency, NewApiToken, Organisation, Session, TokenScope, TokensOnNewPassword,
    User,
};
use greenwatch_model::alert::{AlertState, NewSubscription};
use greenwatch_model::sensor::SensorRef;
use greenwatch_model::Timestamp;

/// Actors that are the machine itself; their entries concern no organisation, even if a user
/// were given one of these names.
pub const MACHINE_ACTORS: [&str; 2] = ["cli", "system"];

/// Whether `actor` is the machine (the CLI or serve's background work) rather than a user.
pub fn is_machine_actor(actor: &str) -> bool {
    MACHINE_ACTORS.contains(&actor)
}

fn entry(at: Timestamp, actor: &str, action: &str, target: &str, detail: String) -> AuditEntry {
    AuditEntry {
        at,
        actor: actor.into(),
        action: action.into(),
        target: target.into(),
        detail,
    }
}

/// `org.create`, concerning the new organisation.
pub fn org_created(org: &Organisation, actor: &str) -> AuditEntry {
    entry(
        org.created_at,
        actor,
        "org.create",
        &org.slug,
        org.name.clone(),
    )
}

/// `org.constituency`: the networks that replaced the organisation's constituency.
pub fn constituency_set(
    org: &str,
    constituency: &Constituency,
    actor: &str,
    at: Timestamp,
) -> AuditEntry {
    let networks: Vec<String> = constituency
        .networks
        .iter()
        .map(ToString::to_string)
        .collect();
    entry(at, actor, "org.constituency", org, networks.join(" "))
}

/// `user.create`, with the new user's organisation and role.
pub fn user_created(user: &NewUser, actor: &str, at: Timestamp) -> AuditEntry {
    let detail = format!("org {}, role {}", user.org, Role::as_str(user.role));
    entry(at, actor, "user.create", &user.login, detail)
}

/// What a change to an account ends besides itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ends {
    /// Every session of the user.
    pub sessions: bool,
    /// Every unrevoked API token of the user.
    pub tokens: bool,
}

/// A new password ends every session of the user (whoever knew the old one is signed out),
/// and their API tokens unless kept on purpose.
pub fn ended_by_new_password(tokens: TokensOnNewPassword) -> Ends {
    Ends {
        sessions: true,
        tokens: tokens == TokensOnNewPassword::Revoke,
    }
}

/// Disabling a user ends their sessions at once (their tokens stop working while they are
/// disabled, and work again when enabled); enabling ends nothing.
pub fn ended_by_disabling(disabled: bool) -> Ends {
    Ends {
        sessions: disabled,
        tokens: false,
    }
}

/// `user.password`, saying what happened to the user's API tokens (`tokens_revoked` of them
/// when they were not kept).
pub fn password_set(
    login: &str,
    tokens_revoked: Option<usize>,
    actor: &str,
    at: Timestamp,
) -> AuditEntry {
    let detail = match tokens_revoked {
        Some(ended) => format!("{ended} API tokens revoked"),
        None => "API tokens kept".to_string(),
    };
    entry(at, actor, "user.password", login, detail)
}

/// `user.disable` or `user.enable`.
pub fn user_disabled(login: &str, disabled: bool, actor: &str, at: Timestamp) -> AuditEntry {
    let action = if disabled {
        "user.disable"
    } else {
        "user.enable"
    };
    entry(at, actor, action, login, String::new())
}

/// `token.create` of the user `login`: the token's id, name, scopes and expiry (never the
/// token or its hash).
pub fn token_created(
    login: &str,
    id: i64,
    token: &NewApiToken,
    actor: &str,
    at: Timestamp,
) -> AuditEntry {
    let scopes = TokenScope::list(&token.scopes);
    let expiry = token
        .expires_at
        .map_or("never expires".to_string(), |t| format!("expires {t}"));
    let name = &token.name;
    let detail = format!("token {id} {name:?} scopes {scopes}, {expiry}");
    entry(at, actor, "token.create", login, detail)
}

/// `token.revoke` of token `id`.
pub fn token_revoked(id: i64, actor: &str, at: Timestamp) -> AuditEntry {
    entry(at, actor, "token.revoke", &id.to_string(), String::new())
}

/// `sensor.register`, filed under the sensor's organisation whoever registered it.
pub fn sensor_registered(sensor: &crate::NewSensor, actor: &str, at: Timestamp) -> AuditEntry {
    let detail = format!(
        "org {} block {} tlp {}",
        sensor.org, sensor.address_block, sensor.tlp
    );
    let target = SensorRef::new(&sensor.org, &sensor.name).to_string();
    entry(at, actor, "sensor.register", &target, detail)
}

/// `sensor.revoke`.
pub fn sensor_revoked(sensor: &SensorRef, actor: &str, at: Timestamp) -> AuditEntry {
    entry(
        at,
        actor,
        "sensor.revoke",
        &sensor.to_string(),
        String::new(),
    )
}

/// The caller's entry for a written alert, naming the id the store gave it.
pub fn alert_written(id: i64, audit: &AuditEntry) -> AuditEntry {
    AuditEntry {
        target: id.to_string(),
        ..audit.clone()
    }
}

/// The caller's entry for one alert moved to `state`: the state, then the caller's detail.
pub fn alert_state_changed(id: i64, state: AlertState, audit: &AuditEntry) -> AuditEntry {
    AuditEntry {
        target: id.to_string(),
        detail: format!("{state}{}", audit.detail),
        ..audit.clone()
    }
}

/// `alert.subscribe` of subscription `id`: its organisation, channel and threshold, never
/// its secret.
pub fn subscribed(id: i64, subscription: &NewSubscription) -> AuditEntry {
    let detail = format!(
        "{} {} {} from {}",
        subscription.org,
        subscription.channel.kind(),
        subscription.channel.target(),
        subscription.min_severity
    );
    entry(
        subscription.created_at,
        &subscription.created_by,
        "alert.subscribe",
        &id.to_string(),
        detail,
    )
}

/// `alert.unsubscribe` of subscription `id`.
pub fn unsubscribed(id: i64, actor: &str, at: Timestamp) -> AuditEntry {
    entry(
        at,
        actor,
        "alert.unsubscribe",
        &id.to_string(),
        String::new(),
    )
}

/// Whether `session` of `user` lets them in at `now`: not expired, and the user not disabled.
pub fn session_is_live(session: &Session, user: &User, now: Timestamp) -> bool {
    session.expires_at > now && !user.disabled
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_password_always_ends_sessions_and_tokens_only_unless_kept() {
        assert_eq!(
            ended_by_new_password(TokensOnNewPassword::Revoke),
            Ends {
                sessions: true,
                tokens: true
            }
        );
        assert_eq!(
            ended_by_new_password(TokensOnNewPassword::Keep),
            Ends {
                sessions: true,
                tokens: false
            }
        );
        assert!(ended_by_disabling(true).sessions);
        assert!(!ended_by_disabling(false).sessions);
        assert!(is_machine_actor("cli") && is_machine_actor("system"));
        assert!(!is_machine_actor("ana@cert.example"));
    }
}
