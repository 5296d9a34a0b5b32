//! E-mail over SMTP (RFC 5321), written by hand: Greenwatch needs one plain-text message per
//! alert to a relay it is configured for, which is a short conversation, and no mail library
//! was worth its build time for that. With [`SmtpSecurity::StartTls`] the conversation moves
//! to TLS (rustls, ring) right after the first EHLO, before any credential or alert is sent,
//! and the relay's certificate must verify for its host name; plain text is for a relay on
//! the same host or network.

use crate::{alert_text, Channel};
use greenwatch_model::alert::Alert;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone)]
pub struct SmtpCredentials {
    pub user: String,
    /// Never logged, never in an error message.
    pub password: String,
}

#[derive(Clone)]
pub struct Smtp {
    /// `host:port` of the relay.
    pub relay: String,
    pub from: String,
    pub to: Vec<String>,
    pub credentials: Option<SmtpCredentials>,
    pub security: SmtpSecurity,
}

/// How the conversation with the relay is protected.
#[derive(Clone, Debug)]
pub enum SmtpSecurity {
    /// Plain text throughout.
    Plain,
    /// STARTTLS, required: a relay that refuses it gets nothing, not even the login.
    StartTls(Arc<rustls::ClientConfig>),
}

impl SmtpSecurity {
    /// STARTTLS trusting the certificates of the PEM file `ca_file` (a private relay's own
    /// CA), or else the public web PKI roots.
    pub fn start_tls(ca_file: Option<&Path>) -> Result<SmtpSecurity, String> {
        let mut roots = rustls::RootCertStore::empty();
        match ca_file {
            Some(path) => {
                let shown = path.display();
                let certs = CertificateDer::pem_file_iter(path)
                    .map_err(|e| format!("reading CA file {shown}: {e}"))?;
                for cert in certs {
                    let cert = cert.map_err(|e| format!("CA file {shown}: {e}"))?;
                    roots
                        .add(cert)
                        .map_err(|e| format!("CA file {shown}: {e}"))?;
                }
                if roots.is_empty() {
                    return Err(format!("CA file {shown} holds no certificate"));
                }
            }
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
        Ok(SmtpSecurity::StartTls(Arc::new(config)))
    }
}

impl std::fmt::Debug for Smtp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Smtp")
            .field("relay", &self.relay)
            .field("from", &self.from)
            .field("to", &self.to)
            .field(
                "starttls",
                &matches!(self.security, SmtpSecurity::StartTls(_)),
            )
            .finish_non_exhaustive()
    }
}

/// Whether `address` may go into a `RCPT TO:<...>` command and a `To:` header as it is: one
/// `local@domain` of printable ASCII, without spaces, brackets, commas or line breaks (which
/// would let a recipient inject SMTP commands or headers).
pub fn valid_address(address: &str) -> bool {
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && address.len() <= 254
        && !domain.contains('@')
        && address
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"<>,;\\\"()[]".contains(&b))
}

/// One SMTP conversation, over TCP or TLS.
struct Session<S: Read + Write> {
    stream: BufReader<S>,
}

impl<S: Read + Write> Session<S> {
    fn new(stream: S) -> Session<S> {
        Session {
            stream: BufReader::new(stream),
        }
    }

    /// Reads one (possibly multi-line) reply; fails unless its code is `expected`. The command
    /// named in errors is `what`, never the line sent (which may hold credentials).
    fn expect(&mut self, expected: u16, what: &str) -> Result<(), String> {
        loop {
            let mut line = String::new();
            self.stream
                .read_line(&mut line)
                .map_err(|e| format!("SMTP {what}: {e}"))?;
            if line.len() < 4 {
                return Err(format!(
                    "SMTP {what}: connection closed or short reply {line:?}"
                ));
            }
            let code: u16 = line[..3]
                .parse()
                .map_err(|_| format!("SMTP {what}: bad reply {line:?}"))?;
            if line.as_bytes()[3] == b'-' {
                continue;
            }
            return if code == expected {
                Ok(())
            } else {
                Err(format!("SMTP {what}: {}", line.trim_end()))
            };
        }
    }

    fn command(&mut self, line: &str, expected: u16, what: &str) -> Result<(), String> {
        let stream = self.stream.get_mut();
        stream
            .write_all(format!("{line}\r\n").as_bytes())
            .and_then(|()| stream.flush())
            .map_err(|e| format!("SMTP {what}: {e}"))?;
        self.expect(expected, what)
    }

    /// From MAIL FROM to QUIT, after any STARTTLS: the login, then the message.
    fn deliver(&mut self, smtp: &Smtp, alert: &Alert) -> Result<(), String> {
        if let Some(c) = &smtp.credentials {
            let token = base64(format!("\0{}\0{}", c.user, c.password).as_bytes());
            self.command(&format!("AUTH PLAIN {token}"), 235, "AUTH")?;
        }
        self.command(&format!("MAIL FROM:<{}>", smtp.from), 250, "MAIL FROM")?;
        for to in &smtp.to {
            self.command(&format!("RCPT TO:<{to}>"), 250, "RCPT TO")?;
        }
        self.command("DATA", 354, "DATA")?;
        self.command(&format!("{}.", smtp.message(alert)), 250, "message")?;
        self.command("QUIT", 221, "QUIT")
    }
}

impl Smtp {
    fn message(&self, alert: &Alert) -> String {
        let a = &alert.alert;
        let subject: String = format!("[{}] [{}] {}", a.label.tlp, a.severity, a.title)
            .chars()
            .map(|c| {
                if c.is_ascii() && !c.is_ascii_control() {
                    c
                } else {
                    '?'
                }
            })
            .collect();
        let date = a.created_at.to_datetime().to_rfc2822();
        let headers = format!(
            "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: {date}\r\nMessage-ID: <alert-{id}.{created}@greenwatch>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
            from = self.from,
            to = self.to.join(", "),
            id = alert.id,
            created = a.created_at.secs(),
        );
        // Every bare CR and bare LF becomes CRLF, so a relay that ends lines at either one
        // reads the same lines as we stuff (SMTP smuggling: "\r.\r\n" ending the data early).
        // Dot-stuffing: a body line starting with '.' gets another, so no line ends the data.
        let body: String = alert_text(alert)
            .replace("\r\n", "\n")
            .replace('\r', "\n")
            .lines()
            .map(|l| {
                if l.starts_with('.') {
                    format!(".{l}\r\n")
                } else {
                    format!("{l}\r\n")
                }
            })
            .collect();
        headers + &body
    }
}

impl Channel for Smtp {
    fn name(&self) -> String {
        format!("smtp:{}", self.to.join(","))
    }

    fn send(&self, alert: &Alert) -> Result<(), String> {
        let addr = self
            .relay
            .to_socket_addrs()
            .map_err(|e| format!("SMTP relay {}: {e}", self.relay))?
            .next()
            .ok_or_else(|| format!("SMTP relay {}: no address", self.relay))?;
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10))
            .map_err(|e| format!("SMTP relay {}: {e}", self.relay))?;
        stream.set_read_timeout(Some(Duration::from_secs(30))).ok();
        let mut s = Session::new(stream);
        s.expect(220, "greeting")?;
        s.command("EHLO greenwatch", 250, "EHLO")?;
        let SmtpSecurity::StartTls(config) = &self.security else {
            return s.deliver(self, alert);
        };
        s.command("STARTTLS", 220, "STARTTLS")?;
        // Anything the relay sent after its 220 was not protected: refuse it rather than
        // read it as if it came over TLS.
        if !s.stream.buffer().is_empty() {
            return Err("SMTP STARTTLS: the relay sent data before the TLS handshake".into());
        }
        let host = self.relay.rsplit_once(':').map_or(&*self.relay, |(h, _)| h);
        let name = ServerName::try_from(host.trim_matches(['[', ']']).to_string())
            .map_err(|e| format!("SMTP relay {}: {e}", self.relay))?;
        let tls = rustls::ClientConnection::new(Arc::clone(config), name)
            .map_err(|e| format!("SMTP STARTTLS: {e}"))?;
        let mut s = Session::new(rustls::StreamOwned::new(tls, s.stream.into_inner()));
        s.command("EHLO greenwatch", 250, "EHLO over TLS")?;
        s.deliver(self, alert)
    }
}

/// Standard base64 with padding (RFC 4648), for AUTH PLAIN.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().fold(0u32, |acc, &b| acc << 8 | b as u32) << (8 * (3 - chunk.len()));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn addresses_that_could_inject_commands_or_headers_are_refused() {
        assert!(valid_address("soc@cert.example.org"));
        assert!(valid_address("first.last+alerts@example.org"));
        for bad in [
            "",
            "soc",
            "@example.org",
            "soc@",
            "a@b@c",
            "soc@example.org>\r\nDATA",
            "soc@example.org\nBcc: x@y",
            "a b@example.org",
            "a,b@example.org",
            "<soc@example.org>",
        ] {
            assert!(!valid_address(bad), "{bad:?}");
        }
    }

    fn plain_relay() -> Smtp {
        Smtp {
            relay: "127.0.0.1:25".into(),
            from: "gw@example.org".into(),
            to: vec!["soc@example.org".into()],
            credentials: None,
            security: SmtpSecurity::Plain,
        }
    }

    #[test]
    fn bare_carriage_returns_and_line_feeds_cannot_end_the_data_early() {
        let smtp = plain_relay();
        let mut alert = crate::tests::alert(
            1,
            "Surge\r.\r\nMAIL FROM:<x@evil.example>",
            greenwatch_model::access::Tlp::Clear,
        );
        alert.alert.summary =
            "a\r.\r\nMAIL FROM:<y@evil.example>\n.\nRCPT TO:<z@evil.example>\r".into();
        let message = smtp.message(&alert);
        let bytes = message.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            match b {
                b'\r' => assert_eq!(bytes.get(i + 1), Some(&b'\n'), "bare CR at {i}"),
                b'\n' => assert_eq!(bytes[i - 1], b'\r', "bare LF at {i}"),
                _ => {}
            }
        }
        assert!(!message.contains("\r\n.\r\n"), "{message:?}");
        assert!(message.contains("\r\n..\r\nMAIL FROM:<y@evil.example>\r\n"));
        assert!(message.contains("\r\n..\r\nRCPT TO:<z@evil.example>\r\n"));
    }

    #[test]
    fn body_lines_starting_with_a_dot_are_stuffed() {
        let smtp = plain_relay();
        let mut alert = crate::tests::alert(1, "Surge", greenwatch_model::access::Tlp::Clear);
        alert.alert.summary = "line\n.\n.hidden".into();
        let message = smtp.message(&alert);
        assert!(message.contains("\r\n..\r\n..hidden\r\n"));
        assert!(!message.contains("\r\n.\r\n"));
    }
}
