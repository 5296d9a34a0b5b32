//! The API's description: the OpenAPI 3.1 document (`/api/openapi.json`, written by hand in
//! `crates/portal/api/openapi.json` and checked against the routes and real answers by
//! `tests/openapi.rs`) and a page that renders it (`/api/docs`).

use super::docs::inline_markdown_html;
use crate::views::{render, Layout};
use crate::Visitor;
use askama::Template;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::sync::OnceLock;

const DOCUMENT: &str = include_str!("../../api/openapi.json");

fn document() -> &'static Value {
    static PARSED: OnceLock<Value> = OnceLock::new();
    PARSED.get_or_init(|| {
        serde_json::from_str(DOCUMENT).expect("the shipped OpenAPI document is JSON")
    })
}

/// `GET /api/openapi.json`.
pub async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT).into_response()
}

/// Descriptions are HTML rendered from the document's Markdown by
/// [`inline_markdown_html`](super::docs::inline_markdown_html), which escapes raw HTML.
struct ParamView {
    name: String,
    place: String,
    required: bool,
    description: String,
    example: String,
}

struct OperationView {
    method: String,
    path: String,
    anchor: String,
    summary: String,
    description: String,
    params: Vec<ParamView>,
    responses: Vec<(String, String, String)>,
}

#[derive(Template)]
#[template(path = "api-docs.html")]
struct ApiDocsPage {
    layout: Layout,
    intro: String,
    operations: Vec<OperationView>,
    schemas: Vec<(String, String)>,
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// A description's Markdown as HTML (code spans, emphasis, links; raw HTML escaped).
fn markdown(v: &Value) -> String {
    inline_markdown_html(v.as_str().unwrap_or_default())
}

/// The schema a response or parameter refers to, as a short name.
fn schema_name(schema: &Value) -> String {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return r.rsplit('/').next().unwrap_or(r).to_string();
    }
    match (schema.get("type"), schema.get("items")) {
        (Some(Value::String(t)), Some(items)) if t == "array" => {
            format!("array of {}", schema_name(items))
        }
        (Some(t), _) => t.to_string().replace('"', ""),
        _ => String::new(),
    }
}

/// `GET /api/docs`: every operation with its parameters and responses, and the schemas.
pub async fn page(visitor: Visitor) -> Response {
    let doc = document();
    let mut operations = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            let params = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| ParamView {
                    name: text(&p["name"]),
                    place: text(&p["in"]),
                    required: p["required"].as_bool().unwrap_or(false),
                    description: markdown(&p["description"]),
                    example: p.get("example").map(text).unwrap_or_default(),
                })
                .collect();
            let responses = op["responses"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(code, r)| {
                    let content = r["content"].as_object();
                    let (media, schema) = content
                        .and_then(|c| c.iter().next())
                        .map(|(m, c)| (m.clone(), schema_name(&c["schema"])))
                        .unwrap_or_default();
                    (
                        code.clone(),
                        markdown(&r["description"]),
                        format!("{media} {schema}").trim().to_string(),
                    )
                })
                .collect();
            operations.push(OperationView {
                method: method.to_uppercase(),
                anchor: format!("{method}{}", path.replace(['/', '{', '}', '.'], "-")),
                path: path.clone(),
                summary: text(&op["summary"]),
                description: markdown(&op["description"]),
                params,
                responses,
            });
        }
    }
    let schemas = doc["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, schema)| {
            let pretty = serde_json::to_string_pretty(schema).unwrap_or_default();
            (name.clone(), pretty)
        })
        .collect();
    render(&ApiDocsPage {
        layout: Layout::new("API", None, Some(&visitor)),
        intro: markdown(&doc["info"]["description"]),
        operations,
        schemas,
    })
}
