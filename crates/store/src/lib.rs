//! The store contract: where observations, risk events, accounts, alerts and sensors live,
//! whatever the backend. The traits below are the one interface callers use; every rule a
//! backend must keep (visibility, idempotence, ordering, the data generation) is written on
//! the trait that owns it and checked by the [`conformance`] suite, which every backend runs.
//! The embedded SQLite backend (`greenwatch-store-sqlite`) is the default; callers get a
//! [`Store`] from `greenwatch-store-open` and never name a backend.
//!
//! Risk-feed events live behind [`RiskStore`], implemented by the same backends.
//!
//! Every capture and feed file carries a [`Label`] (owner organisation, TLP). Every read of
//! facts takes the [`Viewer`] and returns only what `Viewer::can_see` allows: a caller cannot
//! forget the check.
//!
//! Architecture invariants: a capture or feed file is written in one transaction (all of it or
//! none), and a file whose content hash is already stored is never written again.

pub mod audit;
pub mod codec;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod dataset;
pub mod segment;
mod sensors;

use chrono::NaiveDate;
use greenwatch_model::access::{Label, Viewer};
use greenwatch_model::account::{
    ApiToken, AuditEntry, Constituency, NewApiToken, Organisation, Session, TokensOnNewPassword,
    User,
};
use greenwatch_model::sensor::SensorRef;
use greenwatch_model::{FeedCounts, RiskEvent, Timestamp};
use greenwatch_observe::{
    BackscatterSlot, ClosedBucket, FlowTuple, IngestCounts, Observations, Rollup,
};
use serde::Serialize;

pub use sensors::{NewSensor, RejectionCount, SensorStore};

/// Days since 1970-01-01: how the stores key dates.
pub fn day_number(day: NaiveDate) -> i64 {
    (day - NaiveDate::default()).num_days()
}

/// The date of a [`day_number`].
pub fn day_from_number(n: i64) -> Option<NaiveDate> {
    NaiveDate::default().checked_add_signed(chrono::TimeDelta::try_days(n)?)
}

/// How far an ingested capture got.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "status", content = "error")]
pub enum CaptureStatus {
    /// Every record was read.
    Complete,
    /// The capture was cut short or corrupt; everything before the error is stored.
    Partial(String),
}

/// One ingested capture file, identified by the BLAKE3 hash of its content.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CaptureRecord {
    pub content_hash: String,
    pub path: String,
    pub sensor: String,
    pub label: Label,
    pub status: CaptureStatus,
    pub counts: IngestCounts,
    pub ingested_at: Timestamp,
}

/// Time range of bucket starts (seconds): `from` inclusive, `to` exclusive.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct TimeRange {
    pub from: Option<i64>,
    pub to: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A failure inside the backend (I/O, a lost connection, a full disk), as the backend
    /// describes it. Callers cannot tell backends apart by it, and should not need to.
    #[error("store: {0}")]
    Backend(Box<dyn std::error::Error + Send + Sync>),
    /// The store's server cannot be reached (down, restarting, the connection cut): nothing
    /// was changed, and the same request may succeed later. Callers answer "try again"
    /// (503 with `Retry-After`), never "it failed".
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
    #[error("store is corrupt: {0}")]
    Corrupt(String),
    /// The request conflicts with what is stored (a duplicate name, an unknown reference).
    #[error("{0}")]
    Conflict(String),
    /// The organisation's dataset (capture or feed file) with this content hash is stored
    /// already: what `begin_capture` and `begin_feed_file` answer instead of a second copy,
    /// however many writers race for it.
    #[error("{owner}'s dataset {content_hash} is stored already")]
    AlreadyStored { owner: String, content_hash: String },
}

// Rust's orphan rule lets only this crate write the conversion that lets a backend use `?` on
// its driver's errors; each backend's feature adds its own, and nothing else here knows it.
#[cfg(feature = "sqlite")]
impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        StoreError::Backend(Box::new(e))
    }
}

/// Every store interface at once: what a backend implements and what callers hold. A
/// `Box<dyn Store>` (from `greenwatch-store-open`) is handed to functions that want one
/// interface as `&dyn ObservationStore`, `&mut dyn AlertStore` and so on.
pub trait Store:
    ObservationStore + RiskStore + AccountStore + AlertStore + SensorStore + LeaseStore + Send
{
}

impl<T> Store for T where
    T: ObservationStore + RiskStore + AccountStore + AlertStore + SensorStore + LeaseStore + Send
{
}

/// Leases on background jobs, so that work meant to happen once per deployment (the
/// early-warning pass, alert deliveries, the report schedule) runs in one `serve` process at a
/// time however many share the store, and moves to another when its holder dies.
pub trait LeaseStore {
    /// Takes or renews the lease on `job` for `holder` until `until`. Granted (true) when no
    /// lease on `job` is stored, when `holder` holds it already, or when its holder's lease
    /// ended before `now`; otherwise nothing changes (false). Atomic across connections and
    /// processes: of holders racing for a free lease, exactly one gets it.
    fn take_lease(
        &mut self,
        job: &str,
        holder: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<bool, StoreError>;

    /// Gives up `holder`'s lease on `job` (nothing when another holds it), so another process
    /// may take it at once rather than when it would have ended.
    fn release_lease(&mut self, job: &str, holder: &str) -> Result<(), StoreError>;
}

/// Where a store lives, as one setting (`--store`): `sqlite:PATH` for the embedded database,
/// `postgres://…` (libpq's URL form) for a PostgreSQL database shared by several processes.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// The embedded SQLite database file.
    Sqlite(std::path::PathBuf),
    /// A PostgreSQL database, by its URL (which may hold a password: see `Display`).
    Postgres(String),
}

impl std::str::FromStr for StoreLocation {
    type Err = String;

    fn from_str(setting: &str) -> Result<StoreLocation, String> {
        match setting.split_once(':') {
            Some(("sqlite", path)) if !path.is_empty() => Ok(StoreLocation::Sqlite(path.into())),
            Some(("sqlite", _)) => {
                Err("sqlite: needs the database file's path, as sqlite:PATH".into())
            }
            Some(("postgres" | "postgresql", rest)) if rest.starts_with("//") => {
                Ok(StoreLocation::Postgres(setting.to_string()))
            }
            _ => Err(format!(
                "unknown store {:?}: expected sqlite:PATH (the embedded database) or \
                 postgres://USER@HOST:PORT/DATABASE",
                redact_password(setting)
            )),
        }
    }
}

/// A location's URL with its password (`user:password@`) replaced, for messages and logs.
fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => match rest[..at].split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***{}", &rest[at..]),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// Shows the location without its password (it goes into logs and error messages).
impl std::fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreLocation::Sqlite(path) => write!(f, "sqlite:{}", path.display()),
            StoreLocation::Postgres(url) => f.write_str(&redact_password(url)),
        }
    }
}

impl std::fmt::Debug for StoreLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StoreLocation({self})")
    }
}

#[cfg(test)]
mod location_tests {
    use super::*;

    #[test]
    fn a_postgres_location_keeps_its_url_and_never_shows_its_password() {
        let at: StoreLocation = "postgres://gw:s3cret@db.example:5432/greenwatch"
            .parse()
            .unwrap();
        assert_eq!(
            at,
            StoreLocation::Postgres("postgres://gw:s3cret@db.example:5432/greenwatch".into())
        );
        assert_eq!(
            at.to_string(),
            "postgres://gw:***@db.example:5432/greenwatch"
        );
        assert!(!format!("{at:?}").contains("s3cret"));
        let plain: StoreLocation = "postgresql://gw@127.0.0.1/g".parse().unwrap();
        assert_eq!(plain.to_string(), "postgresql://gw@127.0.0.1/g");
        let err = "mysql://u:pw@h/db".parse::<StoreLocation>().unwrap_err();
        assert!(err.contains("postgres://") && !err.contains("pw@"), "{err}");
    }
}

/// The storage interface for observation facts.
pub trait ObservationStore {
    /// `owner`'s stored capture with this content hash, if any. Datasets are per
    /// organisation: the same bytes stored by another organisation are not found, so no
    /// answer tells one organisation what another holds.
    fn find_capture(
        &self,
        owner: &str,
        content_hash: &str,
    ) -> Result<Option<CaptureRecord>, StoreError>;

    /// Starts storing `owner`'s capture with this content hash. Idempotence is the backend's
    /// to keep, whatever the number of writers and processes: when `owner` has stored it
    /// already (or another writer committed it first), the answer is
    /// [`StoreError::AlreadyStored`], and at most one of writers racing for the same hash
    /// commits; another organisation's copy is no conflict. Nothing becomes visible until
    /// [`CaptureWriter::commit`], whose label must name the same owner; dropping the writer
    /// (or the process dying) stores nothing.
    fn begin_capture(
        &mut self,
        owner: &str,
        content_hash: &str,
        sensor: &str,
    ) -> Result<Box<dyn CaptureWriter + '_>, StoreError>;

    /// Stores a capture held in memory, atomically.
    fn write_capture(
        &mut self,
        capture: &CaptureRecord,
        observations: &Observations,
    ) -> Result<(), StoreError> {
        let mut writer =
            self.begin_capture(&capture.label.owner, &capture.content_hash, &capture.sensor)?;
        for bucket in &observations.buckets {
            writer.write_bucket(bucket)?;
        }
        writer.commit(capture, &observations.backscatter)
    }

    fn captures(&self) -> Result<Vec<CaptureRecord>, StoreError>;

    /// Visits every flow tuple with a bucket in `range` of the captures `viewer` may see, in
    /// bucket order. With `sensor`, only captures stored under that sensor's name *and owned
    /// by its organisation*: another organisation's capture of the same name is not that
    /// sensor's data.
    fn scan_flows(
        &self,
        viewer: &Viewer,
        range: TimeRange,
        sensor: Option<&SensorRef>,
        visit: &mut dyn FnMut(&FlowTuple),
    ) -> Result<(), StoreError>;

    /// [`ObservationStore::scan_flows`] over every sensor, each flow tuple with the capture
    /// it came from: its label (which decides how its source may be shown,
    /// `Disclosure::for_viewer`) and its sensor (the capture's owner and sensor name).
    fn scan_labelled_flows(
        &self,
        viewer: &Viewer,
        range: TimeRange,
        visit: &mut dyn FnMut(&FlowOrigin, &FlowTuple),
    ) -> Result<(), StoreError>;

    /// A number that changes whenever any stored fact (observations, risk events, dataset
    /// labels) changes: equal generations answer every query alike, so results can be cached
    /// by it. The backend moves it in the commit of every dataset writer (capture or feed
    /// file), atomically with the facts; a writer dropped without commit leaves it alone.
    fn data_generation(&self) -> Result<u64, StoreError>;

    /// First and last flow bucket start (seconds) among the captures `viewer` may see.
    fn flow_bucket_range(&self, viewer: &Viewer) -> Result<Option<(i64, i64)>, StoreError>;

    /// Rollup rows (all sensors) with a bucket in `range`, sorted by bucket, over the captures
    /// `viewer` may see (the stored rollups when that is all of them, else rebuilt from the
    /// visible flows).
    fn rollups(&self, viewer: &Viewer, range: TimeRange) -> Result<Vec<Rollup>, StoreError>;

    /// Backscatter slots with a slot start in `range`, of the captures `viewer` may see (of
    /// `sensor`'s as [`ObservationStore::scan_flows`] matches them, when given).
    fn backscatter_slots(
        &self,
        viewer: &Viewer,
        range: TimeRange,
        sensor: Option<&SensorRef>,
    ) -> Result<Vec<BackscatterSlot>, StoreError> {
        let labelled = self.labelled_backscatter_slots(viewer, range, sensor)?;
        Ok(labelled.into_iter().flat_map(|(_, slots)| slots).collect())
    }

    /// [`ObservationStore::backscatter_slots`] grouped by the label of their capture, which
    /// decides how their victims may be shown (`Disclosure::for_viewer`).
    fn labelled_backscatter_slots(
        &self,
        viewer: &Viewer,
        range: TimeRange,
        sensor: Option<&SensorRef>,
    ) -> Result<Vec<(Label, Vec<BackscatterSlot>)>, StoreError>;
}

/// The rollups of the flows `viewer` may see in `range`, built from those flows bucket by
/// bucket, in bucket order: what `ObservationStore::rollups` answers when some captures are
/// hidden from the viewer (stored rollups mix every capture, so they cannot be used then).
pub fn rollups_of_visible_flows(
    store: &(impl ObservationStore + ?Sized),
    viewer: &Viewer,
    range: TimeRange,
) -> Result<Vec<Rollup>, StoreError> {
    let mut by_bucket: std::collections::BTreeMap<i64, Vec<FlowTuple>> = Default::default();
    store.scan_flows(viewer, range, None, &mut |f| {
        by_bucket.entry(f.bucket).or_default().push(f.clone())
    })?;
    Ok(by_bucket
        .values()
        .flat_map(|flows| greenwatch_observe::build_rollups(flows))
        .collect())
}

/// Where a flow tuple came from: the label and sensor of its capture.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FlowOrigin {
    pub label: Label,
    pub sensor: SensorRef,
}

/// One capture being stored: buckets stream in as the aggregator closes them.
pub trait CaptureWriter {
    /// Adds one bucket's flows, and its rollups when no other capture or part has written to
    /// the bucket. A bucket may come more than once (late packets); rollups of a bucket
    /// shared with earlier parts or other captures are built from all of its flows when read,
    /// so they stay exact.
    fn write_bucket(&mut self, bucket: &ClosedBucket) -> Result<(), StoreError>;

    /// Stores the capture's final record (its sensor is the one given to `begin_capture`) and
    /// backscatter, and makes everything visible at once.
    fn commit(
        self: Box<Self>,
        capture: &CaptureRecord,
        backscatter: &[BackscatterSlot],
    ) -> Result<(), StoreError>;
}

/// One ingested feed file, identified by the BLAKE3 hash of its bytes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FeedFileRecord {
    pub content_hash: String,
    pub path: String,
    /// `shadowserver`, `intelmq` or `mapped`.
    pub format: String,
    pub report_type: Option<String>,
    pub label: Label,
    pub counts: FeedCounts,
    pub ingested_at: Timestamp,
}

/// Which days of a risk have stored events.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RiskCoverage {
    pub risk: String,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub events: u64,
}

/// The storage interface for risk-feed events.
pub trait RiskStore {
    /// `owner`'s stored feed file with this content hash, if any (per organisation, as
    /// [`ObservationStore::find_capture`]).
    fn find_feed_file(
        &self,
        owner: &str,
        content_hash: &str,
    ) -> Result<Option<FeedFileRecord>, StoreError>;

    /// Starts storing `owner`'s feed file; [`StoreError::AlreadyStored`] when `owner` has
    /// stored it already, as [`ObservationStore::begin_capture`]. Nothing becomes visible
    /// until [`FeedFileWriter::commit`], whose label must name the same owner.
    fn begin_feed_file(
        &mut self,
        owner: &str,
        content_hash: &str,
    ) -> Result<Box<dyn FeedFileWriter + '_>, StoreError>;

    fn feed_files(&self) -> Result<Vec<FeedFileRecord>, StoreError>;

    /// Risks with events `viewer` may see, sorted by risk.
    fn risk_coverage(&self, viewer: &Viewer) -> Result<Vec<RiskCoverage>, StoreError>;

    /// Visits every event of `risk` dated in `[from, to)` from the files `viewer` may see.
    fn scan_risk_events(
        &self,
        viewer: &Viewer,
        risk: &str,
        from: NaiveDate,
        to: NaiveDate,
        visit: &mut dyn FnMut(&RiskEvent),
    ) -> Result<(), StoreError>;

    /// [`RiskStore::scan_risk_events`], each event with the label of its feed file (which
    /// decides how its address may be shown, `Disclosure::for_viewer`).
    fn scan_labelled_risk_events(
        &self,
        viewer: &Viewer,
        risk: &str,
        from: NaiveDate,
        to: NaiveDate,
        visit: &mut dyn FnMut(&Label, &RiskEvent),
    ) -> Result<(), StoreError>;
}

/// One feed file being stored: events stream in grouped by risk and day.
pub trait FeedFileWriter {
    /// Adds events of one risk, all dated `day`. A (risk, day) may come any number of times.
    fn write_events(
        &mut self,
        risk: &str,
        day: NaiveDate,
        events: &[RiskEvent],
    ) -> Result<(), StoreError>;

    /// Stores the file's record and makes its events visible at once.
    fn commit(self: Box<Self>, record: &FeedFileRecord) -> Result<(), StoreError>;
}

/// A new user, before the store gives it an id.
#[derive(Clone, Debug)]
pub struct NewUser {
    pub login: String,
    pub org: String,
    pub role: greenwatch_model::access::Role,
    /// argon2id PHC string.
    pub password_hash: String,
}

/// Portal state: organisations, users, sessions, API tokens and the audit log. Writes that
/// change who can do what also append to the audit log in the same transaction.
pub trait AccountStore {
    /// Adds an organisation; an existing slug is an error.
    fn create_org(&mut self, org: &Organisation, actor: &str) -> Result<(), StoreError>;
    fn orgs(&self) -> Result<Vec<Organisation>, StoreError>;
    /// Replaces the networks of organisation `org`'s constituency, audited as
    /// `org.constituency`; an unknown organisation is a conflict.
    fn set_constituency(
        &mut self,
        org: &str,
        constituency: &Constituency,
        actor: &str,
        at: Timestamp,
    ) -> Result<(), StoreError>;
    /// The constituency of `org` (no networks when none were set).
    fn constituency(&self, org: &str) -> Result<Constituency, StoreError>;

    /// Adds a user of an existing organisation; returns its id. Logins are unique, ignoring case.
    fn create_user(
        &mut self,
        user: &NewUser,
        actor: &str,
        now: Timestamp,
    ) -> Result<i64, StoreError>;
    fn user(&self, id: i64) -> Result<Option<User>, StoreError>;
    fn user_by_login(&self, login: &str) -> Result<Option<User>, StoreError>;
    fn users(&self) -> Result<Vec<User>, StoreError>;
    /// Sets a user's password; every session of the user ends, and their API tokens too
    /// unless `tokens` keeps them. Audited (with whether tokens were revoked).
    fn set_password(
        &mut self,
        id: i64,
        password_hash: &str,
        tokens: TokensOnNewPassword,
        actor: &str,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    /// Disables (or enables again) a user. A disabled user's sessions end at once and their
    /// API tokens stop working; nothing of theirs is deleted.
    fn set_user_disabled(
        &mut self,
        id: i64,
        disabled: bool,
        actor: &str,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    fn create_session(&mut self, session: &Session) -> Result<(), StoreError>;
    /// The live session with this token hash and its (enabled) user.
    fn session(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<(Session, User)>, StoreError>;
    fn delete_session(&mut self, token_hash: &str) -> Result<(), StoreError>;
    /// Removes sessions that expired before `now`; returns how many.
    fn purge_sessions(&mut self, now: Timestamp) -> Result<u64, StoreError>;

    /// Stores a token (by hash) with its scopes and expiry; returns its id.
    fn create_token(
        &mut self,
        user_id: i64,
        token: &NewApiToken,
        token_hash: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<i64, StoreError>;
    /// The unrevoked token with this hash and its (enabled) user, expired or not (so the
    /// caller can say "expired" rather than "unknown"); records the use only of a token that
    /// has not expired at `now`.
    fn use_token(
        &mut self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<(ApiToken, User)>, StoreError>;
    fn tokens(&self, user_id: i64) -> Result<Vec<ApiToken>, StoreError>;
    fn revoke_token(&mut self, id: i64, actor: &str, now: Timestamp) -> Result<(), StoreError>;

    /// Appends an entry concerning its actor's organisation (none for the machine's own
    /// actors, `cli` and `system`, or a login no user has).
    fn audit(&mut self, entry: &AuditEntry) -> Result<(), StoreError>;
    /// The newest `limit` entries of the whole log (the operator's), newest first.
    fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError>;
    /// The newest `limit` entries concerning organisation `org`, newest first: what its users
    /// did, and what anyone did to its users, tokens, constituency and sensors.
    fn org_audit_log(&self, org: &str, limit: usize) -> Result<Vec<AuditEntry>, StoreError>;
}

/// How one delivery attempt of an alert over one channel ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// Attempts made this time (retries included).
    pub attempts: u32,
    /// When it was delivered, or the last error.
    pub outcome: Result<Timestamp, String>,
}

/// An alert whose delivery over a channel was attempted and has not succeeded (yet).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailedDelivery {
    pub alert_id: i64,
    /// Attempts made in all, over every round.
    pub attempts: u32,
    pub last_error: String,
}

/// Early-warning alerts and what has been delivered where.
pub trait AlertStore {
    /// Stores an alert. One whose key is already stored is left as it is: returns the id and
    /// whether the alert is new.
    fn raise_alert(
        &mut self,
        alert: &greenwatch_model::alert::NewAlert,
    ) -> Result<(i64, bool), StoreError>;

    /// Stores an alert an analyst wrote, and its audit entry (`alert.create`, target: the new
    /// id) in the same transaction. Returns the id.
    fn write_alert(
        &mut self,
        alert: &greenwatch_model::alert::NewAlert,
        audit: &AuditEntry,
    ) -> Result<i64, StoreError>;
    /// The newest `limit` alerts `viewer` may see, newest first.
    fn alerts(
        &self,
        viewer: &Viewer,
        limit: usize,
    ) -> Result<Vec<greenwatch_model::alert::Alert>, StoreError>;
    /// One page of the alerts `viewer` may see that match `query`, newest first (by first
    /// seen, then id), with how many match in all. Visibility is `Viewer::can_see` on each
    /// alert's label, as everywhere; the cost follows the page and the filters, not the
    /// number of stored alerts (lists must not slow down as alerts accumulate).
    fn alert_page(
        &self,
        viewer: &Viewer,
        query: &greenwatch_model::alert::AlertQuery,
    ) -> Result<greenwatch_model::alert::AlertPage, StoreError>;
    /// Every alert whose key starts with `key_prefix`, oldest first, whoever may see it: the
    /// detector's own bookkeeping (which of its findings were raised before), never shown.
    fn alerts_keyed(
        &self,
        key_prefix: &str,
    ) -> Result<Vec<greenwatch_model::alert::Alert>, StoreError>;
    /// Sets the state of the alerts `ids` (those not already in it), with one audit entry
    /// each (`audit` with the alert's id as target and the state before its detail), in one
    /// transaction; returns how many changed. Whether the actor may is the caller's decision
    /// (`Viewer::may_triage`); unknown ids are skipped.
    fn set_alert_state(
        &mut self,
        ids: &[i64],
        state: greenwatch_model::alert::AlertState,
        audit: &AuditEntry,
    ) -> Result<usize, StoreError>;
    /// One alert, if it exists and `viewer` may see it.
    fn alert(
        &self,
        viewer: &Viewer,
        id: i64,
    ) -> Result<Option<greenwatch_model::alert::Alert>, StoreError>;
    /// Alerts `viewer` may see that were never delivered over `channel`, oldest first.
    fn undelivered(
        &self,
        viewer: &Viewer,
        channel: &str,
    ) -> Result<Vec<greenwatch_model::alert::Alert>, StoreError>;
    /// Adds `delivery`'s attempts to those recorded for (`alert_id`, `channel`) and keeps its
    /// outcome.
    fn record_delivery(
        &mut self,
        alert_id: i64,
        channel: &str,
        delivery: &Delivery,
    ) -> Result<(), StoreError>;
    /// The deliveries over `channel` that were attempted and have not succeeded, oldest alert
    /// first: how often each was tried and why it last failed.
    fn failed_deliveries(&self, channel: &str) -> Result<Vec<FailedDelivery>, StoreError>;

    /// Stores a subscription and its audit entry (`alert.subscribe`, never the secret) in one
    /// transaction. It receives alerts raised from now on. The organisation must exist.
    fn subscribe(
        &mut self,
        subscription: &greenwatch_model::alert::NewSubscription,
    ) -> Result<greenwatch_model::alert::Subscription, StoreError>;
    /// Every subscription, or those of one organisation, oldest first.
    fn subscriptions(
        &self,
        org: Option<&str>,
    ) -> Result<Vec<greenwatch_model::alert::Subscription>, StoreError>;
    /// Removes subscription `id` (only if it belongs to `org`, when given) and audits it as
    /// `alert.unsubscribe` by `actor`; returns whether there was one.
    fn unsubscribe(
        &mut self,
        id: i64,
        org: Option<&str>,
        actor: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError>;
}
