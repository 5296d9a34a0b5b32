//! Portal state in the embedded store: organisations, users, sessions, API tokens, audit log.

use crate::SqliteStore;
use greenwatch_model::access::Role;
use greenwatch_model::account::{
    ApiToken, AuditEntry, Constituency, NewApiToken, Organisation, Session, TokenScope,
    TokensOnNewPassword, User,
};
use greenwatch_model::Timestamp;
use greenwatch_store::{audit, AccountStore, NewUser, StoreError};
use rusqlite::{params, OptionalExtension, Row, Transaction};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS orgs (
    slug TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS org_networks (
    org TEXT NOT NULL REFERENCES orgs(slug),
    network TEXT NOT NULL,
    PRIMARY KEY (org, network)
);
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    login TEXT NOT NULL UNIQUE COLLATE NOCASE,
    org TEXT NOT NULL REFERENCES orgs(slug),
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS api_tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked INTEGER NOT NULL DEFAULT 0,
    -- Comma-separated `TokenScope`s; tokens from before scopes keep what they could do.
    scopes TEXT NOT NULL DEFAULT 'read,upload,triage',
    -- Microseconds; NULL: never.
    expires_at INTEGER
);
CREATE TABLE IF NOT EXISTS audit_log (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL,
    -- The organisation the entry concerns (whose admins read it); NULL: the deployment's.
    org TEXT
);
";

/// Stores made before audit entries named their organisation: the column is added and old
/// entries are given their actor's organisation (what they did is all that is known of them).
/// Stores made before API tokens had scopes and an expiry: the columns are added.
pub(super) fn migrate(conn: &rusqlite::Connection) -> Result<(), StoreError> {
    let has_org: bool = conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM pragma_table_info('audit_log') WHERE name = 'org')",
        [],
        |r| r.get(0),
    )?;
    let has_scopes: bool = conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM pragma_table_info('api_tokens') WHERE name = 'scopes')",
        [],
        |r| r.get(0),
    )?;
    if !has_scopes {
        // Tokens made before scopes could read, upload and triage: they keep exactly that,
        // and never expire, as they were promised.
        conn.execute_batch(
            "BEGIN;
             ALTER TABLE api_tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT 'read,upload,triage';
             ALTER TABLE api_tokens ADD COLUMN expires_at INTEGER;
             COMMIT;",
        )?;
    }
    if !has_org {
        let [cli, system] = audit::MACHINE_ACTORS;
        conn.execute_batch(&format!(
            "BEGIN;
             ALTER TABLE audit_log ADD COLUMN org TEXT;
             UPDATE audit_log
                 SET org = (SELECT users.org FROM users WHERE users.login = audit_log.actor)
                 WHERE actor NOT IN ('{cli}', '{system}');
             COMMIT;"
        ))?;
    }
    Ok(())
}

fn user_from_row(row: &Row<'_>) -> rusqlite::Result<User> {
    let role: String = row.get("role")?;
    let role: Role = role.parse().map_err(|e: String| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
    })?;
    Ok(User {
        id: row.get("id")?,
        login: row.get("login")?,
        org: row.get("org")?,
        role,
        password_hash: row.get("password_hash")?,
        disabled: row.get("disabled")?,
        created_at: Timestamp(row.get("created_at")?),
    })
}

fn token_from_row(row: &Row<'_>) -> rusqlite::Result<ApiToken> {
    Ok(ApiToken {
        id: row.get("id")?,
        user_id: row.get("user_id")?,
        name: row.get("name")?,
        token_hash: row.get("token_hash")?,
        created_at: Timestamp(row.get("created_at")?),
        last_used_at: row.get::<_, Option<i64>>("last_used_at")?.map(Timestamp),
        revoked: row.get("revoked")?,
        scopes: scopes_from(row.get("scopes")?)?,
        expires_at: row.get::<_, Option<i64>>("expires_at")?.map(Timestamp),
    })
}

fn scopes_from(list: String) -> rusqlite::Result<Vec<TokenScope>> {
    TokenScope::parse_list(&list).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
    })
}

/// Appends `entry` as concerning its actor's organisation (none for the machine or an unknown
/// login), for writes whose actor acts within their own organisation.
pub(super) fn append_audit(tx: &Transaction<'_>, entry: &AuditEntry) -> Result<(), StoreError> {
    let org: Option<String> = if audit::is_machine_actor(&entry.actor) {
        None
    } else {
        tx.query_row(
            "SELECT org FROM users WHERE login = ?1",
            [&entry.actor],
            |r| r.get(0),
        )
        .optional()?
    };
    append_org_audit(tx, entry, org.as_deref())
}

/// Appends `entry` as concerning organisation `org`: the one whose user, token, constituency
/// or sensor was changed, whoever changed it (the operator's changes are read by the
/// organisation they were made to).
pub(super) fn append_org_audit(
    tx: &Transaction<'_>,
    entry: &AuditEntry,
    org: Option<&str>,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO audit_log (at, actor, action, target, detail, org)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            entry.at.0,
            entry.actor,
            entry.action,
            entry.target,
            entry.detail,
            org
        ],
    )?;
    Ok(())
}

/// Ends what `ends` says of user `id`'s; returns how many API tokens it revoked, when it
/// revoked them.
fn end(tx: &Transaction<'_>, id: i64, ends: audit::Ends) -> Result<Option<usize>, StoreError> {
    if ends.sessions {
        tx.execute("DELETE FROM sessions WHERE user_id = ?1", [id])?;
    }
    if !ends.tokens {
        return Ok(None);
    }
    let revoked = tx.execute(
        "UPDATE api_tokens SET revoked = 1 WHERE user_id = ?1 AND revoked = 0",
        [id],
    )?;
    Ok(Some(revoked))
}

const USER_COLUMNS: &str = "users.id, users.login, users.org, users.role, users.password_hash, users.disabled, users.created_at";

impl AccountStore for SqliteStore {
    fn create_org(&mut self, org: &Organisation, actor: &str) -> Result<(), StoreError> {
        if !Organisation::valid_slug(&org.slug) {
            return Err(StoreError::Conflict(format!(
                "invalid organisation slug {:?}: use lower-case letters, digits and '-'",
                org.slug
            )));
        }
        let tx = crate::write_transaction(&mut self.conn)?;
        let inserted = tx.execute(
            "INSERT OR IGNORE INTO orgs (slug, name, created_at) VALUES (?1, ?2, ?3)",
            params![org.slug, org.name, org.created_at.0],
        )?;
        if inserted == 0 {
            return Err(StoreError::Conflict(format!(
                "organisation {:?} exists",
                org.slug
            )));
        }
        append_org_audit(&tx, &audit::org_created(org, actor), Some(&org.slug))?;
        tx.commit()?;
        Ok(())
    }

    fn orgs(&self) -> Result<Vec<Organisation>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT slug, name, created_at FROM orgs ORDER BY slug")?;
        let rows = stmt.query_map([], |r| {
            Ok(Organisation {
                slug: r.get(0)?,
                name: r.get(1)?,
                created_at: Timestamp(r.get(2)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn set_constituency(
        &mut self,
        org: &str,
        constituency: &Constituency,
        actor: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let tx = crate::write_transaction(&mut self.conn)?;
        let known: Option<String> = tx
            .query_row("SELECT slug FROM orgs WHERE slug = ?1", [org], |r| r.get(0))
            .optional()?;
        if known.is_none() {
            return Err(StoreError::Conflict(format!("no organisation {org:?}")));
        }
        tx.execute("DELETE FROM org_networks WHERE org = ?1", [org])?;
        for network in &constituency.networks {
            tx.execute(
                "INSERT OR IGNORE INTO org_networks (org, network) VALUES (?1, ?2)",
                params![org, network.to_string()],
            )?;
        }
        append_org_audit(
            &tx,
            &audit::constituency_set(org, constituency, actor, at),
            Some(org),
        )?;
        tx.commit()?;
        Ok(())
    }

    fn constituency(&self, org: &str) -> Result<Constituency, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT network FROM org_networks WHERE org = ?1 ORDER BY network")?;
        let rows = stmt.query_map([org], |r| r.get::<_, String>(0))?;
        let mut networks = Vec::new();
        for row in rows {
            let text = row?;
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
        let tx = crate::write_transaction(&mut self.conn)?;
        let org_exists: bool = tx.query_row(
            "SELECT EXISTS(SELECT 1 FROM orgs WHERE slug = ?1)",
            [&user.org],
            |r| r.get(0),
        )?;
        if !org_exists {
            return Err(StoreError::Conflict(format!(
                "no organisation {:?}",
                user.org
            )));
        }
        let inserted = tx.execute(
            "INSERT OR IGNORE INTO users (login, org, role, password_hash, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                user.login,
                user.org,
                Role::as_str(user.role),
                user.password_hash,
                now.0
            ],
        )?;
        if inserted == 0 {
            return Err(StoreError::Conflict(format!(
                "user {:?} exists",
                user.login
            )));
        }
        let id = tx.last_insert_rowid();
        append_org_audit(&tx, &audit::user_created(user, actor, now), Some(&user.org))?;
        tx.commit()?;
        Ok(id)
    }

    fn user(&self, id: i64) -> Result<Option<User>, StoreError> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"),
                [id],
                user_from_row,
            )
            .optional()?)
    }

    fn user_by_login(&self, login: &str) -> Result<Option<User>, StoreError> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {USER_COLUMNS} FROM users WHERE login = ?1"),
                [login],
                user_from_row,
            )
            .optional()?)
    }

    fn users(&self) -> Result<Vec<User>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY id"))?;
        let rows = stmt.query_map([], user_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn set_password(
        &mut self,
        id: i64,
        password_hash: &str,
        tokens: TokensOnNewPassword,
        actor: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let tx = crate::write_transaction(&mut self.conn)?;
        let (login, org) = login_of(&tx, id)?;
        tx.execute(
            "UPDATE users SET password_hash = ?2 WHERE id = ?1",
            params![id, password_hash],
        )?;
        let revoked = end(&tx, id, audit::ended_by_new_password(tokens))?;
        append_org_audit(
            &tx,
            &audit::password_set(&login, revoked, actor, now),
            Some(&org),
        )?;
        tx.commit()?;
        Ok(())
    }

    fn set_user_disabled(
        &mut self,
        id: i64,
        disabled: bool,
        actor: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let tx = crate::write_transaction(&mut self.conn)?;
        let (login, org) = login_of(&tx, id)?;
        tx.execute(
            "UPDATE users SET disabled = ?2 WHERE id = ?1",
            params![id, disabled],
        )?;
        end(&tx, id, audit::ended_by_disabling(disabled))?;
        append_org_audit(
            &tx,
            &audit::user_disabled(&login, disabled, actor, now),
            Some(&org),
        )?;
        tx.commit()?;
        Ok(())
    }

    fn create_session(&mut self, s: &Session) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                s.token_hash,
                s.user_id,
                s.csrf_token,
                s.created_at.0,
                s.expires_at.0
            ],
        )?;
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
             WHERE sessions.token_hash = ?1"
        );
        let found = self
            .conn
            .query_row(&sql, params![token_hash], |r| {
                let user = user_from_row(r)?;
                Ok((
                    Session {
                        token_hash: r.get("token_hash")?,
                        user_id: user.id,
                        csrf_token: r.get("csrf_token")?,
                        created_at: Timestamp(r.get("s_created")?),
                        expires_at: Timestamp(r.get("expires_at")?),
                    },
                    user,
                ))
            })
            .optional()?;
        Ok(found.filter(|(session, user)| audit::session_is_live(session, user, now)))
    }

    fn delete_session(&mut self, token_hash: &str) -> Result<(), StoreError> {
        self.conn
            .execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])?;
        Ok(())
    }

    fn purge_sessions(&mut self, now: Timestamp) -> Result<u64, StoreError> {
        Ok(self
            .conn
            .execute("DELETE FROM sessions WHERE expires_at <= ?1", [now.0])? as u64)
    }

    fn create_token(
        &mut self,
        user_id: i64,
        token: &NewApiToken,
        token_hash: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        let tx = crate::write_transaction(&mut self.conn)?;
        let (login, org) = login_of(&tx, user_id)?;
        let scopes = TokenScope::list(&token.scopes);
        tx.execute(
            "INSERT INTO api_tokens (user_id, name, token_hash, created_at, scopes, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                user_id,
                token.name,
                token_hash,
                now.0,
                scopes,
                token.expires_at.map(|t| t.0)
            ],
        )?;
        let id = tx.last_insert_rowid();
        append_org_audit(
            &tx,
            &audit::token_created(&login, id, token, actor, now),
            Some(&org),
        )?;
        tx.commit()?;
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
             WHERE api_tokens.token_hash = ?1 AND api_tokens.revoked = 0 AND users.disabled = 0"
        );
        let found = self
            .conn
            .query_row(&sql, [token_hash], |r| {
                Ok((
                    ApiToken {
                        id: r.get("t_id")?,
                        user_id: r.get("user_id")?,
                        name: r.get("name")?,
                        token_hash: r.get("token_hash")?,
                        created_at: Timestamp(r.get("t_created")?),
                        last_used_at: r.get::<_, Option<i64>>("last_used_at")?.map(Timestamp),
                        revoked: r.get("revoked")?,
                        scopes: scopes_from(r.get("scopes")?)?,
                        expires_at: r.get::<_, Option<i64>>("expires_at")?.map(Timestamp),
                    },
                    user_from_row(r)?,
                ))
            })
            .optional()?;
        if let Some((token, _)) = found.as_ref().filter(|(t, _)| !t.expired(now)) {
            self.conn.execute(
                "UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1",
                params![token.id, now.0],
            )?;
        }
        Ok(found)
    }

    fn tokens(&self, user_id: i64) -> Result<Vec<ApiToken>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT * FROM api_tokens WHERE user_id = ?1 ORDER BY id")?;
        let rows = stmt.query_map([user_id], token_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn revoke_token(&mut self, id: i64, actor: &str, now: Timestamp) -> Result<(), StoreError> {
        let tx = crate::write_transaction(&mut self.conn)?;
        if tx.execute("UPDATE api_tokens SET revoked = 1 WHERE id = ?1", [id])? == 0 {
            return Err(StoreError::Conflict(format!("no token {id}")));
        }
        let org: String = tx.query_row(
            "SELECT users.org FROM api_tokens JOIN users ON users.id = api_tokens.user_id
             WHERE api_tokens.id = ?1",
            [id],
            |r| r.get(0),
        )?;
        append_org_audit(&tx, &audit::token_revoked(id, actor, now), Some(&org))?;
        tx.commit()?;
        Ok(())
    }

    fn audit(&mut self, e: &AuditEntry) -> Result<(), StoreError> {
        let tx = crate::write_transaction(&mut self.conn)?;
        append_audit(&tx, e)?;
        tx.commit()?;
        Ok(())
    }

    fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        self.audit_entries(None, limit)
    }

    fn org_audit_log(&self, org: &str, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        self.audit_entries(Some(org), limit)
    }
}

impl SqliteStore {
    /// The newest `limit` entries (of `org` only, when given), newest first.
    fn audit_entries(
        &self,
        org: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT at, actor, action, target, detail FROM audit_log
             WHERE ?1 IS NULL OR org = ?1 ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![org, limit as i64], |r| {
            Ok(AuditEntry {
                at: Timestamp(r.get(0)?),
                actor: r.get(1)?,
                action: r.get(2)?,
                target: r.get(3)?,
                detail: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// The login and organisation of user `id`; a missing user is a conflict (the caller named a
/// wrong id).
fn login_of(tx: &rusqlite::Transaction<'_>, id: i64) -> Result<(String, String), StoreError> {
    let found: Option<(String, String)> = tx
        .query_row("SELECT login, org FROM users WHERE id = ?1", [id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    found.ok_or_else(|| StoreError::Conflict(format!("no user {id}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now(secs: i64) -> Timestamp {
        Timestamp::from_secs(1_800_000_000 + secs)
    }

    #[test]
    fn a_store_made_before_audit_entries_named_their_organisation_gives_old_ones_their_actors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite");
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute_batch(
                "CREATE TABLE audit_log (
                     id INTEGER PRIMARY KEY,
                     at INTEGER NOT NULL,
                     actor TEXT NOT NULL,
                     action TEXT NOT NULL,
                     target TEXT NOT NULL,
                     detail TEXT NOT NULL
                 );",
            )
            .unwrap();
            conn.execute_batch(SCHEMA).unwrap();
            conn.execute_batch(
                "INSERT INTO orgs VALUES ('cert-a', 'CERT A', 0);
                 INSERT INTO users (login, org, role, password_hash, created_at)
                     VALUES ('ana', 'cert-a', 'admin', 'x', 0);
                 INSERT INTO audit_log (at, actor, action, target, detail) VALUES
                     (1, 'cli', 'user.create', 'ana', ''),
                     (2, 'ana', 'login', 'ana', '');",
            )
            .unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        let of_a: Vec<String> = store
            .org_audit_log("cert-a", 10)
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert_eq!(of_a, ["login"]);
        assert_eq!(store.audit_log(10).unwrap().len(), 2);
    }

    #[test]
    fn tokens_made_before_scopes_keep_what_they_could_do_and_never_expire() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite");
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute_batch(
                "CREATE TABLE api_tokens (
                     id INTEGER PRIMARY KEY,
                     user_id INTEGER NOT NULL REFERENCES users(id),
                     name TEXT NOT NULL,
                     token_hash TEXT NOT NULL UNIQUE,
                     created_at INTEGER NOT NULL,
                     last_used_at INTEGER,
                     revoked INTEGER NOT NULL DEFAULT 0
                 );",
            )
            .unwrap();
            conn.execute_batch(SCHEMA).unwrap();
            conn.execute_batch(
                "INSERT INTO orgs VALUES ('cert-a', 'CERT A', 0);
                 INSERT INTO users (login, org, role, password_hash, created_at)
                     VALUES ('ana', 'cert-a', 'admin', 'x', 0);
                 INSERT INTO api_tokens (user_id, name, token_hash, created_at)
                     VALUES (1, 'nightly', 'old-hash', 0);",
            )
            .unwrap();
        }
        let mut store = SqliteStore::open(&path).unwrap();
        let (old, _) = store.use_token("old-hash", now(5)).unwrap().unwrap();
        assert_eq!(
            old.scopes,
            [TokenScope::Read, TokenScope::Upload, TokenScope::Triage]
        );
        assert_eq!(old.expires_at, None);
        let new = NewApiToken::new("short", &[TokenScope::Sensor], Some(now(10)));
        store
            .create_token(1, &new, "new-hash", "ana", now(6))
            .unwrap();
        let (made, _) = store.use_token("new-hash", now(7)).unwrap().unwrap();
        assert_eq!((made.scopes, made.expires_at), (new.scopes, new.expires_at));
        let (late, _) = store.use_token("new-hash", now(10)).unwrap().unwrap();
        assert!(late.expired(now(10)));
        assert_eq!(
            late.last_used_at,
            Some(now(7)),
            "an expired token is not used"
        );
    }
}
