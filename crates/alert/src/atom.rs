//! The Atom feed (RFC 4287) of alerts. The caller hands in only the alerts the feed's reader
//! may see; everything from an alert is escaped.

use crate::alert_text;
use greenwatch_model::alert::Alert;
use greenwatch_model::{escape_markup, Timestamp};

/// What the feed says about itself.
pub struct FeedInfo<'a> {
    /// Absolute URL of the portal, without a trailing slash (`https://gw.example.org`).
    pub base_url: &'a str,
    /// Path of this feed (`/alerts.atom`).
    pub path: &'a str,
    pub title: &'a str,
    /// When the feed was produced (used when there are no alerts).
    pub generated: Timestamp,
}

/// The feed document, newest alert first as given.
pub fn atom_feed(info: &FeedInfo, alerts: &[Alert]) -> String {
    let updated = alerts
        .iter()
        .map(|a| a.alert.created_at)
        .max()
        .unwrap_or(info.generated);
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n  <id>{base}{path}</id>\n  <title>{title}</title>\n  <updated>{updated}</updated>\n  <link rel=\"self\" href=\"{base}{path}\"/>\n  <link rel=\"alternate\" type=\"text/html\" href=\"{base}/alerts\"/>\n  <author><name>Greenwatch</name></author>\n",
        base = escape_markup(info.base_url),
        path = escape_markup(info.path),
        title = escape_markup(info.title),
        updated = updated.to_rfc3339(),
    );
    for alert in alerts {
        let a = &alert.alert;
        xml += &format!(
            "  <entry>\n    <id>{base}/alerts/{id}</id>\n    <title>[{tlp}] [{severity}] {title}</title>\n    <updated>{updated}</updated>\n    <published>{published}</published>\n    <link rel=\"alternate\" type=\"text/html\" href=\"{base}/alerts/{id}\"/>\n    <author><name>{author}</name></author>\n    <category term=\"{severity}\" label=\"severity\"/>\n    <category term=\"{tlp}\" label=\"TLP\"/>\n    <summary type=\"text\">{summary}</summary>\n    <content type=\"text\">{content}</content>\n  </entry>\n",
            base = escape_markup(info.base_url),
            id = alert.id,
            tlp = escape_markup(&a.label.tlp.to_string()),
            severity = a.severity,
            title = escape_markup(&a.title),
            updated = a.created_at.to_rfc3339(),
            published = a.created_at.to_rfc3339(),
            author = escape_markup(&a.author),
            summary = escape_markup(&a.summary),
            content = escape_markup(&alert_text(alert)),
        );
    }
    xml + "</feed>\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use greenwatch_model::access::Tlp;

    #[test]
    fn markup_in_alerts_is_escaped_and_entries_link_to_the_portal() {
        let info = FeedInfo {
            base_url: "https://gw.example.org",
            path: "/alerts.atom",
            title: "Greenwatch alerts",
            generated: Timestamp::from_secs(0),
        };
        let xml = atom_feed(
            &info,
            &[crate::tests::alert(
                7,
                "<script>x</script> & \"q\"",
                Tlp::Clear,
            )],
        );
        assert!(xml.contains("&lt;script&gt;x&lt;/script&gt; &amp; &quot;q&quot;"));
        assert!(!xml.contains("<script>"));
        assert!(xml.contains("<id>https://gw.example.org/alerts/7</id>"));
        assert!(xml.contains("<title>[TLP:CLEAR] [high]"));
        assert_eq!(xml.matches("<entry>").count(), 1);
        assert_eq!(xml.matches("</entry>").count(), 1);
        assert!(xml.ends_with("</feed>\n"));
    }

    #[test]
    fn an_empty_feed_is_still_a_feed() {
        let info = FeedInfo {
            base_url: "http://127.0.0.1:8080",
            path: "/alerts.atom",
            title: "t",
            generated: Timestamp::from_secs(86_400),
        };
        let xml = atom_feed(&info, &[]);
        assert!(xml.contains("<updated>1970-01-02T00:00:00Z</updated>"));
        assert!(!xml.contains("<entry>"));
    }
}
