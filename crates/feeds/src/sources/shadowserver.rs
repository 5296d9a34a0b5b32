//! Shadowserver report CSV.

use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The published report schemas (report type → columns), embedded from
/// `data/shadowserver-reports.json` (rebuilt by `scripts/update-shadowserver-schema.py`).
fn schemas() -> &'static BTreeMap<String, ReportSchema> {
    static SCHEMAS: OnceLock<BTreeMap<String, ReportSchema>> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        serde_json::from_str(include_str!("../../data/shadowserver-reports.json"))
            .expect("the embedded Shadowserver schema is valid JSON")
    })
}

#[derive(serde::Deserialize)]
struct ReportSchema {
    fields: Vec<String>,
}

/// Every Shadowserver report type with a published schema, sorted.
pub fn report_types() -> impl Iterator<Item = &'static str> {
    schemas().keys().map(String::as_str)
}

/// The published columns of a report type, in order.
pub fn report_columns(report_type: &str) -> Option<&'static [String]> {
    schemas().get(report_type).map(|s| s.fields.as_slice())
}
