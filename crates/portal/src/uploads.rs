//! Upload jobs: a capture or feed file sent through the browser (or by a script with an API
//! token) is streamed to a private file in the data directory, then ingested in the
//! background by the same `greenwatch-ingest` functions as `greenwatch ingest`, reporting its
//! progress into the job. The job's page and API show that progress and, at the end, the
//! outcome with every error's byte offset or line. The file is deleted once ingested: the store
//! holds the data and the file's content hash.
//!
//! A job is visible to the users of the organisation that uploaded it only, and its id is a
//! 128-bit random secret, so ids cannot be guessed or enumerated.

use greenwatch_ingest::{FileOutcome, Progress};
use greenwatch_model::access::{Label, Viewer};
use greenwatch_model::Timestamp;
use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Jobs remembered per organisation (the newest); older ones are forgotten, their data stays
/// stored. Per organisation, so one member's many uploads never push another's history out.
const KEPT_JOBS: usize = 200;
/// Uploads one organisation may have ingesting at once: each holds a file on disk and a
/// store writer, so one member cannot queue the server's disk and writer for everyone.
pub const RUNNING_PER_ORGANISATION: usize = 4;

/// What kind of file a job ingests.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UploadKind {
    Capture,
    Feed,
}

impl UploadKind {
    pub fn as_str(self) -> &'static str {
        match self {
            UploadKind::Capture => "capture",
            UploadKind::Feed => "feed",
        }
    }

    /// What ingest progress counts: bytes of a capture, rows of a feed.
    pub fn unit(self) -> &'static str {
        match self {
            UploadKind::Capture => "bytes",
            UploadKind::Feed => "rows",
        }
    }
}

/// One upload being (or having been) ingested.
pub struct UploadJob {
    pub id: String,
    /// The uploader and their organisation (the owner of the data).
    pub login: String,
    pub kind: UploadKind,
    /// The file's name as sent (sanitised).
    pub name: String,
    pub label: Label,
    pub bytes: u64,
    pub started: Timestamp,
    done: AtomicU64,
    /// Units to do; 0 while unknown (a feed is streamed).
    total: AtomicU64,
    outcome: Mutex<Option<FileOutcome>>,
}

/// A job as its page and API show it.
#[derive(Clone, Debug, Serialize)]
pub struct JobStatus {
    pub id: String,
    pub kind: UploadKind,
    pub name: String,
    pub uploaded_by: String,
    pub owner: String,
    pub tlp: String,
    pub bytes: u64,
    pub started: Timestamp,
    /// `ingesting` or `done`.
    pub state: &'static str,
    /// Ingest progress: `done` of `total` units (`total` is `null` while unknown).
    pub done: u64,
    pub total: Option<u64>,
    pub unit: &'static str,
    /// Set when the job is done: status, errors with offset or line, bad rows.
    pub outcome: Option<FileOutcome>,
}

impl UploadJob {
    pub fn new(
        id: String,
        login: String,
        kind: UploadKind,
        name: String,
        label: Label,
        bytes: u64,
        started: Timestamp,
    ) -> UploadJob {
        UploadJob {
            id,
            login,
            kind,
            name,
            label,
            bytes,
            started,
            done: AtomicU64::new(0),
            total: AtomicU64::new(0),
            outcome: Mutex::new(None),
        }
    }

    pub fn finish_with(&self, outcome: FileOutcome) {
        *self.outcome.lock().unwrap_or_else(|e| e.into_inner()) = Some(outcome);
    }

    /// Whether `viewer` may see this job: users of the uploading organisation only.
    pub fn visible_to(&self, viewer: &Viewer) -> bool {
        matches!(viewer, Viewer::User { org, .. } if *org == self.label.owner)
    }

    pub fn status(&self) -> JobStatus {
        let outcome = self
            .outcome
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let total = self.total.load(Ordering::Relaxed);
        JobStatus {
            id: self.id.clone(),
            kind: self.kind,
            name: self.name.clone(),
            uploaded_by: self.login.clone(),
            owner: self.label.owner.clone(),
            tlp: self.label.tlp.to_string(),
            bytes: self.bytes,
            started: self.started,
            state: if outcome.is_some() {
                "done"
            } else {
                "ingesting"
            },
            done: self.done.load(Ordering::Relaxed),
            total: (total > 0).then_some(total),
            unit: self.kind.unit(),
            outcome,
        }
    }
}

impl Progress for UploadJob {
    fn start(&self, _: &str, total: Option<u64>) {
        self.total.store(total.unwrap_or(0), Ordering::Relaxed);
    }

    fn set(&self, done: u64) {
        self.done.store(done, Ordering::Relaxed);
    }

    fn finish(&self) {
        let total = self.total.load(Ordering::Relaxed);
        if total > 0 {
            self.done.store(total, Ordering::Relaxed);
        }
    }
}

/// The recent jobs of each organisation.
#[derive(Default)]
pub struct Uploads {
    by_org: Mutex<HashMap<String, VecDeque<Arc<UploadJob>>>>,
}

impl Uploads {
    /// Whether `org` may start another upload: fewer than [`RUNNING_PER_ORGANISATION`] of its
    /// jobs are still ingesting.
    pub fn may_start(&self, org: &str) -> bool {
        let by_org = self.by_org.lock().unwrap_or_else(|e| e.into_inner());
        let running = by_org.get(org).map_or(0, |jobs| {
            jobs.iter().filter(|j| j.status().state != "done").count()
        });
        running < RUNNING_PER_ORGANISATION
    }

    pub fn add(&self, job: Arc<UploadJob>) {
        let mut by_org = self.by_org.lock().unwrap_or_else(|e| e.into_inner());
        let jobs = by_org.entry(job.label.owner.clone()).or_default();
        if jobs.len() == KEPT_JOBS {
            jobs.pop_front();
        }
        jobs.push_back(job);
    }

    /// The jobs of the viewer's organisation, newest first (nobody else sees any).
    fn of_viewer(&self, viewer: &Viewer) -> Vec<Arc<UploadJob>> {
        let by_org = self.by_org.lock().unwrap_or_else(|e| e.into_inner());
        let Viewer::User { org, .. } = viewer else {
            return Vec::new();
        };
        by_org.get(org).map_or_else(Vec::new, |jobs| {
            jobs.iter()
                .rev()
                .filter(|j| j.visible_to(viewer))
                .cloned()
                .collect()
        })
    }

    /// The job with this id, if `viewer` may see it.
    pub fn get(&self, id: &str, viewer: &Viewer) -> Option<Arc<UploadJob>> {
        self.of_viewer(viewer).into_iter().find(|j| j.id == id)
    }

    /// The jobs `viewer` may see, newest first.
    pub fn visible(&self, viewer: &Viewer) -> Vec<Arc<UploadJob>> {
        self.of_viewer(viewer)
    }
}

/// A file name safe to create in a directory of ours: its last path component, with only
/// letters, digits, `.`, `_` and `-` kept (Shadowserver names such as
/// `2026-10-05-scan_dns-cert-asn.csv` survive, which is how their report type is found).
pub fn safe_file_name(sent: &str) -> String {
    let last = sent.rsplit(['/', '\\']).next().unwrap_or("");
    let kept: String = last
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .take(200)
        .collect();
    let kept = kept.trim_start_matches('.');
    if kept.is_empty() {
        "upload".to_string()
    } else {
        kept.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use greenwatch_model::access::{Role, Tlp};

    #[test]
    fn file_names_lose_paths_and_odd_characters_but_keep_report_names() {
        assert_eq!(
            safe_file_name("2026-10-05-scan_dns-cert-asn.csv"),
            "2026-10-05-scan_dns-cert-asn.csv"
        );
        assert_eq!(safe_file_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_file_name("C:\\captures\\day 1.pcap"), "day1.pcap");
        assert_eq!(safe_file_name(".."), "upload");
        assert_eq!(safe_file_name(".hidden"), "hidden");
        assert_eq!(safe_file_name(""), "upload");
    }

    fn job(id: &str, org: &str) -> Arc<UploadJob> {
        let label = Label {
            owner: org.into(),
            tlp: Tlp::Clear,
        };
        Arc::new(UploadJob::new(
            id.into(),
            "someone".into(),
            UploadKind::Capture,
            "x.pcap".into(),
            label,
            10,
            Timestamp(0),
        ))
    }

    #[test]
    fn jobs_are_seen_by_their_organisation_only_even_when_the_data_is_clear() {
        let uploads = Uploads::default();
        uploads.add(job("a1", "cert-a"));
        uploads.add(job("b1", "cert-b"));
        let member = |org: &str| Viewer::User {
            org: org.into(),
            role: Role::Member,
        };
        assert!(uploads.get("a1", &member("cert-a")).is_some());
        assert!(uploads.get("a1", &member("cert-b")).is_none());
        assert!(uploads.get("a1", &Viewer::Anonymous).is_none());
        let ids: Vec<String> = uploads
            .visible(&member("cert-b"))
            .iter()
            .map(|j| j.id.clone())
            .collect();
        assert_eq!(ids, ["b1"]);
    }

    #[test]
    fn only_the_newest_jobs_are_kept() {
        let uploads = Uploads::default();
        for i in 0..KEPT_JOBS + 5 {
            uploads.add(job(&format!("j{i}"), "cert-a"));
        }
        let viewer = Viewer::User {
            org: "cert-a".into(),
            role: Role::Member,
        };
        let seen = uploads.visible(&viewer);
        assert_eq!(seen.len(), KEPT_JOBS);
        assert_eq!(seen[0].id, format!("j{}", KEPT_JOBS + 4));
        assert!(uploads.get("j0", &viewer).is_none());
        // Another organisation's history is its own.
        uploads.add(job("b", "cert-b"));
        for i in 0..KEPT_JOBS {
            uploads.add(job(&format!("k{i}"), "cert-a"));
        }
        let cert_b = Viewer::User {
            org: "cert-b".into(),
            role: Role::Member,
        };
        assert!(uploads.get("b", &cert_b).is_some());
    }

    #[test]
    fn an_organisation_runs_a_bounded_number_of_uploads_at_once() {
        let uploads = Uploads::default();
        let running: Vec<_> = (0..RUNNING_PER_ORGANISATION)
            .map(|i| job(&format!("r{i}"), "cert-a"))
            .collect();
        for j in &running {
            assert!(uploads.may_start("cert-a"));
            uploads.add(Arc::clone(j));
        }
        assert!(!uploads.may_start("cert-a"));
        assert!(uploads.may_start("cert-b"), "quotas are per organisation");
        running[0].finish_with(FileOutcome::failed("x".into(), "done".into()));
        assert!(uploads.may_start("cert-a"));
    }

    #[test]
    fn progress_reports_into_the_status() {
        let j = job("p", "cert-a");
        assert_eq!(j.status().total, None);
        j.start("x.pcap", Some(1000));
        j.set(250);
        let s = j.status();
        assert_eq!((s.done, s.total, s.state), (250, Some(1000), "ingesting"));
        j.finish();
        j.finish_with(FileOutcome::failed("x.pcap".into(), "boom".into()));
        let s = j.status();
        assert_eq!((s.done, s.state), (1000, "done"));
    }
}
