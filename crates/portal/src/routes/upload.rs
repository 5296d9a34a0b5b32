//! `/upload`: analysts and admins send a capture or a feed file; it is ingested in the
//! background (`uploads.rs`) and its job page shows the progress and the outcome.
//!
//! - `GET /upload`: the form (file, kind, TLP, sensor or feed format) and the recent uploads
//!   of the user's organisation.
//! - `POST /upload` (browser form; answers 303 to the job page) and `POST /api/v1/uploads`
//!   (scripts and the page's script; answers 202 with the job as JSON): multipart with the
//!   fields `csrf` (required with a session cookie; API tokens carry no ambient authority and
//!   need none), `kind` (`capture` or `feed`), `tlp`, `sensor`, `format`, `report`, then `file`.
//! - `GET /uploads/{id}` and `GET /api/v1/uploads/{id}`: one job; `GET /api/v1/uploads`: the
//!   organisation's recent jobs.
//!
//! The data belongs to the uploader's organisation and carries the TLP chosen (AMBER unless
//! another is chosen). Each finished upload is written to the audit log.

use super::account::when;
use super::forms::Member;
use crate::auth::SessionCsrf;
use crate::error::{ApiError, PageError, PortalError};
use crate::paging::{self, PageQuery};
use crate::uploads::{safe_file_name, JobStatus, UploadJob, UploadKind, RUNNING_PER_ORGANISATION};
use crate::views::{int, render, Layout};
use crate::{AppState, Visitor};
use askama::Template;
use axum::extract::multipart::{Field, MultipartError};
use axum::extract::{Multipart, OriginalUri, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Json};
use greenwatch_auth::{new_secret, tokens_match};
use greenwatch_feeds::FeedFormat;
use greenwatch_ingest::{
    ingest_capture, ingest_feed, CaptureOptions, FeedOptions, FileOutcome, FileStatus,
};
use greenwatch_model::access::{Label, Tlp, Viewer};
use greenwatch_model::account::AuditEntry;
use greenwatch_model::sensor::{Sensor, SensorRef};
use greenwatch_model::BucketWidth;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;

/// The largest file accepted.
pub const MAX_UPLOAD_BYTES: usize = 2 << 30;

/// The largest form field other than the file: tokens, names and choices are short, and such
/// a field is held in memory (the file is streamed to disk).
const MAX_FIELD_BYTES: usize = 4 << 10;

/// Who may upload: a logged-in analyst or admin (by session or API token).
struct Uploader {
    login: String,
    org: String,
    /// The session's CSRF token; `None` for an API token, which needs none.
    csrf: Option<String>,
}

impl Uploader {
    fn of(
        visitor: &Visitor,
        csrf: Option<Extension<SessionCsrf>>,
    ) -> Result<Uploader, PortalError> {
        let (Some(login), Viewer::User { org, role }) = (&visitor.name, &visitor.viewer) else {
            return Err(PortalError::Unauthorized(
                "Log in (or send an API token) to upload files.".into(),
            ));
        };
        if !role.may_contribute() {
            return Err(PortalError::Forbidden(format!(
                "Uploading needs the analyst or admin role; {login} is a {}.",
                role.as_str()
            )));
        }
        Ok(Uploader {
            login: login.clone(),
            org: org.clone(),
            csrf: csrf.map(|Extension(SessionCsrf(c))| c),
        })
    }
}

/// The form's fields other than the file, as sent so far.
struct Fields {
    csrf: Option<String>,
    kind: UploadKind,
    tlp: Tlp,
    sensor: String,
    format: FeedFormat,
    report: Option<String>,
}

impl Default for Fields {
    fn default() -> Fields {
        Fields {
            csrf: None,
            kind: UploadKind::Capture,
            tlp: Tlp::Amber,
            sensor: Sensor::UPLOADED.into(),
            format: FeedFormat::Auto,
            report: None,
        }
    }
}

impl Fields {
    fn set(&mut self, name: &str, value: String) -> Result<(), PortalError> {
        let value = value.trim().to_string();
        match name {
            "csrf" => self.csrf = Some(value),
            "kind" => {
                self.kind = match value.as_str() {
                    "capture" => UploadKind::Capture,
                    "feed" => UploadKind::Feed,
                    other => return Err(bad(format!("kind {other:?}: expected capture or feed"))),
                }
            }
            "tlp" => {
                self.tlp = value
                    .parse()
                    .map_err(|e: String| bad(format!("tlp: {e}")))?
            }
            "sensor" if !value.is_empty() => {
                if value.len() > 64 || !value.chars().all(|c| c.is_ascii_graphic()) {
                    return Err(bad(
                        "sensor: up to 64 printable characters, no spaces".into()
                    ));
                }
                self.sensor = value;
            }
            "format" => {
                self.format = match value.as_str() {
                    "" | "auto" => FeedFormat::Auto,
                    "shadowserver" => FeedFormat::Shadowserver,
                    "intelmq" => FeedFormat::Intelmq,
                    other => {
                        return Err(bad(format!(
                            "format {other:?}: expected auto, shadowserver or intelmq"
                        )))
                    }
                }
            }
            "report" => self.report = (!value.is_empty()).then_some(value),
            _ => {}
        }
        Ok(())
    }
}

/// A capture names a sensor only if the uploader's organisation registered it; without a
/// name it is stored under the reserved `upload`, which no sensor can claim.
async fn check_sensor(state: &AppState, org: &str, name: &str) -> Result<(), PortalError> {
    if name == Sensor::UPLOADED {
        return Ok(());
    }
    let wanted = SensorRef::new(org, name);
    let registered = state
        .read(move |s| Ok(s.store.sensor(&wanted)?.is_some()))
        .await?;
    if registered {
        Ok(())
    } else {
        Err(bad(format!(
            "sensor {name}: your organisation has no sensor of that name (register it on \
             /sensors, or leave the field empty to store the capture under `{}`)",
            Sensor::UPLOADED
        )))
    }
}

fn bad(reason: String) -> PortalError {
    PortalError::BadRequest(reason)
}

fn rejected(e: MultipartError) -> PortalError {
    PortalError::Rejected {
        status: e.status(),
        detail: format!("reading the upload: {}", e.body_text()),
    }
}

/// The text of a form field other than the file; one longer than [`MAX_FIELD_BYTES`] is
/// refused without reading the rest of it.
async fn field_text(field: &mut Field<'_>, name: &str) -> Result<String, PortalError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(rejected)? {
        if bytes.len() + chunk.len() > MAX_FIELD_BYTES {
            return Err(bad(format!(
                "form field {name:.64} is longer than {MAX_FIELD_BYTES} bytes"
            )));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Reads the multipart form, streaming the file to a fresh private directory under
/// `<data>/uploads/`, and starts the job. The CSRF token must come before the file, so
/// nothing is written to disk for a forged form.
async fn accept(
    state: &AppState,
    uploader: Uploader,
    mut form: Multipart,
) -> Result<Arc<UploadJob>, PortalError> {
    let mut fields = Fields::default();
    while let Some(mut field) = form.next_field().await.map_err(rejected)? {
        let name = field.name().unwrap_or("").to_string();
        if name != "file" {
            let value = field_text(&mut field, &name).await?;
            fields.set(&name, value)?;
            continue;
        }
        if let Some(session_csrf) = &uploader.csrf {
            let given = fields.csrf.as_deref().unwrap_or("");
            if !tokens_match(session_csrf, given) {
                return Err(PortalError::Forbidden(
                    "The form did not come from this session; reload the page and try again."
                        .into(),
                ));
            }
        }
        check_sensor(state, &uploader.org, &fields.sensor).await?;
        if !state.uploads().may_start(&uploader.org) {
            return Err(PortalError::Rejected {
                status: StatusCode::TOO_MANY_REQUESTS,
                detail: format!(
                    "{} uploads of your organisation are still being ingested; wait for one \
                     to finish",
                    RUNNING_PER_ORGANISATION
                ),
            });
        }
        let name = safe_file_name(field.file_name().unwrap_or(""));
        let id = new_secret()
            .map_err(|e| PortalError::Internal(e.to_string()))?
            .chars()
            .take(32)
            .collect::<String>();
        let dir = greenwatch_datadir::DataLayout::new(state.data_dir())
            .uploads_dir()
            .join(&id);
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| PortalError::Internal(format!("creating {}: {e}", dir.display())))?;
        let path = dir.join(&name);
        let written = async {
            let mut file = tokio::fs::File::create(&path).await?;
            let mut bytes = 0u64;
            while let Some(chunk) = field.chunk().await.map_err(std::io::Error::other)? {
                bytes += chunk.len() as u64;
                file.write_all(&chunk).await?;
            }
            file.flush().await?;
            Ok::<u64, std::io::Error>(bytes)
        }
        .await;
        let bytes = match written {
            Ok(0) => {
                let _ = tokio::fs::remove_dir_all(&dir).await;
                return Err(bad(format!("{name} is empty")));
            }
            Ok(bytes) => bytes,
            Err(e) => {
                let _ = tokio::fs::remove_dir_all(&dir).await;
                return Err(bad(format!("receiving {name} failed: {e}")));
            }
        };
        let label = Label {
            owner: uploader.org.clone(),
            tlp: fields.tlp,
        };
        let job = Arc::new(UploadJob::new(
            id,
            uploader.login.clone(),
            fields.kind,
            name,
            label,
            bytes,
            state.now(),
        ));
        state.uploads().add(Arc::clone(&job));
        start_ingest(state.clone(), Arc::clone(&job), path, fields);
        return Ok(job);
    }
    Err(bad("the form has no file".into()))
}

/// Ingests the job's file in the background, records the outcome in the job and the audit
/// log, and deletes the file.
fn start_ingest(state: AppState, job: Arc<UploadJob>, path: PathBuf, fields: Fields) {
    tokio::spawn(async move {
        let netdb = state.netdb();
        let catalogue = state.catalogue();
        let clock = state.clock().clone();
        let ingesting = Arc::clone(&job);
        let file = path.clone();
        let outcome = state
            .write(move |store| {
                let job = ingesting.as_ref();
                let outcome = match job.kind {
                    UploadKind::Capture => {
                        let options = CaptureOptions {
                            sensor: fields.sensor,
                            bucket: BucketWidth::HOUR,
                            label: job.label.clone(),
                            clock: clock.clone(),
                        };
                        ingest_capture(store, &netdb, &file, &job.name, &options, job)
                            .map(|(outcome, _)| outcome)
                    }
                    UploadKind::Feed => {
                        let options = FeedOptions {
                            format: fields.format,
                            mapping: None,
                            report: fields.report.as_deref(),
                            label: job.label.clone(),
                            catalogue: &catalogue,
                            clock: clock.clone(),
                        };
                        ingest_feed(store, &netdb, &file, &job.name, &options, job)
                    }
                };
                let outcome = outcome
                    .unwrap_or_else(|e| FileOutcome::failed(job.name.clone(), format!("{e:#}")));
                store.audit(&AuditEntry {
                    at: clock.now(),
                    actor: job.login.clone(),
                    action: format!("{}.upload", job.kind.as_str()),
                    target: job.name.clone(),
                    detail: audit_detail(job, &outcome),
                })?;
                Ok(outcome)
            })
            .await
            .unwrap_or_else(|e| FileOutcome::failed(job.name.clone(), e.to_string()));
        if let Some(dir) = path.parent() {
            if let Err(e) = tokio::fs::remove_dir_all(dir).await {
                tracing::warn!(dir = %dir.display(), "removing an ingested upload: {e}");
            }
        }
        tracing::info!(job = %job.id, file = %job.name, status = outcome.status.as_str(), "upload ingested");
        job.finish_with(outcome);
    });
}

fn audit_detail(job: &UploadJob, outcome: &FileOutcome) -> String {
    let mut detail = format!(
        "{} bytes, {}, {}",
        job.bytes,
        job.label.tlp,
        outcome.status.as_str()
    );
    if let Some(hash) = &outcome.content_hash {
        detail.push_str(&format!(", {hash}"));
    }
    if let Some(packets) = outcome.packets {
        detail.push_str(&format!(", {packets} packets"));
    }
    if let Some(counts) = &outcome.counts {
        detail.push_str(&format!(
            ", {} events, {} bad rows",
            counts.events, counts.bad_rows
        ));
    }
    detail
}

/// `POST /upload`: the browser form without script; answers with the job page.
pub async fn submit(
    State(state): State<AppState>,
    visitor: Visitor,
    csrf: Option<Extension<SessionCsrf>>,
    form: Multipart,
) -> Result<Response, PageError> {
    let uploader = Uploader::of(&visitor, csrf)?;
    let job = accept(&state, uploader, form).await?;
    Ok(Redirect::to(&format!("/uploads/{}", job.id)).into_response())
}

/// `POST /api/v1/uploads`: 202 with the job, whose `links` say where to follow it.
pub async fn api_submit(
    State(state): State<AppState>,
    visitor: Visitor,
    csrf: Option<Extension<SessionCsrf>>,
    form: Multipart,
) -> Result<Response, ApiError> {
    let uploader = Uploader::of(&visitor, csrf)?;
    let job = accept(&state, uploader, form).await?;
    Ok((StatusCode::ACCEPTED, Json(job_json(&job.status()))).into_response())
}

fn job_json(status: &JobStatus) -> serde_json::Value {
    let mut value = serde_json::to_value(status).expect("a job status serialises");
    value["links"] = serde_json::json!({
        "self": format!("/api/v1/uploads/{}", status.id),
        "page": format!("/uploads/{}", status.id),
    });
    value
}

fn job_of(state: &AppState, id: &str, visitor: &Visitor) -> Result<Arc<UploadJob>, PortalError> {
    // Unknown and foreign jobs answer alike: ids are not to be probed.
    state
        .uploads()
        .get(id, &visitor.viewer)
        .ok_or_else(|| PortalError::NotFound(format!("No upload {id:?}.")))
}

/// `GET /api/v1/uploads/{id}`.
pub async fn api_job(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let job = job_of(&state, &id, &visitor)?;
    Ok(Json(job_json(&job.status())))
}

/// `GET /api/v1/uploads?limit=&cursor=`: the organisation's recent uploads, newest first.
pub async fn api_jobs(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(paging): Query<PageQuery>,
    OriginalUri(uri): OriginalUri,
) -> Result<Response, ApiError> {
    if !matches!(visitor.viewer, Viewer::User { .. }) {
        return Err(PortalError::Unauthorized(
            "Log in (or send an API token) to see uploads.".into(),
        )
        .into());
    }
    let jobs: Vec<serde_json::Value> = state
        .uploads()
        .visible(&visitor.viewer)
        .iter()
        .map(|j| job_json(&j.status()))
        .collect();
    // Jobs are not stored data: their list has no data generation to pin a cursor to.
    Ok(paging::page(&jobs, &paging, 0, &uri)?)
}

// ---------------------------------------------------------------------------------------
// Pages.
// ---------------------------------------------------------------------------------------

struct JobRow {
    id: String,
    name: String,
    kind: &'static str,
    /// The organisation the file is stored for.
    owner: String,
    tlp: String,
    by: String,
    started: String,
    state: String,
}

impl JobRow {
    fn of(s: &JobStatus) -> JobRow {
        JobRow {
            id: s.id.clone(),
            name: s.name.clone(),
            kind: s.kind.as_str(),
            owner: s.owner.clone(),
            tlp: s.tlp.clone(),
            by: s.uploaded_by.clone(),
            started: when(s.started),
            state: match &s.outcome {
                Some(o) => o.status.as_str().replace('_', " "),
                None => "ingesting".into(),
            },
        }
    }
}

#[derive(Template)]
#[template(path = "upload.html")]
struct UploadPage {
    layout: Layout,
    csrf: String,
    org: String,
    max_bytes: String,
    jobs: Vec<JobRow>,
}

/// `GET /upload`.
pub async fn page(
    State(state): State<AppState>,
    visitor: Visitor,
    csrf: Option<Extension<SessionCsrf>>,
) -> Result<Response, PageError> {
    let Some(member) = Member::of(visitor.clone(), csrf) else {
        return Ok(super::account::to_login());
    };
    // Members see why they cannot upload instead of a form that would refuse them.
    Uploader::of(&visitor, Some(Extension(SessionCsrf(member.csrf.clone()))))?;
    let jobs = state.uploads().visible(&visitor.viewer);
    Ok(render(&UploadPage {
        layout: Layout::new("Upload", None, Some(&visitor)),
        csrf: member.csrf,
        org: member.org,
        max_bytes: crate::views::bytes(MAX_UPLOAD_BYTES as u64),
        jobs: jobs.iter().map(|j| JobRow::of(&j.status())).collect(),
    }))
}

struct BadRowView {
    line: u64,
    reason: String,
}

#[derive(Template)]
#[template(path = "upload-job.html")]
struct JobPage {
    layout: Layout,
    job: JobRow,
    running: bool,
    bytes: String,
    progress: Option<(u64, u64)>,
    progress_text: String,
    ok: bool,
    error: Option<String>,
    summary: Vec<(String, String)>,
    bad_rows: Vec<BadRowView>,
}

/// `GET /uploads/{id}`: the job's progress (the page reloads itself until it is done), then
/// its outcome.
pub async fn job_page(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let job = job_of(&state, &id, &visitor)?;
    let s = job.status();
    let progress = s.total.map(|total| (s.done.min(total), total));
    let progress_text = match (s.total, s.outcome.is_some()) {
        (_, true) => String::new(),
        (Some(total), false) => format!(
            "{} of {} {} ({:.0} %)",
            int(s.done),
            int(total),
            s.unit,
            100.0 * s.done as f64 / total.max(1) as f64
        ),
        (None, false) => format!("{} {} read", int(s.done), s.unit),
    };
    let mut summary = Vec::new();
    let mut bad_rows = Vec::new();
    let (mut ok, mut error) = (false, None);
    if let Some(o) = &s.outcome {
        ok = matches!(o.status, FileStatus::Ingested | FileStatus::AlreadyIngested);
        error = o.error.clone();
        if let Some(hash) = &o.content_hash {
            summary.push(("Content hash".into(), hash.clone()));
        }
        if let Some(packets) = o.packets {
            summary.push(("Packets".into(), int(packets)));
        }
        if let Some(info) = &o.info {
            let report = info.report_type.as_deref().unwrap_or("");
            summary.push(("Format".into(), format!("{} {report}", info.format)));
        }
        if let Some(c) = &o.counts {
            summary.push(("Rows".into(), int(c.rows)));
            summary.push(("Events stored".into(), int(c.events)));
            summary.push(("Bad rows skipped".into(), int(c.bad_rows)));
            for (reason, n) in &c.bad_by_reason {
                summary.push((format!("Skipped: {reason}"), int(*n)));
            }
        }
        bad_rows = o
            .bad_examples
            .iter()
            .map(|b| BadRowView {
                line: b.line,
                reason: b.reason.clone(),
            })
            .collect();
    }
    Ok(render(&JobPage {
        layout: Layout::new(format!("Upload {}", s.name), None, Some(&visitor)),
        running: s.outcome.is_none(),
        bytes: crate::views::bytes(s.bytes),
        job: JobRow::of(&s),
        progress,
        progress_text,
        ok,
        error,
        summary,
        bad_rows,
    }))
}
