//! Country names for tables, from the ISO 3166 table that the portal's world map also loads
//! (ISO 3166-1 alpha-2 and numeric codes with English short names, `data/country-codes.json`,
//! written by `crates/portal/scripts/update-vendor.sh`).

use greenwatch_model::CountryCode;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The table as the browser receives it (`/assets/country-codes.json`): alpha-2 code to
/// name and ISO numeric code.
pub const TABLE_JSON: &[u8] = include_bytes!("../data/country-codes.json");

#[derive(Deserialize)]
struct Entry {
    name: String,
}

fn table() -> &'static HashMap<String, Entry> {
    static TABLE: OnceLock<HashMap<String, Entry>> = OnceLock::new();
    TABLE.get_or_init(|| {
        serde_json::from_slice(TABLE_JSON).expect("the embedded country table is JSON")
    })
}

/// English short name of a country; "Unknown" for the unknown country and `ZZ`.
pub fn name(code: CountryCode) -> &'static str {
    match code.as_str() {
        None | Some("ZZ") => "Unknown",
        Some(alpha2) => table().get(alpha2).map_or("", |e| e.name.as_str()),
    }
}

/// [`name`] for a code held as text (metric rows); empty for codes not in the table.
pub fn name_of(alpha2: &str) -> &'static str {
    alpha2.parse().map_or("", name)
}

/// A country code with its name after it, as text tables show it (`DE Germany`); the code
/// alone when the table has no name for it.
pub fn labelled(alpha2: &str) -> String {
    match name_of(alpha2) {
        "" => alpha2.to_string(),
        name => format!("{alpha2} {name}"),
    }
}

/// The country of an ISO 3166-1 alpha-2 code in the table (`NL`), any case.
pub fn code(alpha2: &str) -> Option<CountryCode> {
    let upper = alpha2.to_ascii_uppercase();
    table().contains_key(&upper).then(|| upper.parse().ok())?
}

/// The country whose English name is `text`, any case.
pub fn by_name(text: &str) -> Option<CountryCode> {
    let wanted = text.trim().to_lowercase();
    table()
        .iter()
        .find(|(_, e)| e.name.to_lowercase() == wanted)
        .and_then(|(code, _)| code.parse().ok())
}

/// The countries whose English name contains `needle` (lower case), by name.
pub fn containing(needle: &str) -> Vec<CountryCode> {
    let mut found: Vec<(&str, CountryCode)> = table()
        .iter()
        .filter(|(_, e)| e.name.to_lowercase().contains(needle))
        .filter_map(|(code, e)| Some((e.name.as_str(), code.parse().ok()?)))
        .collect();
    found.sort();
    found.into_iter().map(|(_, code)| code).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_embedded_iso_table() {
        assert_eq!(name("NL".parse().unwrap()), "Netherlands");
        assert_eq!(name(CountryCode::UNKNOWN), "Unknown");
        assert_eq!(name_of("JP"), "Japan");
        assert!(table().len() >= 249);
        assert_eq!(code("nl"), Some("NL".parse().unwrap()));
        assert_eq!(code("QQ"), None);
        assert_eq!(by_name("netherlands"), Some("NL".parse().unwrap()));
        assert!(containing("guinea").len() >= 3);
    }
}
