//! Who is asking. Every handler takes a [`Visitor`]: the name the navigation bar shows and
//! the [`Viewer`] whose rights decide what data they see.
//!
//! Hook for the members area (`crates/portal/src/auth/`, not built yet): its middleware checks
//! the session cookie or API token and inserts a `Visitor` into the request's extensions;
//! without one a request is anonymous (the public, TLP:CLEAR only). Nothing else changes in
//! the handlers.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use greenwatch_model::access::Viewer;
use std::convert::Infallible;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Visitor {
    /// Shown in the navigation bar; `None` shows the "Log in" link.
    pub name: Option<String>,
    pub viewer: Viewer,
}

impl Visitor {
    pub fn anonymous() -> Visitor {
        Visitor {
            name: None,
            viewer: Viewer::Anonymous,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Visitor {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Visitor>()
            .cloned()
            .unwrap_or_else(Visitor::anonymous))
    }
}
