//! `/alerts/subscriptions`: an organisation's analysts and admins choose where `serve` pushes
//! its alerts (a webhook signed with a shared secret, or e-mail) and from which severity on.
//! The webhook secret is made here and shown once, on the page answering the POST; it is
//! never shown, logged or audited afterwards. Every form carries the session's CSRF token,
//! and every change is audited by the store in the same transaction. A subscription receives
//! only what its organisation's members may see (`greenwatch_alert::deliver_subscription`).

use super::account::{to_login, when};
use super::forms::{contributor, post, Member, Outcome};
use crate::auth::SessionCsrf;
use crate::error::{PageError, PortalError};
use crate::views::{render, Layout, Nav};
use crate::{AppState, Visitor};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use greenwatch_alert::{subscribe, SubscribeError};
use greenwatch_model::alert::{NewSubscription, Severity, SubscriptionChannel};

struct SubscriptionRow {
    id: i64,
    kind: &'static str,
    target: String,
    min_severity: Severity,
    created_by: String,
    created: String,
}

#[derive(Template)]
#[template(path = "alert-subscriptions.html")]
struct SubscriptionsPage {
    layout: Layout,
    org: String,
    csrf: String,
    subscriptions: Vec<SubscriptionRow>,
    severities: [Severity; 4],
    notice: Option<String>,
    error: Option<String>,
    /// A webhook just subscribed: (URL, secret), shown this once.
    created: Option<(String, String)>,
}

/// The member managing subscriptions: analysts and admins of an organisation; the public is
/// sent to log in, members and API tokens are refused.
fn manager(member: Option<Member>) -> Result<Member, PortalError> {
    let member = member
        .ok_or_else(|| PortalError::Unauthorized("Log in to manage alert subscriptions.".into()))?;
    may_manage(&member)?;
    Ok(member)
}

/// Analysts and admins manage their organisation's subscriptions.
fn may_manage(member: &Member) -> Result<(), PortalError> {
    contributor(member, "Managing alert subscriptions")
}

async fn subscriptions_page(
    state: &AppState,
    member: Member,
    outcome: Outcome,
) -> Result<Response, PageError> {
    let org = member.org.clone();
    let list = state
        .read(move |s| Ok(s.store.subscriptions(Some(&org))?))
        .await?;
    let status = outcome.status();
    let page = SubscriptionsPage {
        layout: Layout::new(
            "Alert subscriptions",
            Some(Nav::Alerts),
            Some(&member.visitor),
        ),
        org: member.org,
        csrf: member.csrf,
        subscriptions: list
            .into_iter()
            .map(|s| SubscriptionRow {
                id: s.id,
                kind: s.subscription.channel.kind(),
                target: s.subscription.channel.target(),
                min_severity: s.subscription.min_severity,
                created_by: s.subscription.created_by,
                created: when(s.subscription.created_at),
            })
            .collect(),
        severities: Severity::ALL,
        notice: outcome.notice,
        error: outcome.error,
        created: outcome.created,
    };
    Ok((status, render(&page)).into_response())
}

/// `GET /alerts/subscriptions`.
pub async fn index(
    State(state): State<AppState>,
    visitor: Visitor,
    csrf: Option<Extension<SessionCsrf>>,
) -> Result<Response, PageError> {
    if visitor.name.is_none() {
        return Ok(to_login());
    }
    let member = manager(Member::of(visitor, csrf))?;
    subscriptions_page(&state, member, Outcome::default()).await
}

#[derive(serde::Deserialize)]
pub struct SubscribeForm {
    #[serde(default)]
    csrf: String,
    /// `webhook` or `email`.
    #[serde(default)]
    channel: String,
    #[serde(default)]
    url: String,
    /// Recipients separated by commas, spaces or lines.
    #[serde(default)]
    recipients: String,
    #[serde(default)]
    min_severity: String,
}

impl SubscribeForm {
    /// The channel the form asks for (checked by [`subscribe`]); a webhook gets a new random
    /// secret.
    fn channel(&self) -> Result<SubscriptionChannel, PortalError> {
        match self.channel.as_str() {
            "webhook" => {
                let url = self.url.trim();
                let secret = greenwatch_auth::new_secret()
                    .map_err(|e| PortalError::Internal(e.to_string()))?;
                Ok(SubscriptionChannel::Webhook {
                    url: url.to_string(),
                    secret,
                })
            }
            "email" => {
                let to: Vec<String> = self
                    .recipients
                    .split(|c: char| c == ',' || c.is_whitespace())
                    .filter(|a| !a.is_empty())
                    .map(str::to_string)
                    .collect();
                Ok(SubscriptionChannel::Email { to })
            }
            _ => Err(PortalError::BadRequest(
                "Choose a webhook or e-mail.".into(),
            )),
        }
    }
}

/// `POST /alerts/subscriptions`: subscribes the member's organisation; a webhook's secret is
/// shown on the answering page, once.
pub async fn create(
    State(state): State<AppState>,
    visitor: Visitor,
    csrf: Option<Extension<SessionCsrf>>,
    Form(form): Form<SubscribeForm>,
) -> Result<Response, PageError> {
    let change = async |member: &Member| {
        let new = NewSubscription {
            org: member.org.clone(),
            channel: form.channel()?,
            min_severity: form
                .min_severity
                .parse::<Severity>()
                .map_err(PortalError::BadRequest)?,
            created_by: member.login.clone(),
            created_at: state.now(),
        };
        let to_internal = state.webhooks_to_internal();
        let made = state
            .write(move |store| {
                subscribe(store, &new, to_internal).map_err(|e| match e {
                    SubscribeError::Refused(reason) => PortalError::BadRequest(reason),
                    SubscribeError::Store(e) => e.into(),
                })
            })
            .await?;
        let created = match made.subscription.channel {
            SubscriptionChannel::Webhook { url, secret } => Some((url, secret)),
            SubscriptionChannel::Email { .. } => None,
        };
        Ok(Outcome {
            notice: Some(format!("Subscription {} made.", made.id)),
            created,
            ..Outcome::default()
        })
    };
    let page = async |member, outcome| subscriptions_page(&state, member, outcome).await;
    post(visitor, csrf, &form.csrf, may_manage, change, page).await
}

#[derive(serde::Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /alerts/subscriptions/{id}/remove`: only a subscription of the member's own
/// organisation; any other id answers as a missing one.
pub async fn remove(
    State(state): State<AppState>,
    visitor: Visitor,
    csrf: Option<Extension<SessionCsrf>>,
    Path(id): Path<String>,
    Form(form): Form<RemoveForm>,
) -> Result<Response, PageError> {
    let change = async |member: &Member| {
        let missing = || PortalError::NotFound("There is no such subscription.".into());
        let id: i64 = id.parse().map_err(|_| missing())?;
        let (org, login) = (member.org.clone(), member.login.clone());
        let at = state.now();
        let removed = state
            .write(move |store| Ok(store.unsubscribe(id, Some(&org), &login, at)?))
            .await?;
        if !removed {
            return Err(missing());
        }
        Ok(Outcome::notice(format!("Subscription {id} removed.")))
    };
    let page = async |member, outcome| subscriptions_page(&state, member, outcome).await;
    post(visitor, csrf, &form.csrf, may_manage, change, page).await
}
