//! The OpenAPI document tells the truth: every `/api/` route of the router is in it and every
//! path in it is routed, with its methods; and every documented GET answers, with its
//! documented example parameters, a body that validates against the documented schema.

mod common;

use axum::http::StatusCode;
use common::*;
use greenwatch_model::access::Role;
use serde_json::Value;
use std::collections::BTreeSet;

/// The route tables: the portal's, and the collector's (outside the user authentication).
const ROUTES_SOURCES: [&str; 2] = [
    include_str!("../src/routes/mod.rs"),
    include_str!("../src/routes/collector.rs"),
];

fn document() -> Value {
    serde_json::from_str(include_str!("../api/openapi.json")).unwrap()
}

/// The `/api/` paths of the route table.
fn routed_api_paths() -> BTreeSet<String> {
    ROUTES_SOURCES
        .iter()
        .flat_map(|source| source.split('"'))
        .filter(|s| s.starts_with("/api/"))
        .map(str::to_string)
        .collect()
}

#[test]
fn every_api_route_is_documented_and_every_documented_path_is_routed() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    let documented: BTreeSet<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    let routed = routed_api_paths();
    assert!(routed.len() >= 12, "{routed:?}");
    // `/api/docs` is the page rendering the document, not an API operation.
    let routed: BTreeSet<String> = routed.into_iter().filter(|p| p != "/api/docs").collect();
    assert_eq!(documented, routed);
}

/// A concrete URI for a documented path: path parameters and query parameters from their
/// examples.
fn example_uri(path: &str, op: &Value) -> String {
    let mut uri = path.to_string();
    let mut query = Vec::new();
    for p in op["parameters"].as_array().into_iter().flatten() {
        let name = p["name"].as_str().unwrap();
        let Some(example) = p.get("example").and_then(Value::as_str) else {
            assert!(
                p["in"] != "path",
                "{path}: path parameter {name} needs an example"
            );
            continue;
        };
        match p["in"].as_str().unwrap() {
            "path" => uri = uri.replace(&format!("{{{name}}}"), example),
            _ => query.push(format!("{name}={example}")),
        }
    }
    if query.is_empty() {
        uri
    } else {
        format!("{uri}?{}", query.join("&"))
    }
}

/// Checks `value` against the subset of JSON Schema the document uses: `$ref`, `type`
/// (one or several), `properties`, `required`, `items`, `enum`, `additionalProperties`.
fn validate(doc: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap();
        let target = &doc["components"]["schemas"][name];
        assert!(!target.is_null(), "unknown schema {r}");
        return validate(doc, target, value, at, errors);
    }
    if let Some(t) = schema.get("type") {
        let allowed: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().map(|x| x.as_str().unwrap()).collect(),
            _ => panic!("bad type at {at}"),
        };
        let actual = match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_u64() || n.is_i64() => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        let fits =
            allowed.contains(&actual) || (actual == "integer" && allowed.contains(&"number"));
        if !fits {
            errors.push(format!("{at}: {actual} where the schema says {allowed:?}"));
            return;
        }
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        if !options.contains(value) {
            errors.push(format!("{at}: {value} is not one of {options:?}"));
        }
    }
    if let Value::Object(object) = value {
        for key in schema["required"].as_array().into_iter().flatten() {
            if !object.contains_key(key.as_str().unwrap()) {
                errors.push(format!("{at}: missing required {key}"));
            }
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        for (key, v) in object {
            match properties.and_then(|p| p.get(key)) {
                Some(s) => validate(doc, s, v, &format!("{at}.{key}"), errors),
                None => match schema.get("additionalProperties") {
                    Some(s) if s.is_object() => validate(doc, s, v, &format!("{at}.{key}"), errors),
                    _ if properties.is_some() => {
                        errors.push(format!("{at}: property {key:?} is not documented"))
                    }
                    _ => {}
                },
            }
        }
    }
    if let (Value::Array(items), Some(s)) = (value, schema.get("items")) {
        for (i, v) in items.iter().enumerate() {
            validate(doc, s, v, &format!("{at}[{i}]"), errors);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_answer_matches_its_schema() {
    let mut f = fixture();
    let (cookie, csrf) = sign_in(&mut *f.store, "ana@cert-a", "cert-a", Role::Analyst, 1);
    // One upload, so the upload list and job have something to show.
    let pcap = capture(&f.netdb, 5, 2_000);
    let boundary = "b0undary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.pcap\"\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&pcap);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let request = axum::http::Request::post("/api/v1/uploads")
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .header("cookie", &cookie)
        .body(axum::body::Body::from(body))
        .unwrap();
    let accepted = send(&f.app, request).await;
    assert_eq!(accepted.status, StatusCode::ACCEPTED, "{}", accepted.body);
    let job = accepted.json()["id"].as_str().unwrap().to_string();
    for _ in 0..600 {
        let status = get_as(&f.app, &format!("/api/v1/uploads/{job}"), Some(&cookie)).await;
        if status.json()["state"] == "done" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    // One alert with evidence (id 1, the documented example), so both alert answers are checked.
    store_alert(
        &mut *f.store,
        "cert-a",
        greenwatch_model::access::Tlp::Clear,
        "Telnet surge",
        "2026-10-05T03:00:00Z",
    );
    // The fixture's captures come from `test-sensor`: registered, the sensor paths show them.
    register_sensor(
        &mut *f.store,
        "cert-a",
        "test-sensor",
        "198.51.100.0/24",
        greenwatch_model::access::Tlp::Green,
    );

    let doc = document();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(op) = item.get("get") else { continue };
        let uri = example_uri(path, op).replace("0123456789abcdef0123456789abcdef", &job);
        let reply = get_as(&f.app, &uri, Some(&cookie)).await;
        assert_eq!(reply.status, StatusCode::OK, "{uri}: {}", reply.body);
        let content = &op["responses"]["200"]["content"];
        let (media, spec) = content.as_object().unwrap().iter().next().unwrap();
        assert!(
            reply.content_type().starts_with(media.as_str()),
            "{uri}: {}",
            reply.content_type()
        );
        if media == "application/json" {
            let mut errors = Vec::new();
            validate(&doc, &spec["schema"], &reply.json(), &uri, &mut errors);
            assert!(errors.is_empty(), "{}", errors.join("\n"));
        }
        checked += 1;
    }
    assert!(checked >= 12, "{checked}");
    // The page rendering the document lists every operation.
    let page = get(&f.app, "/api/docs").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("GET /api/v1/ports/{protocol}/{port}"));
    assert!(page.body.contains("POST /api/v1/uploads"));
}
