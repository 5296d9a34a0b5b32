//! The HTML side: the page layout every template extends, the template structs (askama,
//! `templates/`), and the small formatting helpers their tables use. Templates get values
//! already formatted; they hold no logic beyond loops and conditions.

use crate::assets;
use crate::visitor::Visitor;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use greenwatch_model::access::{Role, Tlp, Viewer};
use serde::Serialize;

/// The entries of the navigation bar.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Nav {
    Overview,
    Ports,
    Countries,
    Risks,
    Alerts,
    Reports,
    Sensors,
    Downloads,
    Method,
}

impl Nav {
    const ALL: [Nav; 9] = [
        Nav::Overview,
        Nav::Ports,
        Nav::Countries,
        Nav::Risks,
        Nav::Alerts,
        Nav::Reports,
        Nav::Sensors,
        Nav::Downloads,
        Nav::Method,
    ];

    fn href(self) -> &'static str {
        match self {
            Nav::Overview => "/",
            Nav::Ports => "/ports",
            Nav::Countries => "/countries",
            Nav::Risks => "/risks",
            Nav::Alerts => "/alerts",
            Nav::Reports => "/reports",
            Nav::Sensors => "/sensors",
            Nav::Downloads => "/downloads",
            Nav::Method => "/method",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Nav::Overview => "Overview",
            Nav::Ports => "Ports",
            Nav::Countries => "Countries",
            Nav::Risks => "Risks",
            Nav::Alerts => "Alerts",
            Nav::Reports => "Reports",
            Nav::Sensors => "Sensors",
            Nav::Downloads => "Downloads",
            Nav::Method => "Method",
        }
    }
}

pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub active: bool,
}

/// What `base.html` needs: the page title, the active navigation entry and who is logged in
/// (`None`: the "Log in" link; the members area fills it in through [`Visitor`]).
pub struct Layout {
    pub title: String,
    pub nav: Option<Nav>,
    pub user: Option<String>,
    /// Whether the logged-in user is an admin (the "Admin" link).
    pub admin: bool,
    /// The strictest TLP of the page's content, when stricter than CLEAR: its banner.
    pub marking: Option<Tlp>,
    /// A member looking at the public view.
    pub public_view: bool,
    /// The session's CSRF token, for the view switch.
    pub csrf: Option<String>,
}

impl Layout {
    pub fn new(title: impl Into<String>, nav: Option<Nav>, visitor: Option<&Visitor>) -> Layout {
        Layout {
            title: title.into(),
            nav,
            user: visitor.and_then(|v| v.name.clone()),
            admin: visitor.is_some_and(|v| {
                matches!(
                    v.viewer,
                    Viewer::User {
                        role: Role::Admin,
                        ..
                    }
                )
            }),
            marking: visitor.and_then(|v| v.marking).filter(|t| *t > Tlp::Clear),
            public_view: visitor.is_some_and(|v| v.public_view),
            csrf: visitor.and_then(|v| v.csrf.clone()),
        }
    }

    /// Marks the page with the strictest label of what it shows (for pages whose content the
    /// route alone does not tell, such as a list of alerts).
    pub fn mark(&mut self, marking: Option<crate::marking::Marking>) {
        self.marking = marking.map(|m| m.0).filter(|t| *t > Tlp::Clear);
    }

    /// `tlp-amber`, the banner's style class.
    pub fn marking_class(&self) -> String {
        self.marking.map_or_else(String::new, |t| {
            format!("tlp-{}", t.as_str().to_lowercase().replace('+', "-"))
        })
    }

    /// The versioned URL of an embedded asset.
    pub fn asset(&self, path: &str) -> String {
        assets::url(path)
    }

    pub fn nav_items(&self) -> Vec<NavItem> {
        Nav::ALL
            .into_iter()
            .map(|n| NavItem {
                href: n.href(),
                label: n.label(),
                active: self.nav == Some(n),
            })
            .collect()
    }
}

/// Renders a page; a template that fails to render is a 500 with a plain message.
pub fn render<T: Template>(page: &T) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!("rendering a page: {e}");
            (StatusCode::INTERNAL_SERVER_ERROR, "page rendering failed").into_response()
        }
    }
}

/// JSON for a `<script type="application/json">` data island: `<`, `>` and `&` escaped so
/// that no string in the data can close the element.
pub fn json_island<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value)
        .unwrap_or_else(|_| "null".into())
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// `1234567` → `1,234,567`.
pub fn int(n: u64) -> String {
    let digits = n.to_string();
    let head = match digits.len() % 3 {
        0 => 3.min(digits.len()),
        r => r,
    };
    let mut out = digits[..head].to_string();
    let mut i = head;
    while i < digits.len() {
        out.push(',');
        out.push_str(&digits[i..i + 3]);
        i += 3;
    }
    out
}

/// Bytes in SI units: `1.2 MB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// `part / whole` as a percentage with one decimal, `-` when `whole` is zero.
pub fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        "-".into()
    } else {
        format!("{:.1} %", part as f64 * 100.0 / whole as f64)
    }
}

/// A relative change (0.25) as a signed percentage (`+25.0 %`), `-` when absent.
pub fn change(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |c| format!("{:+.1} %", c * 100.0))
}

/// An optional number with `decimals` decimals, `-` when absent.
pub fn opt(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "-".into(), |x| format!("{x:.decimals$}"))
}

// ---------------------------------------------------------------------------------------
// Templates.
// ---------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub layout: Layout,
    pub status: u16,
    pub title: &'static str,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "method.html")]
pub struct MethodPage {
    pub layout: Layout,
    pub method: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_format_for_tables() {
        assert_eq!(int(0), "0");
        assert_eq!(int(999), "999");
        assert_eq!(int(1_234_567), "1,234,567");
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1_234_567), "1.2 MB");
        assert_eq!(percent(1, 3), "33.3 %");
        assert_eq!(percent(1, 0), "-");
        assert_eq!(opt(None, 2), "-");
    }

    #[test]
    fn data_islands_cannot_close_their_script_element() {
        let island = json_island(&["</script><script>alert(1)</script>"]);
        assert!(!island.contains('<'));
        let back: Vec<String> = serde_json::from_str(&island).unwrap();
        assert_eq!(back[0], "</script><script>alert(1)</script>");
    }
}
