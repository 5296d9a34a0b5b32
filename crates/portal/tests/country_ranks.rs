//! The sources of no known country are no country: the country index ranked them (so rank 18
//! was missing from its table) and the overview counted them in one place and not in the
//! other (223 and 222 countries). Known countries rank 1, 2, 3, ...; the unknown row is
//! unranked, counted nowhere, and said apart.

mod common;

use common::*;
use serde_json::Value;

/// The numbers of the rank column of a page's table rows linking to country pages.
fn ranks(html: &str) -> Vec<u32> {
    html.split("<tr><td class=\"num\">")
        .skip(1)
        .filter(|row| row.contains("<a href=\"/countries/"))
        .map(|row| row[..row.find('<').unwrap()].parse().unwrap())
        .collect()
}

/// The number in `html` right after `before` (thousands separators allowed).
fn number_after(html: &str, before: &str) -> usize {
    let at = html
        .find(before)
        .unwrap_or_else(|| panic!("no {before:?} in {html}"))
        + before.len();
    let digits: String = html[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ',')
        .filter(char::is_ascii_digit)
        .collect();
    digits.parse().unwrap()
}

#[tokio::test]
async fn known_countries_rank_consecutively_and_are_counted_once() {
    let f = fixture();
    let overview = get(&f.app, "/api/v1/overview").await.json();
    let rows = overview["countries"].as_array().unwrap();
    let unknown: Vec<&Value> = rows.iter().filter(|r| r["country"].is_null()).collect();
    assert_eq!(
        unknown.len(),
        1,
        "the fixture has sources of no known country"
    );
    assert!(unknown[0]["rank"].is_null(), "{}", unknown[0]);
    let known: Vec<u64> = rows
        .iter()
        .filter(|r| !r["country"].is_null())
        .map(|r| r["rank"].as_u64().unwrap())
        .collect();
    let want: Vec<u64> = (1..=known.len() as u64).collect();
    assert_eq!(known, want, "known countries rank 1, 2, 3, ...");

    // The index: the same consecutive ranks, as many rows as its heading says.
    let index = get(&f.app, "/countries").await.body;
    let want: Vec<u32> = (1..=known.len() as u32).collect();
    assert_eq!(ranks(&index), want, "{index}");
    let heading = &index[..index
        .find(" source countries</h2>")
        .expect("a counted heading")];
    let heading = &heading[heading.rfind("<h2>").unwrap()..];
    assert_eq!(number_after(heading, "<h2>"), known.len(), "{index}");
    assert!(index.contains("no IP data places in a country"), "{index}");

    // The overview says the same count in its figure and in its table's summary.
    let page = get(&f.app, "/").await.body;
    let stat = number_after(
        &page,
        "<span class=\"stat-label\">Source countries</span><span class=\"stat-value\">",
    );
    let top = page
        .find(" countries</summary>")
        .expect("the table's summary");
    let top = page[..top].rfind("<summary>").unwrap();
    let summary = &page[top..top + page[top..].find("</summary>").unwrap()];
    let summary = number_after(summary, " of ");
    assert_eq!((stat, summary), (known.len(), known.len()), "{page}");
    let table = ranks(&page);
    assert_eq!(table, (1..=table.len() as u32).collect::<Vec<_>>());
    assert!(page.contains("No known country (not ranked)"), "{page}");

    // The CSV leaves the unknown row's rank empty.
    let csv = get(&f.app, "/api/v1/overview.csv?part=countries")
        .await
        .body;
    assert!(
        csv.lines().any(|l| l.starts_with(",,")),
        "the unknown row has no rank and no code: {csv}"
    );
}
