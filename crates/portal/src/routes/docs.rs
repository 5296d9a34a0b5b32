//! The pages around the data: downloads, the method, and the pages still to come.

use crate::error::PageError;
use crate::views::{render, Layout, MethodPage, Nav};
use crate::{AppState, Visitor};
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use greenwatch_metrics::PUBLICATION_MIN_HOSTS;
use greenwatch_model::PeriodKind;
use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use std::sync::OnceLock;

pub struct DownloadRisk {
    pub slug: String,
    pub coverage: String,
}

#[derive(Template)]
#[template(path = "downloads.html")]
pub struct DownloadsPage {
    pub layout: Layout,
    pub min_hosts: u64,
    pub kinds: Vec<&'static str>,
    pub risks: Vec<DownloadRisk>,
    pub overview_parts: Vec<(&'static str, &'static str)>,
}

/// `GET /downloads`.
pub async fn downloads(
    State(state): State<AppState>,
    visitor: Visitor,
) -> Result<Response, PageError> {
    let layout = Layout::new("Downloads", Some(Nav::Downloads), Some(&visitor));
    let risks = state.reads(&visitor.viewer).await?.risks().await?;
    let risks = risks
        .iter()
        .filter_map(|r| {
            Some(DownloadRisk {
                coverage: format!("{} to {}", r.first_day?, r.last_day?),
                slug: r.slug.clone(),
            })
        })
        .collect();
    Ok(render(&DownloadsPage {
        layout,
        min_hosts: PUBLICATION_MIN_HOSTS,
        kinds: PeriodKind::ALL.map(|k| k.as_str()).to_vec(),
        risks,
        overview_parts: vec![
            ("series", "packets per hour by class"),
            ("ports", "top ports"),
            ("countries", "source countries"),
            ("heatmap", "ports by hour of day"),
            ("dos", "DoS attacks"),
        ],
    }))
}

/// `GET /method`: the metrics method shipped with every export, rendered from its Markdown.
pub async fn method(visitor: Visitor) -> Response {
    static HTML: OnceLock<String> = OnceLock::new();
    render(&MethodPage {
        layout: Layout::new("Method", Some(Nav::Method), Some(&visitor)),
        method: HTML.get_or_init(|| markdown_html(greenwatch_metrics::export::METHOD, 1)),
    })
}

/// Markdown (CommonMark with tables and strikethrough) as HTML, headings moved down `demote`
/// levels (the page has its own `h1`). Raw HTML in the source is shown as text, never passed
/// through, and a link or image goes only to http(s), mailto, or an address on this site.
pub(crate) fn markdown_html(source: &str, demote: usize) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let events = Parser::new_ext(source, options).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        Event::Start(Tag::Heading {
            level,
            id,
            classes,
            attrs,
        }) => Event::Start(Tag::Heading {
            level: lower(level, demote),
            id,
            classes,
            attrs,
        }),
        Event::End(TagEnd::Heading(level)) => Event::End(TagEnd::Heading(lower(level, demote))),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Image {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        other => other,
    });
    let mut out = String::with_capacity(source.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut out, events);
    out
}

/// A line of Markdown (a description in the API document: code spans, emphasis, links) as
/// HTML without the paragraph around it; text of several paragraphs keeps them.
pub(crate) fn inline_markdown_html(source: &str) -> String {
    let html = markdown_html(source, 0);
    let trimmed = html.trim_end();
    match trimmed
        .strip_prefix("<p>")
        .and_then(|s| s.strip_suffix("</p>"))
    {
        Some(inner) if !inner.contains("<p>") => inner.to_string(),
        _ => html,
    }
}

fn lower(level: HeadingLevel, by: usize) -> HeadingLevel {
    const LEVELS: [HeadingLevel; 6] = [
        HeadingLevel::H1,
        HeadingLevel::H2,
        HeadingLevel::H3,
        HeadingLevel::H4,
        HeadingLevel::H5,
        HeadingLevel::H6,
    ];
    let at = LEVELS.iter().position(|l| *l == level).unwrap_or(0);
    LEVELS[(at + by).min(5)]
}

/// The link target if it is harmless (http, https, mailto, or no scheme: a path, a fragment, a
/// relative address), else `#`: no `javascript:` or `data:` address reaches the page.
fn safe_url(url: CowStr<'_>) -> CowStr<'_> {
    let scheme = url
        .split_once(':')
        .map(|(s, _)| s)
        .filter(|s| !s.contains(['/', '?', '#']));
    match scheme.map(str::to_ascii_lowercase).as_deref() {
        None | Some("http" | "https" | "mailto") => url,
        Some(_) => CowStr::Borrowed("#"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_renders_blocks_and_inline_markup() {
        let html = markdown_html(
            "# Title\n\nA *word*, **strong**, `code` and [a link](https://example.org/).\n\n\
             - one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```\nlet x = 1;\n```\n",
            1,
        );
        for part in [
            "<h2>Title</h2>",
            "<em>word</em>",
            "<strong>strong</strong>",
            "<code>code</code>",
            "<a href=\"https://example.org/\">a link</a>",
            "<li>one</li>",
            "<table>",
            "<td>1</td>",
            "<pre><code>let x = 1;",
        ] {
            assert!(html.contains(part), "{part} in {html}");
        }
    }

    #[test]
    fn raw_html_and_script_links_do_not_pass_through() {
        let html = markdown_html(
            "<script>alert(1)</script>\n\nText <b onclick=\"x()\">bold</b> \
             [click](javascript:alert(1)) [data](DATA:text/html,x) [rel](/api/docs#top)\n",
            0,
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<b "), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.to_ascii_lowercase().contains("javascript:"), "{html}");
        assert!(!html.to_ascii_lowercase().contains("data:"), "{html}");
        assert!(html.contains("href=\"/api/docs#top\""), "{html}");
    }

    #[test]
    fn an_inline_description_loses_its_paragraph() {
        assert_eq!(
            inline_markdown_html("Use `limit`, *at most* 100."),
            "Use <code>limit</code>, <em>at most</em> 100."
        );
        assert_eq!(inline_markdown_html("a < b & c"), "a &lt; b &amp; c");
        assert!(inline_markdown_html("one\n\ntwo").contains("<p>two</p>"));
    }
}
