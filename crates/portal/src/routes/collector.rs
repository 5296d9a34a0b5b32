//! `POST /api/v1/sensor/batches`: where sensors deliver their batches. A sensor
//! authenticates with its own token (`Authorization: Bearer`), never a user's, so this route
//! sits outside the user authentication middleware. Every refusal (no token, unknown or
//! revoked token, oversized or malformed batch, bad health header) is answered with a
//! problem+json saying why and counted per sensor and reason; a refused batch changes
//! nothing that was stored.

use crate::error::PortalError;
use crate::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use greenwatch_auth::secret_hash;
use greenwatch_model::sensor::{Sensor, SensorHealth, SensorRef};
use greenwatch_sensor::collector::{accept_batch, Refusal};
use greenwatch_sensor::ship::HEALTH_HEADER;
use greenwatch_sensor::MAX_BATCH_BYTES;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/sensor/batches", post(receive))
}

/// A refused request: who (when known), the counting key, and the answer.
struct Refused {
    sensor: Option<SensorRef>,
    reason: &'static str,
    error: PortalError,
}

impl Refused {
    fn new(sensor: Option<&Sensor>, reason: &'static str, error: PortalError) -> Refused {
        Refused {
            sensor: sensor.map(Sensor::reference),
            reason,
            error,
        }
    }
}

async fn receive(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    match receive_batch(&state, &headers, body).await {
        Ok(response) => response,
        Err(refused) => {
            let Refused {
                sensor,
                reason,
                error,
            } = refused;
            tracing::info!(
                sensor = sensor
                    .as_ref()
                    .map(SensorRef::to_string)
                    .as_deref()
                    .unwrap_or("-"),
                reason,
                "batch refused: {error}"
            );
            let detail = error.to_string();
            let at = state.now();
            if let Err(e) = state
                .write(move |store| {
                    Ok(store.count_rejection(sensor.as_ref(), reason, &detail, at)?)
                })
                .await
            {
                tracing::warn!("counting a refused batch: {e}");
            }
            error.into_problem()
        }
    }
}

async fn receive_batch(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, Refused> {
    let sensor = authenticate(state, headers).await?;
    let health = match headers.get(HEALTH_HEADER) {
        None => None,
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(|v| serde_json::from_str::<SensorHealth>(v).ok())
                .ok_or_else(|| {
                    Refused::new(
                        Some(&sensor),
                        "malformed",
                        PortalError::BadRequest(format!(
                            "The {HEALTH_HEADER} header is not a health report (JSON)."
                        )),
                    )
                })?,
        ),
    };
    let bytes = axum::body::to_bytes(body, MAX_BATCH_BYTES)
        .await
        .map_err(|_| {
            Refused::new(
                Some(&sensor),
                "oversized",
                PortalError::Rejected {
                    status: StatusCode::PAYLOAD_TOO_LARGE,
                    detail: format!("A batch may have at most {MAX_BATCH_BYTES} bytes."),
                },
            )
        })?;
    let netdb = state.netdb();
    let by = sensor.clone();
    let at = state.now();
    let outcome = state
        .write(move |store| {
            Ok(accept_batch(
                store,
                &netdb,
                &by,
                &bytes,
                health.as_ref(),
                at,
            ))
        })
        .await
        .map_err(|e| Refused::new(Some(&sensor), "internal", e))?;
    match outcome {
        Ok(accepted) => Ok(Json(accepted).into_response()),
        Err(Refusal::Batch(e)) => Err(Refused::new(
            Some(&sensor),
            e.key(),
            PortalError::BadRequest(format!("Batch refused: {e}.")),
        )),
        Err(Refusal::Store(e)) => Err(Refused::new(Some(&sensor), "internal", e.into())),
    }
}

/// The sensor whose live token the request carries.
async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Sensor, Refused> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            Refused::new(
                None,
                "no_token",
                PortalError::Unauthorized(
                    "Sensors authenticate with `Authorization: Bearer <sensor token>`.".into(),
                ),
            )
        })?;
    let hash = secret_hash(token);
    let found = state
        .read(move |s| Ok(s.store.sensor_by_token(&hash)?))
        .await
        .map_err(|e| Refused::new(None, "internal", e))?;
    match found {
        None => Err(Refused::new(
            None,
            "bad_token",
            PortalError::Unauthorized("Unknown sensor token.".into()),
        )),
        Some(sensor) if sensor.revoked_at.is_some() => Err(Refused::new(
            Some(&sensor),
            "revoked_token",
            PortalError::Unauthorized(format!("The token of sensor {} was revoked.", sensor.name)),
        )),
        Some(sensor) => Ok(sensor),
    }
}
