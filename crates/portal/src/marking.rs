//! TLP marking of what the portal answers: every page, CSV and JSON answer that shows stored
//! data carries the strictest TLP of its content, so an analyst knows what they may share.
//!
//! - Pages: a banner naming the label when it is stricter than CLEAR (`base.html`, from the
//!   [`Visitor`]'s `marking`).
//! - Every answer with data: a `TLP` header (`TLP:AMBER`); JSON objects get a `tlp` field and
//!   CSV a `tlp` column. (A JSON array answer keeps its shape and carries the header only.)
//!
//! The content's label is the strictest among the datasets the viewer may see that the route
//! reads (captures for observation pages, feed files for risk pages, both where both are
//! shown): at least as strict as what is shown, never less. Routes whose content is a set of
//! alerts mark the response themselves ([`Marking`] in the response's extensions), from the
//! alerts they show. Pages without stored data (login, account, method) carry none.

use crate::error::PortalError;
use crate::{AppState, Visitor};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use greenwatch_analytics::DataAccess;
use greenwatch_model::access::{Label, Tlp, Viewer};

/// The strictest TLP of a response's content.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Marking(pub Tlp);

impl Marking {
    /// The strictest of `labels`; `None` for no labels at all.
    pub fn strictest<'a>(labels: impl IntoIterator<Item = &'a Label>) -> Option<Marking> {
        labels.into_iter().map(|l| l.tlp).max().map(Marking)
    }
}

/// Which stored datasets a route's answer is made of.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Content {
    Observations,
    Feeds,
    Both,
    /// Alerts: the handler marks its response from the alerts it shows.
    Alerts,
    /// No stored data (login, account, documentation, assets).
    Nothing,
}

impl Content {
    /// What the route at `path` shows (`risk` is the `?risk=` of a metrics API call).
    pub fn of(path: &str, risk: Option<&str>, observed_risk: impl Fn(&str) -> bool) -> Content {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let feeds_or_both = |slug: Option<&str>| match slug {
            Some(slug) if !observed_risk(slug) && slug != "all" => Content::Feeds,
            _ => Content::Both,
        };
        match segments.as_slice() {
            [""] | ["ports", ..] | ["asns", ..] | ["sensors", ..] => Content::Observations,
            ["api", "v1", "overview" | "overview.csv" | "ports" | "asns" | "sensors", ..] => {
                Content::Observations
            }
            ["countries", ..] | ["api", "v1", "countries", ..] | ["ips", ..] => Content::Both,
            ["api", "v1", "ips", ..] => Content::Both,
            ["risks"] | ["api", "v1", "risks"] => Content::Both,
            ["risks", slug] => feeds_or_both(Some(slug)),
            ["api", "v1", "metrics" | "metrics.csv"] => feeds_or_both(risk),
            ["alerts" | "alerts.atom", ..] | ["api", "v1", "alerts", ..] => Content::Alerts,
            _ => Content::Nothing,
        }
    }
}

/// The strictest TLP among the datasets of `content` that `viewer` may see; `None` when it
/// may see none.
pub fn strictest_visible(
    sources: &DataAccess,
    viewer: &Viewer,
    content: Content,
) -> Result<Option<Tlp>, PortalError> {
    let mut labels: Vec<Label> = Vec::new();
    if matches!(content, Content::Observations | Content::Both) {
        labels.extend(sources.store.captures()?.into_iter().map(|c| c.label));
    }
    if matches!(content, Content::Feeds | Content::Both) {
        labels.extend(sources.store.feed_files()?.into_iter().map(|f| f.label));
    }
    Ok(Marking::strictest(labels.iter().filter(|l| viewer.can_see(l))).map(|m| m.0))
}

/// Middleware: works out the request's marking before its handler runs (for the page
/// banner), and marks the response after it (header, JSON field, CSV column).
pub async fn mark(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let risk = request.uri().query().and_then(|q| {
        q.split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| *k == "risk")
            .map(|(_, v)| v.to_string())
    });
    let catalogue = state.catalogue();
    let observed = |slug: &str| {
        catalogue
            .by_slug(slug)
            .is_some_and(|r| catalogue.get(r).observed.is_some())
    };
    let content = Content::of(&path, risk.as_deref(), observed);
    let visitor = request
        .extensions()
        .get::<Visitor>()
        .cloned()
        .unwrap_or_else(Visitor::anonymous);
    let marking = match content {
        Content::Nothing | Content::Alerts => None,
        content => match state.reads(&visitor.viewer).await {
            Ok(reads) => reads.marking(content).await.ok().flatten(),
            Err(_) => None,
        },
    };
    if let Some(tlp) = marking {
        let mut marked = visitor;
        marked.marking = Some(tlp);
        request.extensions_mut().insert(marked);
    }
    let response = next.run(request).await;
    let marking = response
        .extensions()
        .get::<Marking>()
        .copied()
        .or(marking.map(Marking));
    match marking {
        Some(marking) if response.status().is_success() => label(response, marking).await,
        _ => response,
    }
}

/// Largest body the JSON field and CSV column are added to; bigger answers (long CSV series)
/// carry the header only rather than being held in memory twice.
const MAX_REWRITTEN: usize = 32 << 20;

/// Adds the marking to a successful response: the header always, the JSON field or CSV
/// column when the body is one.
async fn label(response: Response, Marking(tlp): Marking) -> Response {
    let (mut parts, body) = response.into_parts();
    parts.headers.insert(
        "tlp",
        HeaderValue::from_str(&tlp.to_string()).expect("a TLP label is ASCII"),
    );
    let kind = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let is_json = kind.starts_with("application/json");
    let is_csv = kind.starts_with("text/csv");
    if !is_json && !is_csv {
        return Response::from_parts(parts, body);
    }
    let Ok(bytes) = axum::body::to_bytes(body, MAX_REWRITTEN).await else {
        // Too big to rewrite: the body is gone, so answer that, rather than half of it.
        return PortalError::Internal("an answer too large to mark".into()).into_problem();
    };
    let rewritten = if is_json {
        json_with_field(&bytes, tlp)
    } else {
        csv_with_column(&bytes, tlp)
    };
    let body = match rewritten {
        Some(new) => {
            parts.headers.remove(header::CONTENT_LENGTH);
            Body::from(new)
        }
        None => Body::from(bytes),
    };
    Response::from_parts(parts, body)
}

/// A JSON object with `"tlp": "<label>"` added (replaced if present); `None` for anything
/// else (arrays keep their shape).
fn json_with_field(bytes: &[u8], tlp: Tlp) -> Option<Vec<u8>> {
    let mut value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let object = value.as_object_mut()?;
    object.insert("tlp".into(), serde_json::Value::from(tlp.as_str()));
    serde_json::to_vec(&value).ok()
}

/// The CSV with a last column `tlp` holding the label on every row.
fn csv_with_column(bytes: &[u8], tlp: Tlp) -> Option<Vec<u8>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut writer = csv::Writer::from_writer(Vec::with_capacity(bytes.len() + 64));
    for (i, record) in reader.records().enumerate() {
        let mut record = record.ok()?;
        record.push_field(if i == 0 { "tlp" } else { tlp.as_str() });
        writer.write_record(&record).ok()?;
    }
    writer.into_inner().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_marked_by_the_datasets_they_read() {
        let observed = |slug: &str| slug == "mirai";
        let of = |path: &str, risk| Content::of(path, risk, observed);
        assert_eq!(of("/", None), Content::Observations);
        assert_eq!(of("/api/v1/ports/tcp/23", None), Content::Observations);
        assert_eq!(of("/risks/openresolver", None), Content::Feeds);
        assert_eq!(of("/risks/mirai", None), Content::Both);
        assert_eq!(of("/api/v1/metrics", Some("openresolver")), Content::Feeds);
        assert_eq!(of("/api/v1/metrics", None), Content::Both);
        assert_eq!(of("/countries/JP", None), Content::Both);
        assert_eq!(of("/alerts/3", None), Content::Alerts);
        assert_eq!(of("/login", None), Content::Nothing);
        assert_eq!(of("/method", None), Content::Nothing);
        assert_eq!(
            of("/search", None),
            Content::Nothing,
            "search reads no stored data"
        );
        assert_eq!(of("/ips/192.0.2.1", None), Content::Both);
    }

    #[test]
    fn json_objects_get_a_field_arrays_keep_their_shape_and_csv_a_column() {
        let object = json_with_field(br#"{"a":1}"#, Tlp::Amber).unwrap();
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&object).unwrap()["tlp"],
            "AMBER"
        );
        assert!(json_with_field(b"[1,2]", Tlp::Amber).is_none());
        let csv = csv_with_column(b"a,b\n1,\"x,y\"\n", Tlp::Red).unwrap();
        assert_eq!(String::from_utf8(csv).unwrap(), "a,b,tlp\n1,\"x,y\",RED\n");
    }
}
