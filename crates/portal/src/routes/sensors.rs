//! The sensor network in the portal: `/sensors` (the sensors a viewer may see; members
//! register their organisation's sensors, get the token once, revoke it), `/sensors/{name}`
//! (health, last seen, packets per hour, top ports and sources), `/sensors/compare` (top
//! ports side by side, sources several sensors saw), and the same as JSON under
//! `/api/v1/sensors`. Addresses are anonymised for viewers outside the owner organisation
//! (`docs/anonymisation.md`); every form carries the session's CSRF token; registrations and
//! revocations are audited with the member's login.

use super::account::{now, refused, shown, CsrfOnly, Member, Outcome};
use crate::auth::SessionCsrf;
use crate::error::{ApiError, PageError, PortalError};
use crate::sensor_data::{self, Comparison, SensorDetail, SensorView};
use crate::views::{json_island, render, Layout, Nav};
use crate::{AppState, Visitor};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form, Json};
use greenwatch_auth::{new_secret, secret_hash};
use greenwatch_model::access::{Role, Tlp, Viewer};
use greenwatch_model::sensor::{AddressBlock, Sensor};
use greenwatch_store::{AccountStore, NewSensor, SensorStore};

async fn list(state: &AppState, viewer: Viewer) -> Result<Vec<SensorView>, PortalError> {
    state.read(move |s| sensor_data::sensors(s, &viewer)).await
}

async fn detail(
    state: &AppState,
    viewer: Viewer,
    name: String,
) -> Result<SensorDetail, PortalError> {
    let wanted = name.clone();
    state
        .read(move |s| sensor_data::sensor_detail(s, &viewer, &wanted))
        .await?
        .ok_or_else(|| PortalError::NotFound(format!("No sensor {name}.")))
}

async fn comparison(state: &AppState, viewer: Viewer) -> Result<Comparison, PortalError> {
    state.read(move |s| sensor_data::compare(s, &viewer)).await
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
    let orgs = match member {
        Some(m) if m.role == Role::Admin => {
            state
                .read(|s| {
                    Ok(greenwatch_store::AccountStore::orgs(s.store)?
                        .into_iter()
                        .map(|o| o.slug)
                        .collect())
                })
                .await?
        }
        Some(m) => vec![m.org.clone()],
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
    Path(name): Path<String>,
) -> Result<Response, PageError> {
    let detail = detail(&state, visitor.viewer.clone(), name).await?;
    let page = SensorPage {
        layout: Layout::new(
            format!("Sensor {}", detail.sensor.name),
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
    Path(name): Path<String>,
) -> Result<Json<SensorDetail>, ApiError> {
    Ok(Json(detail(&state, visitor.viewer, name).await?))
}

#[derive(Template)]
#[template(path = "sensors-compare.html")]
struct ComparePage {
    layout: Layout,
    comparison: Comparison,
}

pub async fn compare_page(
    State(state): State<AppState>,
    visitor: Visitor,
) -> Result<Response, PageError> {
    let comparison = comparison(&state, visitor.viewer.clone()).await?;
    Ok(render(&ComparePage {
        layout: Layout::new("Sensors compared", Some(Nav::Sensors), Some(&visitor)),
        comparison,
    }))
}

pub async fn api_compare(
    State(state): State<AppState>,
    visitor: Visitor,
) -> Result<Json<Comparison>, ApiError> {
    Ok(Json(comparison(&state, visitor.viewer).await?))
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

/// The sensor a registration form describes, for `org`.
fn new_sensor(form: &RegisterForm, org: String, token: &str) -> Result<NewSensor, PortalError> {
    let name = form.name.trim().to_string();
    if !Sensor::valid_name(&name) {
        return Err(PortalError::BadRequest(format!(
            "Sensor name {name:?}: use 1-64 lower-case letters, digits, '-' and '.'."
        )));
    }
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

pub async fn register(
    State(state): State<AppState>,
    visitor: Visitor,
    csrf: Option<Extension<SessionCsrf>>,
    Form(form): Form<RegisterForm>,
) -> Result<Response, PageError> {
    let member = Member::posting(visitor.clone(), csrf, &form.csrf)?;
    // Members register for their own organisation; admins for any.
    let org = if member.role == Role::Admin && !form.org.is_empty() {
        form.org.clone()
    } else {
        member.org.clone()
    };
    let token = new_secret().map_err(|e| PortalError::Internal(e.to_string()))?;
    let login = member.login.clone();
    // Admins (the operator) may register any block; members only their constituency's.
    let anywhere = member.role == Role::Admin;
    let done = match new_sensor(&form, org, &token) {
        Err(e) => Err(e),
        Ok(sensor) => {
            state
                .write(move |store| {
                    if !anywhere {
                        store
                            .constituency(&sensor.org)?
                            .admit(&sensor.org, sensor.address_block)
                            .map_err(PortalError::BadRequest)?;
                    }
                    store
                        .register_sensor(&sensor, &login, now())
                        .map_err(refused)?;
                    Ok(Outcome {
                        notice: Some(format!("Sensor {} registered.", sensor.name)),
                        created: Some((sensor.name, token)),
                        ..Outcome::default()
                    })
                })
                .await
        }
    };
    sensors_page(&state, visitor, Some(&member), shown(done)?).await
}

pub async fn revoke(
    State(state): State<AppState>,
    visitor: Visitor,
    csrf: Option<Extension<SessionCsrf>>,
    Path(name): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    let member = Member::posting(visitor.clone(), csrf, &form.csrf)?;
    let (org, admin, login) = (
        member.org.clone(),
        member.role == Role::Admin,
        member.login.clone(),
    );
    let done = state
        .write(move |store| {
            // Another organisation's sensor answers as if it did not exist.
            match store.sensor(&name)? {
                Some(s) if s.org == org || admin => {
                    store.revoke_sensor(&name, &login, now()).map_err(refused)?;
                    Ok(Outcome {
                        notice: Some(format!("The token of sensor {name} is revoked.")),
                        ..Outcome::default()
                    })
                }
                _ => Err(PortalError::BadRequest(format!(
                    "Your organisation has no sensor {name}."
                ))),
            }
        })
        .await;
    sensors_page(&state, visitor, Some(&member), shown(done)?).await
}
