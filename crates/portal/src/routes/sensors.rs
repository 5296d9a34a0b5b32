//! The sensor network in the portal: `/sensors` (the sensors a viewer may see; members
//! register their organisation's sensors, get the token once, revoke it),
//! `/sensors/{org}/{name}` (names are per organisation; health, last seen, and for a window
//! of at most 31 days packets per hour, top ports and sources), `/sensors/compare` (top
//! ports side by side, sources several sensors saw), and the same as JSON under
//! `/api/v1/sensors`. What sensors observed is computed through the result cache, so
//! repeated requests cost one computation per data generation. Addresses are anonymised for viewers outside the owner organisation
//! (`docs/anonymisation.md`); every form carries the session's CSRF token; registrations and
//! revocations are audited with the member's login.

use super::forms::{anyone, post, refused, CsrfOnly, Member, Outcome};
use crate::auth::SessionCsrf;
use crate::error::{ApiError, PageError, PortalError};
use crate::views::{json_island, render, Layout, Nav};
use crate::{AppState, Visitor};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form, Json};
use greenwatch_analytics::sensors::{self, Comparison, SensorDetail, SensorView};
use greenwatch_analytics::window::WindowQuery;
use greenwatch_auth::{new_secret, secret_hash};
use greenwatch_model::access::{may_administer, AdminAction, Tlp, Viewer};
use greenwatch_model::sensor::{AddressBlock, SensorRef};
use greenwatch_sensor::registration::{
    register_sensor, OutsideConstituency, Registrar, RegistrationError, SENSORS_PER_ORGANISATION,
};
use greenwatch_store::NewSensor;
use std::sync::Arc;

async fn list(state: &AppState, viewer: Viewer) -> Result<Vec<SensorView>, PortalError> {
    state.analyse(move |s| sensors::sensors(s, &viewer)).await
}

async fn detail(
    state: &AppState,
    viewer: &Viewer,
    (org, name): (String, String),
    window: &WindowQuery,
) -> Result<SensorDetail, PortalError> {
    let wanted = SensorRef::new(org, name);
    let shown = wanted.to_string();
    state
        .reads(viewer)
        .await?
        .sensor(wanted, window)
        .await?
        .ok_or_else(|| PortalError::NotFound(format!("No sensor {shown}.")))
}

async fn comparison(
    state: &AppState,
    viewer: &Viewer,
    window: &WindowQuery,
) -> Result<Arc<Comparison>, PortalError> {
    state.reads(viewer).await?.sensor_comparison(window).await
}

#[derive(Template)]
#[template(path = "sensors.html")]
struct SensorsPage {
    layout: Layout,
    sensors: Vec<SensorView>,
    /// The logged-in member's session CSRF token (forms shown only with one).
    csrf: Option<String>,
    /// Organisations an admin may register for (members register for their own).
    orgs: Vec<String>,
    tlps: Vec<&'static str>,
    notice: Option<String>,
    error: Option<String>,
    /// A sensor just registered: (name, token), shown this once.
    new_sensor: Option<(String, String)>,
}

async fn sensors_page(
    state: &AppState,
    visitor: Visitor,
    member: Option<&Member>,
    outcome: Outcome,
) -> Result<Response, PageError> {
    let sensors = list(state, visitor.viewer.clone()).await?;
    // The organisations the member may register sensors for: their own, or any (the operator).
    let orgs = match member {
        Some(m) => {
            let all = state
                .read(|s| Ok(greenwatch_store::AccountStore::orgs(s.store)?))
                .await?;
            let mut orgs: Vec<String> = all
                .into_iter()
                .map(|o| o.slug)
                .filter(|org| *org == m.org || may_register(m, org, false))
                .collect();
            // Own organisation first: the form's default.
            orgs.sort_by_key(|org| *org != m.org);
            orgs
        }
        None => Vec::new(),
    };
    let status = outcome.status();
    let page = SensorsPage {
        layout: Layout::new("Sensors", Some(Nav::Sensors), Some(&visitor)),
        sensors,
        csrf: member.map(|m| m.csrf.clone()),
        orgs,
        tlps: Tlp::ALL.iter().map(|t| t.as_str()).collect(),
        notice: outcome.notice,
        error: outcome.error,
        new_sensor: outcome.created,
    };
    Ok((status, render(&page)).into_response())
}

pub async fn index(
    State(state): State<AppState>,
    visitor: Visitor,
    csrf: Option<Extension<SessionCsrf>>,
) -> Result<Response, PageError> {
    let member = Member::of(visitor.clone(), csrf);
    sensors_page(&state, visitor, member.as_ref(), Outcome::default()).await
}

pub async fn api_list(
    State(state): State<AppState>,
    visitor: Visitor,
) -> Result<Json<Vec<SensorView>>, ApiError> {
    Ok(Json(list(&state, visitor.viewer).await?))
}

#[derive(Template)]
#[template(path = "sensor.html")]
struct SensorPage {
    layout: Layout,
    detail: SensorDetail,
    island: String,
}

pub async fn page(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(sensor): Path<(String, String)>,
    Query(window): Query<WindowQuery>,
) -> Result<Response, PageError> {
    let detail = detail(&state, &visitor.viewer, sensor, &window).await?;
    let page = SensorPage {
        layout: Layout::new(
            format!("Sensor {}", detail.sensor.id),
            Some(Nav::Sensors),
            Some(&visitor),
        ),
        island: json_island(&detail),
        detail,
    };
    Ok(render(&page))
}

pub async fn api(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(sensor): Path<(String, String)>,
    Query(window): Query<WindowQuery>,
) -> Result<Json<SensorDetail>, ApiError> {
    Ok(Json(
        detail(&state, &visitor.viewer, sensor, &window).await?,
    ))
}

#[derive(Template)]
#[template(path = "sensors-compare.html")]
struct ComparePage {
    layout: Layout,
    comparison: Arc<Comparison>,
}

pub async fn compare_page(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(window): Query<WindowQuery>,
) -> Result<Response, PageError> {
    let comparison = comparison(&state, &visitor.viewer, &window).await?;
    Ok(render(&ComparePage {
        layout: Layout::new("Sensors compared", Some(Nav::Sensors), Some(&visitor)),
        comparison,
    }))
}

pub async fn api_compare(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(window): Query<WindowQuery>,
) -> Result<Json<Arc<Comparison>>, ApiError> {
    Ok(Json(comparison(&state, &visitor.viewer, &window).await?))
}

#[derive(serde::Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    org: String,
    #[serde(default)]
    block: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    tlp: String,
}

/// Whether `member` may register a sensor of `org` (`outside`: on a block outside its
/// constituency).
fn may_register(member: &Member, org: &str, outside: bool) -> bool {
    let action = AdminAction::RegisterSensor {
        org,
        outside_constituency: outside,
    };
    may_administer(&member.org, member.role, &action)
}

/// The sensor a registration form describes, for `org`.
fn new_sensor(form: &RegisterForm, org: String, token: &str) -> Result<NewSensor, PortalError> {
    let name = form.name.trim().to_string();
    let address_block: AddressBlock = form.block.trim().parse().map_err(PortalError::BadRequest)?;
    let tlp: Tlp = form.tlp.parse().map_err(PortalError::BadRequest)?;
    Ok(NewSensor {
        name,
        org,
        address_block,
        location: form.location.trim().chars().take(200).collect(),
        tlp,
        token_hash: secret_hash(token),
    })
}

/// Registers the sensor `form` describes for `member` (for the organisation asked when the
/// member may register for it, else the member's own); the token's secret is `token`.
async fn register_for(
    state: &AppState,
    member: &Member,
    form: &RegisterForm,
    token: &str,
) -> Result<String, PortalError> {
    // Members register for their own organisation; the operator for any
    // (`may_administer`, docs/access-control.md).
    let asked = form.org.trim();
    let org = if !asked.is_empty() && may_register(member, asked, false) {
        asked.to_string()
    } else {
        member.org.clone()
    };
    let sensor = new_sensor(form, org, token)?;
    if !may_register(member, &sensor.org, false) {
        let action = AdminAction::RegisterSensor {
            org: &sensor.org,
            outside_constituency: false,
        };
        return Err(PortalError::BadRequest(format!("You may not {action}.")));
    }
    // Outside the constituency only the operator registers a block.
    let registrar = Registrar {
        outside: if may_register(member, &sensor.org, true) {
            OutsideConstituency::Allowed
        } else {
            OutsideConstituency::Refused
        },
        limit: Some(SENSORS_PER_ORGANISATION),
    };
    let login = member.login.clone();
    let at = state.now();
    state
        .write(move |store| {
            register_sensor(store, &sensor, registrar, &login, at).map_err(|e| match e {
                RegistrationError::Store(e) => PortalError::from(e),
                refused => PortalError::BadRequest(refused.to_string()),
            })?;
            Ok(SensorRef::new(sensor.org, sensor.name).to_string())
        })
        .await
}

/// Revokes the token of `sensor` for `member`; a sensor the member may not revoke answers
/// as if it did not exist.
async fn revoke_sensor(
    state: &AppState,
    member: &Member,
    sensor: SensorRef,
) -> Result<SensorRef, PortalError> {
    let (org, role, login) = (member.org.clone(), member.role, member.login.clone());
    let at = state.now();
    state
        .write(move |store| match store.sensor(&sensor)? {
            Some(s) if may_administer(&org, role, &AdminAction::RevokeSensor { org: &s.org }) => {
                store.revoke_sensor(&sensor, &login, at).map_err(refused)?;
                Ok(sensor)
            }
            _ => Err(PortalError::NotFound(format!(
                "Your organisation has no sensor {sensor}."
            ))),
        })
        .await
}

pub async fn register(
    State(state): State<AppState>,
    visitor: Visitor,
    csrf: Option<Extension<SessionCsrf>>,
    Form(form): Form<RegisterForm>,
) -> Result<Response, PageError> {
    let change = async |member: &Member| {
        let token = new_secret().map_err(|e| PortalError::Internal(e.to_string()))?;
        register_for(&state, member, &form, &token).await?;
        Ok(Outcome {
            notice: Some(format!("Sensor {} registered.", form.name.trim())),
            created: Some((form.name.trim().to_string(), token)),
            ..Outcome::default()
        })
    };
    let shown_to = visitor.clone();
    let page = async |member, outcome| sensors_page(&state, shown_to, Some(&member), outcome).await;
    post(visitor, csrf, &form.csrf, anyone, change, page).await
}

pub async fn revoke(
    State(state): State<AppState>,
    visitor: Visitor,
    csrf: Option<Extension<SessionCsrf>>,
    Path((sensor_org, name)): Path<(String, String)>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    let change = async |member: &Member| {
        let sensor = revoke_sensor(&state, member, SensorRef::new(sensor_org, name))
            .await
            .map_err(|e| match e {
                PortalError::NotFound(m) => PortalError::BadRequest(m),
                other => other,
            })?;
        Ok(Outcome::notice(format!(
            "The token of sensor {sensor} is revoked."
        )))
    };
    let shown_to = visitor.clone();
    let page = async |member, outcome| sensors_page(&state, shown_to, Some(&member), outcome).await;
    post(visitor, csrf, &form.csrf, anyone, change, page).await
}

/// `POST /api/v1/sensors`: registers a sensor (`{"name", "block", "tlp", "location"?,
/// "org"?}`) for an API token with scope `sensor`; answers 201 with the sensor's token,
/// shown this once.
pub async fn api_register(
    State(state): State<AppState>,
    visitor: Visitor,
    csrf: Option<Extension<SessionCsrf>>,
    headers: axum::http::HeaderMap,
    Json(form): Json<RegisterForm>,
) -> Result<Response, ApiError> {
    let member = Member::calling_api(visitor, csrf, &headers)?;
    let token = new_secret().map_err(|e| PortalError::Internal(e.to_string()))?;
    let sensor = register_for(&state, &member, &form, &token).await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(serde_json::json!({ "sensor": sensor, "token": token })),
    )
        .into_response())
}

/// `POST /api/v1/sensors/{org}/{name}/revoke`: revokes a sensor's token (scope `sensor`).
pub async fn api_revoke(
    State(state): State<AppState>,
    visitor: Visitor,
    csrf: Option<Extension<SessionCsrf>>,
    headers: axum::http::HeaderMap,
    Path((sensor_org, name)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let member = Member::calling_api(visitor, csrf, &headers)?;
    let sensor = revoke_sensor(&state, &member, SensorRef::new(sensor_org, name)).await?;
    Ok(Json(
        serde_json::json!({ "sensor": sensor.to_string(), "revoked": true }),
    ))
}
