//! Webhooks: the alert as JSON, POSTed with an HMAC-SHA256 signature of the exact body bytes
//! so the receiver can check it came from us and was not altered.

use crate::Channel;
use greenwatch_model::alert::Alert;
use hmac::{KeyInit, Mac};

/// The header carrying `sha256=<hex HMAC-SHA256 of the body under the shared secret>`.
pub const SIGNATURE_HEADER: &str = "X-Greenwatch-Signature";

pub struct Webhook {
    pub url: String,
    /// Shared with the receiver; never logged.
    pub secret: String,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// `sha256=<hex>` of `body` under `secret`.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

impl Channel for Webhook {
    fn name(&self) -> String {
        format!("webhook:{}", self.url)
    }

    fn send(&self, alert: &Alert) -> Result<(), String> {
        let body = serde_json::to_vec(alert).map_err(|e| e.to_string())?;
        let response = ureq::post(&self.url)
            .header("Content-Type", "application/json")
            .header(SIGNATURE_HEADER, &signature(self.secret.as_bytes(), &body))
            .config()
            .http_status_as_error(false)
            .timeout_global(Some(std::time::Duration::from_secs(10)))
            .build()
            .send(&body[..])
            .map_err(|e| format!("POST {}: {e}", self.url))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("POST {}: HTTP {status}", self.url))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_rfc_4231_hmac_sha256() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let hook = Webhook {
            url: "http://127.0.0.1:9/hook".into(),
            secret: "s3cret-value".into(),
        };
        assert!(!format!("{hook:?}").contains("s3cret"));
        assert!(!hook.name().contains("s3cret"));
    }
}
