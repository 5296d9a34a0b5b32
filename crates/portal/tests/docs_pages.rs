//! The method page and the API page render their Markdown (they showed the method as raw
//! Markdown in a `<pre>`, and literal backticks in the API's descriptions), with no HTML of
//! the source passed through.

mod common;

use axum::http::StatusCode;
use common::*;

#[tokio::test]
async fn the_method_page_renders_its_markdown() {
    let f = fixture();
    let page = get(&f.app, "/method").await;
    assert_eq!(page.status, StatusCode::OK);
    let body = &page.body;
    assert!(!body.contains("<pre>#"), "no raw Markdown in a pre: {body}");
    assert!(!body.contains("\n## "), "no Markdown headings left: {body}");
    // The document's `#` title and `##` sections are headings under the page's own h1.
    assert!(
        body.contains("<h2>Greenwatch metrics: method</h2>"),
        "{body}"
    );
    assert!(body.contains("<h3>Distinct hosts</h3>"), "{body}");
    assert!(body.contains("<h3>Publication threshold</h3>"), "{body}");
    assert!(body.contains("<p>"), "{body}");
    assert!(body.contains("<code>"), "{body}");
    assert!(body.contains("<li>"), "{body}");
    let backticks = body.matches('`').count();
    assert_eq!(backticks, 0, "code spans are rendered: {body}");
    assert_public_page(&f.app, "/method").await;
}

#[tokio::test]
async fn the_api_page_renders_the_descriptions_code_spans() {
    let f = fixture();
    let page = get(&f.app, "/api/docs").await;
    assert_eq!(page.status, StatusCode::OK);
    let body = &page.body;
    // The intro's `Authorization: Bearer <token>` is code, its <token> escaped.
    assert!(
        body.contains("<code>Authorization: Bearer &lt;token&gt;</code>"),
        "{body}"
    );
    // Outside the schemas' JSON (in <pre>), no description shows a backtick.
    let before_schemas = &body[..body.find("<h2>Schemas</h2>").unwrap()];
    assert!(!before_schemas.contains('`'), "{before_schemas}");
    assert!(!before_schemas.contains("&#96;"), "{before_schemas}");
    assert!(
        before_schemas.contains("<code>surge</code>"),
        "{before_schemas}"
    );
    assert_public_page(&f.app, "/api/docs").await;
}
