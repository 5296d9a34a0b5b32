//! Escaping text from the stores into HTML and XML (reports, the Atom feed) and into CSV
//! cells that spreadsheets open.

use std::borrow::Cow;

/// `text` made safe as HTML or XML 1.0 element content and attribute values: the five markup
/// characters become references (`&#39;` rather than `&apos;`, which old HTML lacks) and the
/// control characters XML forbids become U+FFFD.
pub fn escape_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// `cell` made safe to open in a spreadsheet: text starting with `=`, `+`, `-`, `@`, a tab or
/// a carriage return would run as a formula (CSV injection; real AS names start with `@`,
/// `+`, `-`), so it gets a leading `'` (OWASP's advice). Numbers, negative ones included,
/// stay numbers.
pub fn neutralise_csv_formula(cell: &str) -> Cow<'_, str> {
    let formula = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if formula && cell.parse::<f64>().is_err() {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_that_would_run_as_formulas_are_neutralised_and_numbers_kept() {
        for (cell, safe) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("+AS-NAME", "'+AS-NAME"),
            ("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"),
            ("\tx", "'\tx"),
            ("-94.1", "-94.1"),
            ("+3", "+3"),
            ("Example AS", "Example AS"),
            ("", ""),
        ] {
            assert_eq!(neutralise_csv_formula(cell), safe, "{cell:?}");
        }
    }

    #[test]
    fn markup_characters_and_forbidden_controls_are_replaced() {
        assert_eq!(
            escape_markup("<a href=\"x\">Tom & Jerry's</a>\u{1}\tok\n"),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;\u{FFFD}\tok\n"
        );
    }
}
