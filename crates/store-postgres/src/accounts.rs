//! Portal state on PostgreSQL: organisations, users, sessions, API tokens, audit log.

use crate::{pg, PostgresStore};
use greenwatch_model::access::Role;
use greenwatch_model::account::{
    ApiToken, AuditEntry, Constituency, NewApiToken, Organisation, Session, TokenScope,
    TokensOnNewPassword, User,
};
use greenwatch_model::Timestamp;
use greenwatch_store::{audit, AccountStore, NewUser, StoreError};
use postgres::{GenericClient, Row};

pub(crate) const SCHEMA: &str = "
CREATE TABLE orgs (
    slug TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE org_networks (
    org TEXT NOT NULL REFERENCES orgs(slug),
    network TEXT NOT NULL,
    PRIMARY KEY (org, network)
);
CREATE TABLE users (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    login TEXT NOT NULL,
    org TEXT NOT NULL REFERENCES orgs(slug),
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL
);
-- Logins are unique ignoring case, and looked up by `lower(login)`.
CREATE UNIQUE INDEX users_login ON users (lower(login));
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE TABLE api_tokens (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked BOOLEAN NOT NULL DEFAULT FALSE,
    -- Comma-separated `TokenScope`s.
    scopes TEXT NOT NULL,
    -- Microseconds; NULL: never.
    expires_at BIGINT
);
CREATE INDEX api_tokens_by_user ON api_tokens (user_id);
CREATE TABLE audit_log (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL,
    -- The organisation the entry concerns (whose admins read it); NULL: the deployment's.
    org TEXT
);
CREATE INDEX audit_log_by_org ON audit_log (org, id);
";

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

fn user_from_row(row: &Row) -> Result<User, StoreError> {
    let role: String = row.try_get("role").map_err(pg)?;
    let role: Role = role.parse().map_err(|e: String| corrupt("user role", e))?;
    Ok(User {
        id: row.try_get("id").map_err(pg)?,
        login: row.try_get("login").map_err(pg)?,
        org: row.try_get("org").map_err(pg)?,
        role,
        password_hash: row.try_get("password_hash").map_err(pg)?,
        disabled: row.try_get("disabled").map_err(pg)?,
        created_at: Timestamp(row.try_get("created_at").map_err(pg)?),
    })
}

/// An API token of a row; `id` and `created_at` are the names of those columns in `row`
/// (they are aliased where the row also holds the user's).
fn token_from_row(row: &Row, id: &str, created_at: &str) -> Result<ApiToken, StoreError> {
    Ok(ApiToken {
        id: row.try_get(id).map_err(pg)?,
        user_id: row.try_get("user_id").map_err(pg)?,
        name: row.try_get("name").map_err(pg)?,
        token_hash: row.try_get("token_hash").map_err(pg)?,
        created_at: Timestamp(row.try_get(created_at).map_err(pg)?),
        last_used_at: row
            .try_get::<_, Option<i64>>("last_used_at")
            .map_err(pg)?
            .map(Timestamp),
        revoked: row.try_get("revoked").map_err(pg)?,
        scopes: TokenScope::parse_list(row.try_get("scopes").map_err(pg)?)
            .map_err(|e| corrupt("token scopes", e))?,
        expires_at: row
            .try_get::<_, Option<i64>>("expires_at")
            .map_err(pg)?
            .map(Timestamp),
    })
}

/// Appends `entry` as concerning its actor's organisation (none for the machine or an unknown
/// login), for writes whose actor acts within their own organisation. Call it with the
/// transaction of the write it records.
pub(crate) fn append_audit(
    tx: &mut impl GenericClient,
    entry: &AuditEntry,
) -> Result<(), StoreError> {
    let org: Option<String> = if audit::is_machine_actor(&entry.actor) {
        None
    } else {
        tx.query_opt(
            "SELECT org FROM users WHERE lower(login) = lower($1)",
            &[&entry.actor],
        )
        .map_err(pg)?
        .map(|r| r.get(0))
    };
    append_org_audit(tx, entry, org.as_deref())
}

/// Appends `entry` as concerning organisation `org`: the one whose user, token, constituency
/// or sensor was changed, whoever changed it (the operator's changes are read by the
/// organisation they were made to).
pub(crate) fn append_org_audit(
    tx: &mut impl GenericClient,
    entry: &AuditEntry,
    org: Option<&str>,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO audit_log (at, actor, action, target, detail, org)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &entry.at.0,
            &entry.actor,
            &entry.action,
            &entry.target,
            &entry.detail,
            &org,
        ],
    )
    .map_err(pg)?;
    Ok(())
}

/// Ends what `ends` says of user `id`'s; returns how many API tokens it revoked, when it
/// revoked them.
fn end(
    tx: &mut impl GenericClient,
    id: i64,
    ends: audit::Ends,
) -> Result<Option<usize>, StoreError> {
    if ends.sessions {
        tx.execute("DELETE FROM sessions WHERE user_id = $1", &[&id])
            .map_err(pg)?;
    }
    if !ends.tokens {
        return Ok(None);
    }
    let revoked = tx
        .execute(
            "UPDATE api_tokens SET revoked = TRUE WHERE user_id = $1 AND NOT revoked",
            &[&id],
        )
        .map_err(pg)?;
    Ok(Some(revoked as usize))
}

/// The login and organisation of user `id`; a missing user is a conflict (the caller named a
/// wrong id).
fn login_of(tx: &mut impl GenericClient, id: i64) -> Result<(String, String), StoreError> {
    tx.query_opt("SELECT login, org FROM users WHERE id = $1", &[&id])
        .map_err(pg)?
        .map(|r| (r.get(0), r.get(1)))
        .ok_or_else(|| StoreError::Conflict(format!("no user {id}")))
}

/// Whether organisation `slug` exists.
pub(crate) fn org_exists(tx: &mut impl GenericClient, slug: &str) -> Result<bool, StoreError> {
    Ok(tx
        .query_one(
            "SELECT EXISTS(SELECT 1 FROM orgs WHERE slug = $1)",
            &[&slug],
        )
        .map_err(pg)?
        .get(0))
}

const USER_COLUMNS: &str = "users.id, users.login, users.org, users.role, users.password_hash, users.disabled, users.created_at";

impl AccountStore for PostgresStore {
    fn create_org(&mut self, org: &Organisation, actor: &str) -> Result<(), StoreError> {
        if !Organisation::valid_slug(&org.slug) {
            return Err(StoreError::Conflict(format!(
                "invalid organisation slug {:?}: use lower-case letters, digits and '-'",
                org.slug
            )));
        }
        let mut tx = self.client_mut()?.transaction().map_err(pg)?;
        let inserted = tx
            .execute(
                "INSERT INTO orgs (slug, name, created_at) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING",
                &[&org.slug, &org.name, &org.created_at.0],
            )
            .map_err(pg)?;
        if inserted == 0 {
            return Err(StoreError::Conflict(format!(
                "organisation {:?} exists",
                org.slug
            )));
        }
        append_org_audit(&mut tx, &audit::org_created(org, actor), Some(&org.slug))?;
        tx.commit().map_err(pg)
    }

    fn orgs(&self) -> Result<Vec<Organisation>, StoreError> {
        let rows = self
            .client()?
            .query(
                "SELECT slug, name, created_at FROM orgs ORDER BY slug COLLATE \"C\"",
                &[],
            )
            .map_err(pg)?;
        Ok(rows
            .iter()
            .map(|r| Organisation {
                slug: r.get(0),
                name: r.get(1),
                created_at: Timestamp(r.get(2)),
            })
            .collect())
    }

    fn set_constituency(
        &mut self,
        org: &str,
        constituency: &Constituency,
        actor: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.client_mut()?.transaction().map_err(pg)?;
        // The organisation's row is locked: concurrent replacements take turns, each whole.
        let known = tx
            .query_opt("SELECT slug FROM orgs WHERE slug = $1 FOR UPDATE", &[&org])
            .map_err(pg)?;
        if known.is_none() {
            return Err(StoreError::Conflict(format!("no organisation {org:?}")));
        }
        tx.execute("DELETE FROM org_networks WHERE org = $1", &[&org])
            .map_err(pg)?;
        for network in &constituency.networks {
            tx.execute(
                "INSERT INTO org_networks (org, network) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&org, &network.to_string()],
            )
            .map_err(pg)?;
        }
        append_org_audit(
            &mut tx,
            &audit::constituency_set(org, constituency, actor, at),
            Some(org),
        )?;
        tx.commit().map_err(pg)
    }

    fn constituency(&self, org: &str) -> Result<Constituency, StoreError> {
        let rows = self
            .client()?
            .query(
                "SELECT network FROM org_networks WHERE org = $1 ORDER BY network COLLATE \"C\"",
                &[&org],
            )
            .map_err(pg)?;
        let mut networks = Vec::new();
        for row in rows {
            let text: String = row.get(0);
            networks.push(
                text.parse()
                    .map_err(|e| StoreError::Corrupt(format!("network of {org}: {e}")))?,
            );
        }
        Ok(Constituency { networks })
    }

    fn create_user(
        &mut self,
        user: &NewUser,
        actor: &str,
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        let mut tx = self.client_mut()?.transaction().map_err(pg)?;
        if !org_exists(&mut tx, &user.org)? {
            return Err(StoreError::Conflict(format!(
                "no organisation {:?}",
                user.org
            )));
        }
        let inserted = tx
            .query_opt(
                "INSERT INTO users (login, org, role, password_hash, created_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT DO NOTHING RETURNING id",
                &[
                    &user.login,
                    &user.org,
                    &Role::as_str(user.role),
                    &user.password_hash,
                    &now.0,
                ],
            )
            .map_err(pg)?;
        let Some(row) = inserted else {
            return Err(StoreError::Conflict(format!(
                "user {:?} exists",
                user.login
            )));
        };
        let id: i64 = row.get(0);
        append_org_audit(
            &mut tx,
            &audit::user_created(user, actor, now),
            Some(&user.org),
        )?;
        tx.commit().map_err(pg)?;
        Ok(id)
    }

    fn user(&self, id: i64) -> Result<Option<User>, StoreError> {
        self.client()?
            .query_opt(
                &format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"),
                &[&id],
            )
            .map_err(pg)?
            .as_ref()
            .map(user_from_row)
            .transpose()
    }

    fn user_by_login(&self, login: &str) -> Result<Option<User>, StoreError> {
        self.client()?
            .query_opt(
                &format!("SELECT {USER_COLUMNS} FROM users WHERE lower(login) = lower($1)"),
                &[&login],
            )
            .map_err(pg)?
            .as_ref()
            .map(user_from_row)
            .transpose()
    }

    fn users(&self) -> Result<Vec<User>, StoreError> {
        self.client()?
            .query(
                &format!("SELECT {USER_COLUMNS} FROM users ORDER BY id"),
                &[],
            )
            .map_err(pg)?
            .iter()
            .map(user_from_row)
            .collect()
    }

    fn set_password(
        &mut self,
        id: i64,
        password_hash: &str,
        tokens: TokensOnNewPassword,
        actor: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.client_mut()?.transaction().map_err(pg)?;
        let (login, org) = login_of(&mut tx, id)?;
        tx.execute(
            "UPDATE users SET password_hash = $2 WHERE id = $1",
            &[&id, &password_hash],
        )
        .map_err(pg)?;
        let revoked = end(&mut tx, id, audit::ended_by_new_password(tokens))?;
        append_org_audit(
            &mut tx,
            &audit::password_set(&login, revoked, actor, now),
            Some(&org),
        )?;
        tx.commit().map_err(pg)
    }

    fn set_user_disabled(
        &mut self,
        id: i64,
        disabled: bool,
        actor: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.client_mut()?.transaction().map_err(pg)?;
        let (login, org) = login_of(&mut tx, id)?;
        tx.execute(
            "UPDATE users SET disabled = $2 WHERE id = $1",
            &[&id, &disabled],
        )
        .map_err(pg)?;
        end(&mut tx, id, audit::ended_by_disabling(disabled))?;
        append_org_audit(
            &mut tx,
            &audit::user_disabled(&login, disabled, actor, now),
            Some(&org),
        )?;
        tx.commit().map_err(pg)
    }

    fn create_session(&mut self, s: &Session) -> Result<(), StoreError> {
        self.client_mut()?
            .execute(
                "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5)",
                &[
                    &s.token_hash,
                    &s.user_id,
                    &s.csrf_token,
                    &s.created_at.0,
                    &s.expires_at.0,
                ],
            )
            .map_err(pg)?;
        Ok(())
    }

    fn session(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<(Session, User)>, StoreError> {
        let sql = format!(
            "SELECT sessions.token_hash, sessions.csrf_token, sessions.created_at AS s_created,
                    sessions.expires_at, {USER_COLUMNS}
             FROM sessions JOIN users ON users.id = sessions.user_id
             WHERE sessions.token_hash = $1"
        );
        let Some(row) = self.client()?.query_opt(&sql, &[&token_hash]).map_err(pg)? else {
            return Ok(None);
        };
        let user = user_from_row(&row)?;
        let session = Session {
            token_hash: row.try_get("token_hash").map_err(pg)?,
            user_id: user.id,
            csrf_token: row.try_get("csrf_token").map_err(pg)?,
            created_at: Timestamp(row.try_get("s_created").map_err(pg)?),
            expires_at: Timestamp(row.try_get("expires_at").map_err(pg)?),
        };
        Ok(audit::session_is_live(&session, &user, now).then_some((session, user)))
    }

    fn delete_session(&mut self, token_hash: &str) -> Result<(), StoreError> {
        self.client_mut()?
            .execute("DELETE FROM sessions WHERE token_hash = $1", &[&token_hash])
            .map_err(pg)?;
        Ok(())
    }

    fn purge_sessions(&mut self, now: Timestamp) -> Result<u64, StoreError> {
        self.client_mut()?
            .execute("DELETE FROM sessions WHERE expires_at <= $1", &[&now.0])
            .map_err(pg)
    }

    fn create_token(
        &mut self,
        user_id: i64,
        token: &NewApiToken,
        token_hash: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        let mut tx = self.client_mut()?.transaction().map_err(pg)?;
        let (login, org) = login_of(&mut tx, user_id)?;
        let scopes = TokenScope::list(&token.scopes);
        let id: i64 = tx
            .query_one(
                "INSERT INTO api_tokens (user_id, name, token_hash, created_at, scopes, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                &[
                    &user_id,
                    &token.name,
                    &token_hash,
                    &now.0,
                    &scopes,
                    &token.expires_at.map(|t| t.0),
                ],
            )
            .map_err(pg)?
            .get(0);
        append_org_audit(
            &mut tx,
            &audit::token_created(&login, id, token, actor, now),
            Some(&org),
        )?;
        tx.commit().map_err(pg)?;
        Ok(id)
    }

    fn use_token(
        &mut self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<(ApiToken, User)>, StoreError> {
        let sql = format!(
            "SELECT api_tokens.id AS t_id, api_tokens.user_id, api_tokens.name, api_tokens.token_hash,
                    api_tokens.created_at AS t_created, api_tokens.last_used_at, api_tokens.revoked,
                    api_tokens.scopes, api_tokens.expires_at, {USER_COLUMNS}
             FROM api_tokens JOIN users ON users.id = api_tokens.user_id
             WHERE api_tokens.token_hash = $1 AND NOT api_tokens.revoked AND NOT users.disabled"
        );
        let client = self.client_mut()?;
        let Some(row) = client.query_opt(&sql, &[&token_hash]).map_err(pg)? else {
            return Ok(None);
        };
        let token = token_from_row(&row, "t_id", "t_created")?;
        let user = user_from_row(&row)?;
        if !token.expired(now) {
            client
                .execute(
                    "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1",
                    &[&token.id, &now.0],
                )
                .map_err(pg)?;
        }
        Ok(Some((token, user)))
    }

    fn tokens(&self, user_id: i64) -> Result<Vec<ApiToken>, StoreError> {
        self.client()?
            .query(
                "SELECT id, user_id, name, token_hash, created_at, last_used_at, revoked, scopes,
                        expires_at
                 FROM api_tokens WHERE user_id = $1 ORDER BY id",
                &[&user_id],
            )
            .map_err(pg)?
            .iter()
            .map(|row| token_from_row(row, "id", "created_at"))
            .collect()
    }

    fn revoke_token(&mut self, id: i64, actor: &str, now: Timestamp) -> Result<(), StoreError> {
        let mut tx = self.client_mut()?.transaction().map_err(pg)?;
        let org = tx
            .query_opt(
                "UPDATE api_tokens SET revoked = TRUE FROM users
                 WHERE api_tokens.id = $1 AND users.id = api_tokens.user_id
                 RETURNING users.org",
                &[&id],
            )
            .map_err(pg)?;
        let Some(org) = org else {
            return Err(StoreError::Conflict(format!("no token {id}")));
        };
        let org: String = org.get(0);
        append_org_audit(&mut tx, &audit::token_revoked(id, actor, now), Some(&org))?;
        tx.commit().map_err(pg)
    }

    fn audit(&mut self, e: &AuditEntry) -> Result<(), StoreError> {
        let mut tx = self.client_mut()?.transaction().map_err(pg)?;
        append_audit(&mut tx, e)?;
        tx.commit().map_err(pg)
    }

    fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        self.audit_entries(None, limit)
    }

    fn org_audit_log(&self, org: &str, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        self.audit_entries(Some(org), limit)
    }
}

impl PostgresStore {
    /// The newest `limit` entries (of `org` only, when given), newest first.
    fn audit_entries(
        &self,
        org: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        // PostgreSQL refuses a negative LIMIT; any count beyond i64 means all of them.
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .client()?
            .query(
                "SELECT at, actor, action, target, detail FROM audit_log
                 WHERE $1::TEXT IS NULL OR org = $1 ORDER BY id DESC LIMIT $2",
                &[&org, &limit],
            )
            .map_err(pg)?;
        Ok(rows
            .iter()
            .map(|r| AuditEntry {
                at: Timestamp(r.get(0)),
                actor: r.get(1),
                action: r.get(2),
                target: r.get(3),
                detail: r.get(4),
            })
            .collect())
    }
}
