//! The routes: one module per part of the portal, each with its page and the API behind it.

mod account;
mod admin;
mod alert_subscriptions;
mod alerts;
mod api_docs;
pub mod collector;
mod countries;
mod docs;
mod forms;
mod ips;
mod overview;
mod reports;
mod risks;
mod search;
mod sensors;
mod slices;
mod upload;

/// The portal's clock, for request stamps and the background early warning.
use crate::error::{is_api, PortalError};
use crate::{assets, auth, AppState};
use axum::extract::DefaultBodyLimit;
use axum::http::Uri;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;

pub fn all() -> Router<AppState> {
    Router::new()
        .route("/", get(overview::page))
        .route("/api/v1/overview", get(overview::api))
        .route("/api/v1/overview.csv", get(overview::csv))
        .route("/risks", get(risks::index))
        .route("/risks/{slug}", get(risks::page))
        .route("/api/v1/risks", get(risks::api_list))
        .route("/api/v1/metrics", get(risks::api))
        .route("/api/v1/metrics.csv", get(risks::csv))
        .route("/downloads", get(docs::downloads))
        .route("/reports", get(reports::index))
        .route("/reports/{label}/{file}", get(reports::file))
        .route("/method", get(docs::method))
        .route("/ports", get(slices::ports_page))
        .route("/ports/{protocol}/{port}", get(slices::port_page))
        .route("/asns", get(slices::asns_page))
        .route("/asns/{asn}", get(slices::asn_page))
        .route("/api/v1/ports", get(slices::ports_api))
        .route("/api/v1/ports/{protocol}/{port}", get(slices::port_api))
        .route("/api/v1/asns", get(slices::asns_api))
        .route("/api/v1/asns/{asn}", get(slices::asn_api))
        .route("/countries", get(countries::index))
        .route("/countries/{cc}", get(countries::page))
        .route("/api/v1/countries/{cc}", get(countries::api))
        .route("/alerts", get(alerts::index).post(alerts::create))
        .route("/alerts.atom", get(alerts::atom))
        .route(
            "/alerts/subscriptions",
            get(alert_subscriptions::index).post(alert_subscriptions::create),
        )
        .route(
            "/alerts/subscriptions/{id}/remove",
            post(alert_subscriptions::remove),
        )
        .route("/alerts/{id}", get(alerts::page))
        .route("/alerts/triage", post(alerts::triage))
        .route("/api/v1/alerts/triage", post(alerts::api_triage))
        .route("/api/v1/alerts", get(alerts::api_list))
        .route("/api/v1/alerts/{id}", get(alerts::api_one))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/view", post(auth::switch_view))
        .route("/logout", get(auth::logout_page).post(auth::logout))
        .route("/account", get(account::page))
        .route("/account/password", post(account::change_password))
        .route("/account/tokens", post(account::create_token))
        .route("/account/tokens/{id}/revoke", post(account::revoke_token))
        .route("/admin", get(admin::page))
        .route("/admin/orgs", post(admin::create_org))
        .route("/admin/orgs/{slug}/networks", post(admin::set_networks))
        .route("/admin/users", post(admin::create_user))
        .route(
            "/admin/users/{id}/{change}",
            post(admin::change_user_button),
        )
        .route(
            "/upload",
            get(upload::page)
                .post(upload::submit)
                .layer(DefaultBodyLimit::max(upload::MAX_UPLOAD_BYTES)),
        )
        .route("/uploads/{id}", get(upload::job_page))
        .route(
            "/api/v1/uploads",
            get(upload::api_jobs)
                .post(upload::api_submit)
                .layer(DefaultBodyLimit::max(upload::MAX_UPLOAD_BYTES)),
        )
        .route("/api/v1/uploads/{id}", get(upload::api_job))
        .route("/api/openapi.json", get(api_docs::openapi))
        .route("/api/docs", get(api_docs::page))
        .route("/sensors", get(sensors::index).post(sensors::register))
        .route("/sensors/compare", get(sensors::compare_page))
        .route("/sensors/{org}/{name}", get(sensors::page))
        .route("/sensors/{org}/{name}/revoke", post(sensors::revoke))
        .route(
            "/api/v1/sensors",
            get(sensors::api_list).post(sensors::api_register),
        )
        .route(
            "/api/v1/sensors/{org}/{name}/revoke",
            post(sensors::api_revoke),
        )
        .route("/api/v1/sensors/compare", get(sensors::api_compare))
        .route("/api/v1/sensors/{org}/{name}", get(sensors::api))
        .route("/search", get(search::page))
        .route("/api/v1/search", get(search::api))
        .route("/ips/{ip}", get(ips::page))
        .route("/api/v1/ips/{ip}", get(ips::api))
        .route("/healthz", get(|| async { "ok" }))
        .route("/assets/{*path}", get(asset))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

/// Problem JSON under `/api/`, an HTML page elsewhere.
fn answer(uri: &Uri, error: PortalError) -> Response {
    if is_api(uri.path()) {
        error.into_problem()
    } else {
        error.into_page()
    }
}

async fn not_found(uri: Uri) -> Response {
    answer(
        &uri,
        PortalError::NotFound(format!("Nothing at {}.", uri.path())),
    )
}

async fn method_not_allowed(uri: Uri) -> Response {
    answer(
        &uri,
        PortalError::MethodNotAllowed(format!("{} does not accept this method.", uri.path())),
    )
}

/// `GET /assets/{*path}`: an embedded browser file, or the 404 page.
async fn asset(
    axum::extract::Path(path): axum::extract::Path<String>,
    axum::extract::Query(version): axum::extract::Query<assets::Version>,
    headers: axum::http::HeaderMap,
) -> Response {
    assets::answer(&path, version.v.as_deref(), &headers)
        .unwrap_or_else(|| PortalError::NotFound(format!("no asset {path}")).into_page())
}
