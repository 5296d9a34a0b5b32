//! Escaping text from the stores into HTML and XML (reports, the Atom feed).

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_characters_and_forbidden_controls_are_replaced() {
        assert_eq!(
            escape_markup("<a href=\"x\">Tom & Jerry's</a>\u{1}\tok\n"),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;\u{FFFD}\tok\n"
        );
    }
}
